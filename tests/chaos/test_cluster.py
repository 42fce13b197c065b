"""Node failures on the clustered deployment: three nats-servers (stream and key-value bucket with
three replicas), three OpenSearch nodes (every shard with a replica), two replicas of every stage,
started as processes by deploy/local/cluster.py on ports of their own.

Each run feeds articles while one fault strikes and must end with every article indexed exactly
once, no dead letters, each stage's inbox holding each article once, and every service exiting
cleanly on SIGTERM; its figures (drain time after the fault included) go to .local/chaos/<scenario>.json.

    make chaos                                                   # 5,000 articles per run
    NEWSFLOW_CHAOS_ARTICLES=300 pytest tests/chaos/test_cluster.py -m chaos   # the quick version
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from deploy.local.cluster import ClusterLayout
from shared.settings import OpenSearchSettings
from tests.chaos import runs
from tests.chaos.faults import LocalNatsCluster, LocalOpenSearchCluster, Outage
from tests.chaos.runs import Run, RunReport, RunSetup, chaos_seed, check_report, setup_for
from tests.support import CuttableProxy, remove_indices, wait_until

pytestmark = pytest.mark.chaos

ARTICLES = int(os.environ.get("NEWSFLOW_CHAOS_ARTICLES", "5000"))
FEED_S = ARTICLES / 25
TIMEOUT_S = 120 + ARTICLES * 0.3
STAGE_REPLICAS = 2
# Apart from the single-node servers, `make up-cluster` (4231.., 9211..) and the chaos node (9280);
# NEWSFLOW_CHAOS_PORT_OFFSET moves them all, so that two runs can go side by side.
_OFFSET = int(os.environ.get("NEWSFLOW_CHAOS_PORT_OFFSET", "0"))
LAYOUT = {
    name: port + _OFFSET
    for name, port in {
        "nats_port": 4241,
        "route_port": 6241,
        "monitor_port": 8241,
        "opensearch_port": 9221,
        "transport_port": 9371,
    }.items()
}
CLUSTER_SETTINGS = {"NEWSFLOW_STREAM_REPLICAS": "3", "NEWSFLOW_OPENSEARCH_REPLICAS": "1"}
ROUTE_CUT_S = 30.0


@pytest.fixture(scope="module")
def search_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalOpenSearchCluster]:
    cluster = LocalOpenSearchCluster(ClusterLayout(tmp_path_factory.mktemp("opensearch-cluster"), **LAYOUT))
    cluster.start()
    yield cluster
    cluster.stop()


@pytest.fixture
async def search(search_cluster: LocalOpenSearchCluster, namespace: str) -> AsyncIterator[OpenSearchSettings]:
    """The run's alias, read through every node of the cluster."""
    settings = OpenSearchSettings(url=search_cluster.urls, alias=f"{namespace}-articles")
    yield settings
    await remove_indices(settings, settings.alias)


@pytest.fixture
async def nats_cluster(tmp_path: Path) -> AsyncIterator[LocalNatsCluster]:
    cluster = LocalNatsCluster(ClusterLayout(tmp_path / "nats", **LAYOUT), tmp_path / "nats-logs")
    for name in cluster.nodes:
        cluster.start_node(name)
    await cluster.wait_ready()
    yield cluster
    cluster.stop()


def _setup(service_env: dict[str, str], search: OpenSearchSettings, nats_urls: str, tmp_path: Path) -> RunSetup:
    return setup_for(
        service_env, search, tmp_path / "logs", nats_urls, services_opensearch_url=search.url, settings=CLUSTER_SETTINGS
    )


def _run(setup: RunSetup, scenario: str, burst: int = 1) -> Run:
    return Run(setup, scenario, ARTICLES, FEED_S, chaos_seed(), burst=burst, replicas=STAGE_REPLICAS)


async def _routed(nats_cluster: LocalNatsCluster, name: str) -> bool:
    return bool(await asyncio.to_thread(nats_cluster.routes, name))


def _check_cluster(report: RunReport) -> None:
    check_report(report)
    assert report.faults, "the fault never struck"


async def test_stream_leader_sigkilled_loses_and_duplicates_nothing(
    service_env: dict[str, str], search: OpenSearchSettings, nats_cluster: LocalNatsCluster, tmp_path: Path
) -> None:
    async with _run(_setup(service_env, search, nats_cluster.urls, tmp_path), "cluster_nats_leader_sigkill") as run:
        await runs.kill_nats_leader(run, nats_cluster, down_s=10, between=(0.2, 0.5), timeout_s=TIMEOUT_S)
        report = await run.finish(TIMEOUT_S)
    _check_cluster(report)
    fault = report.faults[0]
    assert fault["elected"] not in (None, fault["server"]), f"another server took the lead: {fault}"


async def test_opensearch_node_sigkilled_loses_and_duplicates_nothing(
    service_env: dict[str, str],
    search: OpenSearchSettings,
    search_cluster: LocalOpenSearchCluster,
    nats_cluster: LocalNatsCluster,
    tmp_path: Path,
) -> None:
    async with _run(_setup(service_env, search, nats_cluster.urls, tmp_path), "cluster_opensearch_sigkill") as run:
        await runs.kill_opensearch_node(run, search_cluster, down_s=10, between=(0.2, 0.5), timeout_s=TIMEOUT_S)
        report = await run.finish(TIMEOUT_S)
    _check_cluster(report)


async def test_one_replica_of_each_stage_sigkilled_loses_and_duplicates_nothing(
    service_env: dict[str, str], search: OpenSearchSettings, nats_cluster: LocalNatsCluster, tmp_path: Path
) -> None:
    setup = _setup(service_env, search, nats_cluster.urls, tmp_path)
    async with _run(setup, "cluster_stage_replica_sigkill", burst=50) as run:
        await runs.kill_one_replica_of_each_stage(run, between=(0.1, 0.8), timeout_s=TIMEOUT_S)
        report = await run.finish(TIMEOUT_S)
    _check_cluster(report)
    assert len(report.faults) == len(runs.STAGES)


async def test_one_nats_server_cut_off_from_the_others_for_30_s_loses_nothing(
    service_env: dict[str, str], search: OpenSearchSettings, tmp_path: Path
) -> None:
    """Every route connection of nats-3 passes through a proxy: nats-3 dials the others through theirs
    and advertises its own, so cutting the three proxies isolates it while its clients stay connected."""
    plain = ClusterLayout(tmp_path / "nats", **LAYOUT)
    first, second, third = (node.route_port for node in plain.nats())
    links = {port: CuttableProxy("127.0.0.1", port) for port in (first, second, third)}
    layout = ClusterLayout(
        tmp_path / "nats",
        **LAYOUT,
        route_overrides={
            1: (links[first].port, (first, second)),
            2: (links[second].port, (first, second)),
            3: (links[third].port, (links[first].port, links[second].port)),
        },
    )
    nats_cluster = LocalNatsCluster(layout, tmp_path / "nats-logs")
    for link in links.values():
        await link.restore()
    try:
        # nats-1 and nats-2 route to each other directly before nats-3 (and its proxied addresses) exists.
        nats_cluster.start_node("nats-1")
        nats_cluster.start_node("nats-2")
        await wait_until(lambda: _routed(nats_cluster, "nats-1"), 30, "nats-1 and nats-2 routed")
        nats_cluster.start_node("nats-3")
        await nats_cluster.wait_ready()
        outages: list[Outage] = list(links.values())
        async with _run(_setup(service_env, search, layout.nats_urls, tmp_path), "cluster_nats_route_cut") as run:
            await runs.cut_nats_routes(
                run, outages, nats_cluster, "nats-3", ROUTE_CUT_S, between=(0.2, 0.4), timeout_s=TIMEOUT_S
            )
            report = await run.finish(TIMEOUT_S)
    finally:
        nats_cluster.stop()
        for link in links.values():
            await link.cut()
    _check_cluster(report)
    assert report.faults[0]["routes_during_cut"] == 0, f"nats-3 was not cut off: {report.faults[0]}"
