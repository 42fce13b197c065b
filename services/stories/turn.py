"""Replicas of the stories stage take turns: one at a time reads its candidates, groups its batch and
writes the stories; a replica taking the turn after another one refreshes the stories index first,
so its search sees every story written before it.

Why one turn for the whole stage and not a lock per story: the race that splits stories is two
replicas each *starting* a story for one event, and a story that does not exist yet has no key to
lock. The turn covers only the search, the in-memory grouping and the ``_bulk``: decoding and the
articles' profiles stay parallel. Grouping costs about a millisecond per article, so one turn at a
time still carries several hundred articles per second.

The turn is a key in a JetStream key-value bucket holding ``held <replica>`` or ``free <replica>``
(the last holder), changed only by compare-and-set on its revision. A replica that takes it from
itself skips the refresh (its own writes are in its memory); from another replica, or from an
unknown past, it refreshes. A replica killed while holding it (SIGKILL) never gives it back: a
waiting replica that has seen the same revision held for ``lease_s`` takes it over (``update`` at
that revision, so only one waiter wins), and the bucket's entries expire after ``lease_s`` anyway.
The dead replica's unacknowledged articles are redelivered. Correctness never rests on the turn:
every write still carries ``if_seq_no``/``if_primary_term``, so a holder whose lease ran out (a
stalled OpenSearch) gets a 409 and retries, never overwrites.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

from nats.errors import Error as NatsError
from nats.js import JetStreamContext
from nats.js.errors import BucketNotFoundError, KeyDeletedError, KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue

from shared.errors import TransientError

KEY = "grouping"
FIRST_PAUSE_S = 0.005
LONGEST_PAUSE_S = 0.1


class TurnUnavailable(TransientError):
    """The turn could not be taken (another replica held it too long, or NATS did not answer): retry later."""


class GroupingTurn:
    def __init__(self, kv: KeyValue, holder: str, lease_s: float) -> None:
        self.kv = kv
        self.held_value = f"held {holder}".encode()
        self.free_value = f"free {holder}".encode()
        self.lease_s = lease_s
        self.wait_s = 2 * lease_s
        self.local = asyncio.Lock()  # this process's batches in flight wait here, not on the bucket

    @classmethod
    async def open(cls, js: JetStreamContext, bucket: str, replicas: int, lease_s: float, holder: str) -> GroupingTurn:
        try:
            kv = await js.key_value(bucket)
        except BucketNotFoundError:
            kv = await js.create_key_value(bucket=bucket, history=1, ttl=lease_s, replicas=replicas)
        return cls(kv, holder, lease_s)

    @asynccontextmanager
    async def held(self) -> AsyncIterator[bool]:
        """Hold the turn; yields whether another replica may have written since this one last held it."""
        async with self.local:
            revision, others_wrote = await self._take()
            try:
                yield others_wrote
            finally:
                # Our lease may have expired and another replica taken the turn: then the key is theirs.
                with suppress(KeyWrongLastSequenceError, NatsError):
                    await self.kv.update(KEY, self.free_value, last=revision)

    async def _take(self) -> tuple[int, bool]:
        give_up_at = time.monotonic() + self.wait_s
        pause = FIRST_PAUSE_S
        held: tuple[int, float] | None = None  # the revision another replica holds, and since when we see it
        try:
            while True:
                try:
                    return await self.kv.create(KEY, self.held_value), True
                except KeyWrongLastSequenceError:
                    pass
                entry = await self._entry()
                now = time.monotonic()
                if entry is not None:
                    revision, value = entry
                    with suppress(KeyWrongLastSequenceError):  # another replica was quicker
                        if value.startswith(b"free "):
                            return await self.kv.update(KEY, self.held_value, last=revision), value != self.free_value
                        if held is None or held[0] != revision:
                            held = (revision, now)
                        elif now - held[1] > self.lease_s:  # its holder died
                            return await self.kv.update(KEY, self.held_value, last=revision), True
                if now > give_up_at:
                    raise TurnUnavailable(f"another stories replica held the grouping turn over {self.wait_s} s")
                await asyncio.sleep(pause)
                pause = min(2 * pause, LONGEST_PAUSE_S)
        except NatsError as error:
            raise TurnUnavailable(f"NATS key-value: {error!r}") from error

    async def _entry(self) -> tuple[int, bytes] | None:
        try:
            entry = await self.kv.get(KEY)
        except (KeyNotFoundError, KeyDeletedError):  # expired in between
            return None
        return None if entry.revision is None else (entry.revision, entry.value or b"")
