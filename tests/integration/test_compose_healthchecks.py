"""The compose stacks' health checks, run as the containers would run them, against local servers:
nats-server's against a nats-server of our own, the stages' against a stage's health endpoint, and
Dashboards' against a stand-in that, like Dashboards with its security plugin on, answers 401 to an
anonymous request. (OpenSearch's check needs the stack's TLS certificates; the compose tests parse it.)"""

from __future__ import annotations

import asyncio
import base64
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp import web

from shared.health import HealthServer
from shared.localhost import free_port, port_open
from tests.chaos.faults import NATS_SERVER
from tests.support import wait_until

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
STACKS = [ROOT / "docker-compose.yml", ROOT / "deploy" / "cluster" / "docker-compose.yml"]


def _checks(service_prefix: str) -> list[list[str]]:
    """The health-check command of every service named ``service_prefix``* in both stacks."""
    found = []
    for stack in STACKS:
        services: dict[str, Any] = yaml.safe_load(stack.read_text())["services"]
        found += [spec["healthcheck"]["test"] for name, spec in services.items() if name.startswith(service_prefix)]
    assert found
    return found


async def _run(command: list[str], env: dict[str, str] | None = None) -> int:
    """A compose ``test``: ["CMD", argv...] or ["CMD-SHELL", script] ($$ is compose's escaped $)."""
    kind, *rest = command
    argv = rest if kind == "CMD" else ["sh", "-c", rest[0].replace("$$", "$")]
    process = await asyncio.create_subprocess_exec(*argv, env=env, stdout=subprocess.DEVNULL)
    return await process.wait()


def _on_port(command: list[str], container_port: int, port: int) -> list[str]:
    return [part.replace(f"127.0.0.1:{container_port}", f"127.0.0.1:{port}") for part in command]


@pytest.fixture
async def nats_monitor(tmp_path: Path) -> AsyncIterator[int]:
    """A JetStream nats-server's monitoring port."""
    client, monitor = free_port(), free_port()
    argv = [str(NATS_SERVER), "-a", "127.0.0.1", "-p", str(client), "-m", str(monitor), "-js", "-sd", str(tmp_path)]
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    async def listening() -> bool:
        return port_open(monitor)

    try:
        await wait_until(listening, 20, "nats-server's monitoring port")
        yield monitor
    finally:
        process.terminate()
        process.wait(10)


async def test_the_nats_check_passes_on_a_jetstream_server_and_fails_without_one(nats_monitor: int) -> None:
    for check in _checks("nats"):
        assert await _run(_on_port(check, 8222, nats_monitor)) == 0
        assert await _run(_on_port(check, 8222, free_port())) != 0


@pytest.fixture
async def stage_health() -> AsyncIterator[tuple[int, list[bool]]]:
    port, state = free_port(), [True]
    server = await HealthServer.start("127.0.0.1", port, lambda: state[0])
    yield port, state
    await server.stop()


async def test_the_stage_check_follows_the_stage_health(stage_health: tuple[int, list[bool]]) -> None:
    port, state = stage_health
    for check in _checks("ingest"):
        command = [sys.executable if part == "python" else part for part in _on_port(check, 9100, port)]
        assert await _run(command) == 0
        state[0] = False
        assert await _run(command) != 0
        state[0] = True


@pytest.fixture
async def secured_status() -> AsyncIterator[int]:
    """/api/status that, like Dashboards with security on, wants the user Dashboards itself logs in as."""
    expected = "Basic " + base64.b64encode(b"admin:s3cret").decode()

    async def status(request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != expected:
            return web.json_response({"statusCode": 401}, status=401)
        return web.json_response({"status": {"overall": {"state": "green"}}})

    app = web.Application()
    app.add_routes([web.get("/api/status", status)])
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield port
    await runner.cleanup()


async def test_the_dashboards_check_logs_in_as_dashboards_does(secured_status: int) -> None:
    credentials = {"OPENSEARCH_USERNAME": "admin", "OPENSEARCH_PASSWORD": "s3cret", "PATH": "/usr/bin:/bin"}
    anonymous = ["CMD-SHELL", f"curl -sf http://127.0.0.1:{secured_status}/api/status > /dev/null"]
    assert await _run(anonymous) != 0, "the stand-in refuses anonymous requests, as Dashboards does"
    for check in _checks("dashboards"):
        assert await _run(_on_port(check, 5601, secured_status), env=credentials) == 0
