"""Replicas of the stories stage take turns: one at a time reads its candidates, groups its batch and
writes the stories (made searchable at once), so the next replica's search sees them.

Why one turn for the whole stage and not a lock per story: the race that splits stories is two
replicas each *starting* a story for one event, and a story that does not exist yet has no key to
lock. The turn covers only the search, the in-memory grouping and the ``_bulk``: decoding and the
articles' profiles stay parallel. Grouping costs about a millisecond per article, so one turn at a
time still carries several hundred articles per second.

The turn is a key in a JetStream key-value bucket: a replica takes it with ``create``
(compare-and-set on "absent") and gives it back with a ``delete`` at the revision it wrote. A
replica killed while holding it (SIGKILL) never gives it back: a waiting replica that has seen the
same revision held for ``lease_s`` takes it over (``update`` at that revision, so only one waiter
wins), and the bucket's entries expire after ``lease_s`` anyway. The dead replica's
unacknowledged articles are redelivered. Correctness never rests on the turn: every write still
carries ``if_seq_no``/``if_primary_term``, so a holder whose lease ran out (a stalled OpenSearch)
gets a 409 and retries, never overwrites.
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
        self.holder = holder.encode()
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
    async def held(self) -> AsyncIterator[None]:
        async with self.local:
            revision = await self._take()
            try:
                yield
            finally:
                # Our lease may have expired and another replica taken the turn: then the key is theirs.
                with suppress(KeyWrongLastSequenceError, NatsError):
                    await self.kv.delete(KEY, last=revision)

    async def _take(self) -> int:
        give_up_at = time.monotonic() + self.wait_s
        pause = FIRST_PAUSE_S
        held: tuple[int, float] | None = None  # the revision another replica holds, and since when we see it
        try:
            while True:
                try:
                    return await self.kv.create(KEY, self.holder)
                except KeyWrongLastSequenceError:
                    pass
                revision = await self._held_revision()
                now = time.monotonic()
                if revision is not None and (held is None or held[0] != revision):
                    held = (revision, now)
                elif revision is not None and held is not None and now - held[1] > self.lease_s:  # holder died
                    with suppress(KeyWrongLastSequenceError):  # another waiter took it over first
                        return await self.kv.update(KEY, self.holder, last=revision)
                if now > give_up_at:
                    raise TurnUnavailable(f"another stories replica held the grouping turn over {self.wait_s} s")
                await asyncio.sleep(pause)
                pause = min(2 * pause, LONGEST_PAUSE_S)
        except NatsError as error:
            raise TurnUnavailable(f"NATS key-value: {error!r}") from error

    async def _held_revision(self) -> int | None:
        try:
            return (await self.kv.get(KEY)).revision
        except (KeyNotFoundError, KeyDeletedError):  # given back in between
            return None
