"""The ingest service against a real nats-server: dedupe that survives a restart, leases shared
between replicas, and the poller taking a feed to published articles.

The server comes from the session fixture ``servers`` (tests/conftest.py); each test works in its
own namespace (stream, subjects, KV bucket) and removes it afterwards."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import nats
import pytest
from nats.aio.msg import Msg
from nats.js.errors import NotFoundError

from services.ingest.app import STAGE, IngestWorker, create_app, create_worker
from services.ingest.collect.poller import Leases
from services.ingest.collect.state import NatsStateStore
from services.ingest.settings import IngestSettings
from shared.errors import PermanentError
from shared.messages import ArticleIngested, DocumentSubmitted
from shared.stage import Dropped
from shared.topology import Topology
from tests.conftest import Servers
from tests.integration.local_site import ARTICLE_PARAGRAPHS, LocalSite
from tests.support import started

pytestmark = pytest.mark.integration

TEXT = "\n".join(["Night train returns", *ARTICLE_PARAGRAPHS])


@pytest.fixture
def nats_url(servers: Servers) -> str:
    """The real nats-server the session fixture started (or found running)."""
    return servers.nats_url


@pytest.fixture
async def namespace(nats_url: str) -> AsyncIterator[str]:
    name = f"ti{uuid.uuid4().hex[:10]}"
    yield name
    client = await nats.connect(nats_url)
    js = client.jetstream()
    topology = Topology(name)
    with contextlib.suppress(NotFoundError):
        await js.delete_stream(topology.stream)
    with contextlib.suppress(NotFoundError):
        await js.delete_key_value(topology.kv_bucket)
    await client.close()


@pytest.fixture
def site() -> Iterator[LocalSite]:
    with LocalSite() as running:
        yield running


def ingest_worker(settings: IngestSettings) -> contextlib.AbstractAsyncContextManager[IngestWorker]:
    """An ingest worker started as the service starts it: with the stage's JetStream connection (its state)."""
    return started(STAGE, create_worker(settings), settings, jetstream=True)


def _settings(nats_url: str, namespace: str, **overrides: object) -> IngestSettings:
    return IngestSettings(
        nats_url=nats_url,
        namespace=namespace,
        fetch_allowed_networks=["127.0.0.1/32"],
        fetch_per_host_delay_s=0,
        **overrides,  # type: ignore[arg-type]
    )


async def test_dedupe_survives_a_restart_and_lets_redeliveries_through(nats_url: str, namespace: str) -> None:
    original = DocumentSubmitted(submission_id="first", kind="text", content=TEXT)
    copy = DocumentSubmitted(submission_id="second", kind="text", content=TEXT.replace("returns", "is back"))

    async with ingest_worker(_settings(nats_url, namespace)) as worker:
        [outcome] = await worker.process_batch([original])
    assert isinstance(outcome, list) and len(outcome) == 1

    async with ingest_worker(_settings(nats_url, namespace)) as restarted:
        duplicate, redelivered = await restarted.process_batch([copy, original])
    assert isinstance(duplicate, list) and [type(found) for found in duplicate] == [Dropped]
    assert isinstance(redelivered, list) and len(redelivered) == 1


async def test_pages_are_fetched_and_failures_are_settled_per_message(
    nats_url: str, namespace: str, site: LocalSite
) -> None:
    async with ingest_worker(_settings(nats_url, namespace)) as worker:
        page, missing = await worker.process_batch(
            [
                DocumentSubmitted(submission_id="p", kind="url", url=f"{site.base}/redirect?utm_source=x"),
                DocumentSubmitted(submission_id="m", kind="url", url=f"{site.base}/missing"),
            ]
        )
        [feed] = await worker.process_batch(
            [DocumentSubmitted(submission_id="f", kind="feed", url=f"{site.base}/feed.xml", hints={"verified": True})]
        )
    assert isinstance(page, list) and page[0].canonical_url == f"{site.base}/article/1"
    assert page[0].title == "Night train returns 1"
    assert isinstance(missing, Exception) and getattr(missing, "reason", None) == "http_404"
    assert isinstance(feed, list)
    # /article/1 came already through the redirect: the feed brings only the second story
    stories = [article for article in feed if isinstance(article, ArticleIngested)]
    assert [article.url for article in stories] == [f"{site.base}/article/2"]
    assert [found.reason for found in feed if isinstance(found, Dropped)] == ["duplicate"]
    assert stories[0].source.verified is True


async def test_a_feed_whose_every_entry_failed_is_refused_never_dropped(nats_url: str, namespace: str) -> None:
    # The service's own address policy refuses loopback pages: the one entry fails for good.
    entry = "<item><title>Story</title><link>http://127.0.0.1:9/story</link></item>"
    feed = f'<?xml version="1.0"?><rss version="2.0"><channel><title>Valley</title>{entry}</channel></rss>'
    async with ingest_worker(IngestSettings(nats_url=nats_url, namespace=namespace)) as worker:
        [outcome] = await worker.process_batch(
            [DocumentSubmitted(submission_id="f", kind="feed", url="https://valley.example/rss", content=feed)]
        )
    assert isinstance(outcome, PermanentError) and outcome.reason == "no_readable_entry"
    assert "1 entries failed" in str(outcome)


async def test_a_lease_is_held_by_one_replica_at_a_time(nats_url: str, namespace: str) -> None:
    client = await nats.connect(nats_url)
    try:
        js = client.jetstream()
        bucket = Topology(namespace).kv_bucket
        first = Leases(await NatsStateStore.open(js, bucket, ttl_s=3600), "replica-1")
        second = Leases(await NatsStateStore.open(js, bucket, ttl_s=3600), "replica-2")
        results = await asyncio.gather(first.acquire("source", 60), second.acquire("source", 60))
        assert sorted(results) == [False, True]
    finally:
        await client.close()


async def test_the_poller_turns_a_registered_feed_into_published_articles(
    nats_url: str, namespace: str, site: LocalSite, tmp_path: Path
) -> None:
    sources = tmp_path / "sources.yaml"
    sources.write_text(
        f"sources:\n  - name: Rail News\n    url: {site.base}/feed.xml\n    poll_interval: 60\n"
        "    verified: true\n    language: en\n",
        encoding="utf-8",
    )
    topology = Topology(namespace)
    listener = await nats.connect(nats_url)
    received: list[ArticleIngested] = []

    async def collect(message: Msg) -> None:
        received.append(ArticleIngested.model_validate_json(message.data))

    await listener.subscribe(topology.inbox("enrich"), cb=collect)
    app = create_app(_settings(nats_url, namespace, sources_file=sources, poll_tick_s=0.2))
    await app.start()
    try:
        for _ in range(100):
            if len(received) >= 2:
                break
            await asyncio.sleep(0.1)
    finally:
        await app.stop()
        await listener.close()
    assert sorted(article.url or "" for article in received) == [f"{site.base}/article/{n}" for n in (1, 2)]
    assert all(article.source.name == "Rail News" and article.source.verified for article in received)
    assert all(article.language_hint == "en" for article in received)
    assert site.requests.count("/feed.xml") == 1
