"""The clustered topology on one machine: three nats-servers with JetStream clustering and
three OpenSearch nodes forming one cluster, all on loopback ports apart from the single-node
servers (4222, 9200), each with its own data directory under ``.local/cluster/``.

``deploy/local/stack.py up-cluster`` starts it with two replicas of every stage; the
node-failure tests (tests/chaos/test_cluster.py) start their own copy on other ports.
Only the standard library is used, like stack.py.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NATS_SERVER = ROOT / ".venv" / "bin" / "nats-server"
OPENSEARCH_SCRIPT = ROOT / "deploy" / "opensearch" / "opensearch.sh"
CLUSTER_NAME = "newsflow"
# Three nodes' heaps beside the single node's 1 GB on a development machine; at 512 MB a node spent
# most of its time collecting garbage while 5,000 articles were indexed with a replica.
OPENSEARCH_HEAP = os.environ.get("CLUSTER_OPENSEARCH_HEAP", "768m")


@dataclass(frozen=True)
class NatsNode:
    """One nats-server of the cluster: client, route (cluster) and monitoring ports on 127.0.0.1."""

    number: int
    client_port: int
    route_port: int
    monitor_port: int
    directory: Path
    # Where the other servers reach this one's route port (a proxy in the network-cut test).
    advertised_route_port: int | None = None
    routes: tuple[int, ...] = ()  # route ports this server dials

    @property
    def name(self) -> str:
        return f"nats-{self.number}"

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.client_port}"

    @property
    def monitor_url(self) -> str:
        return f"http://127.0.0.1:{self.monitor_port}"

    def config(self) -> str:
        routes = ", ".join(f'"nats-route://127.0.0.1:{port}"' for port in self.routes)
        advertise = f'  advertise: "127.0.0.1:{self.advertised_route_port}"\n' if self.advertised_route_port else ""
        return (
            f"server_name: {self.name}\n"
            f"listen: 127.0.0.1:{self.client_port}\n"
            f"http: 127.0.0.1:{self.monitor_port}\n"
            # Above shared.messages.MAX_MESSAGE_BYTES, as in deploy/nats/local.conf.
            "max_payload: 8MB\n"
            f'jetstream {{\n  store_dir: "{self.directory / "store"}"\n'
            "  max_memory_store: 256MB\n  max_file_store: 20GB\n}\n"
            f"cluster {{\n  name: {CLUSTER_NAME}\n  listen: 127.0.0.1:{self.route_port}\n{advertise}"
            f"  routes: [{routes}]\n}}\n"
        )


@dataclass(frozen=True)
class OpenSearchClusterNode:
    number: int
    http_port: int
    transport_port: int
    local_dir: Path  # NEWSFLOW_LOCAL_DIR of this node: opensearch/{data,logs,home,opensearch.pid}

    @property
    def name(self) -> str:
        return f"opensearch-{self.number}"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"


@dataclass(frozen=True)
class ClusterLayout:
    """Ports and directories of one local cluster: nats client ports ``nats_port``.., routes ``route_port``..,
    monitoring ``monitor_port``.., OpenSearch HTTP ``opensearch_port``.. and transport ``transport_port``..."""

    directory: Path
    nats_port: int = 4231
    route_port: int = 6231
    monitor_port: int = 8231
    opensearch_port: int = 9211
    transport_port: int = 9311
    nats_nodes: int = 3
    opensearch_nodes: int = 3
    route_overrides: dict[int, tuple[int | None, tuple[int, ...]]] = field(default_factory=dict)

    def nats(self) -> list[NatsNode]:
        nodes = []
        every_route = tuple(self.route_port + offset for offset in range(self.nats_nodes))
        for offset in range(self.nats_nodes):
            number = offset + 1
            advertised, routes = self.route_overrides.get(number, (None, every_route))
            nodes.append(
                NatsNode(
                    number=number,
                    client_port=self.nats_port + offset,
                    route_port=self.route_port + offset,
                    monitor_port=self.monitor_port + offset,
                    directory=self.directory / f"nats-{number}",
                    advertised_route_port=advertised,
                    routes=routes,
                )
            )
        return nodes

    def opensearch(self) -> list[OpenSearchClusterNode]:
        return [
            OpenSearchClusterNode(
                number=offset + 1,
                http_port=self.opensearch_port + offset,
                transport_port=self.transport_port + offset,
                local_dir=self.directory / f"opensearch-{offset + 1}",
            )
            for offset in range(self.opensearch_nodes)
        ]

    @property
    def nats_urls(self) -> str:
        """The services' NEWSFLOW_NATS_URL: every server, comma-separated."""
        return ",".join(node.url for node in self.nats())

    @property
    def opensearch_urls(self) -> str:
        """The services' NEWSFLOW_OPENSEARCH_URL: every node, comma-separated."""
        return ",".join(node.url for node in self.opensearch())

    def opensearch_env(self, node: OpenSearchClusterNode, shared_install: Path) -> dict[str, str]:
        """The environment deploy/opensearch/opensearch.sh starts ``node`` with: its ports, its own
        directories, the cluster's seed hosts and first cluster managers."""
        nodes = self.opensearch()
        return {
            **os.environ,
            "OPENSEARCH_PORT": str(node.http_port),
            "OPENSEARCH_HEAP": OPENSEARCH_HEAP,
            # A node rejoining a busy cluster on a loaded machine has taken over 5 minutes.
            "OPENSEARCH_START_TIMEOUT": "900",
            "NEWSFLOW_LOCAL_DIR": str(node.local_dir),
            "OPENSEARCH_INSTALL_DIR": str(shared_install),
            "OPENSEARCH_CLUSTER_SETTINGS": " ".join(
                [
                    f"-Ecluster.name={CLUSTER_NAME}",
                    f"-Enode.name={node.name}",
                    f"-Etransport.port={node.transport_port}",
                    "-Ediscovery.type=zen",
                    "-Ediscovery.seed_hosts=" + ",".join(f"127.0.0.1:{peer.transport_port}" for peer in nodes),
                    "-Ecluster.initial_cluster_manager_nodes=" + ",".join(peer.name for peer in nodes),
                ]
            ),
        }


def start_nats_node(node: NatsNode, log_dir: Path) -> subprocess.Popen[bytes]:
    node.directory.mkdir(parents=True, exist_ok=True)
    log_dir.mkdir(parents=True, exist_ok=True)
    config = node.directory / "nats.conf"
    config.write_text(node.config())
    with open(log_dir / f"{node.name}.log", "ab") as log:
        return subprocess.Popen(
            [str(NATS_SERVER), "-c", str(config)],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )


def get_json(url: str, timeout_s: float = 3) -> dict[str, object] | None:
    """A monitoring endpoint's JSON, or None while the server does not answer."""
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            found: dict[str, object] = json.load(response)
            return found
    except (OSError, ValueError):
        return None


def nats_cluster_ready(nodes: list[NatsNode]) -> bool:
    """Every server fully healthy: JetStream's meta leader elected and its streams current (``/healthz``;
    ``?js-enabled-only`` would pass before a stream can be created)."""
    return all(get_json(f"{node.monitor_url}/healthz") == {"status": "ok"} for node in nodes)


def stream_leader(nodes: list[NatsNode], stream: str) -> str | None:
    """The server name leading ``stream``'s raft group, read from ``/jsz?streams=true`` of any live server."""
    for node in nodes:
        report = get_json(f"{node.monitor_url}/jsz?streams=true")
        if not report:
            continue
        for account in report.get("account_details", []) or []:  # type: ignore[union-attr]
            for detail in account.get("stream_detail", []) or []:
                if detail.get("name") == stream:
                    leader = (detail.get("cluster") or {}).get("leader")
                    return str(leader) if leader else None
    return None


def opensearch_script(command: str, env: dict[str, str]) -> None:
    subprocess.run(["bash", str(OPENSEARCH_SCRIPT), command], check=True, env=env)


def opensearch_pid(node: OpenSearchClusterNode) -> int | None:
    path = node.local_dir / "opensearch" / "opensearch.pid"
    try:
        pid = int(path.read_text().strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    return pid


def kill_pid(pid: int, how: signal.Signals, timeout_s: float = 30) -> None:
    """Signal a process we started and wait for it to be gone."""
    os.kill(pid, how)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    os.kill(pid, signal.SIGKILL)
