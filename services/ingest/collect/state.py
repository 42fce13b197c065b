"""Where ingest keeps what must survive a restart: seen articles, poll state, leases.

One small compare-and-set key-value interface with two implementations: in
memory (``newsflow process`` and unit tests, no server) and a NATS JetStream
KV bucket (the service; shared by every replica, so dedupe and leases hold
across replicas and restarts).
"""

from __future__ import annotations

from typing import Protocol

from nats.js.client import JetStreamContext
from nats.js.errors import BucketNotFoundError, KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue


class StateStore(Protocol):
    async def get(self, key: str) -> tuple[bytes, int] | None:
        """The value and its revision, or None."""
        ...

    async def create(self, key: str, value: bytes) -> bool:
        """Store ``value`` only if ``key`` is absent; False when it was there already."""
        ...

    async def update(self, key: str, value: bytes, revision: int) -> bool:
        """Store ``value`` only if ``key`` is still at ``revision``; False when someone wrote it since."""
        ...

    async def put(self, key: str, value: bytes) -> None: ...


class MemoryStateStore:
    """The in-process store (``newsflow process`` and unit tests)."""

    def __init__(self) -> None:
        self._values: dict[str, tuple[bytes, int]] = {}
        self._revision = 0

    async def get(self, key: str) -> tuple[bytes, int] | None:
        return self._values.get(key)

    async def create(self, key: str, value: bytes) -> bool:
        if key in self._values:
            return False
        self._write(key, value)
        return True

    async def update(self, key: str, value: bytes, revision: int) -> bool:
        current = self._values.get(key)
        if current is None or current[1] != revision:
            return False
        self._write(key, value)
        return True

    async def put(self, key: str, value: bytes) -> None:
        self._write(key, value)

    def _write(self, key: str, value: bytes) -> None:
        self._revision += 1
        self._values[key] = (value, self._revision)


class NatsStateStore:
    """A JetStream KV bucket. Keys must use NATS KV's alphabet: letters, digits, ``-_=./``."""

    def __init__(self, kv: KeyValue) -> None:
        self.kv = kv

    @classmethod
    async def open(cls, js: JetStreamContext, bucket: str, ttl_s: float, replicas: int = 1) -> NatsStateStore:
        """Bind to the bucket, creating it on first use with ``replicas`` copies (one per server of a
        cluster, up to 3). ``ttl_s`` bounds how long an unrewritten key lives."""
        try:
            kv = await js.key_value(bucket)
        except BucketNotFoundError:
            kv = await js.create_key_value(bucket=bucket, history=1, ttl=ttl_s, replicas=replicas)
        return cls(kv)

    async def get(self, key: str) -> tuple[bytes, int] | None:
        try:
            entry = await self.kv.get(key)
        except KeyNotFoundError:
            return None
        return (entry.value or b""), entry.revision or 0

    async def create(self, key: str, value: bytes) -> bool:
        try:
            await self.kv.create(key, value)
        except KeyWrongLastSequenceError:
            return False
        return True

    async def update(self, key: str, value: bytes, revision: int) -> bool:
        try:
            await self.kv.update(key, value, last=revision)
        except KeyWrongLastSequenceError:
            return False
        return True

    async def put(self, key: str, value: bytes) -> None:
        await self.kv.put(key, value)
