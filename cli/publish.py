"""Publishing into the running pipeline (``newsflow ingest``)."""

from __future__ import annotations

from pathlib import Path

import nats
import typer
from nats.errors import NoServersError
from rich.console import Console
from rich.progress import Progress

from cli.files import FileProblem, read_path
from shared.messages import MAX_MESSAGE_BYTES, DocumentSubmitted
from shared.nats import connect_options, ensure_stream
from shared.settings import ServiceSettings


async def connect(settings: ServiceSettings, console: Console) -> nats.NATS:
    try:
        return await nats.connect(connect_timeout=3, max_reconnect_attempts=1, **connect_options(settings))
    except (NoServersError, OSError, TimeoutError):
        console.print(f"[red]NATS is not reachable at {settings.nats_url}[/red] (is the stack up? `make up`)")
        raise typer.Exit(code=2) from None


async def publish_submissions(js: nats.js.JetStreamContext, subject: str, submissions: list[DocumentSubmitted]) -> None:
    for submission in submissions:
        data = submission.model_dump_json().encode()
        if len(data) > MAX_MESSAGE_BYTES:
            raise ValueError(f"{len(data)} bytes once encoded, over the {MAX_MESSAGE_BYTES}-byte message limit")
        # The submission id makes a re-run of the same files a no-op inside the duplicate window.
        await js.publish(subject, data, headers={"Nats-Msg-Id": submission.submission_id})


async def publish_files(
    paths: list[Path], settings: ServiceSettings, console: Console, hints: dict[str, str] | None = None
) -> list[FileProblem]:
    problems: list[FileProblem] = []
    client = await connect(settings, console)
    try:
        js = client.jetstream()
        topology = settings.topology
        await ensure_stream(js, topology)
        with Progress(console=console, transient=False) as progress:
            task = progress.add_task("publishing", total=len(paths))
            for path in paths:
                submissions: list[DocumentSubmitted] = []
                for item in read_path(path, hints):
                    (problems if isinstance(item, FileProblem) else submissions).append(item)  # type: ignore[arg-type]
                try:
                    await publish_submissions(js, topology.entry_subject, submissions)
                except (ValueError, nats.errors.Error) as error:
                    problems.append(FileProblem(str(path), f"not published: {error}"))
                progress.advance(task)
    finally:
        await client.drain()
    return problems
