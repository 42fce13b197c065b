"""Fault injectors: servers of our own that a test may stop, and a TCP proxy it may cut.

The shared nats-server and OpenSearch serve every other test and helper, so a
test that takes a server down takes down one it started itself: a nats-server
on a free port with its own store, or an OpenSearch node on its own ports and
data directory (deploy/opensearch/opensearch.sh with OPENSEARCH_PORT and
NEWSFLOW_LOCAL_DIR). A ``CuttableProxy`` (tests/support.py) in front of a server stands in for an
outage when starting a JVM would cost more than the test may spend.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from deploy.local.cluster import (
    ClusterLayout,
    get_json,
    kill_pid,
    nats_cluster_ready,
    opensearch_pid,
    opensearch_script,
    start_nats_node,
    stream_leader,
)
from shared.localhost import free_port, port_open
from tests.support import wait_until

ROOT = Path(__file__).resolve().parents[2]
NATS_SERVER = ROOT / ".venv" / "bin" / "nats-server"
OPENSEARCH_SCRIPT = ROOT / "deploy" / "opensearch" / "opensearch.sh"
# The shared node's jars and compiled launcher; a node of our own reuses them instead of resolving them again.
SHARED_OPENSEARCH_DIR = ROOT / ".local" / "opensearch"


class Outage(Protocol):
    """Something that can be made unreachable and brought back."""

    async def cut(self) -> None: ...

    async def restore(self) -> None: ...


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


class LocalNatsCluster:
    """Three nats-servers of our own, routed to each other (deploy/local/cluster.py); a test may kill any."""

    def __init__(self, layout: ClusterLayout, log_dir: Path) -> None:
        self.layout, self.log_dir = layout, log_dir
        self.nodes = {node.name: node for node in layout.nats()}
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    @property
    def urls(self) -> str:
        return self.layout.nats_urls

    def start_node(self, name: str) -> None:
        self.processes[name] = start_nats_node(self.nodes[name], self.log_dir)

    async def wait_ready(self, timeout_s: float = 60) -> None:
        nodes = list(self.nodes.values())

        async def ready() -> bool:
            return await asyncio.to_thread(nats_cluster_ready, nodes)

        await wait_until(ready, timeout_s, "every nats-server healthy with JetStream", every_s=0.5)

    def kill(self, name: str, how: signal.Signals = signal.SIGKILL) -> None:
        process = self.processes[name]
        process.send_signal(how)
        process.wait(30)

    def leader(self, stream: str) -> str | None:
        return stream_leader(list(self.nodes.values()), stream)

    def routes(self, name: str) -> int | None:
        """How many route connections a server holds now (its ``/routez``), None if it does not answer."""
        report = get_json(f"{self.nodes[name].monitor_url}/routez")
        return None if report is None else int(str(report.get("num_routes", 0)))

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
                process.wait(30)


class LocalOpenSearchCluster:
    """Three embedded OpenSearch nodes forming one cluster (deploy/local/cluster.py) on ports of their own."""

    def __init__(self, layout: ClusterLayout) -> None:
        self.layout = layout
        self.nodes = {node.name: node for node in layout.opensearch()}

    @property
    def urls(self) -> str:
        return self.layout.opensearch_urls

    def _env(self, name: str) -> dict[str, str]:
        return self.layout.opensearch_env(self.nodes[name], SHARED_OPENSEARCH_DIR)

    def start(self) -> None:
        for node in self.nodes.values():
            if port_open(node.http_port):
                raise AssertionError(f"port {node.http_port} is taken: another node would be stopped by this test")
        # Launched together: no node is healthy before a majority has elected a cluster manager.
        for name in self.nodes:
            opensearch_script("launch", self._env(name))
        for name in self.nodes:
            opensearch_script("wait", self._env(name))

    def kill(self, name: str) -> None:
        pid = opensearch_pid(self.nodes[name])
        assert pid is not None, f"{name} is not running"
        kill_pid(pid, signal.SIGKILL)

    def start_node(self, name: str) -> None:
        opensearch_script("start", self._env(name))

    def stop(self) -> None:
        for name in self.nodes:
            opensearch_script("stop", self._env(name))
