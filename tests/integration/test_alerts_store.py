"""Saved searches in the real OpenSearch and the fired-pairs ledger in the real JetStream: the alerts
stage's worker settles exactly once whatever state a crash left, and a reindex carries the alerts."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import nats
import pytest

from services.alerts.app import AlertsWorker
from services.alerts.matching import fired_key
from services.alerts.settings import AlertsSettings
from shared.messages import AlertMatched, ArticleIndexed, Source
from shared.nats import ensure_stream
from shared.search.alerts import AlertExists, AlertStore, SavedSearch, migrate_alerts
from shared.search.client import async_client
from shared.search.indices import ensure_index
from shared.settings import OpenSearchSettings
from shared.stage import StageContext
from shared.topology import Topology
from tests.conftest import Servers

pytestmark = pytest.mark.integration

INGESTED_AT = "2026-11-20T09:00:00+00:00"
HARBOUR = {
    "title": "Harbour cranes stall",
    "body": "The harbour cranes at the container port stalled again.",
    "ingested_at": INGESTED_AT,
}


@pytest.fixture
async def worker(
    servers: Servers, namespace: str, opensearch_settings: OpenSearchSettings, isolated: None
) -> AsyncIterator[AlertsWorker]:
    """The alerts stage's worker alone (``isolated`` removes its stream and key-value bucket afterwards)."""
    topology = Topology(namespace)
    client = await nats.connect(servers.nats_url)
    await ensure_stream(client.jetstream(), topology)
    settings = AlertsSettings(nats_url=servers.nats_url, namespace=namespace, opensearch=opensearch_settings)
    alerts = AlertsWorker(settings, topology)
    await alerts.start(StageContext("alerts", settings, topology, jetstream=client.jetstream()))
    yield alerts
    await alerts.stop()
    await client.close()


async def index_articles(opensearch_settings: OpenSearchSettings, *articles: tuple[str, str]) -> list[ArticleIndexed]:
    """Articles (id, story) as the index stage leaves them: stored, and handed on as ArticleIndexed."""
    client = async_client(opensearch_settings)
    await ensure_index(client, opensearch_settings.alias)
    handed = []
    for article_id, story in articles:
        fields = {
            **HARBOUR,
            "article_id": article_id,
            "cluster_id": story,
            "story_id": story,
            "source": {"name": "Port Daily"},
        }
        await client.index(index=opensearch_settings.alias, id=article_id, body=fields, refresh=True)
        handed.append(ArticleIndexed(**{**fields, "source": Source(name="Port Daily")}))
    await client.close()
    return handed


async def published(servers: Servers, topology: Topology) -> list[AlertMatched]:
    client = await nats.connect(servers.nats_url)
    js = client.jetstream()
    info = await js.stream_info(topology.stream, subjects_filter=topology.alert_matched_subject)
    found = []
    if info.state.subjects:
        subscription = await js.subscribe(topology.alert_matched_subject, ordered_consumer=True)
        for _ in range(sum(info.state.subjects.values())):
            found.append(AlertMatched.model_validate_json((await subscription.next_msg(timeout=5)).data))
    await client.close()
    return found


async def test_what_a_crash_or_a_reingest_left_in_the_ledger_publishes_each_pair_once(
    servers: Servers, namespace: str, opensearch_settings: OpenSearchSettings, store: AlertStore, worker: AlertsWorker
) -> None:
    cranes = store.add(SavedSearch(alert_id="cranes", name="cranes", text="cranes"))
    store.add(SavedSearch(alert_id="older", name="fired for an earlier version", text="harbour"))
    story = store.add(SavedSearch(alert_id="story", name="one per story", text="harbour", once_per_story=True))
    [article] = await index_articles(opensearch_settings, ("a1", "s1"))
    document = {"article_id": "a1", "story_id": "s1"}
    assert worker.ledger is not None
    # Claimed by this very version, which died before publishing; by an earlier version of the article
    # (this one is a re-ingest); by another article of the story.
    claims = {"cranes": f"a1@{INGESTED_AT}", "older": "a1@2026-11-01T00:00:00+00:00"}
    await worker.ledger.kv.put(fired_key(cranes, document), json.dumps(claims).encode())
    await worker.ledger.kv.put(fired_key(story, document), json.dumps({"story": f"a0@{INGESTED_AT}"}).encode())

    assert await worker.process_batch([article]) == [[]]
    assert await worker.process_batch([article]) == [[]]  # redelivered: its ack was lost
    topology = Topology(namespace)
    assert [(match.alert_id, match.article_id) for match in await published(servers, topology)] == [("cranes", "a1")]


async def test_later_members_of_a_story_fold_into_its_first(
    servers: Servers, namespace: str, opensearch_settings: OpenSearchSettings, store: AlertStore, worker: AlertsWorker
) -> None:
    store.add(SavedSearch(alert_id="story", name="one per story", text="harbour", once_per_story=True))
    store.add(SavedSearch(alert_id="each", name="every article", text="harbour"))
    batch = await index_articles(opensearch_settings, ("b1", "s1"), ("b2", "s1"), ("b3", "s2"))
    assert await worker.process_batch(batch) == [[], [], []]
    later = await index_articles(opensearch_settings, ("b4", "s1"))
    assert await worker.process_batch(later) == [[]]
    pairs = sorted((match.alert_id, match.article_id) for match in await published(servers, Topology(namespace)))
    assert pairs == [("each", "b1"), ("each", "b2"), ("each", "b3"), ("each", "b4"), ("story", "b1"), ("story", "b3")]


async def test_no_saved_search_yet_matches_nothing(
    opensearch_settings: OpenSearchSettings, store: AlertStore, worker: AlertsWorker
) -> None:
    batch = await index_articles(opensearch_settings, ("c1", "s1"))
    assert await worker.process_batch(batch) == [[]]


def test_a_reindex_rebuilds_the_alerts_against_the_new_mapping(
    opensearch_settings: OpenSearchSettings, store: AlertStore
) -> None:
    alias = opensearch_settings.alerts_alias
    store.add(SavedSearch(alert_id="one", name="one", text="harbour"))
    store.add(SavedSearch(alert_id="two", name="two", filters={"language": ["en"]}, webhook_url="https://h.test/x"))
    secret = store.get("two").webhook_secret  # type: ignore[union-attr]
    moved = migrate_alerts(store.client, opensearch_settings.alias, opensearch_settings.alerts_alias)
    assert moved is not None and moved[:2] == (f"{alias}-v1", f"{alias}-v2")
    assert moved[2] == 2
    assert list(store.client.indices.get_alias(name=alias)) == [f"{alias}-v2"]
    assert sorted(alert.alert_id for alert in store.all()) == ["one", "two"]
    assert store.get("two").webhook_secret == secret  # type: ignore[union-attr]
    body = {"query": {"percolate": {"field": "query", "document": {"title": "harbour news", "language": "en"}}}}
    hits = store.client.search(index=alias, body=body)["hits"]["hits"]
    assert sorted(hit["_id"] for hit in hits) == ["one", "two"]


def test_an_alert_id_is_taken_once(store: AlertStore) -> None:
    store.add(SavedSearch(alert_id="same", name="first"))
    with pytest.raises(AlertExists):
        store.add(SavedSearch(alert_id="same", name="second"))
    assert store.get("same").name == "first"  # type: ignore[union-attr]


async def test_two_replicas_at_once_fire_each_pair_and_each_story_once(
    servers: Servers, namespace: str, opensearch_settings: OpenSearchSettings, store: AlertStore, worker: AlertsWorker
) -> None:
    """Two members of a story on two replicas at the same moment both claim the story's entry: one writes
    first, the other finds the entry changed under it, re-reads it and lets the story fold."""
    store.add(SavedSearch(alert_id="each", name="every article", text="harbour"))
    store.add(SavedSearch(alert_id="cranes", name="cranes", text="cranes"))
    store.add(SavedSearch(alert_id="story", name="one per story", text="harbour", once_per_story=True))
    batch = await index_articles(opensearch_settings, ("r1", "s1"), ("r2", "s1"), ("r3", "s2"))
    topology = Topology(namespace)
    client = await nats.connect(servers.nats_url)
    settings = AlertsSettings(nats_url=servers.nats_url, namespace=namespace, opensearch=opensearch_settings)
    replica = AlertsWorker(settings, topology)
    await replica.start(StageContext("alerts", settings, topology, jetstream=client.jetstream()))
    try:
        outcomes = await asyncio.gather(worker.process_batch(batch[::2]), replica.process_batch(batch[1:2]))
    finally:
        await replica.stop()
        await client.close()
    assert outcomes == [[[], []], [[]]]
    pairs = sorted((match.alert_id, match.article_id) for match in await published(servers, topology))
    each = [(alert, article) for alert in ("cranes", "each") for article in ("r1", "r2", "r3")]
    story_s1 = [pair for pair in pairs if pair in {("story", "r1"), ("story", "r2")}]
    assert len(story_s1) == 1
    assert pairs == sorted([*each, *story_s1, ("story", "r3")])
