"""``newsflow kb ...``: build the knowledge base and look names up in it.

Mounted by the main CLI (``app.add_typer(kb_app, name="kb")``); also runs on
its own: ``python -m cli.kb lookup Washington``.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from services.entity_link.kb.build import (
    BUNDLED_KB,
    DEFAULT_SHARED_DATA,
    BuildInterrupted,
    DumpProgress,
    build_from_dump,
    build_from_lists,
)
from services.entity_link.kb.checkpoint import CheckpointMismatch
from services.entity_link.kb.wikidata_dump import DumpOptions
from services.entity_link.linker import load_knowledge_base
from services.entity_link.settings import DEFAULT_OVERLAY
from shared.logging import configure_logging, get_logger

kb_app = typer.Typer(help="The entity-linking knowledge base: build it, look names up.", no_args_is_help=True)


class ProgressMode(StrEnum):
    auto = "auto"  # a bar when stderr is a terminal, nothing otherwise
    bar = "bar"
    log = "log"  # a structlog line every 30 s (JSON when stderr is not a terminal)
    none = "none"


@kb_app.command()
def build(
    wikidata_dump: Annotated[
        Path | None,
        typer.Option(help="a Wikidata JSON dump (.json, .json.gz or .json.bz2) to stream instead of the shared lists"),
    ] = None,
    data: Annotated[Path, typer.Option(help="the data folder with wikidata-entities/, kb-extra/, kb-more/")] = (
        DEFAULT_SHARED_DATA
    ),
    out: Annotated[Path, typer.Option(help="where to write the artifact (.tsv.xz or .tsv.gz)")] = BUNDLED_KB,
    min_sitelinks: Annotated[int, typer.Option(help="dump only: keep items with at least this many sitelinks")] = 5,
    progress: Annotated[ProgressMode, typer.Option(help="dump only: how to show progress and the ETA on stderr")] = (
        ProgressMode.auto
    ),
    fresh: Annotated[bool, typer.Option(help="dump only: discard the checkpoint of an earlier run and start over")] = (
        False
    ),
    checkpoint_seconds: Annotated[float, typer.Option(help="dump only: seconds between checkpoints")] = 60.0,
) -> None:
    """Build the knowledge-base artifact and print what was built (entities, size, entities/s).

    With --wikidata-dump: progress and an ETA on stderr; Ctrl-C, a kill or a power cut loses a minute at most.

    Run the same command again to resume from the last checkpoint (kept beside --out); --fresh starts over.

    Memory: flat, about 64 MB whatever the dump's size (one line at a time); a .tsv.xz --out adds up to 0.7 GB.

    Time: a full dump takes about 2 h from latest-all.json.gz on one core here, about a day from .bz2 (README).
    """
    if wikidata_dump is None:
        typer.echo(json.dumps(build_from_lists(data, out).as_dict(), indent=2))
        return
    mode = progress
    if mode is ProgressMode.auto:
        mode = ProgressMode.bar if sys.stderr.isatty() else ProgressMode.none
    stop = threading.Event()
    display = _DumpProgressDisplay(mode)
    try:
        # The messages below are written once the bar is gone, so they are not drawn over.
        with display, _stop_on_signals(stop):
            report = build_from_dump(
                wikidata_dump,
                out,
                DumpOptions(min_sitelinks=min_sitelinks),
                fresh=fresh,
                checkpoint_seconds=checkpoint_seconds,
                progress=display.update if mode is not ProgressMode.none else None,
                progress_seconds=_LOG_SECONDS if mode is ProgressMode.log else 1.0,
                stop=stop,
            )
    except CheckpointMismatch as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(code=2) from error
    except BuildInterrupted as interrupted:
        typer.echo(
            f"{interrupted}; checkpoint saved in {interrupted.checkpoint}. "
            "Run the same command again to resume (--fresh starts over).",
            err=True,
        )
        raise typer.Exit(code=130) from interrupted
    if report.resumed_from_line:
        typer.echo(f"resumed from dump line {report.resumed_from_line:,}", err=True)
    typer.echo(json.dumps(report.as_dict(), indent=2))


_LOG_SECONDS = 30.0


class _DumpProgressDisplay:
    """Progress of a dump build: rich's bar on a terminal, or structlog lines with rich's speed and ETA."""

    def __init__(self, mode: ProgressMode) -> None:
        self._log = get_logger("newsflow.kb") if mode is ProgressMode.log else None
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TextColumn("{task.fields[lines]:,} items, {task.fields[kept]:,} kept"),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            disable=mode is not ProgressMode.bar,
            # Minutes of samples: a dump's density changes slowly, and log lines come every 30 s.
            speed_estimate_period=300,
        )
        self._task: TaskID | None = None

    def update(self, state: DumpProgress) -> None:
        description = "skipping built lines" if state.skipping else "reading dump"
        lines, kept = state.stats.lines, state.stats.kept
        if self._task is None:
            self._task = self._progress.add_task(description, total=state.size, lines=lines, kept=kept)
        self._progress.update(self._task, description=description, completed=state.position, lines=lines, kept=kept)
        if self._log is not None:
            task = self._progress.tasks[0]
            self._log.info(
                "kb_dump_progress",
                phase=description,
                percent=round(100 * state.position / state.size, 2) if state.size else 100.0,
                read_mb=round(state.position / 1e6, 1),
                dump_mb=round(state.size / 1e6, 1),
                items=state.stats.lines,
                kept=state.stats.kept,
                mb_per_second=round((task.speed or 0.0) / 1e6, 2),
                eta_seconds=round(task.time_remaining) if task.time_remaining is not None else None,
            )

    def __enter__(self) -> _DumpProgressDisplay:
        if self._log is not None:
            configure_logging()
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()


@contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """Ctrl-C or SIGTERM asks the build to checkpoint and stop; a second one stops it at once."""

    def ask_to_stop(signum: int, _frame: object) -> None:
        stop.set()
        signal.signal(signum, signal.SIG_DFL if signum != signal.SIGINT else signal.default_int_handler)
        typer.echo("\nstopping after a checkpoint (press again to stop at once)...", err=True)

    handled = (signal.SIGINT, signal.SIGTERM)
    previous = {signum: signal.signal(signum, ask_to_stop) for signum in handled}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


@kb_app.command()
def lookup(
    name: Annotated[str, typer.Argument(help="a name as written in an article")],
    kb: Annotated[Path, typer.Option(help="the artifact to read")] = BUNDLED_KB,
    overlay: Annotated[Path | None, typer.Option(help="the operators' overlay applied on top")] = DEFAULT_OVERLAY,
    limit: Annotated[int, typer.Option(help="how many candidates to show")] = 10,
) -> None:
    """Show the entities a name may stand for, strongest first, with ids, types and scores."""
    knowledge_base = load_knowledge_base(kb, overlay)
    candidates = knowledge_base.lookup(name)[:limit]
    rows = [
        {
            "id": c.entity.id,
            "name": c.entity.name,
            "type": c.entity.type,
            "kind": c.entity.kind,
            "country": c.entity.country,
            "prior": c.entity.prior,
            "alias_weight": c.weight,
            "score": round(c.entity.prior * c.weight, 3),
            "description": c.entity.description,
        }
        for c in candidates
    ]
    typer.echo(json.dumps({"name": name, "candidates": rows}, ensure_ascii=False, indent=2))
    if not rows:
        raise typer.Exit(code=1)


if __name__ == "__main__":
    kb_app()
