"""End-to-end benchmark: the pipeline as one process per stage, side by side with the same code in one process and
with a naive script, plus latency at fixed loads, per-stage cost and memory, and scaling.

One run measures, on one corpus (``corpus.py``: generated from the sample by default, or ``--corpus``):

(a) pipeline throughput: every stage of the topology as a process, on their own namespace, stream and aliases;
    N ``DocumentSubmitted`` published as ``newsflow ingest`` does; wall time from the first publish
    until all N are counted on the alias (what a search sees after OpenSearch's periodic refresh);
(b) in process: ``InProcessPipeline("all")`` (``newsflow process``) over the same N, each batch
    written by the index stage's own ``process_batch`` (one ``_bulk``) -> the cost of the architecture;
(c) the naive script (``naive.py``) on a subset, extrapolated as articles/s;
(d) ingest-to-searchable latency at fixed offered loads: articles published at a steady rate while a
    tight loop (every ``POLL_INTERVAL_S``) asks OpenSearch which of the published ids it can see yet;
    an article's latency runs from just before its publish to the first poll that saw it. The
    provenance stamps of the indexed documents then split the median into hops;
(e) per stage: CPU seconds per article over run (a) (utime + stime from /proc/<pid>/stat) and peak
    RSS (VmHWM) of each service; throughput of one replica measured alone: the stage's recorded
    input from run (a) is copied into a fresh stream and one process drains it;
(f) scaling: the slowest stage of (e) drains the same backlog with two replicas sharing the durable.

Everything it creates is named ``bench-<random>``; it stops only the processes it started (by PID)
and deletes its streams, key-value buckets, indices and templates at the end.

    .venv/bin/python bench/pipeline.py [--articles 10000] [--corpus ../shared/data/bbc-news/train]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import nats
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter
from naive import run_naive
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig
from nats.js.errors import NotFoundError
from opensearchpy import AsyncOpenSearch
from opensearchpy.exceptions import NotFoundError as IndexNotFoundError
from saved_searches import register, saved_searches

from cli.inprocess import InProcessPipeline
from cli.publish import publish_submissions
from corpus import DEFAULT_SEED, describe, generate, read_source
from services.index.app import create_worker as create_index_worker
from services.index.settings import IndexSettings
from shared.ids import article_id
from shared.localhost import free_port, port_open
from shared.messages import DocumentSubmitted
from shared.nats import ensure_stream
from shared.search.alerts import AlertStore
from shared.search.client import async_client, sync_client
from shared.settings import OpenSearchSettings
from shared.stage import StageContext
from shared.topology import Topology

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
NATS_URL = "nats://127.0.0.1:4222"
OPENSEARCH_URL = "http://127.0.0.1:9200"
STAGES = Topology().stage_names
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
POLL_INTERVAL_S = 0.02
STALL_TIMEOUT_S = 90.0
LATENCY_DRAIN_S = 60.0
GOALS = {
    "pipeline_articles_per_s": 200,
    "pipeline_share_of_in_process": 0.9,
    "pipeline_over_naive": 5,
    "p99_s_at_20_per_s": 1.5,
    "peak_rss_mb": 300,
    "peak_rss_mb_entity_link": 600,
}


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# -- pure helpers ------------------------------------------------------------------------


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (no interpolation: a p99 is a latency some article really had)."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * fraction // 1))  # ceil(n * fraction), at least the first
    return ordered[int(rank) - 1]


def latency_summary(latencies: Sequence[float]) -> dict[str, float]:
    return {
        "p50": round(percentile(latencies, 0.50), 3),
        "p95": round(percentile(latencies, 0.95), 3),
        "p99": round(percentile(latencies, 0.99), 3),
        "max": round(max(latencies), 3),
    }


@dataclass(frozen=True)
class Sample:
    at_s: float
    processed: int
    cpu_s: float


def drain_rate(samples: Sequence[Sample]) -> dict[str, float]:
    """Articles/s and CPU s per article between the first sample that shows progress and the last.

    Starting at the first progress leaves out start-up and the first pull's wait. A backlog drained in
    one or two pulls shows too little progress for that, and is timed from the first sample instead.
    """
    moving = [s for s in samples if s.processed > 0]
    first = moving[0] if len(moving) >= 2 and moving[-1].processed > moving[0].processed else samples[0]
    last = samples[-1]
    articles = last.processed - first.processed
    if articles <= 0 or last.at_s <= first.at_s:
        raise ValueError("no progress between the samples: cannot measure a rate")
    return {
        "articles_per_s": round(articles / (last.at_s - first.at_s), 1),
        "cpu_s_per_article": round((last.cpu_s - first.cpu_s) / articles, 5),
    }


def hop_medians(
    provenance: Sequence[Sequence[dict[str, Any]]], published: Sequence[float], seen: Sequence[float]
) -> dict[str, float]:
    """Median time from publish to each stage's stamp, stamp to stamp, and last stamp to first seen."""
    hops: dict[str, list[float]] = {}
    for stamps, published_at, seen_at in zip(provenance, published, seen, strict=True):
        previous = published_at
        for stamp in stamps:
            at = datetime.fromisoformat(stamp["at"]).timestamp()
            hops.setdefault(f"to_{stamp['service']}", []).append(at - previous)
            previous = at
        hops.setdefault("to_searchable", []).append(seen_at - previous)
    return {name: round(statistics.median(values), 3) for name, values in hops.items()}


def submission_of(record: dict[str, Any]) -> DocumentSubmitted:
    """A JSONL record as ``newsflow ingest`` submits it (see cli/files.py)."""
    digest = hashlib.blake2b(json.dumps(record, sort_keys=True).encode(), digest_size=12).hexdigest()
    return DocumentSubmitted(submission_id=digest, kind="record", hints=record, filename=f"bench:{record['url']}")


# -- processes -------------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    # Fields after the parenthesised command name; utime and stime are fields 14 and 15 of proc(5).
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise ValueError(f"no VmHWM for process {pid}")


@dataclass
class Service:
    stage: str
    process: subprocess.Popen[bytes]
    health_port: int
    log_path: Path

    @classmethod
    def start(cls, stage: str, namespace: str, log_dir: Path) -> Service:
        port = free_port()
        prefix = f"NEWSFLOW_{stage.upper()}_"
        env = {
            **os.environ,
            "NEWSFLOW_NAMESPACE": namespace,
            "NEWSFLOW_OPENSEARCH_ALIAS": f"{namespace}-articles",
            "NEWSFLOW_OPENSEARCH_STORIES_ALIAS": f"{namespace}-stories",
            "NEWSFLOW_OPENSEARCH_ALERTS_ALIAS": f"{namespace}-alerts",
            "NEWSFLOW_NATS_URL": NATS_URL,
            "NEWSFLOW_OPENSEARCH_URL": OPENSEARCH_URL,
            prefix + "METRICS_PORT": str(port),
        }
        log_path = log_dir / f"{namespace}-{stage}-{port}.log"
        with log_path.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", f"services.{stage}"],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        return cls(stage, process, port, log_path)

    @property
    def pid(self) -> int:
        return self.process.pid

    def healthy(self) -> bool:
        if self.process.poll() is not None:
            tail = self.log_path.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"{self.stage} exited with {self.process.returncode}:\n{tail}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.health_port}/healthz", timeout=1) as response:
                return bool(response.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@dataclass
class Services:
    """The processes this benchmark started, and nothing else."""

    log_dir: Path
    running: list[Service] = field(default_factory=list)

    async def start(self, stages: Sequence[str], namespace: str, timeout_s: float = 180) -> list[Service]:
        started = [Service.start(stage, namespace, self.log_dir) for stage in stages]
        self.running.extend(started)
        deadline = time.monotonic() + timeout_s
        while not all(service.healthy() for service in started):
            if time.monotonic() > deadline:
                raise TimeoutError(f"services {stages} not healthy after {timeout_s} s (logs in {self.log_dir})")
            await asyncio.sleep(0.25)
        return started

    def stop(self, services: Sequence[Service]) -> None:
        for service in services:
            service.stop()
            self.running.remove(service)

    def stop_all(self) -> None:
        self.stop(list(self.running))


def ensure_servers() -> None:
    if not (port_open(4222) and port_open(9200)):
        log("starting nats-server and OpenSearch (deploy/local/stack.py infra)")
        subprocess.run([sys.executable, str(ROOT / "deploy/local/stack.py"), "infra"], check=True, cwd=ROOT)


def busy_cpu_seconds() -> float:
    """CPU time the whole machine has spent not idle since boot (first line of /proc/stat)."""
    ticks = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    idle, iowait = ticks[3], ticks[4]
    return (sum(ticks) - idle - iowait) / CLOCK_TICKS


SERVER_PID_FILES = {
    "nats-server": ROOT / ".local" / "pids" / "nats.pid",
    "opensearch": ROOT / ".local" / "opensearch" / "opensearch.pid",
}


def server_pids() -> dict[str, int]:
    """nats-server and OpenSearch as deploy/local/stack.py records them (part of the system under test)."""
    found = {}
    for name, pid_file in SERVER_PID_FILES.items():
        if pid_file.exists() and Path(f"/proc/{pid_file.read_text().strip()}").exists():
            found[name] = int(pid_file.read_text().strip())
    return found


class Contention:
    """How many cores other work took while we measured: the machine's busy CPU time minus that of this
    process, the services we started and the servers. Other helpers share this 2-core machine."""

    def __init__(self, pids: Sequence[int]) -> None:
        self.pids = [os.getpid(), *server_pids().values(), *pids]
        self.started = time.perf_counter()
        self.busy, self.ours = busy_cpu_seconds(), self._ours()

    def _ours(self) -> float:
        return sum(cpu_seconds(pid) for pid in self.pids if Path(f"/proc/{pid}").exists())

    def cores_used_elsewhere(self) -> float:
        elapsed = time.perf_counter() - self.started
        elsewhere = (busy_cpu_seconds() - self.busy) - (self._ours() - self.ours)
        return round(max(0.0, elsewhere) / elapsed, 2)


def machine() -> dict[str, Any]:
    meminfo = Path("/proc/meminfo").read_text().split()
    return {
        "cores": os.cpu_count(),
        "memory_gb": round(int(meminfo[meminfo.index("MemTotal:") + 1]) / 1024**2, 1),
        "load_average_at_start": [round(value, 2) for value in os.getloadavg()],
    }


# -- NATS and OpenSearch -------------------------------------------------------------------


async def remaining(js: JetStreamContext, topology: Topology, stage: str) -> int | None:
    """Messages the stage has not yet settled; None before its durable consumer exists."""
    try:
        info = await js.consumer_info(topology.stream, topology.durable(stage))
    except NotFoundError:
        return None
    return int(info.num_pending or 0) + int(info.num_ack_pending or 0)


async def dead_letters(js: JetStreamContext, topology: Topology) -> int:
    info = await js.stream_info(topology.stream, subjects_filter=topology.dead_letter_wildcard)
    return sum((info.state.subjects or {}).values())


async def recorded_inbox(js: JetStreamContext, topology: Topology, stage: str, limit: int) -> list[bytes]:
    """The first ``limit`` messages a stage received, read back from the stream."""
    subscription = await js.pull_subscribe(
        topology.inbox(stage), stream=topology.stream, config=ConsumerConfig(ack_policy=AckPolicy.NONE)
    )
    found: list[bytes] = []
    try:
        while len(found) < limit:
            try:
                batch = await subscription.fetch(min(500, limit - len(found)), timeout=2)
            except TimeoutError:
                break
            found.extend(message.data for message in batch)
    finally:
        await subscription.unsubscribe()
    return found[:limit]


async def publish_raw(js: JetStreamContext, subject: str, messages: Sequence[bytes]) -> None:
    for start in range(0, len(messages), 500):
        await asyncio.gather(*(js.publish(subject, data) for data in messages[start : start + 500]))


async def count_documents(client: AsyncOpenSearch, alias: str) -> int:
    try:
        return int((await client.count(index=alias))["count"])
    except IndexNotFoundError:
        return 0


async def delete_everything_named(js: JetStreamContext, client: AsyncOpenSearch, prefix: str) -> None:
    """Streams (and key-value buckets), indices and index templates whose name starts with ``prefix``."""
    stream_prefix = Topology(namespace=prefix).stream
    for info in await js.streams_info():
        name = info.config.name or ""
        if name.startswith(stream_prefix) or name.startswith(f"KV_{stream_prefix}"):
            await js.delete_stream(name)
    indices = await client.cat.indices(index=f"{prefix}*", format="json")
    for entry in indices:
        await client.indices.delete(index=entry["index"])
    templates = await client.indices.get_index_template(name=f"{prefix}*", ignore=[404])
    for template in templates.get("index_templates", []):
        await client.indices.delete_index_template(name=template["name"])


# -- the measurements ------------------------------------------------------------------------


@dataclass
class Bench:
    namespace: str
    js: JetStreamContext
    search: AsyncOpenSearch
    services: Services

    @property
    def topology(self) -> Topology:
        return Topology(namespace=self.namespace)

    @property
    def alias(self) -> str:
        return f"{self.namespace}-articles"

    @property
    def service_pids(self) -> list[int]:
        return [service.pid for service in self.services.running]

    async def in_process(self, submissions: list[DocumentSubmitted]) -> dict[str, Any]:
        """(b): ``newsflow process``'s code over every submission, written by the index stage's own bulk."""
        alias = f"{self.namespace}-inprocess"
        started = time.perf_counter()
        settings = IndexSettings(opensearch=OpenSearchSettings(url=OPENSEARCH_URL, alias=alias))
        indexer = create_index_worker(settings)
        await indexer.start(StageContext("index", settings, settings.topology))
        async with InProcessPipeline("all") as pipeline:
            load_s = time.perf_counter() - started
            log(f"in-process: stage code loaded in {load_s:.1f} s; {len(submissions)} articles")
            failures = 0
            contention = Contention([])
            wall, cpu = time.perf_counter(), time.process_time()
            for at in range(0, len(submissions), settings.batch_size):
                # What `newsflow process` reports and skips (an error or a dropped line) is counted.
                chunk = submissions[at : at + settings.batch_size]
                articles = await pipeline.articles(chunk)
                outcomes = await indexer.process_batch(articles)
                failures += len(chunk) - len(articles) + sum(isinstance(outcome, Exception) for outcome in outcomes)
        await self.search.indices.refresh(index=alias)
        indexed = await count_documents(self.search, alias)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        await indexer.stop()
        return {
            "articles_per_s": round(indexed / wall, 1),
            "articles_indexed": indexed,
            "failures": failures,
            "cpu_s_per_article_this_process": round(cpu / max(1, indexed), 5),
            "cores_used_by_other_work": contention.cores_used_elsewhere(),
            "load_s": round(load_s, 1),
        }

    async def pipeline(self, submissions: list[DocumentSubmitted], running: list[Service]) -> dict[str, Any]:
        """(a) and the CPU half of (e): publish everything, wait until all of it is searchable."""
        expected = len(submissions)
        cpu_before = {service.pid: cpu_seconds(service.pid) for service in running}
        servers = server_pids()
        servers_before = {name: cpu_seconds(pid) for name, pid in servers.items()}
        contention = Contention([service.pid for service in running])
        started = time.perf_counter()
        await publish_submissions(self.js, self.topology.entry_subject, submissions)
        published_s = time.perf_counter() - started
        log(f"pipeline: {expected} published in {published_s:.1f} s")
        indexed, changed_at, reported_at = 0, started, started
        while indexed < expected and time.perf_counter() - changed_at < STALL_TIMEOUT_S:
            await asyncio.sleep(0.2)
            count = await count_documents(self.search, self.alias)
            if count != indexed:
                indexed, changed_at = count, time.perf_counter()
            if changed_at - reported_at > 10:
                log(f"pipeline: {indexed}/{expected} searchable after {changed_at - started:.0f} s")
                reported_at = changed_at
        elapsed = changed_at - started
        elsewhere = contention.cores_used_elsewhere()
        cpu_by_stage: dict[str, float] = {}
        for service in running:
            spent = cpu_seconds(service.pid) - cpu_before[service.pid]
            cpu_by_stage[service.stage] = cpu_by_stage.get(service.stage, 0.0) + spent
        return {
            "articles_per_s": round(indexed / elapsed, 1),
            "articles_indexed": indexed,
            "seconds": round(elapsed, 1),
            "publish_seconds": round(published_s, 1),
            "dead_letters": await dead_letters(self.js, self.topology),
            "cores_used_by_other_work": elsewhere,
            "cpu_s_per_article": {stage: round(cpu / max(1, indexed), 5) for stage, cpu in cpu_by_stage.items()},
            "servers_cpu_s_per_article": {
                name: round((cpu_seconds(pid) - servers_before[name]) / max(1, indexed), 5)
                for name, pid in servers.items()
            },
        }

    async def latency(self, records: list[dict[str, Any]], rate: float) -> dict[str, Any]:
        """(d): publish at ``rate``/s while polling which published ids are searchable yet."""
        subject = self.topology.entry_subject
        published: dict[str, float] = {}
        seen: dict[str, float] = {}
        publishing = True

        publish_seconds = 0.0

        async def publish_steadily() -> None:
            nonlocal publishing, publish_seconds
            begin = time.perf_counter()
            for number, record in enumerate(records):
                delay = begin + number / rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                submission = submission_of(record)  # stamped submitted_at now
                published[article_id(record["url"])] = time.time()
                await publish_submissions(self.js, subject, [submission])
            # The rate is that of the intervals between publishes: n articles, n - 1 intervals.
            publish_seconds = time.perf_counter() - begin
            publishing = False

        async def watch() -> None:
            drain_deadline: float | None = None
            while publishing or len(seen) < len(published):
                if not publishing:
                    drain_deadline = drain_deadline or time.monotonic() + LATENCY_DRAIN_S
                    if time.monotonic() > drain_deadline:
                        return
                pending = [key for key in published if key not in seen]
                if pending:
                    asked_at = time.time()
                    found = await self.search.search(
                        index=self.alias,
                        body={"query": {"ids": {"values": pending}}, "_source": False, "size": len(pending)},
                    )
                    for hit in found["hits"]["hits"]:
                        seen.setdefault(hit["_id"], asked_at)
                await asyncio.sleep(POLL_INTERVAL_S)

        contention = Contention(self.service_pids)
        await asyncio.gather(publish_steadily(), watch())
        ids = [key for key in published if key in seen]
        latencies = [seen[key] - published[key] for key in ids]
        result: dict[str, Any] = {
            "offered_per_s": rate,
            "articles": len(published),
            "seen": len(ids),
            "publish_rate_achieved_per_s": round((len(published) - 1) / publish_seconds, 1)
            if publish_seconds
            else None,
            "cores_used_by_other_work": contention.cores_used_elsewhere(),
        }
        if latencies:
            result |= latency_summary(latencies)
            result["hops_p50_s"] = await self._hops(ids, published, seen)
        return result

    async def _hops(self, ids: list[str], published: dict[str, float], seen: dict[str, float]) -> dict[str, float]:
        stamps: list[list[dict[str, Any]]] = []
        for start in range(0, len(ids), 500):
            found = await self.search.mget(
                index=self.alias, body={"ids": ids[start : start + 500]}, params={"_source": "provenance.stamps"}
            )
            stamps.extend(doc["_source"]["provenance"]["stamps"] for doc in found["docs"])
        return hop_medians(stamps, [published[key] for key in ids], [seen[key] for key in ids])

    async def drain_alone(self, stage: str, messages: list[bytes], replicas: int) -> dict[str, Any]:
        """(e) and (f): ``replicas`` processes of one stage drain a copied backlog in a fresh namespace."""
        namespace = f"{self.namespace}-{stage.replace('_', '')}{replicas}"
        topology = Topology(namespace=namespace)
        await ensure_stream(self.js, topology)
        # The backlog arrives once every replica is pulling, so that none starts ahead of the others.
        running = await self.services.start([stage] * replicas, namespace)
        contention = Contention([service.pid for service in running])
        samples = [Sample(time.perf_counter(), 0, sum(cpu_seconds(service.pid) for service in running))]
        await publish_raw(self.js, topology.inbox(stage), messages)
        deadline = time.monotonic() + STALL_TIMEOUT_S + len(messages) / 5
        try:
            while time.monotonic() < deadline:
                left = await remaining(self.js, topology, stage)
                if left is not None:
                    cpu = sum(cpu_seconds(service.pid) for service in running)
                    samples.append(Sample(time.perf_counter(), len(messages) - left, cpu))
                    if left == 0:
                        break
                await asyncio.sleep(0.1)
            peak = max(peak_rss_mb(service.pid) for service in running)
            elsewhere = contention.cores_used_elsewhere()
        finally:
            self.services.stop(running)
        result = {"replicas": replicas, "articles": len(messages), **drain_rate(samples)}
        return result | {"peak_rss_mb": round(peak), "cores_used_by_other_work": elsewhere}


# -- the run -------------------------------------------------------------------------------------


def register_saved_searches(namespace: str, alerts: list[Any]) -> None:
    """The alerts stage percolates every article against these (its own namespace's alerts alias)."""
    settings = OpenSearchSettings(url=OPENSEARCH_URL, alias=f"{namespace}-articles", alerts_alias=f"{namespace}-alerts")
    client = sync_client(settings)
    try:
        seconds = register(client, AlertStore(client, settings.alias, settings.alerts_alias), alerts)
    finally:
        client.close()
    log(f"{len(alerts)} saved searches registered in {seconds} s")


async def guarded(name: str, errors: dict[str, str], measurement: Awaitable[Any]) -> Any:
    """One failing measurement is reported and the others still run."""
    try:
        return await measurement
    except Exception as error:
        log(f"{name} failed: {error!r}")
        errors[name] = repr(error)[:2000]
        return None


async def measure_with_services(
    bench: Bench, submissions: list[DocumentSubmitted], latency_batches: list[tuple[float, list[dict[str, Any]]]]
) -> tuple[dict[str, Any] | None, dict[str, Any], dict[str, dict[str, Any]], dict[str, str]]:
    """(a), (d) and the memory of (e), on one process per stage."""
    errors: dict[str, str] = {}
    running = await bench.services.start(STAGES, bench.namespace)
    pipeline = await guarded("pipeline", errors, bench.pipeline(submissions, running))
    log(f"pipeline: {pipeline}")
    latency: dict[str, Any] = {}
    for rate, records in latency_batches:
        measured = await guarded(f"latency_{rate:g}", errors, bench.latency(records, rate))
        if measured:
            latency[f"{rate:g}_per_s"] = measured
            log(f"latency at {rate:g}/s: {measured}")
    stages: dict[str, dict[str, Any]] = {stage: {} for stage in STAGES}
    for service in running:
        stages[service.stage]["peak_rss_mb"] = round(peak_rss_mb(service.pid))
    for stage, cpu in (pipeline or {}).get("cpu_s_per_article", {}).items():
        stages[stage]["cpu_s_per_article"] = cpu
    bench.services.stop(running)
    return pipeline, latency, stages, errors


async def measure_stages_alone(
    bench: Bench, stages: dict[str, dict[str, Any]], articles: int, errors: dict[str, str]
) -> dict[str, Any] | None:
    """(e) one replica of each stage alone, then (f) the slowest with two replicas."""
    inputs = {stage: await recorded_inbox(bench.js, bench.topology, stage, articles) for stage in STAGES}
    for stage in STAGES:
        alone = await guarded(f"stage_{stage}", errors, bench.drain_alone(stage, inputs[stage], 1))
        if alone:
            stages[stage] |= {"articles_per_s": alone["articles_per_s"], "alone": alone}
            stages[stage]["peak_rss_mb"] = max(stages[stage].get("peak_rss_mb", 0), alone["peak_rss_mb"])
            log(f"{stage} alone: {alone}")
    measured = {stage: values["articles_per_s"] for stage, values in stages.items() if "articles_per_s" in values}
    if not measured:
        return None
    bottleneck = min(measured, key=measured.__getitem__)
    two = await guarded("scaling", errors, bench.drain_alone(bottleneck, inputs[bottleneck], 2))
    if not two:
        return None
    return {
        "stage": bottleneck,
        "articles_per_s": {"1": measured[bottleneck], "2": two["articles_per_s"]},
        "speedup": round(two["articles_per_s"] / measured[bottleneck], 2),
        "two_replicas": two,
    }


def ratios(pipeline: float | None, in_process: float | None, naive: float | None) -> dict[str, float | None]:
    return {
        "pipeline_share_of_in_process": round(pipeline / in_process, 2) if pipeline and in_process else None,
        "pipeline_over_naive": round(pipeline / naive, 1) if pipeline and naive else None,
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    ensure_servers()
    namespace = f"bench-{uuid.uuid4().hex[:8]}"
    loads = [float(value) for value in args.loads.split(",") if value]
    latency_counts = [round(rate * args.latency_seconds) for rate in loads]
    records = list(generate(read_source(args.corpus), args.articles + sum(latency_counts), args.seed))
    submissions = [submission_of(record) for record in records[: args.articles]]
    latency_batches, offset = [], args.articles
    for rate, count in zip(loads, latency_counts, strict=True):
        latency_batches.append((rate, records[offset : offset + count]))
        offset += count
    result: dict[str, Any] = {
        "corpus": f"{describe(args.corpus)}, seed {args.seed}",
        "articles": len(submissions),
        "machine": machine(),
    }
    log(f"namespace {namespace}; {len(submissions)} articles ({result['corpus']})")
    log_dir = Path(tempfile.mkdtemp(prefix=f"{namespace}-logs-"))
    services = Services(log_dir)
    client = await nats.connect(NATS_URL)
    search = async_client(OpenSearchSettings(url=OPENSEARCH_URL))
    bench = Bench(namespace, client.jetstream(), search, services)
    errors: dict[str, str] = {}
    try:
        result["saved_searches"] = args.saved_searches
        if args.saved_searches:
            register_saved_searches(namespace, saved_searches(args.saved_searches, records))
        in_process = await guarded("in_process", errors, bench.in_process(submissions))
        log(f"in-process: {in_process}")
        naive_records = records[: min(args.naive_articles, args.articles)]
        naive_index = f"{namespace}-naive"
        naive = await guarded(
            "naive", errors, asyncio.to_thread(run_naive, naive_records, OPENSEARCH_URL, naive_index, log)
        )
        log(f"naive: {naive}")
        with_services = await guarded("services", errors, measure_with_services(bench, submissions, latency_batches))
        pipeline, latency, stages, failed = with_services or (None, {}, {}, {})
        errors |= failed
        scaling = None
        if pipeline:  # the stages alone replay what the pipeline run recorded
            scaling = await measure_stages_alone(bench, stages, min(args.stage_articles, args.articles), errors)
            log(f"scaling: {scaling}")
    finally:
        services.stop_all()
        await delete_everything_named(bench.js, search, namespace)
        await search.close()
        await client.drain()
    throughput = {
        "pipeline_articles_per_s": (pipeline or {}).get("articles_per_s"),
        "in_process_articles_per_s": (in_process or {}).get("articles_per_s"),
        "naive_articles_per_s": (naive or {}).get("articles_per_s"),
    }
    result |= throughput | ratios(*throughput.values())
    result |= {
        "latency_s": latency,
        "stages": stages,
        "scaling": scaling,
        "goals": GOALS,
        "details": {"pipeline": pipeline, "in_process": in_process, "naive": naive},
        "method": METHOD,
    }
    result["machine"]["load_average_at_end"] = [round(value, 2) for value in os.getloadavg()]
    if errors:
        result["errors"] = errors
        log(f"service logs kept in {log_dir}")
    else:
        for path in log_dir.iterdir():
            path.unlink()
        log_dir.rmdir()
    return result


METHOD = {
    "pipeline_articles_per_s": "N DocumentSubmitted published (as newsflow ingest) to one process per stage; "
    "N / seconds from the first publish until the alias counts N (periodic 1 s refresh)",
    "in_process_articles_per_s": "InProcessPipeline('all') over the same N in this process, each batch "
    "written by the index stage's process_batch (one _bulk); then refresh and count",
    "naive_articles_per_s": "naive.py, sequential, one index request per article, measured on a subset "
    "(details.naive.articles_measured) and given as articles/s",
    "latency_s": "articles published at the offered rate; a loop polls OpenSearch every 20 ms for the "
    "published ids; latency = first poll that saw the id - time just before its publish",
    "saved_searches": "registered before the services start (bench/saved_searches.py: one matches everything, "
    "the rest a corpus word each, some with a filter); the alerts stage percolates every article against them",
    "stages": "cpu_s_per_article: utime+stime (/proc/<pid>/stat) of each service over the throughput run / N; "
    "peak_rss_mb: VmHWM; articles_per_s: one replica alone draining a copy of its recorded input",
    "scaling": "the slowest stage alone draining the same copied backlog with 1 and 2 replicas",
}


# -- the chart ------------------------------------------------------------------------------------


def draw(result: dict[str, Any], path: Path) -> None:
    """Six panels a person can read at a glance; goals drawn as dashed red lines."""
    figure = Figure(figsize=(15, 9.5), layout="constrained")
    panels = figure.subplots(2, 3)
    machine_facts = result["machine"]
    elsewhere = (result.get("details", {}).get("pipeline") or {}).get("cores_used_by_other_work", "?")
    figure.suptitle(
        f"newsflow benchmark: {result['articles']:,} articles ({result['corpus']})\n"
        f"{machine_facts['cores']} cores, {machine_facts['memory_gb']} GB, NATS, OpenSearch and all services on it; "
        f"other work took {elsewhere} cores during the pipeline run",
        fontsize=13,
    )
    _throughput_panel(panels[0][0], result)
    _latency_panel(panels[0][1], result)
    stages = result.get("stages", {})
    _stage_panel(panels[0][2], stages, "articles_per_s", "Per stage: articles/s, one replica alone", 1)
    _cpu_panel(panels[1][0], stages, (result.get("details", {}).get("pipeline") or {}))
    _rss_panel(panels[1][1], stages)
    _scaling_panel(panels[1][2], result.get("scaling"))
    figure.savefig(path, dpi=80)


def _label_bars(axis: Any, bars: Any, fmt: str = "{:,.0f}") -> None:
    axis.bar_label(bars, labels=[fmt.format(bar.get_height()) for bar in bars], padding=2, fontsize=10)


def _throughput_panel(axis: Any, result: dict[str, Any]) -> None:
    names = [f"pipeline\n({len(STAGES)} stages)", "in-process", "naive script"]
    values = [
        result.get("pipeline_articles_per_s") or 0,
        result.get("in_process_articles_per_s") or 0,
        result.get("naive_articles_per_s") or 0,
    ]
    bars = axis.bar(names, values, color=["#1f77b4", "#7f7f7f", "#bcbd22"])
    _label_bars(axis, bars)
    axis.axhline(GOALS["pipeline_articles_per_s"], color="red", linestyle="--", label="goal 200/s")
    share, over = result.get("pipeline_share_of_in_process"), result.get("pipeline_over_naive")
    axis.set_title(
        f"Throughput, articles/s\npipeline = {share:.0%} of in-process (goal ≥ 70%)\n= {over:g}× naive (goal ≥ 5×)"
        if share and over
        else "Throughput, articles/s"
    )
    axis.legend(loc="upper right", fontsize=9)


def _latency_panel(axis: Any, result: dict[str, Any]) -> None:
    latency = result.get("latency_s", {})
    loads = list(latency)
    width = 0.25
    for offset, key in enumerate(("p50", "p95", "p99")):
        positions = [index + (offset - 1) * width for index in range(len(loads))]
        bars = axis.bar(positions, [latency[load].get(key, 0) for load in loads], width, label=key)
        _label_bars(axis, bars, "{:.2f}")
    throughput = result.get("pipeline_articles_per_s") or float("inf")
    axis.set_xticks(
        range(len(loads)),
        [
            f"offered {latency[load]['offered_per_s']:g}/s"
            + ("\n(above throughput: a queue builds)" if latency[load]["offered_per_s"] > throughput else "")
            for load in loads
        ],
    )
    axis.axhline(GOALS["p99_s_at_20_per_s"], color="red", linestyle="--", label="goal p99 ≤ 1.5 s at 20/s")
    # Log scale: a sub-second latency and a queue of tens of seconds both stay readable.
    axis.set_yscale("log")
    plain = FuncFormatter(lambda value, _: f"{value:g}")
    axis.yaxis.set_major_formatter(plain)
    axis.yaxis.set_minor_formatter(plain)
    axis.set_ylabel("seconds (log scale)")
    axis.margins(y=0.2)
    axis.set_title("Ingest-to-searchable latency")
    axis.legend(loc="upper left", fontsize=9)


def _cpu_panel(axis: Any, stages: dict[str, dict[str, Any]], pipeline: dict[str, Any]) -> None:
    """The services' CPU per article, and beside them that of the servers they use."""
    servers = pipeline.get("servers_cpu_s_per_article", {})
    names = [stage for stage in stages if "cpu_s_per_article" in stages[stage]]
    values = [stages[stage]["cpu_s_per_article"] * 1000 for stage in names]
    colours = ["#2ca02c"] * len(names) + ["#7f7f7f"] * len(servers)
    bars = axis.bar([*names, *servers], [*values, *(cpu * 1000 for cpu in servers.values())], color=colours)
    _label_bars(axis, bars, "{:,.1f}")
    axis.set_title("CPU ms per article in the pipeline run\n(services green, servers grey)")
    axis.tick_params(axis="x", labelsize=9, labelrotation=20)
    axis.margins(y=0.15)


def _stage_panel(axis: Any, stages: dict[str, dict[str, Any]], key: str, title: str, scale: float) -> Any:
    names = [stage for stage in stages if key in stages[stage]]
    bars = axis.bar(names, [stages[stage][key] * scale for stage in names], color="#2ca02c")
    _label_bars(axis, bars, "{:,.1f}" if scale != 1 else "{:,.0f}")
    axis.set_title(title)
    axis.margins(y=0.15)
    return bars


def _rss_panel(axis: Any, stages: dict[str, dict[str, Any]]) -> None:
    bars = _stage_panel(axis, stages, "peak_rss_mb", "Per service: peak RSS, MB", 1)
    names = [stage for stage in stages if "peak_rss_mb" in stages[stage]]
    for name, bar in zip(names, bars, strict=True):
        goal = GOALS["peak_rss_mb_entity_link" if name == "entity_link" else "peak_rss_mb"]
        left, width = bar.get_x(), bar.get_width()
        axis.hlines(goal, left - 0.1, left + width + 0.1, colors="red", linestyles="--")
    axis.plot([], [], color="red", linestyle="--", label="goal: 300 MB, linker 600 MB")
    axis.set_ylim(0, max([GOALS["peak_rss_mb_entity_link"], *(bar.get_height() for bar in bars)]) * 1.15)
    axis.legend(loc="upper left", fontsize=9)


def _scaling_panel(axis: Any, scaling: dict[str, Any] | None) -> None:
    if not scaling:
        axis.set_title("Scaling: not measured")
        return
    rates = scaling["articles_per_s"]
    bars = axis.bar([f"{replicas} replica{'s' if replicas != '1' else ''}" for replicas in rates], rates.values())
    _label_bars(axis, bars)
    axis.set_title(f"Scaling the slowest stage, {scaling['stage']}\n×{scaling['speedup']} with 2 replicas")
    axis.set_ylabel("articles/s")
    axis.margins(y=0.15)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=10_000, help="N for throughput (a) and (b)")
    parser.add_argument("--corpus", type=Path, help="real text (see corpus.py); default: generated from the sample")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--naive-articles", type=int, default=300, help="subset the naive script runs on")
    parser.add_argument("--stage-articles", type=int, default=2000, help="backlog each stage drains alone")
    parser.add_argument("--loads", default="20,100", help="offered loads for latency, articles/s")
    parser.add_argument("--saved-searches", type=int, default=100, help="registered for the alerts stage")
    parser.add_argument("--latency-seconds", type=float, default=30.0)
    parser.add_argument("--out", type=Path, default=RESULTS / "pipeline.json")
    parser.add_argument("--chart-only", action="store_true", help="redraw the PNG from an existing --out")
    args = parser.parse_args()
    if not args.chart_only:
        result = asyncio.run(run(args))
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2) + "\n")
        print(json.dumps(result, indent=2))
    draw(json.loads(args.out.read_text()), args.out.with_suffix(".png"))


if __name__ == "__main__":
    main()
