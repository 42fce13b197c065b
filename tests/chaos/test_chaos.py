"""The full fault suite: thousands of articles through every stage of the topology as processes while
services are SIGKILLed, OpenSearch stops for a minute, nats-server restarts and a stage scales out.

Every run uses the suite's own nats-server and OpenSearch node (never the shared
ones, which other work may restart) and must end with the index holding exactly the
submitted articles (by URL set and count), no dead letters, each stage's inbox holding
each article once, and every service exiting cleanly on SIGTERM. Each test prints its figures as JSON and writes them
to .local/chaos/<scenario>.json. NEWSFLOW_CHAOS_ARTICLES changes the size,
NEWSFLOW_CHAOS_SEED replays a schedule.
"""

from __future__ import annotations

import os
import signal
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from shared.settings import OpenSearchSettings
from tests.chaos import runs
from tests.chaos.faults import NatsServer, OpenSearchNode, OpenSearchNodeOutage
from tests.chaos.runs import Run, RunSetup, chaos_seed, check_report, setup_for
from tests.support import remove_indices

pytestmark = pytest.mark.chaos

ARTICLES = int(os.environ.get("NEWSFLOW_CHAOS_ARTICLES", "5000"))
# Fed at about the pace the slowest stage (index) keeps on a busy 2-core machine, so
# every stage has work in hand for the whole run and each fault lands mid-stream.
FEED_S = ARTICLES / 25
TIMEOUT_S = 60 + ARTICLES * 0.3
# Kills land on full batches: the index pulls up to 256 at once.
KILL_BURST = 250


@pytest.fixture
def own_nats(tmp_path: Path) -> Iterator[NatsServer]:
    with NatsServer(tmp_path / "nats-server") as server:
        yield server


@pytest.fixture
async def search(own_opensearch: OpenSearchNode, namespace: str) -> AsyncIterator[OpenSearchSettings]:
    """The run's alias on the suite's own node: figures never depend on what others do to the shared one."""
    settings = OpenSearchSettings(url=own_opensearch.url, alias=f"{namespace}-articles")
    yield settings
    await remove_indices(settings, settings.alias)


def _setup(service_env: dict[str, str], search: OpenSearchSettings, nats: NatsServer, tmp_path: Path) -> RunSetup:
    return setup_for(service_env, search, tmp_path / "logs", nats.url, services_opensearch_url=search.url)


async def test_each_service_sigkilled_three_times_loses_and_duplicates_nothing(
    service_env: dict[str, str], search: OpenSearchSettings, own_nats: NatsServer, tmp_path: Path
) -> None:
    setup = _setup(service_env, search, own_nats, tmp_path)
    async with Run(setup, "sigkill", ARTICLES, FEED_S, chaos_seed(), burst=KILL_BURST) as run:
        await runs.kill_each_service(run, rounds=3, between=(0.05, 0.9), timeout_s=TIMEOUT_S)
        report = await run.finish(TIMEOUT_S)
    check_report(report)
    assert len(report.faults) == 12


async def test_opensearch_stopped_for_a_minute_loses_nothing_and_drains_by_itself(
    service_env: dict[str, str],
    own_opensearch: OpenSearchNode,
    search: OpenSearchSettings,
    own_nats: NatsServer,
    tmp_path: Path,
) -> None:
    setup = _setup(service_env, search, own_nats, tmp_path)
    async with Run(setup, "opensearch_outage", ARTICLES, FEED_S, chaos_seed()) as run:
        await runs.opensearch_outage(
            run, OpenSearchNodeOutage(own_opensearch), duration_s=60, between=(0.15, 0.35), timeout_s=TIMEOUT_S
        )
        report = await run.finish(TIMEOUT_S)
    check_report(report)


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
async def test_nats_server_restarted_mid_run_loses_nothing(
    how: signal.Signals, service_env: dict[str, str], search: OpenSearchSettings, own_nats: NatsServer, tmp_path: Path
) -> None:
    setup = _setup(service_env, search, own_nats, tmp_path)
    async with Run(setup, f"nats_restart_{how.name.lower()}", ARTICLES, FEED_S, chaos_seed()) as run:
        await runs.nats_restart(run, own_nats, down_s=10, how=how, between=(0.2, 0.5), timeout_s=TIMEOUT_S)
        report = await run.finish(TIMEOUT_S)
    check_report(report)


async def test_two_stages_scaled_to_two_replicas_mid_run_lose_and_duplicate_nothing(
    service_env: dict[str, str], search: OpenSearchSettings, own_nats: NatsServer, tmp_path: Path
) -> None:
    setup = _setup(service_env, search, own_nats, tmp_path)
    async with Run(setup, "scale_out", ARTICLES, FEED_S, chaos_seed()) as run:
        await runs.scale_out(run, "enrich", between=(0.1, 0.3), timeout_s=TIMEOUT_S)
        await runs.scale_out(run, "index", between=(0.3, 0.5), timeout_s=TIMEOUT_S)
        report = await run.finish(TIMEOUT_S)
    check_report(report)
    assert report.handled["enrich-2"] > 0 and report.handled["index-2"] > 0, report.handled
