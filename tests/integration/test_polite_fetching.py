"""Polite fetching across replicas, against a site of our own on 127.0.0.1: robots.txt is obeyed
(pages and feeds, cached per site, refusals with a reason), and two ingest replicas sharing the NATS
KV bucket keep one pace per host between them instead of one each."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import nats
import pytest
from aiohttp import web

from services.ingest.collect.fetch import AddressPolicy, Fetcher, FetchLimits
from services.ingest.collect.robots import RobotsDisallowed
from services.ingest.collect.state import NatsStateStore
from shared.localhost import free_port
from tests.conftest import Servers

pytestmark = pytest.mark.integration

LOCAL_ONLY = AddressPolicy.from_strings(["127.0.0.0/8"])
ROBOTS = "User-agent: *\nDisallow: /private\nDisallow: /feeds/members\n\nUser-agent: othercrawler\nDisallow: /\n"


class Site:
    """Answers robots.txt, a page or a feed anywhere else, and records when each request came."""

    def __init__(self, robots: str | None = ROBOTS) -> None:
        self.robots = robots
        self.requests: list[tuple[float, str]] = []
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"

    async def handle(self, request: web.Request) -> web.Response:
        self.requests.append((time.monotonic(), request.path))
        if request.path == "/robots.txt":
            if self.robots is None:
                return web.Response(status=404)
            return web.Response(text=self.robots)
        if request.path.startswith("/feeds/"):
            return web.Response(
                body=b'<?xml version="1.0"?><rss version="2.0"><channel/></rss>', content_type="application/rss+xml"
            )
        return web.Response(text=f"<html><body><p>{request.path}</p></body></html>", content_type="text/html")

    def paths(self) -> list[str]:
        return [path for _, path in self.requests]


@pytest.fixture
async def site() -> AsyncIterator[Site]:
    served = Site()
    app = web.Application()
    app.router.add_get("/{tail:.*}", served.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", served.port).start()
    yield served
    await runner.cleanup()


def _fetcher(delay_s: float = 0.0) -> Fetcher:
    return Fetcher(FetchLimits(per_host_delay_s=delay_s), LOCAL_ONLY)


async def test_robots_txt_refuses_pages_and_feeds_with_a_reason_and_is_fetched_once(site: Site) -> None:
    fetcher = _fetcher()
    try:
        assert (await fetcher.fetch(f"{site.base}/news/1")).status == 200
        assert (await fetcher.fetch(f"{site.base}/feeds/public.xml")).status == 200
        for refused in (f"{site.base}/private/report", f"{site.base}/feeds/members.xml"):
            with pytest.raises(RobotsDisallowed) as error:
                await fetcher.fetch(refused)
            assert error.value.reason == "robots_disallowed" and refused in error.value.detail
    finally:
        await fetcher.close()
    assert site.paths().count("/robots.txt") == 1
    assert "/private/report" not in site.paths() and "/feeds/members.xml" not in site.paths()


async def test_a_site_without_robots_txt_may_be_fetched(site: Site) -> None:
    site.robots = None
    fetcher = _fetcher()
    try:
        assert (await fetcher.fetch(f"{site.base}/private/report")).status == 200
    finally:
        await fetcher.close()


async def test_the_cached_rules_expire_and_are_fetched_again(site: Site) -> None:
    fetcher = _fetcher()
    assert fetcher.robots is not None
    fetcher.robots.expiry_s = 0.0
    try:
        await fetcher.fetch(f"{site.base}/news/1")
        site.robots = "User-agent: *\nDisallow: /news\n"
        with pytest.raises(RobotsDisallowed):
            await fetcher.fetch(f"{site.base}/news/2")
    finally:
        await fetcher.close()


@pytest.fixture
async def shared_store(servers: Servers, namespace: str) -> AsyncIterator[NatsStateStore]:
    client = await nats.connect(servers.nats_url)
    bucket = f"{namespace.upper()}_PACE"
    store = await NatsStateStore.open(client.jetstream(), bucket, ttl_s=600)
    yield store
    await client.jetstream().delete_key_value(bucket)
    await client.close()


async def test_two_replicas_sharing_the_kv_bucket_keep_one_pace_per_host(
    site: Site, shared_store: NatsStateStore
) -> None:
    delay_s, pages_each = 0.4, 4
    replicas = [_fetcher(delay_s), _fetcher(delay_s)]
    for replica in replicas:
        replica.share_pace(shared_store)
    try:
        await asyncio.gather(
            *(
                replica.fetch(f"{site.base}/news/{number}-{index}")
                for index, replica in enumerate(replicas)
                for number in range(pages_each)
            )
        )
    finally:
        for replica in replicas:
            await replica.close()
    pages = [moment for moment, path in site.requests if path.startswith("/news/")]
    assert len(pages) == 2 * pages_each
    # Each replica alone would take (pages_each - 1) delays; together they must take about twice that.
    # A lower bound only: a busy machine can make requests later, never earlier than their slots.
    span = max(pages) - min(pages)
    assert span >= (2 * pages_each - 2) * delay_s, f"{len(pages)} pages in {span:.2f} s"
