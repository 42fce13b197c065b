"""Politeness shared by every ingest replica: robots.txt and the pace per host.

* robots.txt (RFC 9309, parsed by ``protego``) is fetched once per host and scheme and kept
  ``expiry_s`` (24 h by default, the RFC's upper bound). A 4xx (no file) allows everything; a 5xx or
  an unreachable host is a transient failure, so the page is tried again later rather than fetched
  unasked. A disallowed URL is refused with the reason ``robots_disallowed``. A ``Crawl-delay``
  longer than ours slows our pace for that host.
* The pace: requests to one host at least ``delay_s`` apart across all replicas. Each request
  reserves the next free slot for its host in the NATS KV bucket with a compare-and-set, so two
  replicas take turns instead of each keeping its own pace (which would double the rate).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from protego import Protego

from services.ingest.collect.state import StateStore
from shared.errors import PermanentError
from shared.logging import get_logger

log = get_logger("newsflow.ingest.robots")

ROBOTS_EXPIRY_S = 24 * 3600.0
# Longest Crawl-delay we follow: a site asking for more is fetched at this pace rather than never.
MAX_CRAWL_DELAY_S = 60.0


class RobotsDisallowed(PermanentError):
    def __init__(self, url: str, agent: str) -> None:
        super().__init__("robots_disallowed", f"{url} is disallowed for {agent!r} by its site's robots.txt")


# Fetches a robots.txt URL: the body, or None when the site has none (a 4xx); raises when unreachable.
RobotsLoader = Callable[[str], Awaitable[str | None]]


@dataclass
class RobotsCache:
    load: RobotsLoader
    agent: str
    expiry_s: float = ROBOTS_EXPIRY_S
    _rules: dict[str, tuple[Protego | None, float]] = field(default_factory=dict)
    _locks: dict[str, asyncio.Lock] = field(default_factory=dict)

    async def rules(self, url: str) -> Protego | None:
        """The parsed robots.txt of ``url``'s site (None: it has none), fetched once per expiry."""
        parts = urlsplit(url)
        site = f"{parts.scheme}://{parts.netloc}"
        async with self._locks.setdefault(site, asyncio.Lock()):
            cached = self._rules.get(site)
            if cached is not None and cached[1] > time.monotonic():
                return cached[0]
            body = await self.load(f"{site}/robots.txt")
            rules = Protego.parse(body) if body is not None else None
            self._rules[site] = (rules, time.monotonic() + self.expiry_s)
            return rules

    async def check(self, url: str) -> float | None:
        """Raise ``RobotsDisallowed`` if the site forbids ``url``; else its Crawl-delay for us, if any."""
        rules = await self.rules(url)
        if rules is None:
            return None
        if not rules.can_fetch(url, self.agent):
            log.info("robots_refused", url=url, agent=self.agent)
            raise RobotsDisallowed(url, self.agent)
        delay = rules.crawl_delay(self.agent)
        return min(float(delay), MAX_CRAWL_DELAY_S) if delay else None


@dataclass
class LocalPacer:
    """One process's pace: requests to one host at least ``delay_s`` apart (no state shared)."""

    delay_s: float
    _next_slot: dict[str, float] = field(default_factory=dict)

    async def wait_turn(self, host: str, delay_s: float | None = None) -> None:
        now = time.monotonic()
        slot = max(now, self._next_slot.get(host, now))
        self._next_slot[host] = slot + max(self.delay_s, delay_s or 0.0)
        await asyncio.sleep(slot - now)


@dataclass
class SharedPacer:
    """The pace of all replicas: each request reserves its host's next slot in the shared store."""

    store: StateStore
    delay_s: float

    async def wait_turn(self, host: str, delay_s: float | None = None) -> None:
        key = "pace." + hashlib.blake2b(host.encode(), digest_size=12).hexdigest()
        spacing = max(self.delay_s, delay_s or 0.0)
        while True:
            now = time.time()  # wall clock: replicas on other machines compare slots with it
            found = await self.store.get(key)
            slot = max(now, json.loads(found[0])["next"]) if found else now
            value = json.dumps({"next": slot + spacing}).encode()
            reserved = await self.store.update(key, value, found[1]) if found else await self.store.create(key, value)
            if reserved:
                await asyncio.sleep(slot - now)
                return
