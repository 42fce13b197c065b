"""A pipeline run under fault: every stage of the topology as processes, a steady feeder, faults at
random moments, and the audit of what came out of the index.

The quick fault tests (tests/e2e/test_faults_quick.py) and the full chaos tests
(tests/chaos) run the same scenarios at different sizes. The moments are drawn
from a seeded ``random.Random``: the seed is in every report, and
NEWSFLOW_CHAOS_SEED replays a run's schedule.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import signal
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import nats
from nats.js import JetStreamContext
from opensearchpy import AsyncOpenSearch
from opensearchpy.helpers import async_scan

from shared.messages import DocumentSubmitted
from shared.nats import ensure_stream
from shared.search.client import async_client
from shared.settings import OpenSearchSettings, split_urls
from shared.topology import Topology
from tests.chaos.faults import ROOT, LocalNatsCluster, LocalOpenSearchCluster, NatsServer, Outage
from tests.support import ServiceProcess, numbered_records, wait_until

STAGES = tuple(Topology().stage_names)
# Log events that mean a process met trouble it had to recover from (shared/stage.py).
TROUBLE_EVENTS = (
    "batch_failed",
    "fetch_failed",
    "retrying",
    "dead_lettered",
    "dead_letter_failed",
    "worker_failed",
    "dependency_unavailable",
    "drain_timeout",
)
NATS_ERRORS = (nats.errors.Error, TimeoutError, OSError)
# Longer than the longest retry back-off (ServiceSettings.retry_backoff_s): a consumer idle and an index
# unchanged for this long means no message is left anywhere to arrive.
STALL_S = 45.0
BACKLOG_DRAIN_TIMEOUT_S = 600.0
RESULTS = ROOT / ".local" / "chaos"


def replica_keys(stage: str, replicas: int) -> list[str]:
    """How a run names a stage's processes: ``enrich`` alone, ``enrich-1``, ``enrich-2`` beside each other."""
    return [stage] if replicas == 1 else [f"{stage}-{number}" for number in range(1, replicas + 1)]


def chaos_seed() -> int:
    return int(os.environ.get("NEWSFLOW_CHAOS_SEED") or random.SystemRandom().randrange(1, 1_000_000))


@dataclass(frozen=True)
class RunSetup:
    """Where a run's services, feeder and audit point."""

    env: dict[str, str]  # the services' environment: servers, namespace, alias, settings
    nats_url: str  # the server(s) the services use (a restart test's own one, a cluster's, or the shared one)
    search: OpenSearchSettings  # where the test reads the index: the real server, never a proxy
    log_dir: Path

    @property
    def topology(self) -> Topology:
        return Topology(self.env["NEWSFLOW_NAMESPACE"], replicas=int(self.env.get("NEWSFLOW_STREAM_REPLICAS", "1")))

    @property
    def nats_servers(self) -> list[str]:
        return split_urls(self.nats_url)


def setup_for(
    service_env: dict[str, str],
    search: OpenSearchSettings,
    log_dir: Path,
    nats_url: str,
    services_opensearch_url: str | None = None,
    settings: dict[str, str] | None = None,
) -> RunSetup:
    """The tests' ``service_env`` pointed at the run's own nats-server (and, for an outage, a proxy or node)."""
    env = {**service_env, **(settings or {}), "NEWSFLOW_NATS_URL": nats_url}
    if services_opensearch_url is not None:
        env["NEWSFLOW_OPENSEARCH_URL"] = services_opensearch_url
    return RunSetup(env=env, nats_url=nats_url, search=search, log_dir=log_dir)


@dataclass(frozen=True)
class Audit:
    """What the index holds against what was submitted, and what crossed each stage."""

    expected: int
    indexed: int
    missing: int  # submitted URLs not in the index
    duplicated: int  # URLs held by more than one document
    unexpected: int  # documents with a URL nobody submitted
    dead_letters: dict[str, int]  # per stage
    published: dict[str, int]  # messages stored on each stage's inbox (a duplicate past JetStream's dedupe shows here)

    @property
    def exact(self) -> bool:
        return (
            self.indexed == self.expected
            and self.missing == self.duplicated == self.unexpected == 0
            and not any(self.dead_letters.values())
            and all(count == self.expected for count in self.published.values())
        )


@dataclass
class RunReport:
    scenario: str
    seed: int
    articles: int
    feed_s: float
    burst: int  # submissions published at once, feed_s / (articles / burst) apart
    faults: list[dict[str, Any]]
    run_s: float = 0.0
    after_feed_s: float = 0.0  # from the last submission published until the index held every article
    ending: str = ""  # how the wait for the last article ended: complete, stalled or timeout
    drain_s: float = 0.0  # from the end of the last fault until the index held every article
    feeder_retries: int = 0
    exit_codes: dict[str, int | None] = field(default_factory=dict)
    handled: dict[str, int] = field(default_factory=dict)  # canonical "message" log lines per process
    trouble: dict[str, int] = field(default_factory=dict)  # TROUBLE_EVENTS and tracebacks in all logs
    audit: Audit | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


class Observer:
    """Reads the pipeline's progress from the stream, its consumers and the index; None while a server is down."""

    def __init__(self, setup: RunSetup) -> None:
        self.setup = setup
        self.topology = setup.topology
        self.client: nats.NATS | None = None
        self.js: JetStreamContext | None = None
        self.search: AsyncOpenSearch | None = None

    async def open(self) -> None:
        self.client = await nats.connect(self.setup.nats_servers, max_reconnect_attempts=-1, reconnect_time_wait=0.5)
        self.js = self.client.jetstream(timeout=3)
        # A just-formed cluster may take a few seconds to place a replicated stream: try until it has.
        await wait_until(self._stream_ready, 60, f"stream {self.topology.stream}", every_s=1)
        self.search = async_client(self.setup.search)

    async def _stream_ready(self) -> bool:
        assert self.js is not None
        try:
            await ensure_stream(self.js, self.topology)
        except NATS_ERRORS:
            return False
        return True

    async def close(self) -> None:
        if self.search is not None:
            await self.search.close()
        if self.client is not None:
            with contextlib.suppress(*NATS_ERRORS):
                await self.client.close()

    async def subject_counts(self) -> dict[str, int] | None:
        assert self.js is not None
        try:
            info = await self.js.stream_info(self.topology.stream, subjects_filter=f"{self.topology.namespace}.>")
        except NATS_ERRORS:
            return None
        return dict(info.state.subjects or {})

    async def indexed(self) -> int | None:
        assert self.search is not None
        alias = self.setup.search.alias
        try:
            await self.search.indices.refresh(index=alias)
            return int((await self.search.count(index=alias))["count"])
        except Exception:  # not created yet, or the server is down: no figure now
            return None

    async def processed(self, stage: str) -> int | None:
        """How many articles a stage has passed on: what its successor received, or the index holds."""
        following = self.topology.next_stage(stage)
        if following is None:
            return await self.indexed()
        counts = await self.subject_counts()
        return None if counts is None else counts.get(self.topology.inbox(following.name), 0)

    async def in_flight(self, stage: str) -> dict[str, int] | None:
        assert self.js is not None
        try:
            info = await self.js.consumer_info(self.topology.stream, self.topology.durable(stage))
        except NATS_ERRORS:
            return None
        return {"pending": int(info.num_pending or 0), "unacked": int(info.num_ack_pending or 0)}

    async def idle(self) -> bool:
        for stage in STAGES:
            state = await self.in_flight(stage)
            if state is None or any(state.values()):
                return False
        return True

    async def audit(self, expected_urls: set[str]) -> Audit:
        assert self.search is not None
        await self.search.indices.refresh(index=self.setup.search.alias)
        urls: Counter[str] = Counter()
        async for hit in async_scan(
            self.search, index=self.setup.search.alias, query={"_source": ["url"], "query": {"match_all": {}}}
        ):
            urls[hit["_source"].get("url")] += 1
        counts = await self.subject_counts() or {}
        return Audit(
            expected=len(expected_urls),
            indexed=sum(urls.values()),
            missing=len(expected_urls - set(urls)),
            duplicated=sum(1 for count in urls.values() if count > 1),
            unexpected=len(set(urls) - expected_urls),
            dead_letters={stage: counts.get(self.topology.dead_letter_subject(stage), 0) for stage in STAGES},
            published={stage: counts.get(self.topology.inbox(stage), 0) for stage in STAGES},
        )


class Feeder:
    """Publishes submissions in bursts at a steady average pace, each until JetStream acknowledges it.

    Bursts give every stage full batches in hand, so a kill lands on a batch half
    published and half acknowledged rather than on a single message. A publisher
    retrying through a NATS restart resends the same ``Nats-Msg-Id``, so a publish
    whose ack was lost is not stored twice.
    """

    def __init__(
        self, nats_servers: list[str], subject: str, records: list[DocumentSubmitted], duration_s: float, burst: int
    ) -> None:
        self.nats_servers, self.subject, self.records = nats_servers, subject, records
        self.duration_s, self.burst = duration_s, burst
        self.retries = 0
        self.finished_at: float | None = None

    async def run(self) -> None:
        client = await nats.connect(self.nats_servers, max_reconnect_attempts=-1, reconnect_time_wait=0.5)
        js = client.jetstream(timeout=2)
        bursts = [self.records[start : start + self.burst] for start in range(0, len(self.records), self.burst)]
        interval = self.duration_s / len(bursts)
        started = time.monotonic()
        for number, burst in enumerate(bursts):
            await asyncio.sleep(max(0.0, started + number * interval - time.monotonic()))
            for record in burst:
                await self._publish_until_acked(js, record)
        self.finished_at = time.monotonic()
        with contextlib.suppress(*NATS_ERRORS):
            await client.drain()

    async def _publish_until_acked(self, js: JetStreamContext, record: DocumentSubmitted) -> None:
        data = record.model_dump_json().encode()
        while True:
            try:
                await js.publish(self.subject, data, headers={"Nats-Msg-Id": record.submission_id})
                return
            except NATS_ERRORS:
                self.retries += 1
                await asyncio.sleep(0.5)


class Run:
    """One run: start the services and the feeder, let a scenario inject faults, then audit."""

    def __init__(
        self,
        setup: RunSetup,
        scenario: str,
        articles: int,
        feed_s: float,
        seed: int,
        burst: int = 1,
        replicas: int = 1,
    ) -> None:
        self.setup = setup
        self.topology = setup.topology
        self.replicas = replicas
        self.rng = random.Random(seed)
        self.records = numbered_records(articles, prefix=f"{setup.topology.namespace}-{scenario}")
        self.report = RunReport(scenario=scenario, seed=seed, articles=articles, feed_s=feed_s, burst=burst, faults=[])
        self.observer = Observer(setup)
        self.feeder = Feeder(setup.nats_servers, setup.topology.entry_subject, self.records, feed_s, burst)
        self.processes: dict[str, ServiceProcess] = {}
        self._started = 0.0
        self._last_fault_end = 0.0

    async def __aenter__(self) -> Run:
        await self.observer.open()
        for stage in STAGES:
            for key in replica_keys(stage, self.replicas):
                self._spawn(key, stage)
        # Fed once every process consumes, so that the faults land on a stream in flow, not on start-up.
        try:
            for key, process in self.processes.items():
                started = partial(_started_since, process, 0)
                await wait_until(started, 300, f"{key} to start", every_s=0.5)
        except BaseException:  # no run to leave: stop what was spawned rather than leave it running
            await self._terminate_all()
            await self.observer.close()
            raise
        self._started = self._last_fault_end = time.monotonic()
        self._feeding = asyncio.create_task(self.feeder.run(), name="feeder")
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._feeding.cancel()
        await asyncio.gather(self._feeding, return_exceptions=True)
        await self._terminate_all()
        await self.observer.close()

    def _spawn(self, key: str, stage: str) -> ServiceProcess:
        log_dir = self.setup.log_dir / key
        log_dir.mkdir(parents=True, exist_ok=True)
        process = ServiceProcess(stage, self.setup.env, log_dir)
        process.start()
        self.processes[key] = process
        return process

    async def _terminate_all(self) -> dict[str, int | None]:
        # SIGTERM and wait in threads: the index's drain may need a proxy that runs in this event loop.
        async def terminate(process: ServiceProcess) -> int | None:
            if process.process is None or process.process.poll() is not None:
                return process.process.returncode if process.process else None
            return await asyncio.to_thread(process.terminate)

        codes = await asyncio.gather(*(terminate(process) for process in self.processes.values()))
        return dict(zip(self.processes, codes, strict=True))

    def elapsed(self) -> float:
        return round(time.monotonic() - self._started, 1)

    def record(self, fault: str, **facts: Any) -> None:
        self.report.faults.append({"fault": fault, "at_s": self.elapsed(), **facts})

    def fault_done(self) -> None:
        self._last_fault_end = time.monotonic()

    async def reach(self, stage: str, fraction: float, timeout_s: float) -> None:
        """Wait until ``stage`` has passed on ``fraction`` of the articles."""
        target = int(fraction * len(self.records))

        async def reached() -> bool:
            done = await self.observer.processed(stage)
            return done is not None and done >= target

        await wait_until(reached, timeout_s, f"{stage} to pass on {target} articles", every_s=0.25)

    async def catch_busy(self, stage: str, within_s: float = 5.0) -> None:
        """Wait briefly for a moment when ``stage`` holds unacknowledged messages (a kill then lands mid-batch)."""

        async def busy() -> bool:
            state = await self.observer.in_flight(stage)
            return bool(state and state["unacked"])

        with contextlib.suppress(AssertionError):  # idle all along: the kill lands between batches
            await wait_until(busy, within_s, f"{stage} holding messages", every_s=0.02)

    # -- faults --------------------------------------------------------------------
    async def sigkill(self, key: str, down_s: float) -> None:
        process = self.processes[key]
        state = await self.observer.in_flight(process.name)
        starts = _starts(process)
        process.kill()
        self.record("sigkill", process=key, down_s=round(down_s, 2), **(state or {}))
        await asyncio.sleep(down_s)
        process.start()
        # The fault ends once the process consumes again (a replica's siblings may finish the work before that).
        await wait_until(lambda: _started_since(process, starts), 300, f"{key} to start again", every_s=0.5)
        self.fault_done()

    async def outage(self, outage: Outage, what: str, duration_s: float) -> None:
        await outage.cut()
        cut_at = time.monotonic()
        await asyncio.sleep(duration_s)
        backlog = await self.observer.in_flight("index")
        await outage.restore()
        restored_at = time.monotonic()
        self.fault_done()
        drained = backlog is not None and await self._backlog_drained(
            "index", backlog["pending"], BACKLOG_DRAIN_TIMEOUT_S
        )
        self.record(
            what,
            down_s=round(restored_at - cut_at, 1),
            index_backlog_at_restore=backlog,
            backlog_drained_s=round(time.monotonic() - restored_at, 1) if drained else None,
        )

    async def _backlog_drained(self, stage: str, backlog: int, timeout_s: float) -> bool:
        """Whether the stage's backlog fell to a tenth of ``backlog`` within the timeout (new articles keep coming)."""

        async def caught_up() -> bool:
            state = await self.observer.in_flight(stage)
            return state is not None and state["pending"] <= backlog // 10

        try:
            await wait_until(caught_up, timeout_s, f"{stage}'s backlog to drain", every_s=0.5)
        except AssertionError:
            return False
        return True

    async def restart_nats(self, server: NatsServer, down_s: float, how: signal.Signals) -> None:
        before = await self.observer.in_flight("index")
        await server.restart(down_s, how)
        self.record("nats_restart", signal=how.name, down_s=down_s, index_backlog_before=before)
        self.fault_done()

    async def kill_nats_leader(self, nats_cluster: LocalNatsCluster, down_s: float) -> None:
        """SIGKILL the server leading the stream's raft group (another is elected), restart it from its store."""
        leader = nats_cluster.leader(self.topology.stream)
        assert leader is not None, "the stream has no leader to kill"
        before = await self.observer.in_flight("index")
        nats_cluster.kill(leader)
        await asyncio.sleep(down_s)
        elected = nats_cluster.leader(self.topology.stream)
        nats_cluster.start_node(leader)
        await nats_cluster.wait_ready()
        self.record("nats_leader_sigkill", server=leader, down_s=down_s, elected=elected, index_backlog_before=before)
        self.fault_done()

    async def kill_opensearch_node(self, search_cluster: LocalOpenSearchCluster, down_s: float) -> None:
        """SIGKILL the node holding the write index's primary shard (its replica is promoted), then restart it."""
        assert self.observer.search is not None
        shards = await self.observer.search.cat.shards(index=self.setup.search.alias, format="json")
        primary = next(shard["node"] for shard in shards if shard["prirep"] == "p")
        await asyncio.to_thread(search_cluster.kill, primary)
        killed_at = time.monotonic()
        await asyncio.sleep(down_s)
        await asyncio.to_thread(search_cluster.start_node, primary)
        self.record(
            "opensearch_node_sigkill", node=primary, down_s=round(time.monotonic() - killed_at, 1), held="primary"
        )
        self.fault_done()

    async def cut_routes(
        self, links: list[Outage], nats_cluster: LocalNatsCluster, node: str, duration_s: float
    ) -> None:
        """Cut every route connection of one server (proxies on its links) and heal it after ``duration_s``."""
        for link in links:
            await link.cut()
        cut_at = time.monotonic()
        await asyncio.sleep(duration_s / 2)
        routes_during_cut = await asyncio.to_thread(nats_cluster.routes, node)
        await asyncio.sleep(cut_at + duration_s - time.monotonic())
        for link in links:
            await link.restore()
        self.record(
            "nats_route_cut",
            server=node,
            down_s=round(time.monotonic() - cut_at, 1),
            routes_during_cut=routes_during_cut,
        )
        self.fault_done()

    def scale_out(self, stage: str) -> None:
        self._spawn(f"{stage}-2", stage)
        self.record("scale_out", stage=stage, replicas=2)
        self.fault_done()

    # -- the end -------------------------------------------------------------------
    async def finish(self, timeout_s: float) -> RunReport:
        """Wait until every article is indexed and every consumer is idle (or nothing can move any more),
        stop the services, audit."""
        await asyncio.wait_for(asyncio.shield(self._feeding), timeout_s)
        self.report.ending = await self._settle(len(self.records), timeout_s)
        self.report.drain_s = round(time.monotonic() - self._last_fault_end, 1)
        assert self.feeder.finished_at is not None
        self.report.after_feed_s = round(time.monotonic() - self.feeder.finished_at, 1)
        self.report.run_s = self.elapsed()
        self.report.feeder_retries = self.feeder.retries
        await asyncio.sleep(2)  # a late duplicate would land now
        self.report.exit_codes = await self._terminate_all()
        self.report.handled, self.report.trouble = _read_logs(self.setup.log_dir)
        self.report.audit = await self.observer.audit({str(record.hints["url"]) for record in self.records})
        return self.report

    async def _settle(self, expected: int, timeout_s: float) -> str:
        """ "complete", or "stalled" once no consumer holds or awaits a message and the index has not
        grown for STALL_S (what is missing then was lost or dead-lettered), or "timeout"."""
        deadline = time.monotonic() + timeout_s
        last_count, last_change = -1, time.monotonic()
        while time.monotonic() < deadline:
            indexed, idle = await self.observer.indexed(), await self.observer.idle()
            if indexed == expected and idle:
                return "complete"
            if indexed != last_count:
                last_count, last_change = indexed or 0, time.monotonic()
            elif idle and time.monotonic() - last_change > STALL_S:
                return "stalled"
            await asyncio.sleep(0.5)
        return "timeout"


def check_report(report: RunReport) -> None:
    """Write the run's figures to .local/chaos/<scenario>.json and hold it to the standard: exact audit, clean exits."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{report.scenario}.json").write_text(report.to_json() + "\n")
    print(report.to_json())
    assert report.audit is not None and report.audit.exact, report.to_json()
    assert set(report.exit_codes.values()) == {0}, f"SIGTERM drains and exits cleanly: {report.exit_codes}"


def _starts(process: ServiceProcess) -> int:
    """How often the process's log says its stage started consuming (shared/stage/app.py's ``stage_started``)."""
    if not process.log_path.exists():
        return 0
    return sum(_event(line) == "stage_started" for line in process.log_path.read_text(errors="replace").splitlines())


def _event(line: str) -> str | None:
    """The event of a JSON log line (shared/logging.py); None for anything else a process printed."""
    try:
        event = json.loads(line).get("event")
    except (ValueError, AttributeError):
        return None
    return event if isinstance(event, str) else None


async def _started_since(process: ServiceProcess, starts: int) -> bool:
    return _starts(process) > starts


def _read_logs(log_dir: Path) -> tuple[dict[str, int], dict[str, int]]:
    """Canonical message lines per process, and how often trouble was logged (shared/logging.py writes JSON)."""
    handled: dict[str, int] = {}
    trouble: Counter[str] = Counter()
    for path in sorted(log_dir.glob("*/*.log")):
        count = 0
        for line in path.read_text(errors="replace").splitlines():
            if line.startswith("Traceback"):
                trouble["traceback"] += 1
            event = _event(line)
            count += event == "message"
            if event in TROUBLE_EVENTS:
                trouble[event] += 1
        handled[path.parent.name] = count
    return handled, dict(trouble)


# -- scenarios, shared by the quick and the full versions --------------------------------
# Each fault strikes when the stage it watches has passed on a random fraction of the
# articles, drawn from ``between``; disjoint ranges let one run take several faults in turn.
Between = tuple[float, float]


async def kill_each_service(run: Run, rounds: int, between: Between, timeout_s: float) -> None:
    """SIGKILL every service once per round, one at a time, each when its own progress reaches a random point."""
    kills = [stage for _ in range(rounds) for stage in run.rng.sample(STAGES, len(STAGES))]
    moments = sorted(run.rng.uniform(*between) for _ in kills)
    for stage, moment in zip(kills, moments, strict=True):
        await run.reach(stage, moment, timeout_s)
        await run.catch_busy(stage)
        await run.sigkill(stage, down_s=run.rng.uniform(0.2, 2.0))


async def opensearch_outage(run: Run, outage: Outage, duration_s: float, between: Between, timeout_s: float) -> None:
    await run.reach("index", run.rng.uniform(*between), timeout_s)
    await run.outage(outage, "opensearch_outage", duration_s)


async def nats_restart(
    run: Run, server: NatsServer, down_s: float, how: signal.Signals, between: Between, timeout_s: float
) -> None:
    await run.reach("index", run.rng.uniform(*between), timeout_s)
    await run.restart_nats(server, down_s, how)


async def scale_out(run: Run, stage: str, between: Between, timeout_s: float) -> None:
    await run.reach(stage, run.rng.uniform(*between), timeout_s)
    run.scale_out(stage)


async def kill_one_replica_of_each_stage(run: Run, between: Between, timeout_s: float) -> None:
    """With two replicas per stage, SIGKILL one of each stage in turn (the other carries on) and restart it."""
    stages = run.rng.sample(STAGES, len(STAGES))
    moments = sorted(run.rng.uniform(*between) for _ in stages)
    for stage, moment in zip(stages, moments, strict=True):
        await run.reach(stage, moment, timeout_s)
        await run.catch_busy(stage)
        await run.sigkill(run.rng.choice(replica_keys(stage, run.replicas)), down_s=run.rng.uniform(0.5, 3.0))


async def kill_nats_leader(
    run: Run, nats_cluster: LocalNatsCluster, down_s: float, between: Between, timeout_s: float
) -> None:
    await run.reach("index", run.rng.uniform(*between), timeout_s)
    await run.kill_nats_leader(nats_cluster, down_s)


async def kill_opensearch_node(
    run: Run, search_cluster: LocalOpenSearchCluster, down_s: float, between: Between, timeout_s: float
) -> None:
    await run.reach("index", run.rng.uniform(*between), timeout_s)
    await run.kill_opensearch_node(search_cluster, down_s)


async def cut_nats_routes(
    run: Run,
    links: list[Outage],
    nats_cluster: LocalNatsCluster,
    node: str,
    duration_s: float,
    between: Between,
    timeout_s: float,
) -> None:
    await run.reach("index", run.rng.uniform(*between), timeout_s)
    await run.cut_routes(links, nats_cluster, node, duration_s)
