"""A running stage answers /healthz and exposes its Prometheus metrics."""

from __future__ import annotations

import httpx
import pytest

from services.enrich.app import create_app
from services.enrich.settings import EnrichSettings
from shared.localhost import free_port
from tests.conftest import Servers
from tests.support import running

pytestmark = pytest.mark.integration


async def test_health_and_metrics_endpoints(servers: Servers, namespace: str, isolated: None) -> None:
    port = free_port()
    settings = EnrichSettings(nats_url=servers.nats_url, namespace=namespace, metrics_port=port)
    async with running(create_app(settings)), httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
        health = await client.get("/healthz")
        metrics = await client.get("/metrics")
    assert health.status_code == 200 and health.json() == {"status": "ok"}
    for name in ("newsflow_messages_in_total", "newsflow_dead_letters_total", "newsflow_handler_seconds"):
        assert name in metrics.text
    with pytest.raises(httpx.ConnectError):  # stopped with the stage
        httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
