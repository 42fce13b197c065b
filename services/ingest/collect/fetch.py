"""Fetching pages and feeds from the open web, treating every server as hostile.

* http(s) only; redirects followed by hand (bounded), each hop checked again.
* The address check happens where the socket is opened, and loopback, private,
  link-local and reserved addresses are refused unless an operator allow-list
  names their network (shared/guarded_http.py, which webhooks use too).
* Size caps on the bytes received and, separately, on the bytes after
  decompression (we decompress ourselves, in bounded steps, so a compression
  bomb never expands in memory); connect/read timeouts and an overall deadline,
  so a server that dribbles bytes cannot hold a worker.
* Conditional GET (ETag / Last-Modified); 429 and 503 honour ``Retry-After``.
* Politeness (robots.py): robots.txt honoured, one request at a time per host, and a minimum delay
  between requests to a host, held across every ingest replica once ``share_pace`` is called.
"""

from __future__ import annotations

import asyncio
import time
import zlib
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Protocol
from urllib.parse import urljoin, urlsplit

import httpx

from services.ingest.collect.robots import LocalPacer, RobotsCache, SharedPacer
from services.ingest.collect.state import StateStore
from shared import __version__
from shared.errors import PermanentError, TransientError
from shared.guarded_http import AddressPolicy, BlockedAddress, HostUnresolvable, RefusedConnection, guarded_transport

_ACCEPT = (
    "text/html,application/xhtml+xml,application/rss+xml,application/atom+xml,application/feed+json,"
    "application/xml;q=0.9,*/*;q=0.8"
)


class FetchRefused(PermanentError):
    """A URL or response that retrying cannot make usable (bad scheme, blocked address, too large, 404)."""


class FetchUnavailable(TransientError):
    """A failure worth retrying later (timeout, 5xx, 429); ``retry_after_s`` is the server's wish, if it said."""

    def __init__(self, reason: str, detail: str, retry_after_s: float | None = None) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
        self.retry_after_s = retry_after_s


@dataclass(frozen=True)
class FetchLimits:
    max_redirects: int = 5
    max_response_bytes: int = 10 * 1024 * 1024
    max_decompressed_bytes: int = 10 * 1024 * 1024
    connect_timeout_s: float = 5.0
    read_timeout_s: float = 10.0
    total_timeout_s: float = 30.0
    per_host_delay_s: float = 1.0
    user_agent: str = f"newsflow/{__version__} (news ingest; polite crawler)"


@dataclass
class FetchResult:
    url: str  # after redirects
    status: int
    content: bytes = b""
    content_type: str | None = None
    charset: str | None = None
    etag: str | None = None
    last_modified: str | None = None

    @property
    def not_modified(self) -> bool:
        return self.status == 304


class Pacer(Protocol):
    async def wait_turn(self, host: str, delay_s: float | None = None) -> None:
        """Return when the next request to ``host`` may go (at least ``delay_s`` after the last, if longer)."""
        ...


class Fetcher:
    def __init__(
        self, limits: FetchLimits | None = None, policy: AddressPolicy | None = None, respect_robots: bool = True
    ) -> None:
        self.limits = limits or FetchLimits()
        # Per process until ``share_pace`` gives it the replicas' shared store.
        self.pacer: Pacer = LocalPacer(self.limits.per_host_delay_s)
        self.locks: dict[str, asyncio.Lock] = {}
        self.robots = RobotsCache(self._load_robots, self.limits.user_agent) if respect_robots else None
        self.client = httpx.AsyncClient(
            transport=guarded_transport(policy or AddressPolicy(), httpx.Limits(max_connections=32)),
            follow_redirects=False,
            trust_env=False,
            timeout=httpx.Timeout(
                self.limits.read_timeout_s, connect=self.limits.connect_timeout_s, pool=self.limits.total_timeout_s
            ),
            headers={"User-Agent": self.limits.user_agent, "Accept-Encoding": "gzip, deflate"},
        )

    def share_pace(self, store: StateStore) -> None:
        """Keep the pace per host across every replica that shares ``store`` (the NATS KV bucket)."""
        self.pacer = SharedPacer(store, self.limits.per_host_delay_s)

    async def close(self) -> None:
        await self.client.aclose()

    async def _load_robots(self, url: str) -> str | None:
        try:
            result = await self._follow(url, None, None, check_robots=False)
        except FetchRefused:  # none (a 4xx), or one we may not read: the site set no rules we can follow
            return None
        return result.content.decode("utf-8", errors="replace")

    async def fetch(self, url: str, etag: str | None = None, last_modified: str | None = None) -> FetchResult:
        """GET ``url`` following redirects; a 304 comes back as a result with ``not_modified``."""
        try:
            async with asyncio.timeout(self.limits.total_timeout_s):
                return await self._follow(url, etag, last_modified)
        except TimeoutError as error:
            raise FetchUnavailable("timeout", f"{url} took over {self.limits.total_timeout_s} s") from error

    async def _follow(
        self, url: str, etag: str | None, last_modified: str | None, check_robots: bool = True
    ) -> FetchResult:
        headers = {"Accept": _ACCEPT}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        current = url
        for _ in range(self.limits.max_redirects + 1):
            _check_scheme(current)
            host = urlsplit(current).hostname or ""
            crawl_delay = await self.robots.check(current) if self.robots and check_robots else None
            async with self.locks.setdefault(host, asyncio.Lock()):  # one request at a time per host
                await self.pacer.wait_turn(host, crawl_delay)
                result, location = await self._get_once(current, headers)
            if location is None:
                return result
            current = location
        raise FetchRefused("too_many_redirects", f"{url} redirected more than {self.limits.max_redirects} times")

    async def _get_once(self, url: str, headers: dict[str, str]) -> tuple[FetchResult, str | None]:
        try:
            async with self.client.stream("GET", url, headers=headers) as response:
                if response.is_redirect and "location" in response.headers:
                    return FetchResult(url=url, status=response.status_code), urljoin(url, response.headers["location"])
                _raise_for_status(url, response)
                result = FetchResult(
                    url=url,
                    status=response.status_code,
                    content_type=(response.headers.get("content-type") or "").split(";")[0].strip() or None,
                    charset=response.charset_encoding,
                    etag=response.headers.get("etag"),
                    last_modified=response.headers.get("last-modified"),
                )
                if response.status_code != 304:
                    result.content = await self._read_body(url, response)
                return result, None
        except (BlockedAddress, RefusedConnection) as error:
            raise FetchRefused(error.reason, error.detail) from error
        except HostUnresolvable as error:
            raise FetchUnavailable("dns", error.detail) from error
        except httpx.TimeoutException as error:
            raise FetchUnavailable("timeout", f"{url}: {type(error).__name__}") from error
        except httpx.TransportError as error:
            raise FetchUnavailable("connection", f"{url}: {error!r}") from error

    async def _read_body(self, url: str, response: httpx.Response) -> bytes:
        declared = response.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > self.limits.max_response_bytes:
            raise FetchRefused("too_large", f"{url} declares {declared} bytes > {self.limits.max_response_bytes}")
        decoder = _Decoder(response.headers.get("content-encoding", ""), self.limits.max_decompressed_bytes, url)
        received = 0
        async for chunk in response.aiter_raw():
            received += len(chunk)
            if received > self.limits.max_response_bytes:
                raise FetchRefused("too_large", f"{url} sent over {self.limits.max_response_bytes} bytes")
            decoder.feed(chunk)
        return decoder.finish()


class _Decoder:
    """Content-Encoding undone in bounded steps: output never exceeds the cap, whatever the ratio."""

    def __init__(self, encoding: str, max_bytes: int, url: str) -> None:
        self.max_bytes, self.url = max_bytes, url
        self.parts: list[bytes] = []
        self.size = 0
        codings = [coding.strip().lower() for coding in encoding.split(",") if coding.strip()]
        codings = [coding for coding in codings if coding != "identity"]
        if len(codings) > 1 or (codings and codings[0] not in ("gzip", "x-gzip", "deflate")):
            raise FetchRefused("unsupported_encoding", f"{url} is encoded as {encoding!r}")
        self.coding = codings[0] if codings else None
        # wbits 47 accepts gzip and zlib headers; raw deflate is tried if the zlib header is missing.
        self.inflater = zlib.decompressobj(47) if self.coding else None

    def feed(self, chunk: bytes) -> None:
        if self.inflater is None:
            self._keep(chunk)
            return
        data = chunk
        while data:
            try:
                out = self.inflater.decompress(data, self.max_bytes - self.size + 1)
            except zlib.error:
                if self.coding == "deflate" and self.size == 0 and not self.parts:
                    self.inflater = zlib.decompressobj(-zlib.MAX_WBITS)
                    continue
                raise FetchRefused("bad_encoding", f"{self.url} sent a corrupt {self.coding} body") from None
            self._keep(out)
            data = self.inflater.unconsumed_tail
            if not out and not data:
                break

    def _keep(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > self.max_bytes:
            raise FetchRefused("too_large", f"{self.url} decompresses to over {self.max_bytes} bytes")
        self.parts.append(data)

    def finish(self) -> bytes:
        if self.inflater is not None:
            self._keep(self.inflater.flush())
        return b"".join(self.parts)


def _check_scheme(url: str) -> None:
    scheme = urlsplit(url).scheme.lower()
    if scheme not in ("http", "https"):
        raise FetchRefused("scheme", f"only http and https are fetched, not {scheme or 'no scheme'}: {url[:200]}")


def _raise_for_status(url: str, response: httpx.Response) -> None:
    status = response.status_code
    if status in (429, 503) or status >= 500:
        wait = retry_after_seconds(response.headers.get("retry-after"))
        raise FetchUnavailable(f"http_{status}", f"{url} answered {status}", retry_after_s=wait)
    if status >= 400:
        raise FetchRefused(f"http_{status}", f"{url} answered {status}")
    if 300 <= status < 400 and status != 304:
        raise FetchRefused("bad_redirect", f"{url} answered {status} without a Location")


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """``Retry-After`` as seconds: a number of seconds or an HTTP date."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - (time.time() if now is None else now))
