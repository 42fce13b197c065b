"""The one place that names streams, subjects and durable consumers.

The pipeline is an ordered list of stages. Each stage reads its own inbox
subject and publishes to the inbox of the stage after it, so inserting a new
enrichment service is one line in ``PIPELINE`` and no edit to any other
service. Services never type a subject string: they ask a ``Topology``.

A ``Topology`` is parameterised by a namespace so that tests (and several
pipelines on one NATS) get their own stream, subjects and durables.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.messages import (
    ArticleEnriched,
    ArticleFields,
    ArticleIndexed,
    ArticleIngested,
    ArticleLinked,
    DocumentSubmitted,
    Model,
)


@dataclass(frozen=True)
class StageSpec:
    name: str
    consumes: type[Model]
    produces: type[ArticleFields] | None  # None: the last stage


# Consumers beside the pipeline: each reads a subject of its own (not a stage's inbox), and has a durable
# and a dead-letter subject named like a stage's, so `newsflow dlq ... --stage webhooks` works as for a stage.
SIDE_CONSUMERS: tuple[str, ...] = ("webhooks",)

PIPELINE: tuple[StageSpec, ...] = (
    StageSpec("ingest", DocumentSubmitted, ArticleIngested),
    StageSpec("enrich", ArticleIngested, ArticleEnriched),
    StageSpec("entity_link", ArticleEnriched, ArticleLinked),
    StageSpec("stories", ArticleLinked, ArticleLinked),
    StageSpec("index", ArticleLinked, ArticleIndexed),
    StageSpec("alerts", ArticleIndexed, None),
)


@dataclass(frozen=True)
class Topology:
    namespace: str = "newsflow"
    pipeline: tuple[StageSpec, ...] = PIPELINE
    # Copies of the stream and of every key-value bucket (``ServiceSettings.stream_replicas``).
    replicas: int = 1

    @property
    def stream(self) -> str:
        return self.namespace.upper().replace("-", "_").replace(".", "_")

    @property
    def stream_subjects(self) -> list[str]:
        return [f"{self.namespace}.>"]

    def stage(self, name: str) -> StageSpec:
        for spec in self.pipeline:
            if spec.name == name:
                return spec
        raise KeyError(f"no stage {name!r} in the topology; stages: {self.stage_names}")

    @property
    def stage_names(self) -> list[str]:
        return [spec.name for spec in self.pipeline]

    def inbox(self, stage: str) -> str:
        """The subject a stage reads from."""
        self.stage(stage)
        return f"{self.namespace}.in.{stage}"

    def next_stage(self, stage: str) -> StageSpec | None:
        names = self.stage_names
        position = names.index(self.stage(stage).name)
        return self.pipeline[position + 1] if position + 1 < len(names) else None

    def outbox(self, stage: str) -> str | None:
        """The subject a stage publishes to: the inbox of the next stage."""
        following = self.next_stage(stage)
        return self.inbox(following.name) if following else None

    @property
    def entry_subject(self) -> str:
        """Where submitters (the CLI, feed pollers) put raw documents."""
        return self.inbox(self.pipeline[0].name)

    def dead_letter_subject(self, stage: str) -> str:
        if stage not in SIDE_CONSUMERS:
            self.stage(stage)
        return f"{self.namespace}.dlq.{stage}"

    @property
    def dead_letter_wildcard(self) -> str:
        return f"{self.namespace}.dlq.*"

    def durable(self, stage: str) -> str:
        if stage not in SIDE_CONSUMERS:
            self.stage(stage)
        return f"{self.namespace}-{stage}".replace(".", "-")

    @property
    def alert_matched_subject(self) -> str:
        """Where the alerts stage publishes ``AlertMatched``; subscribers (webhooks, users) read it."""
        return f"{self.namespace}.alerts.matched"

    @property
    def alerts_fired_bucket(self) -> str:
        """Key-value bucket of the (alert, article) and (alert, story) pairs that have fired."""
        return f"{self.stream}_ALERTS_FIRED"

    @property
    def stories_turn_bucket(self) -> str:
        """Key-value bucket of the stories stage's turn: one replica at a time groups and writes."""
        return f"{self.stream}_STORIES_TURN"

    @property
    def kv_bucket(self) -> str:
        """Key-value bucket for ingest's poll state and seen URLs."""
        return f"{self.stream}_INGEST_STATE"
