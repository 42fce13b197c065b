"""Every fault once, in one short run of every stage as processes (the full suite is tests/chaos).

A few hundred articles are fed at a steady pace while, in turn, a second enrich
replica starts, each service is SIGKILLed once, the run's own nats-server is
SIGKILLed and restarted, and OpenSearch becomes unreachable for ten seconds (a
proxy in front of the shared node is cut, so the shared node never stops). The index
must end with exactly the submitted articles, with no dead letters.
"""

from __future__ import annotations

import signal
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from shared.settings import OpenSearchSettings
from shared.topology import Topology
from tests.chaos import runs
from tests.chaos.faults import NatsServer
from tests.chaos.runs import Run, chaos_seed, setup_for
from tests.conftest import Servers
from tests.support import CuttableProxy

pytestmark = pytest.mark.e2e

ARTICLES = 400
FEED_S = 40.0
BURST = 40  # full batches in hand when a service is killed
TIMEOUT_S = 120.0
# Shorter than the 60 s default so that messages held by a SIGKILLed process come back within the test's budget.
SETTINGS = {"NEWSFLOW_ACK_WAIT_S": "10"}


async def test_every_fault_once_loses_and_duplicates_nothing(
    servers: Servers,
    service_env: dict[str, str],
    opensearch_settings: OpenSearchSettings,
    isolated: None,
    tmp_path: Path,
) -> None:
    target = urlsplit(servers.opensearch_url)
    proxy = CuttableProxy(target.hostname or "127.0.0.1", target.port or 9200)
    await proxy.restore()
    with NatsServer(tmp_path / "nats-server") as server:
        setup = setup_for(
            service_env,
            opensearch_settings,
            tmp_path / "logs",
            server.url,
            services_opensearch_url=proxy.url,
            settings=SETTINGS,
        )
        async with Run(setup, "quick", ARTICLES, FEED_S, chaos_seed(), burst=BURST) as run:
            await runs.scale_out(run, "enrich", between=(0.05, 0.1), timeout_s=TIMEOUT_S)
            await runs.kill_each_service(run, rounds=1, between=(0.1, 0.4), timeout_s=TIMEOUT_S)
            await runs.nats_restart(run, server, down_s=2, how=signal.SIGKILL, between=(0.4, 0.5), timeout_s=TIMEOUT_S)
            await runs.opensearch_outage(run, proxy, duration_s=10, between=(0.55, 0.65), timeout_s=TIMEOUT_S)
            report = await run.finish(TIMEOUT_S)
    await proxy.cut()
    print(report.to_json())
    assert report.audit is not None and report.audit.exact, report.to_json()
    assert [fault["fault"] for fault in report.faults].count("sigkill") == len(Topology().stage_names)
    assert report.handled["enrich-2"] > 0, "the second replica shared the work"
    assert set(report.exit_codes.values()) == {0}, f"SIGTERM drains and exits cleanly: {report.exit_codes}"
