"""The point in time relevance-ranked pages read.

A new search opens no point in time of its own: one is shared by every search that starts within
``every_s`` of it, so the open points in time are at most ``keep_alive / every_s`` however busy the
API is (OpenSearch caps them per node), and a first page ranked by relevance sees articles up to
``every_s`` old. Each page's search extends its point in time by ``keep_alive``; unused ones expire."""

from __future__ import annotations

import threading
import time

from shared.search.queries import Searcher


class Snapshots:
    def __init__(self, searcher: Searcher, every_s: float, keep_alive: str) -> None:
        self.searcher, self.every_s, self.keep_alive = searcher, every_s, keep_alive
        self.lock = threading.Lock()
        self.snapshot: str | None = None
        self.opened_at = 0.0

    def current(self) -> str:
        with self.lock:
            if self.snapshot is None or time.monotonic() - self.opened_at >= self.every_s:
                self.snapshot = self.searcher.open_snapshot(self.keep_alive)
                self.opened_at = time.monotonic()
            return self.snapshot

    def discard(self, snapshot: str) -> None:
        """Forget a point in time OpenSearch no longer has (a node restarted, say): the next search opens one."""
        with self.lock:
            if self.snapshot == snapshot:
                self.snapshot = None
