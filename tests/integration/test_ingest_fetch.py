"""The fetcher against a real HTTP server on 127.0.0.1: conditional GET, 429, redirects,
address checks, size caps, a compression bomb and a server that dribbles its answer."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from services.ingest.collect.fetch import AddressPolicy, Fetcher, FetchLimits, FetchRefused, FetchUnavailable
from tests.integration.local_site import LocalSite

pytestmark = pytest.mark.integration

LOCAL_ONLY = AddressPolicy.from_strings(["127.0.0.1/32"])


@pytest.fixture
def site() -> Iterator[LocalSite]:
    with LocalSite() as running:
        yield running


def _fetcher(**limits: float) -> Fetcher:
    defaults = {"per_host_delay_s": 0.0, "max_response_bytes": 1024 * 1024, "max_decompressed_bytes": 1024 * 1024}
    return Fetcher(FetchLimits(**{**defaults, **limits}), LOCAL_ONLY)  # type: ignore[arg-type]


async def test_a_page_and_a_conditional_get(site: LocalSite) -> None:
    fetcher = _fetcher()
    try:
        page = await fetcher.fetch(f"{site.base}/article/3")
        assert page.status == 200 and b"Night train returns 3" in page.content
        feed = await fetcher.fetch(f"{site.base}/feed.xml")
        assert feed.etag == site.feed_etag and feed.content_type == "application/rss+xml"
        again = await fetcher.fetch(f"{site.base}/feed.xml", etag=feed.etag)
        assert again.not_modified and again.content == b""
    finally:
        await fetcher.close()


# Spellings of the loopback address that a check of the URL's text alone would let through.
@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "2130706433", "0x7f000001", "127.1", "[::ffff:127.0.0.1]"])
async def test_loopback_is_refused_without_the_allow_list(site: LocalSite, host: str) -> None:
    fetcher = Fetcher(FetchLimits(per_host_delay_s=0))
    try:
        with pytest.raises(FetchRefused) as refused:
            await fetcher.fetch(f"http://{host}:{site.port}/article/1")
        assert refused.value.reason == "blocked_address"
        assert site.requests == []
    finally:
        await fetcher.close()


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/loop", "too_many_redirects"),
        ("/to-other-loopback", "blocked_address"),
        ("/to-file", "scheme"),
        ("/big", "too_large"),
        ("/big-undeclared", "too_large"),
        ("/bomb", "too_large"),
        ("/missing", "http_404"),
    ],
)
async def test_hostile_answers_are_refused_with_a_reason(site: LocalSite, path: str, reason: str) -> None:
    fetcher = _fetcher()
    try:
        with pytest.raises(FetchRefused) as refused:
            await fetcher.fetch(f"{site.base}{path}")
        assert refused.value.reason == reason
    finally:
        await fetcher.close()


async def test_redirects_are_followed(site: LocalSite) -> None:
    fetcher = _fetcher()
    try:
        page = await fetcher.fetch(f"{site.base}/redirect")
        assert page.url == f"{site.base}/article/1" and b"returns 1" in page.content
    finally:
        await fetcher.close()


async def test_429_says_when_to_come_back(site: LocalSite) -> None:
    fetcher = _fetcher()
    try:
        with pytest.raises(FetchUnavailable) as unavailable:
            await fetcher.fetch(f"{site.base}/limited")
        assert unavailable.value.reason == "http_429" and unavailable.value.retry_after_s == 7
    finally:
        await fetcher.close()


async def test_a_dribbling_server_hits_the_overall_deadline(site: LocalSite) -> None:
    fetcher = _fetcher(total_timeout_s=1.0, read_timeout_s=5.0)
    started = time.monotonic()
    try:
        with pytest.raises(FetchUnavailable) as unavailable:
            await fetcher.fetch(f"{site.base}/slow")
        assert unavailable.value.reason == "timeout"
        assert time.monotonic() - started < 3
    finally:
        await fetcher.close()


async def test_requests_to_one_host_are_spaced(site: LocalSite) -> None:
    fetcher = _fetcher(per_host_delay_s=0.3)
    started = time.monotonic()
    try:
        for number in range(3):
            await fetcher.fetch(f"{site.base}/article/{number}")
        assert time.monotonic() - started >= 0.6
    finally:
        await fetcher.close()
