#!/usr/bin/env python3
"""The local stack without Docker: nats-server, OpenSearch and the services as processes.

    python deploy/local/stack.py up        # servers + services (idempotent)
    python deploy/local/stack.py infra     # servers only (what the test harness needs)
    python deploy/local/stack.py down      # stop exactly what this script started, by PID
    python deploy/local/stack.py infra-down  # stop the servers only
    python deploy/local/stack.py wait-indexed  # wait until the article count settles
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
from shared.localhost import port_open  # noqa: E402  (standard library only, like this script)

LOCAL = Path(os.environ.get("NEWSFLOW_LOCAL_DIR", ROOT / ".local"))
PIDS, LOGS = LOCAL / "pids", LOCAL / "logs"
VENV_BIN = ROOT / ".venv" / "bin"
NATS_PORT = int(os.environ.get("NATS_PORT", "4222"))
OPENSEARCH_PORT = int(os.environ.get("OPENSEARCH_PORT", "9200"))
# The stages come from the one topology (a new service is started with no edit here).
# Imported lazily: `down` and `status` must work with any python3, even before an install.
FIRST_METRICS_PORT = 9101


def _services() -> list[str]:
    from shared.topology import Topology

    # webhooks: the alerts' delivery, a consumer beside the pipeline rather than a stage of it.
    return [*Topology().stage_names, "webhooks"]


def _stage_pid_files() -> list[str]:
    return sorted(path.stem for path in PIDS.glob("*.pid") if path.stem != "nats") if PIDS.exists() else []


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


def start_services() -> None:
    env = {
        "NEWSFLOW_NATS_URL": f"nats://127.0.0.1:{NATS_PORT}",
        "NEWSFLOW_OPENSEARCH_URL": f"http://127.0.0.1:{OPENSEARCH_PORT}",
    }
    for offset, service in enumerate(_services()):
        if _running_pid(service):
            print(f"{service}: already running")
            continue
        prefix = f"NEWSFLOW_{service.upper()}_"
        _spawn(
            service,
            [str(VENV_BIN / "python"), "-m", f"services.{service}"],
            {
                **env,
                prefix + "NATS_URL": env["NEWSFLOW_NATS_URL"],
                prefix + "METRICS_PORT": str(FIRST_METRICS_PORT + offset),
            },
        )
        print(f"{service}: started (log .local/logs/{service}.log)")


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
    report: dict[str, object] = {name: {"pid": _running_pid(name)} for name in ("nats", *_stage_pid_files())}
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
    parser.add_argument("command", choices=["up", "infra", "down", "infra-down", "wait-indexed", "status"])
    command = parser.parse_args().command
    if command in ("up", "infra"):
        start_nats()
        start_opensearch()
        if command == "up":
            start_services()
    elif command in ("down", "infra-down"):
        if command == "down":
            for service in _stage_pid_files():
                stop(service)
        stop("nats")
        subprocess.run(
            ["bash", str(ROOT / "deploy/opensearch/opensearch.sh"), "stop"],
            check=False,
            env={**os.environ, "NEWSFLOW_LOCAL_DIR": str(LOCAL)},
        )
    elif command == "wait-indexed":
        wait_indexed()
    else:
        json.dump(status(), sys.stdout, indent=2)
        print()


def wait_indexed(timeout_s: float = 180, settle_s: float = 2) -> None:
    """Wait until every stage's backlog is empty and the article count has settled."""
    # Run with the project's python (make up): `newsflow status` reads the backlog and the count.
    import asyncio

    from cli.status import collect_status
    from shared.settings import OpenSearchSettings, ServiceSettings

    services = ServiceSettings(nats_url=f"nats://127.0.0.1:{NATS_PORT}")
    search = OpenSearchSettings(url=f"http://127.0.0.1:{OPENSEARCH_PORT}")
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
