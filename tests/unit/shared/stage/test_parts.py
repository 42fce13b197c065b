"""The stage runtime's parts, each on its own (the whole runtime: test_runtime.py here, and against
the real JetStream in tests/integration/test_dead_letters.py and test_batches_in_flight.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from shared.errors import DependencyUnavailable
from shared.logging import get_logger
from shared.messages import MAX_MESSAGE_BYTES, ArticleIngested, DeadLettered, Source
from shared.stage import Outcome, PerItemWorker
from shared.stage.dead_letters import MAX_LETTER_BYTES, article_id_of, with_original
from shared.stage.keep_alive import kept_alive
from shared.stage.provenance import stamp
from shared.stage.recovery import run_until_dependencies_recover, run_worker

LOG = get_logger("test")


class _Held:
    """Counts the keep-alives a held message receives."""

    def __init__(self) -> None:
        self.beats = 0

    async def in_progress(self) -> None:
        self.beats += 1


async def test_messages_in_hand_are_kept_alive_until_the_work_ends() -> None:
    held = [_Held(), _Held()]
    async with kept_alive(held, interval_s=0.01):  # type: ignore[arg-type]
        await asyncio.sleep(0.1)
    beats = [message.beats for message in held]
    await asyncio.sleep(0.05)
    assert all(count >= 2 for count in beats)
    assert [message.beats for message in held] == beats  # none after the block


class _RecoversAfter(PerItemWorker):
    """A server that is down for the first ``outages`` calls; then every item is done."""

    def __init__(self, outages: int) -> None:
        self.outages = outages
        self.calls: list[list[str]] = []

    async def process_batch(self, items: Sequence[Any]) -> list[Outcome]:
        self.calls.append(list(items))
        if len(self.calls) <= self.outages:
            return [DependencyUnavailable("down") if item != "fine" else [] for item in items]
        return [[] for _ in items]


async def test_only_the_messages_that_waited_for_a_server_are_run_again() -> None:
    worker = _RecoversAfter(outages=1)
    outcomes = await run_until_dependencies_recover(worker, ["fine", "a", "b"], asyncio.Event(), "t", LOG)
    assert outcomes == [[], [], []]
    assert worker.calls == [["fine", "a", "b"], ["a", "b"]]


async def test_on_shutdown_what_still_waits_is_handed_back_waiting() -> None:
    stopping = asyncio.Event()
    stopping.set()
    [outcome] = await run_until_dependencies_recover(_RecoversAfter(outages=5), ["a"], stopping, "t", LOG)
    assert isinstance(outcome, DependencyUnavailable)


class _Broken(PerItemWorker):
    def __init__(self, answer: Any) -> None:
        self.answer = answer

    async def process_batch(self, items: Sequence[Any]) -> list[Outcome]:
        if isinstance(self.answer, Exception):
            raise self.answer
        return list(self.answer)


async def test_a_worker_that_breaks_its_contract_fails_each_message() -> None:
    raised = await run_worker(_Broken(ValueError("bug")), ["a", "b"], "t", LOG)
    assert [type(outcome) for outcome in raised] == [ValueError, ValueError]
    short = await run_worker(_Broken([[]]), ["a", "b"], "t", LOG)
    assert all(isinstance(outcome, RuntimeError) and "1 outcomes for 2" in str(outcome) for outcome in short)


def test_a_dead_letter_keeps_as_much_of_a_huge_original_as_fits() -> None:
    letter = DeadLettered(stage="t", subject="s", reason="r", error="e", kind="permanent", attempts=1, original="")
    hostile = b'"' * MAX_MESSAGE_BYTES  # every byte doubles when escaped
    encoded = with_original(letter, hostile)
    assert len(encoded) <= MAX_LETTER_BYTES
    back = DeadLettered.model_validate_json(encoded)
    assert back.original_truncated and 0 < len(back.original) < len(hostile)
    small = DeadLettered.model_validate_json(with_original(letter, b'{"article_id": "a1"}'))
    assert not small.original_truncated and article_id_of(small.original.encode()) == "a1"


def test_a_stamp_names_the_stage_and_each_field_it_wrote() -> None:
    article = ArticleIngested(article_id="a", title="t", body="b", source=Source(name="s"))
    stamp(article, "enrich", {"topics": "model-v2", "summary": None})
    stamp(article, "retopic", {"topics": "model-v3"})
    assert [entry.service for entry in article.provenance.stamps] == ["enrich", "retopic"]
    assert article.provenance.fields["topics"].stage == "retopic"
    assert article.provenance.fields["topics"].model == "model-v3"
    assert article.provenance.fields["summary"].model is None
