"""Alerts end to end, against the real nats-server and OpenSearch: saved searches registered, the
sample corpus ingested through the real stages, every (alert, article) pair the same searches find
published exactly once, also when the alerts stage is SIGKILLed mid-batch."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import nats
import pytest
from faststream import FastStream
from nats.js.errors import NotFoundError

from cli.files import read_path
from cli.publish import publish_submissions
from services.alerts.app import create_app as alerts_app
from services.alerts.settings import AlertsSettings
from services.webhooks.app import create_app as webhooks_app
from services.webhooks.settings import WebhooksSettings
from shared.messages import AlertMatched, DocumentSubmitted
from shared.search.alerts import AlertStore, SavedSearch
from shared.settings import OpenSearchSettings
from shared.topology import Topology
from shared.webhooks import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from tests.conftest import Servers
from tests.integration.test_webhooks import Receiver, serving
from tests.support import ROOT, STAGES_TO_INDEX, ServiceProcess, running, stage_apps, wait_until

pytestmark = pytest.mark.integration

SAMPLE = ROOT / "corpus" / "sample"
# Saved searches in the shapes analysts write: text, a topic tree, an entity, a sentiment, story options.
ALERTS = [
    SavedSearch(alert_id="text", name="DeepSeek in the news", text="DeepSeek"),
    SavedSearch(alert_id="topic", name="technology and below", more_in="technology"),
    SavedSearch(alert_id="negative", name="bad news", filters={"sentiment": ["negative"]}),
    SavedSearch(alert_id="story", name="trillion, once per story", text="trillion parameters", once_per_story=True),
    SavedSearch(alert_id="big", name="trillion, stories of 2+", text="trillion parameters", min_story_size=2),
    SavedSearch(alert_id="none", name="nothing", text="zyxwvut quokka"),
]


def corpus() -> list[DocumentSubmitted]:
    files = sorted(path for path in SAMPLE.iterdir() if path.suffix in (".txt", ".jsonl"))
    return [item for path in files for item in read_path(path) if isinstance(item, DocumentSubmitted)]


def pipeline_apps(servers: Servers, namespace: str, opensearch_settings: OpenSearchSettings) -> list[FastStream]:
    return stage_apps(STAGES_TO_INDEX, nats_url=servers.nats_url, namespace=namespace, opensearch=opensearch_settings)


async def published_matches(servers: Servers, topology: Topology) -> list[AlertMatched]:
    """Every AlertMatched in the stream, duplicates included (read without consuming)."""
    client = await nats.connect(servers.nats_url)
    js = client.jetstream()
    found: list[AlertMatched] = []
    try:
        info = await js.stream_info(topology.stream, subjects_filter=topology.alert_matched_subject)
        total = sum((info.state.subjects or {}).values())
        if total:
            subscription = await js.subscribe(topology.alert_matched_subject, ordered_consumer=True)
            for _ in range(total):
                message = await subscription.next_msg(timeout=5)
                found.append(AlertMatched.model_validate_json(message.data))
            await subscription.unsubscribe()
    finally:
        await client.close()
    return found


async def drained(servers: Servers, topology: Topology, *stages: str) -> bool:
    """Each stage has received messages and settled every one of them."""
    client = await nats.connect(servers.nats_url)
    try:
        for stage in stages:
            info = await client.jetstream().consumer_info(topology.stream, topology.durable(stage))
            if not info.delivered.stream_seq or info.num_pending or info.num_ack_pending:
                return False
    except NotFoundError:
        return False
    finally:
        await client.close()
    return True


def expected_pairs(store: AlertStore) -> dict[str, set[str]]:
    """What the same saved searches find by plain search once everything is indexed (not percolation)."""
    store.client.indices.refresh(index=store.articles_alias)
    return {alert.alert_id: {hit["article_id"] for hit in store.test(alert, size=500)[1]} for alert in ALERTS}


def stories(store: AlertStore) -> dict[str, str]:
    body = {"size": 500, "_source": ["article_id", "story_id"]}
    hits = store.client.search(index=store.articles_alias, body=body)["hits"]["hits"]
    return {hit["_source"]["article_id"]: hit["_source"]["story_id"] for hit in hits}


def check_exactly_the_expected_pairs(matches: list[AlertMatched], store: AlertStore) -> None:
    pairs = Counter((match.alert_id, match.article_id) for match in matches)
    assert [pair for pair, count in pairs.items() if count > 1] == [], "a pair was published twice"
    fired: dict[str, set[str]] = {alert.alert_id: set() for alert in ALERTS}
    for alert_id, article_id in pairs:
        fired[alert_id].add(article_id)
    expected = expected_pairs(store)
    story_of = stories(store)
    for alert_id in ("text", "topic", "negative", "none"):
        assert fired[alert_id] == expected[alert_id], alert_id
    assert expected["text"] and expected["topic"] and not expected["none"]
    # Once per story: one article of each matching story.
    matching_stories = {story_of[article] for article in expected["story"]}
    assert len(matching_stories) < len(expected["story"]), "the corpus retells the trillion story"
    assert sorted(story_of[article] for article in fired["story"]) == sorted(matching_stories)
    # Story of 2+: only members of such stories, and every such story fires.
    sizes = Counter(story_of.values())
    big = {story_of[a] for a in expected["big"] if sizes[story_of[a]] >= 2}
    assert fired["big"] <= {a for a in expected["big"] if sizes[story_of[a]] >= 2}
    assert {story_of[article] for article in fired["big"]} == big
    for match in matches:
        assert match.title and match.story_id == story_of[match.article_id]
    negative = [match for match in matches if match.alert_id == "negative"]
    assert all(match.matched == {"sentiment.label": ["negative"]} for match in negative)
    assert any(
        "<em>" in passage
        for match in matches
        if match.alert_id == "text"
        for p in match.highlights.values()
        for passage in p
    )


async def test_the_sample_corpus_fires_exactly_the_expected_pairs_once(
    servers: Servers, namespace: str, opensearch_settings: OpenSearchSettings, store: AlertStore
) -> None:
    receiver = Receiver()
    for alert in ALERTS:  # the text alert also goes to a webhook
        store.add(alert.model_copy(update={"webhook_url": receiver.url}) if alert.alert_id == "text" else alert)
    topology = Topology(namespace)
    submissions = corpus()
    common: dict[str, Any] = {"nats_url": servers.nats_url, "namespace": namespace, "opensearch": opensearch_settings}
    alerts = alerts_app(AlertsSettings(**common))
    webhooks = webhooks_app(WebhooksSettings(**common, allowed_networks=["127.0.0.1/32"]))
    async with serving(receiver), running(*pipeline_apps(servers, namespace, opensearch_settings), alerts, webhooks):
        client = await nats.connect(servers.nats_url)
        await publish_submissions(client.jetstream(), topology.entry_subject, submissions)
        await client.close()
        await wait_until(lambda: drained(servers, topology, *STAGES_TO_INDEX, "alerts"), 180, "alerts settled")
        expected = expected_pairs(store)["text"]
        await wait_until(lambda: _at_least(_length(receiver.accepted), len(expected)), 30, "webhook deliveries")
    check_exactly_the_expected_pairs(await published_matches(servers, topology), store)
    delivered = [AlertMatched.model_validate_json(body).article_id for body in receiver.accepted]
    assert sorted(delivered) == sorted(expected)
    secret = store.get("text").webhook_secret  # type: ignore[union-attr]
    assert secret and all(
        verify(secret, headers[TIMESTAMP_HEADER], body, headers[SIGNATURE_HEADER]) for headers, body in receiver.calls
    )


async def test_a_sigkilled_alerts_stage_still_fires_each_pair_once(
    servers: Servers,
    namespace: str,
    opensearch_settings: OpenSearchSettings,
    store: AlertStore,
    tmp_path: Path,
) -> None:
    for alert in ALERTS:
        store.add(alert)
    topology = Topology(namespace)
    submissions = corpus()
    env = {
        "NEWSFLOW_NATS_URL": servers.nats_url,
        "NEWSFLOW_NAMESPACE": namespace,
        "NEWSFLOW_OPENSEARCH_URL": opensearch_settings.url,
        "NEWSFLOW_OPENSEARCH_ALIAS": opensearch_settings.alias,
        "NEWSFLOW_OPENSEARCH_ALERTS_ALIAS": opensearch_settings.alerts_alias,
        # Small batches and a short ack wait: the killed batch comes back quickly, others are mid-way.
        "NEWSFLOW_ALERTS_BATCH_SIZE": "4",
        "NEWSFLOW_ALERTS_ACK_WAIT_S": "3",
    }
    async with running(*pipeline_apps(servers, namespace, opensearch_settings)):
        client = await nats.connect(servers.nats_url)
        await publish_submissions(client.jetstream(), topology.entry_subject, submissions)
        await client.close()
        # The backlog waits for the alerts stage, which dies as soon as it has published a first match.
        await wait_until(lambda: drained(servers, topology, *STAGES_TO_INDEX), 180, "all indexed")
        alerts = ServiceProcess("alerts", env, tmp_path)
        alerts.start()
        await wait_until(lambda: _at_least(_match_count(servers, topology), 1), 60, "a first match", every_s=0.02)
        alerts.kill()
        published_before_restart = len(await published_matches(servers, topology))
        alerts.start()
        try:
            await wait_until(lambda: drained(servers, topology, "alerts"), 120, "alerts settled")
        finally:
            alerts.terminate()
    matches = await published_matches(servers, topology)
    assert len(matches) > published_before_restart, "the kill left work for the restarted stage"
    check_exactly_the_expected_pairs(matches, store)


async def _length(items: list[Any]) -> int:
    return len(items)


async def _at_least(count: Any, minimum: int) -> bool:
    return int(await count) >= minimum


async def _match_count(servers: Servers, topology: Topology) -> int:
    client = await nats.connect(servers.nats_url)
    try:
        info = await client.jetstream().stream_info(topology.stream, subjects_filter=topology.alert_matched_subject)
        return sum((info.state.subjects or {}).values())
    except NotFoundError:
        return 0
    finally:
        await client.close()
