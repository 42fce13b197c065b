"""The alerts service: ``create_app(settings)`` builds it; run it with ``python -m services.alerts``.

Each batch of ``ArticleIndexed`` costs one ``_mget`` (the articles as OpenSearch stored them, which
is what the saved searches were written against), one percolate search for the whole batch, and,
only when an alert asks for a story size, one refresh and one count of the stories concerned.

Exactly once per (alert, article), or per (alert, story), across redeliveries, replicas and crashes:
a match first claims its key in a JetStream key-value bucket (``create`` succeeds for one claimant
only, and the claim names the article and its version), then is published with a ``Nats-Msg-Id``
that JetStream de-duplicates. A redelivery of the same version (the process died after its claim,
before or after publishing) publishes again and JetStream drops the copy; a key claimed by another
article of the story, or by an earlier version of a re-ingested article, never publishes again.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Mapping, Sequence
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
    """Which keys have fired, in a JetStream key-value bucket: each key holds the article version that claimed it."""

    def __init__(self, kv: KeyValue) -> None:
        self.kv = kv

    async def claim(self, key: str, claimant: str) -> bool:
        """True if this article version is to publish the key's match: it claimed the key now, or claimed it
        on an earlier delivery and may have died before publishing (JetStream drops the repeat)."""
        try:
            await self.kv.create(key, claimant.encode())
            return True
        except KeyWrongLastSequenceError:
            entry = await self.kv.get(key)
        return (entry.value or b"").decode() == claimant


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
                answer = await self.client.search(index=self.alerts, body=percolate_body(documents, after))
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
        """Publish every match once; the failure of each article slot that could not be published."""
        by_key: dict[str, list[Match]] = defaultdict(list)
        for match in sorted(matches, key=lambda match: match.slot):
            by_key[fired_key(match.alert, documents[match.slot])].append(match)
        failures: dict[int, Exception] = {}

        async def fire_in_order(key: str, queue: list[Match]) -> None:
            # Later articles of one story wait for the earlier: the first claims the key.
            for match in queue:
                try:
                    await self._fire_one(key, match, documents[match.slot])
                except Exception as error:  # settled per article: it is retried, the others are not held
                    log.warning("alert_not_published", stage=STAGE, alert_id=match.alert.alert_id, error=repr(error))
                    failures.setdefault(match.slot, error)

        await asyncio.gather(*(fire_in_order(key, queue) for key, queue in by_key.items()))
        return failures

    async def _fire_one(self, key: str, match: Match, document: Mapping[str, Any]) -> None:
        assert self.ledger is not None and self.jetstream is not None
        article_id = str(document["article_id"])
        # The version is part of the claim: a redelivery of this version publishes again (and JetStream drops
        # it), a later version of the article (re-ingested, updated) or another member of the story does not.
        if not await self.ledger.claim(key, f"{article_id}@{document.get('ingested_at')}"):
            return
        event = alert_matched(match, document)
        await self.jetstream.publish(
            self.topology.alert_matched_subject,
            event.model_dump_json().encode(),
            stream=self.topology.stream,
            headers={"Nats-Msg-Id": message_id(match.alert, article_id)},
        )
        log.info("alert_matched", stage=STAGE, alert_id=match.alert.alert_id, article_id=article_id)


def create_app(settings: AlertsSettings | None = None, topology: Topology | None = None) -> FastStream:
    settings = settings or AlertsSettings()
    topology = topology or settings.topology
    return create_stage_app(settings, STAGE, AlertsWorker(settings, topology), topology)
