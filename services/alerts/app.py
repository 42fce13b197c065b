"""The alerts service: ``create_app(settings)`` builds it; run it with ``python -m services.alerts``.

Each batch of ``ArticleIndexed`` costs one ``_mget`` (the articles as OpenSearch stored them, which
is what the saved searches were written against), one percolate search for the whole batch, and,
only when an alert asks for a story size, one refresh and one count of the stories concerned.

Exactly once per (alert, article), or per (alert, story), across redeliveries, replicas and crashes:
a match is first claimed in a JetStream key-value bucket, then published with a ``Nats-Msg-Id`` that
JetStream de-duplicates. The bucket has one entry per article (per story for once-per-story alerts)
mapping each alert that fired to the article version that claimed it, written with compare-and-set,
so a batch costs one claim per article, not one per pair. A redelivery of the same version (the
process died after its claim, before or after publishing) publishes again and JetStream drops the
copy; an alert claimed by another article of the story, or by an earlier version of a re-ingested
article, never publishes again.
"""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from faststream import FastStream
from nats.js import JetStreamContext
from nats.js.errors import BucketNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue
from opensearchpy import AsyncOpenSearch
from opensearchpy.exceptions import NotFoundError, OpenSearchException

from services.alerts.matching import (
    Match,
    alert_matched,
    claim,
    claimant,
    fired_key,
    message_id,
    parse_matches,
    percolate_body,
    story_of,
)
from services.alerts.settings import AlertsSettings
from shared.errors import TransientError
from shared.logging import get_logger
from shared.messages import ArticleIndexed
from shared.search.client import async_client
from shared.search.failures import request_failure
from shared.search.queries import parse_story_sizes, story_sizes_body
from shared.stage import Outcome, StageContext, create_stage_app
from shared.topology import Topology

STAGE = "alerts"
log = get_logger("newsflow.alerts")
# Fields the percolator never reads: the MinHash signature is large and only clustering needs it.
NOT_PERCOLATED = ["signature", "entities.spans"]


class FiredLedger:
    """Which alerts have fired, in a JetStream key-value bucket: one entry per article (or story, for
    once-per-story alerts) mapping each alert id that fired to the article version that claimed it."""

    def __init__(self, kv: KeyValue) -> None:
        self.kv = kv

    async def claim(self, key: str, wanted: Sequence[tuple[str, str]]) -> list[int]:
        """The positions of ``wanted`` (alert id, claimant) pairs to publish: those claimed now, and those this
        claimant claimed on an earlier delivery and may have died before publishing (JetStream drops the repeat).

        Optimistic: the first write expects no entry, which is the common case (one round trip); when the entry
        exists, or another replica wrote it meanwhile, the claim is decided again on what is stored."""
        fired: dict[str, str] = {}
        revision = 0
        while True:
            publish, changed = claim(fired, wanted)
            if not changed:
                return publish
            try:
                await self.kv.update(key, json.dumps(fired, separators=(",", ":")).encode(), last=revision)
                return publish
            except KeyWrongLastSequenceError:
                entry = await self.kv.get(key)
                fired, revision = json.loads(entry.value or b"{}"), entry.revision or 0


class AlertsWorker:
    def __init__(self, settings: AlertsSettings, topology: Topology) -> None:
        self.settings = settings
        self.topology = topology
        self.articles = settings.opensearch.alias
        self.alerts = settings.opensearch.alerts_alias
        self.client: AsyncOpenSearch | None = None
        self.jetstream: JetStreamContext | None = None
        self.ledger: FiredLedger | None = None
        self.field_sources: dict[str, str | None] = {}  # it writes no article field, only AlertMatched events

    async def start(self, context: StageContext) -> None:
        if context.jetstream is None:
            raise RuntimeError("the alerts stage publishes and keeps what fired in JetStream")
        self.client = async_client(self.settings.opensearch)
        self.jetstream = js = context.jetstream
        bucket = self.topology.alerts_fired_bucket
        try:
            kv = await js.key_value(bucket)
        except BucketNotFoundError:
            kv = await js.create_key_value(
                bucket=bucket,
                history=1,
                ttl=self.settings.fired_memory_days * 86400,
                replicas=self.topology.replicas,
            )
        self.ledger = FiredLedger(kv)

    async def stop(self) -> None:
        if self.client is not None:
            await self.client.close()

    async def process_batch(self, items: Sequence[ArticleIndexed]) -> list[Outcome]:
        try:
            documents = await self._stored(items)
            present = [document for document in documents if document is not None]
            matches = await self._percolate(present) if present else []
            matches = await self._with_story_size(matches, present)
        except (OpenSearchException, TransientError) as error:
            return [request_failure(error)] * len(items)
        failures = await self._fire(matches, present)
        slots = iter(range(len(present)))
        return [
            [] if document is None else failures.get(next(slots), [])
            for document in documents  # a document gone from the index matches nothing
        ]

    async def _stored(self, items: Sequence[ArticleIndexed]) -> list[dict[str, Any] | None]:
        """The batch's articles as OpenSearch stored them (a realtime get: no refresh needed)."""
        assert self.client is not None
        ids = [item.article_id for item in items]
        answer = await self.client.mget(index=self.articles, body={"ids": ids}, _source_excludes=NOT_PERCOLATED)
        found = {doc["_id"]: doc["_source"] for doc in answer["docs"] if doc.get("found")}
        for article_id in set(ids) - set(found):
            log.warning("article_not_in_index", stage=STAGE, article_id=article_id)
        return [found.get(article_id) for article_id in ids]

    async def _percolate(self, documents: list[dict[str, Any]]) -> list[Match]:
        assert self.client is not None
        matches: list[Match] = []
        after: list[Any] | None = None
        while True:
            try:
                answer = await self.client.search(
                    index=self.alerts, body=percolate_body(documents, after, self.settings.highlights)
                )
            except NotFoundError:  # nobody has saved a search yet
                return []
            page, after = parse_matches(answer)
            matches += page
            if after is None:
                return matches

    async def _with_story_size(self, matches: list[Match], documents: list[dict[str, Any]]) -> list[Match]:
        """The matches whose alert asks for no story size, or whose article's story has reached it."""
        sized = [match for match in matches if match.alert.min_story_size > 1]
        if not sized:
            return matches
        assert self.client is not None
        # The batch was just written: make it countable. Only alerts with a story size pay for this.
        await self.client.indices.refresh(index=self.articles)
        clusters = [story_of(documents[match.slot]) for match in sized]
        answer = await self.client.search(index=self.articles, body=story_sizes_body(clusters))
        sizes = parse_story_sizes(answer)
        return [
            match for match in matches if sizes.get(story_of(documents[match.slot]), 1) >= match.alert.min_story_size
        ]

    async def _fire(self, matches: list[Match], documents: list[dict[str, Any]]) -> dict[int, Exception]:
        """Publish every match once; the failure of each article slot that could not be published.

        One ledger claim per article (or story) of the batch, all at once; then the publications, all at once."""
        by_key: dict[str, list[Match]] = defaultdict(list)
        # In slot order, so that of several members of a story in one batch, the first claims it.
        for match in sorted(matches, key=lambda match: match.slot):
            by_key[fired_key(match.alert, documents[match.slot])].append(match)
        failures: dict[int, Exception] = {}

        def failed(slots: Iterable[int], error: BaseException) -> None:
            if not isinstance(error, Exception):  # cancelled: the runtime is stopping
                raise error
            # Settled per article: it is retried, the others are not held.
            slots = sorted(set(slots))
            log.warning("alert_not_published", stage=STAGE, slots=slots, error=repr(error))
            for slot in slots:
                failures.setdefault(slot, error)

        async def claimed(key: str, queue: list[Match]) -> list[Match]:
            assert self.ledger is not None
            wanted = [(match.alert.alert_id, claimant(documents[match.slot])) for match in queue]
            return [queue[position] for position in await self.ledger.claim(key, wanted)]

        claims = await asyncio.gather(*(claimed(key, queue) for key, queue in by_key.items()), return_exceptions=True)
        to_publish: list[Match] = []
        for queue, answer in zip(by_key.values(), claims, strict=True):
            if isinstance(answer, BaseException):
                failed((match.slot for match in queue), answer)
            else:
                to_publish += answer
        published = await asyncio.gather(
            *(self._publish(match, documents[match.slot]) for match in to_publish), return_exceptions=True
        )
        for match, outcome in zip(to_publish, published, strict=True):
            if isinstance(outcome, BaseException):
                failed([match.slot], outcome)
        return failures

    async def _publish(self, match: Match, document: Mapping[str, Any]) -> None:
        assert self.jetstream is not None
        event = alert_matched(match, document)
        await self.jetstream.publish(
            self.topology.alert_matched_subject,
            event.model_dump_json().encode(),
            stream=self.topology.stream,
            headers={"Nats-Msg-Id": message_id(match.alert, event.article_id)},
        )
        log.info("alert_matched", stage=STAGE, alert_id=match.alert.alert_id, article_id=event.article_id)


def create_app(settings: AlertsSettings | None = None, topology: Topology | None = None) -> FastStream:
    settings = settings or AlertsSettings()
    topology = topology or settings.topology
    return create_stage_app(settings, STAGE, AlertsWorker(settings, topology), topology)
