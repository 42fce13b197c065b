"""Fault injectors: servers of our own that a test may stop, and a TCP proxy it may cut.

The shared nats-server and OpenSearch serve every other test and helper, so a
test that takes a server down takes down one it started itself: a nats-server
on a free port with its own store, or an OpenSearch node on its own ports and
data directory (deploy/opensearch/opensearch.sh with OPENSEARCH_PORT and
NEWSFLOW_LOCAL_DIR). A ``CuttableProxy`` in front of a server stands in for an
outage when starting a JVM would cost more than the test may spend.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

ROOT = Path(__file__).resolve().parents[2]
NATS_SERVER = ROOT / ".venv" / "bin" / "nats-server"
OPENSEARCH_SCRIPT = ROOT / "deploy" / "opensearch" / "opensearch.sh"
# The shared node's jars and compiled launcher; a node of our own reuses them instead of resolving them again.
SHARED_OPENSEARCH_DIR = ROOT / ".local" / "opensearch"


class Outage(Protocol):
    """Something that can be made unreachable and brought back."""

    async def cut(self) -> None: ...

    async def restore(self) -> None: ...


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def port_open(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _wait_for(predicate: Callable[[], bool], what: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")


class NatsServer:
    """A JetStream nats-server of our own, with the payload limit the deployments set (deploy/nats/*.conf)."""

    def __init__(
        self, directory: Path, port: int | None = None, max_payload: str = "8MB", users: dict[str, str] | None = None
    ) -> None:
        self.directory = directory
        self.port = port or free_port()
        self.url = f"nats://127.0.0.1:{self.port}"
        self.config = directory / "nats.conf"
        self.log = directory / "nats.log"
        directory.mkdir(parents=True, exist_ok=True)
        accounts = ", ".join(f'{{user: "{user}", password: "{password}"}}' for user, password in (users or {}).items())
        self.config.write_text(
            f"listen: 127.0.0.1:{self.port}\n"
            f"max_payload: {max_payload}\n"
            f'jetstream {{\n  store_dir: "{directory / "store"}"\n  max_memory_store: 64MB\n}}\n'
            + (f"authorization {{ users = [{accounts}] }}\n" if users else "")
        )
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [str(NATS_SERVER), "-c", str(self.config)], stdout=log, stderr=subprocess.STDOUT
            )
        _wait_for(lambda: port_open(self.port), f"nats-server on port {self.port}", 20)

    def stop(self, how: signal.Signals = signal.SIGTERM) -> None:
        """SIGTERM shuts down cleanly; SIGKILL is a crash (the store keeps what reached the page cache)."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(how)
        self.process.wait(30)

    def __enter__(self) -> NatsServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def restart(self, down_s: float, how: signal.Signals = signal.SIGTERM) -> None:
        self.stop(how)
        await asyncio.sleep(down_s)
        self.start()


class OpenSearchNode:
    """An OpenSearch node of our own (port, data and pid file apart from the shared node's).

    Its transport port is the first free one in 9300-9399 and it runs as a single-node
    cluster, so it never joins or disturbs the shared node.
    """

    def __init__(self, local_dir: Path, port: int = 9280, heap: str = "512m") -> None:
        self.local_dir = local_dir
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.env = {
            **os.environ,
            "OPENSEARCH_PORT": str(port),
            "OPENSEARCH_HEAP": heap,
            "NEWSFLOW_LOCAL_DIR": str(local_dir),
            "OPENSEARCH_START_TIMEOUT": "300",
        }

    def _reuse_shared_install(self) -> None:
        node_dir = self.local_dir / "opensearch"
        node_dir.mkdir(parents=True, exist_ok=True)
        for name in ("lib", "classes"):
            link = node_dir / name
            if (SHARED_OPENSEARCH_DIR / name).is_dir() and not link.exists():
                link.symlink_to(SHARED_OPENSEARCH_DIR / name)
                stamp = SHARED_OPENSEARCH_DIR / f"{name}.stamp"
                (node_dir / stamp.name).write_bytes(stamp.read_bytes())

    def _script(self, command: str) -> None:
        subprocess.run(["bash", str(OPENSEARCH_SCRIPT), command], check=True, env=self.env, capture_output=True)

    def start(self) -> None:
        if port_open(self.port):
            raise AssertionError(f"port {self.port} is taken: another node would be stopped by this test")
        self._reuse_shared_install()
        self._script("start")

    def stop(self) -> None:
        self._script("stop")


class OpenSearchNodeOutage:
    """The real thing: the node process stops, and starts again from its data directory."""

    def __init__(self, node: OpenSearchNode) -> None:
        self.node = node

    async def cut(self) -> None:
        await asyncio.to_thread(self.node.stop)

    async def restore(self) -> None:
        await asyncio.to_thread(self.node.start)


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
