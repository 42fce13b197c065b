#!/usr/bin/env python3
"""The local stack without Docker: nats-server, OpenSearch and the services as processes.

    python deploy/local/stack.py up        # servers + services (idempotent)
    python deploy/local/stack.py up-cluster  # 3 nats-servers, 3 OpenSearch nodes, 2 replicas per stage
    python deploy/local/stack.py infra     # servers only (what the test harness needs)
    python deploy/local/stack.py down      # stop exactly what this script started (cluster too), by PID
    python deploy/local/stack.py infra-down  # stop the servers only
    python deploy/local/stack.py wait-indexed [--cluster]  # wait until the article count settles
    python deploy/local/stack.py cluster-env   # `export` lines that point newsflow commands at the cluster
    python deploy/local/stack.py status

Every process's PID is kept in .local/pids/, its log in .local/logs/. Only the
standard library is used so that it runs before the project is installed.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from deploy.local import cluster  # noqa: E402
from shared.localhost import port_open  # noqa: E402  (standard library only, like this script)

LOCAL = Path(os.environ.get("NEWSFLOW_LOCAL_DIR", ROOT / ".local"))
PIDS, LOGS = LOCAL / "pids", LOCAL / "logs"
VENV_BIN = ROOT / ".venv" / "bin"
NATS_PORT = int(os.environ.get("NATS_PORT", "4222"))
OPENSEARCH_PORT = int(os.environ.get("OPENSEARCH_PORT", "9200"))
API_PORT = int(os.environ.get("API_PORT", "8000"))
# The stages come from the one topology (a new service is started with no edit here).
# Imported lazily: `down` and `status` must work with any python3, even before an install.
FIRST_METRICS_PORT = 9101
# The cluster's layout: ports apart from the single-node servers', so both stacks can run side by side.
CLUSTER = cluster.ClusterLayout(LOCAL / "cluster")
CLUSTER_STAGE_REPLICAS = 2
CLUSTER_FIRST_METRICS_PORT = 9121
# What runs on the cluster: every stream and bucket on all three servers, every shard on two nodes.
CLUSTER_ENV = {
    "NEWSFLOW_NATS_URL": CLUSTER.nats_urls,
    "NEWSFLOW_OPENSEARCH_URL": CLUSTER.opensearch_urls,
    "NEWSFLOW_STREAM_REPLICAS": "3",
    "NEWSFLOW_OPENSEARCH_REPLICAS": "1",
}


def _services() -> list[str]:
    from shared.topology import Topology

    # webhooks: the alerts' delivery, a consumer beside the pipeline rather than a stage of it.
    return [*Topology().stage_names, "webhooks"]


def _is_server(name: str) -> bool:
    return name == "nats" or name.startswith("cluster-nats-")


def _stage_pid_files() -> list[str]:
    return sorted(path.stem for path in PIDS.glob("*.pid") if not _is_server(path.stem)) if PIDS.exists() else []


def _server_pid_files() -> list[str]:
    return sorted(path.stem for path in PIDS.glob("*.pid") if _is_server(path.stem)) if PIDS.exists() else []


def _pid_file(name: str) -> Path:
    return PIDS / f"{name}.pid"


def _running_pid(name: str) -> int | None:
    path = _pid_file(name)
    if not path.exists():
        return None
    pid = int(path.read_text().strip() or 0)
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        path.unlink(missing_ok=True)
        return None
    return pid


def _wait(predicate, what: str, timeout_s: float) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.25)
    raise SystemExit(f"timed out after {timeout_s:.0f} s waiting for {what}")


def _spawn(name: str, argv: list[str], env: dict[str, str] | None = None) -> None:
    PIDS.mkdir(parents=True, exist_ok=True)
    LOGS.mkdir(parents=True, exist_ok=True)
    with open(LOGS / f"{name}.log", "ab") as log:
        process = subprocess.Popen(
            argv,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **(env or {})},
            start_new_session=True,
        )
    _pid_file(name).write_text(str(process.pid))


def start_nats() -> None:
    if _running_pid("nats") or port_open(NATS_PORT):
        print(f"nats-server: already listening on 127.0.0.1:{NATS_PORT}")
        return
    store = LOCAL / "nats"
    store.mkdir(parents=True, exist_ok=True)
    _spawn(
        "nats",
        [
            str(VENV_BIN / "nats-server"),
            "-c",
            str(ROOT / "deploy/nats/local.conf"),
            "-p",
            str(NATS_PORT),
            "-js",
            "-sd",
            str(store),
        ],
    )
    _wait(lambda: port_open(NATS_PORT), "nats-server", 20)
    print(f"nats-server: started on 127.0.0.1:{NATS_PORT}")


def start_opensearch() -> None:
    # deploy/opensearch/opensearch.sh fetches the pinned jars with Maven (cached),
    # starts the embedded node and waits for health; it is a no-op when it runs.
    subprocess.run(
        ["bash", str(ROOT / "deploy/opensearch/opensearch.sh"), "start"],
        check=True,
        env={**os.environ, "OPENSEARCH_PORT": str(OPENSEARCH_PORT), "NEWSFLOW_LOCAL_DIR": str(LOCAL)},
    )


def start_services(
    env: dict[str, str] | None = None, replicas: int = 1, first_metrics_port: int = FIRST_METRICS_PORT, prefix: str = ""
) -> None:
    """``replicas`` processes of every stage (``<prefix><stage>[-n]``); replicas share the stage's durable consumer."""
    env = env or {
        "NEWSFLOW_NATS_URL": f"nats://127.0.0.1:{NATS_PORT}",
        "NEWSFLOW_OPENSEARCH_URL": f"http://127.0.0.1:{OPENSEARCH_PORT}",
    }
    metrics_port = first_metrics_port
    for service in _services():
        for replica in range(1, replicas + 1):
            name = prefix + service + (f"-{replica}" if replicas > 1 else "")
            metrics_port += 1
            if _running_pid(name):
                print(f"{name}: already running")
                continue
            own = f"NEWSFLOW_{service.upper()}_"
            _spawn(
                name,
                [str(VENV_BIN / "python"), "-m", f"services.{service}"],
                {
                    **env,
                    own + "NATS_URL": env["NEWSFLOW_NATS_URL"],
                    own + "METRICS_PORT": str(metrics_port - 1),
                },
            )
            print(f"{name}: started (log {LOGS / name}.log)")


def start_cluster() -> None:
    """Three nats-servers routed to each other, three OpenSearch nodes discovering each other on their
    transport ports, then two replicas of every stage pointed at all of them."""
    nats_nodes = CLUSTER.nats()
    for node in nats_nodes:
        name = f"cluster-{node.name}"
        if _running_pid(name) or port_open(node.client_port):
            print(f"{name}: already listening on 127.0.0.1:{node.client_port}")
            continue
        process = cluster.start_nats_node(node, LOGS)
        _pid_file(name).parent.mkdir(parents=True, exist_ok=True)
        _pid_file(name).write_text(str(process.pid))
    _wait(lambda: cluster.nats_cluster_ready(nats_nodes), "the NATS cluster (JetStream meta leader)", 60)
    print(f"NATS cluster: {CLUSTER.nats_urls}")
    _start_opensearch_cluster()
    print(f"OpenSearch cluster: {CLUSTER.opensearch_urls}")
    start_services(CLUSTER_ENV, CLUSTER_STAGE_REPLICAS, CLUSTER_FIRST_METRICS_PORT, prefix="cluster-")


def _start_opensearch_cluster() -> None:
    # Launched together: no node is healthy before a majority has elected a cluster manager.
    envs = [CLUSTER.opensearch_env(node, LOCAL / "opensearch") for node in CLUSTER.opensearch()]
    for env in envs:
        cluster.opensearch_script("launch", env)
    for env in envs:
        cluster.opensearch_script("wait", env)


def stop_cluster_opensearch() -> None:
    for node in CLUSTER.opensearch():
        subprocess.run(
            ["bash", str(ROOT / "deploy/opensearch/opensearch.sh"), "stop"],
            check=False,
            env=CLUSTER.opensearch_env(node, LOCAL / "opensearch"),
        )


def start_api() -> None:
    """The read API and reader pages (services/api): not a stage, so not in the topology."""
    if _running_pid("api"):
        print("api: already running")
        return
    env = {"NEWSFLOW_OPENSEARCH_URL": f"http://127.0.0.1:{OPENSEARCH_PORT}", "NEWSFLOW_API_PORT": str(API_PORT)}
    _spawn("api", [str(VENV_BIN / "python"), "-m", "services.api"], env)
    print(f"api: started on http://127.0.0.1:{API_PORT}/ (log .local/logs/api.log)")


def stop(name: str, timeout_s: float = 30) -> None:
    pid = _running_pid(name)
    if pid is None:
        return
    os.killpg(pid, signal.SIGTERM) if os.getpgid(pid) == pid else os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and _running_pid(name):
        time.sleep(0.2)
    if _running_pid(name):
        os.kill(pid, signal.SIGKILL)
    _pid_file(name).unlink(missing_ok=True)
    print(f"{name}: stopped")


def status() -> dict[str, object]:
    names = ("nats", *_server_pid_files(), *_stage_pid_files())
    report: dict[str, object] = {name: {"pid": _running_pid(name)} for name in dict.fromkeys(names)}
    report["opensearch"] = {"pid": _running_pid_opensearch(), "port_open": port_open(OPENSEARCH_PORT)}
    return report


def _running_pid_opensearch() -> int | None:
    path = LOCAL / "opensearch" / "opensearch.pid"
    if not path.exists():
        return None
    pid = int(path.read_text().strip() or 0)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    return pid


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "command",
        choices=["up", "up-cluster", "infra", "down", "infra-down", "wait-indexed", "cluster-env", "status"],
    )
    parser.add_argument("--cluster", action="store_true", help="wait-indexed: on the cluster of up-cluster")
    arguments = parser.parse_args()
    command = arguments.command
    if command in ("up", "infra"):
        start_nats()
        start_opensearch()
        if command == "up":
            start_services()
            start_api()
    elif command == "up-cluster":
        start_cluster()
    elif command in ("down", "infra-down"):
        if command == "down":
            for service in _stage_pid_files():
                stop(service)
            stop_cluster_opensearch()
        for server in _server_pid_files() if command == "down" else ["nats"]:
            stop(server)
        subprocess.run(
            ["bash", str(ROOT / "deploy/opensearch/opensearch.sh"), "stop"],
            check=False,
            env={**os.environ, "NEWSFLOW_LOCAL_DIR": str(LOCAL)},
        )
    elif command == "wait-indexed":
        if arguments.cluster:
            wait_indexed(CLUSTER.nats_urls, CLUSTER.opensearch_urls)
        else:
            wait_indexed(f"nats://127.0.0.1:{NATS_PORT}", f"http://127.0.0.1:{OPENSEARCH_PORT}")
    elif command == "cluster-env":
        print("\n".join(f"export {name}={value}" for name, value in CLUSTER_ENV.items()))
    else:
        json.dump(status(), sys.stdout, indent=2)
        print()


def wait_indexed(nats_url: str, opensearch_url: str, timeout_s: float = 180, settle_s: float = 2) -> None:
    """Wait until every stage's backlog is empty and the article count has settled."""
    # Run with the project's python (make up): `newsflow status` reads the backlog and the count.
    import asyncio

    from cli.status import collect_status
    from shared.settings import OpenSearchSettings, ServiceSettings

    services = ServiceSettings(nats_url=nats_url)
    search = OpenSearchSettings(url=opensearch_url)
    deadline = time.monotonic() + timeout_s
    last, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        report = asyncio.run(collect_status(services, search))
        count = report["index"]["documents"] or 0
        backlogs = [stage[key] for stage in report["stages"] for key in ("pending", "ack_pending")]
        backlog = None if None in backlogs else sum(backlogs)
        if count != last or backlog != 0:
            last, since = count, time.monotonic()
        elif count > 0 and time.monotonic() - since >= settle_s:
            print(f"articles indexed: {count}")
            return
        time.sleep(0.5)
    raise SystemExit(f"the pipeline did not settle within {timeout_s:.0f} s (articles: {last})")


if __name__ == "__main__":
    main()
