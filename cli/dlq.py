"""``newsflow dlq``: look at, replay and purge dead letters.

Dead letters live in the pipeline stream on ``<namespace>.dlq.<stage>``; the
stream sequence is each letter's id. A replay republishes the original bytes
to the subject it was read from with ``Nats-Msg-Id: replay:<id>`` and then
deletes the letter, so replaying twice (or after a crash between the two
steps) never sends a message twice within the duplicate window.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, TypeVar

import nats
import typer
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from rich.console import Console
from rich.table import Table

from cli.publish import connect
from shared.messages import DeadLettered
from shared.settings import ServiceSettings
from shared.topology import Topology

T = TypeVar("T")
dlq_app = typer.Typer(help="Dead letters: list, show, replay, purge.", no_args_is_help=True)
console = Console(stderr=True)


@dataclass(frozen=True)
class Letter:
    id: int
    letter: DeadLettered


async def read_letters(js: JetStreamContext, topology: Topology, stage: str | None = None) -> list[Letter]:
    """Every dead letter (of one stage, or all), oldest first, without consuming them."""
    subject = topology.dead_letter_subject(stage) if stage else topology.dead_letter_wildcard
    try:
        info = await js.stream_info(topology.stream, subjects_filter=subject)
    except nats.js.errors.NotFoundError:
        return []
    expected = sum((info.state.subjects or {}).values())
    if expected == 0:
        return []
    subscription = await js.pull_subscribe(
        subject,
        stream=topology.stream,
        config=ConsumerConfig(ack_policy=AckPolicy.NONE, deliver_policy=DeliverPolicy.ALL, inactive_threshold=30),
    )
    letters: list[Letter] = []
    try:
        while len(letters) < expected:
            batch = await subscription.fetch(min(256, expected - len(letters)), timeout=2)
            letters += [Letter(m.metadata.sequence.stream, DeadLettered.model_validate_json(m.data)) for m in batch]
    except TimeoutError:  # nats.errors.TimeoutError, or asyncio's when the fetch itself is cut short
        pass  # fewer than counted: some were replayed or purged meanwhile
    finally:
        await subscription.unsubscribe()
    return letters


def _matches(letter: Letter, stage: str | None, reason: str | None) -> bool:
    return (stage is None or letter.letter.stage == stage) and (reason is None or letter.letter.reason == reason)


async def replay(js: JetStreamContext, topology: Topology, stage: str | None, reason: str | None) -> int:
    replayed = 0
    for item in await read_letters(js, topology, stage):
        if not _matches(item, stage, reason):
            continue
        headers = {k: v for k, v in item.letter.original_headers.items() if not k.startswith("Nats-")}
        headers["Nats-Msg-Id"] = f"replay:{item.id}"
        await js.publish(item.letter.subject, item.letter.original.encode(), headers=headers)
        await js.delete_msg(topology.stream, item.id)
        replayed += 1
    return replayed


async def purge(js: JetStreamContext, topology: Topology, stage: str | None) -> int:
    subject = topology.dead_letter_subject(stage) if stage else topology.dead_letter_wildcard
    info = await js.stream_info(topology.stream, subjects_filter=subject)
    await js.purge_stream(topology.stream, subject=subject)
    return sum((info.state.subjects or {}).values())


async def _with_jetstream(work: Callable[[JetStreamContext, Topology], Awaitable[T]]) -> T:
    settings = ServiceSettings()
    client = await connect(settings, console)
    try:
        return await work(client.jetstream(), settings.topology)
    finally:
        await client.close()


StageOption = Annotated[str | None, typer.Option(help="Only this stage's dead letters")]


@dlq_app.command("list")
def list_letters(as_json: Annotated[bool, typer.Option("--json", help="Print as JSON")] = False) -> None:
    """Dead-letter counts by stage and reason."""
    letters = asyncio.run(_with_jetstream(lambda js, topology: read_letters(js, topology)))
    counts = Counter((item.letter.stage, item.letter.reason) for item in letters)
    if as_json:
        print(json.dumps([{"stage": s, "reason": r, "count": n} for (s, r), n in sorted(counts.items())]))
        return
    table = Table("stage", "reason", "count", "newest id")
    for (stage, reason), count in sorted(counts.items()):
        newest = max(item.id for item in letters if (item.letter.stage, item.letter.reason) == (stage, reason))
        table.add_row(stage, reason, str(count), str(newest))
    Console().print(table if counts else "no dead letters")


@dlq_app.command()
def show(letter_id: Annotated[int, typer.Argument(help="The id `dlq list` shows")]) -> None:
    """One dead letter in full: error, stage, attempts and the original message."""
    letters = asyncio.run(_with_jetstream(lambda js, topology: read_letters(js, topology)))
    found = next((item for item in letters if item.id == letter_id), None)
    if found is None:
        console.print(f"[red]no dead letter with id {letter_id}[/red]")
        raise typer.Exit(code=1)
    print(found.letter.model_dump_json(indent=2))


@dlq_app.command("replay")
def replay_command(
    stage: StageOption = None,
    reason: Annotated[str | None, typer.Option(help="Only letters with this reason")] = None,
) -> None:
    """Send dead letters back to the stage that refused them (after a fix). Idempotent."""
    count = asyncio.run(_with_jetstream(lambda js, topology: replay(js, topology, stage, reason)))
    Console().print(f"replayed {count} dead letters")


@dlq_app.command("purge")
def purge_command(
    stage: StageOption = None, yes: Annotated[bool, typer.Option("--yes", help="Do not ask")] = False
) -> None:
    """Delete dead letters for good."""
    if not yes:
        typer.confirm(f"Delete the dead letters of {stage or 'every stage'}?", abort=True)
    count = asyncio.run(_with_jetstream(lambda js, topology: purge(js, topology, stage)))
    Console().print(f"purged {count} dead letters")
