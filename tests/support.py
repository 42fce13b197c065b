"""Helpers for tests: bounded waits, starting workers and stage apps as their services do, making articles."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import nats
from faststream import FastStream

from cli.dlq import read_letters
from cli.files import read_path
from cli.inprocess import InProcessPipeline
from shared.localhost import free_port
from shared.messages import ArticleLinked, DeadLettered, DocumentSubmitted
from shared.nats import connect_options
from shared.search.client import async_client
from shared.search.indices import template_name
from shared.settings import OpenSearchSettings, ServiceSettings
from shared.stage import Outcome, PerItemWorker, StageContext, StageWorker
from shared.topology import Topology

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "corpus" / "sample"

TOPICS = {
    "technology": "engineers shipped a faster chip and a new language model for data centres",
    "sport": "the striker scored twice as the club won the league match in extra time",
    "business": "shares rose after the retailer reported quarterly profit above forecasts",
    "health": "doctors reported that the new vaccine cut hospital admissions in the trial",
    "science": "astronomers measured the orbit of a distant planet with the new telescope",
}


async def wait_until(
    check: Callable[[], Awaitable[bool]], timeout_s: float = 30, what: str = "condition", every_s: float = 0.2
) -> None:
    """Bounded wait for a readiness or completion condition."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(every_s)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")


@asynccontextmanager
async def running(*apps: FastStream) -> AsyncIterator[None]:
    """Start stage apps in this process against the real servers; stop them afterwards."""
    for app in apps:
        await app.start()
    try:
        yield
    finally:
        for app in apps:
            await app.stop()


# The stages an article passes through until it is searchable: the index and every stage before it.
STAGES_TO_INDEX = Topology().stage_names[: Topology().stage_names.index("index") + 1]


def stage_app(stage: str, **settings: Any) -> FastStream:
    """The stage's service app as ``python -m services.<stage>`` builds it (``create_app``), on the stage's own
    settings class (the one ``services/<stage>/settings.py`` defines) made from ``settings``: a field the stage
    does not have (``opensearch`` for ingest) is ignored, as in the environment."""
    module = importlib.import_module(f"services.{stage}.settings")
    (settings_class,) = [
        value
        for value in vars(module).values()
        if isinstance(value, type) and issubclass(value, ServiceSettings) and value.__module__ == module.__name__
    ]
    app: FastStream = importlib.import_module(f"services.{stage}.app").create_app(settings_class(**settings))
    return app


def stage_apps(stages: Iterable[str], **settings: Any) -> list[FastStream]:
    """``stage_app`` of each stage, all on the same settings (a test's servers and namespace)."""
    return [stage_app(stage, **settings) for stage in stages]


def numbered_records(count: int, prefix: str = "item") -> list[DocumentSubmitted]:
    """Distinct small articles, cycling through a few topics, each with its own URL."""
    names = list(TOPICS)
    records = []
    for number in range(count):
        topic = names[number % len(names)]
        records.append(
            DocumentSubmitted(
                submission_id=f"{prefix}-{number}",
                kind="record",
                hints={
                    "title": f"Report {number} on {topic}",
                    "body": f"In report {number}, {TOPICS[topic]}. Officials in Beijing and Washington commented. "
                    f"The item number {number} closes with a note about {topic}.",
                    "url": f"https://news.example.test/{prefix}/{number}",
                    "source": f"Outlet {number % 3}",
                    "published_at": "2026-11-20T10:00:00Z",
                },
            )
        )
    return records


class ServiceProcess:
    """One service run as its own process (``python -m services.<name>``), as in production."""

    def __init__(self, name: str, env: dict[str, str], log_dir: Path) -> None:
        self.name, self.env, self.log_path = name, env, log_dir / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", f"services.{self.name}"],
                cwd=ROOT,
                env={**os.environ, **self.env},
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def kill(self) -> None:
        """SIGKILL: no chance to ack, drain or say goodbye."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    # Longer than a stop may take (ServiceSettings: graceful_timeout_s for the batch in hand, then drain_timeout_s).
    def terminate(self, timeout_s: float = 45) -> int:
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout_s)


@asynccontextmanager
async def service_processes(
    names: list[str], env: dict[str, str], log_dir: Path
) -> AsyncIterator[dict[str, ServiceProcess]]:
    processes = {name: ServiceProcess(name, env, log_dir) for name in names}
    for process in processes.values():
        process.start()
    try:
        yield processes
    finally:
        for process in processes.values():
            if process.process is not None and process.process.poll() is None:
                process.terminate()


class AlwaysFailing(PerItemWorker):
    """A stage whose code has a bug: every message raises (a transient error to the runtime)."""

    def process(self, item: Any) -> list[Any]:
        raise RuntimeError("simulated bug")


class CuttableProxy:
    """A TCP proxy on 127.0.0.1 whose ``cut`` refuses new connections and resets open ones.

    To a client that is what a stopped server looks like, without the minute a JVM needs to start.
    It runs in the test's event loop, so the test must await (not block) while clients use it.
    """

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def restore(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port, reuse_address=True)

    async def cut(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def _serve(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            server_reader, server_writer = await asyncio.open_connection(*self.target)
        except OSError:
            client_writer.transport.abort()
            return
        self._writers |= {client_writer, server_writer}
        await asyncio.gather(
            self._pipe(client_reader, server_writer), self._pipe(server_reader, client_writer), return_exceptions=True
        )
        self._writers -= {client_writer, server_writer}

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while chunk := await reader.read(65536):
                writer.write(chunk)
                await writer.drain()
        finally:
            with contextlib.suppress(OSError, RuntimeError):
                writer.close()


W = TypeVar("W", bound=StageWorker)


@asynccontextmanager
async def started(stage: str, worker: W, settings: ServiceSettings, *, jetstream: bool = False) -> AsyncIterator[W]:
    """``worker`` started as its service starts it: the stage's context with these settings and their topology,
    and stopped afterwards. ``jetstream``: on a NATS connection of its own (as the settings say), for a worker
    that keeps state there; the others are started without one, so they need no nats-server."""
    client = await nats.connect(**connect_options(settings)) if jetstream else None
    context = StageContext(stage, settings, settings.topology, jetstream=client.jetstream() if client else None)
    await worker.start(context)
    try:
        yield worker
    finally:
        await worker.stop()
        if client is not None:
            await client.drain()


async def remove_indices(settings: OpenSearchSettings, *aliases: str) -> None:
    """Deletes the versioned indices and the index template behind each alias: name only a test's own aliases
    (a setting left at its default, such as ``stories``, may be a running stack's)."""
    client = async_client(settings)
    try:
        for alias in aliases:
            await client.indices.delete(index=f"{alias}-v*", ignore_unavailable=True)
            await client.indices.delete_index_template(name=template_name(alias), ignore=[404])
    finally:
        await client.close()


async def offline_outcomes(worker: StageWorker, *items: Any) -> list[Outcome]:
    """A worker's outcomes as ``newsflow process`` gets them: started offline."""
    await worker.start(StageContext("offline", ServiceSettings(), Topology(), offline=True))
    try:
        return await worker.process_batch(list(items))
    finally:
        await worker.stop()


async def sample_articles() -> dict[str, ArticleLinked]:
    """corpus/sample through the real stage code (ingest, enrich, entity link, in process), by file name
    (``wire.jsonl:<line>`` for the JSON Lines records)."""
    articles: dict[str, ArticleLinked] = {}
    async with InProcessPipeline() as pipeline:
        for path in sorted(SAMPLE.glob("*.txt")) + sorted(SAMPLE.glob("*.jsonl")):
            for line, submission in enumerate(read_path(path)):
                (article,) = await pipeline.articles([submission])  # type: ignore[list-item]
                name = path.name if path.suffix == ".txt" else f"{path.name}:{line}"
                articles[name] = ArticleLinked.model_validate(article.model_dump())
    return articles


async def dead_letters(nats_url: str, topology: Topology, stage: str) -> list[DeadLettered]:
    """The stage's dead letters, read without consuming them."""
    client = await nats.connect(nats_url)
    try:
        return [item.letter for item in await read_letters(client.jetstream(), topology, stage)]
    finally:
        await client.close()
