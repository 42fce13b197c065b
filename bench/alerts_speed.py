"""Alerts benchmark: ingest-to-alert latency with saved searches registered, and the cost of percolating.

(a) latency: ingest, enrich, entity_link, index and alerts run as processes (bench/pipeline.py's
    ``Services``) on their own namespace, stream and aliases, with ``--alerts`` saved searches
    registered. Articles (bench/corpus.py, generated from the sample) are published at ``--rate``/s;
    a core NATS subscription on the alerts subject notes when the first ``AlertMatched`` of each
    article arrives. One saved search matches everything, so every article has a latency: from just
    before its publish to its first alert.
(b) percolation cost: the articles indexed by (a) are percolated, ``--batch`` at a time (the alerts
    stage's request, services/alerts/matching.py), against 1,000 and 10,000 saved searches; the
    figures per article are the wall time of the percolate requests (best of ``--repeat``), the time
    OpenSearch says it took, and the OpenSearch node's CPU (all its work: exact only on a node of
    the bench's own, ``--opensearch-url``); the same without highlights shows what they cost.

CPU seconds per article of each stage's process are measured over (a), and of the OpenSearch node too.

The saved searches are drawn from the corpus vocabulary in the shapes of the filter language: one
or two words of text, a topic tree, a sentiment, a language, some of them combined.

    .venv/bin/python bench/alerts_speed.py [--alerts 1000] [--rate 20] [--articles 300]
        [--opensearch-url http://127.0.0.1:9250]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import nats
import pipeline
from opensearchpy import OpenSearch
from saved_searches import register, saved_searches

from cli.publish import publish_submissions
from corpus import DEFAULT_SEED, generate, read_source
from services.alerts.matching import percolate_body
from shared.ids import article_id
from shared.messages import AlertMatched
from shared.nats import ensure_stream
from shared.search.alerts import AlertStore
from shared.search.client import sync_client
from shared.settings import OpenSearchSettings
from shared.topology import Topology

RESULTS = pipeline.RESULTS / "alerts_speed.json"
# Every stage of the topology, so the bench follows the pipeline as stages are added (stories).
STAGES = Topology().stage_names
GOAL_P99_S = 2.0
DRAIN_S = 60.0
log = pipeline.log


async def latency(topology: Topology, records: list[dict[str, Any]], rate: float, nats_url: str) -> dict[str, Any]:
    connection = await nats.connect(nats_url)
    js = connection.jetstream()
    await ensure_stream(js, topology)
    published: dict[str, float] = {}
    alerted: dict[str, float] = {}
    matches = 0

    async def on_alert(message: Any) -> None:
        nonlocal matches
        matches += 1
        alerted.setdefault(AlertMatched.model_validate_json(message.data).article_id, time.time())

    subscription = await connection.subscribe(topology.alert_matched_subject, cb=on_alert)
    begin = time.perf_counter()
    for number, record in enumerate(records):
        delay = begin + number / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        published[article_id(record["url"])] = time.time()
        await publish_submissions(js, topology.entry_subject, [pipeline.submission_of(record)])
    publish_seconds = time.perf_counter() - begin
    deadline = time.monotonic() + DRAIN_S
    while len(alerted.keys() & published.keys()) < len(published) and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    await subscription.unsubscribe()
    await connection.close()
    latencies = [alerted[key] - published[key] for key in published if key in alerted]
    return {
        "offered_per_s": rate,
        "publish_rate_achieved_per_s": round((len(published) - 1) / publish_seconds, 1),
        "articles": len(published),
        "alerted": len(latencies),
        "alert_messages": matches,
        **(pipeline.latency_summary(latencies) if latencies else {}),
    }


def opensearch_cpu_s(client: OpenSearch) -> float:
    """CPU seconds the OpenSearch node(s) used so far (all requests, not only the bench's)."""
    nodes = client.nodes.stats(metric="process")["nodes"].values()
    return sum(node["process"]["cpu"]["total_in_millis"] for node in nodes) / 1000


def percolation_cost(
    client: OpenSearch,
    store: AlertStore,
    documents: list[dict[str, Any]],
    batch: int,
    repeat: int,
    highlight: bool = True,
) -> dict[str, Any]:
    """Per article: wall, OpenSearch ``took`` and node CPU of the stage's percolate requests, best of ``repeat``."""
    passes = []
    for _ in range(repeat):
        started, cpu_before = time.perf_counter(), opensearch_cpu_s(client)
        hits = requests = took_ms = 0
        for at in range(0, len(documents), batch):
            body = percolate_body(documents[at : at + batch], highlights=highlight)
            while True:
                answer = client.search(index=store.alias, body=body)
                requests += 1
                took_ms += answer["took"]
                page = answer["hits"]["hits"]
                hits += sum(len(hit["fields"]["_percolator_document_slot"]) for hit in page)
                if len(page) < body["size"]:
                    break
                body["search_after"] = page[-1]["sort"]
        wall, cpu = time.perf_counter() - started, opensearch_cpu_s(client) - cpu_before
        passes.append({"wall": wall, "took_ms": took_ms, "cpu": cpu, "hits": hits, "requests": requests})
    best = min(passes, key=lambda one: one["wall"])
    per_article = len(documents) / 1000
    return {
        "articles": len(documents),
        "batch": batch,
        "highlight": highlight,
        "requests": best["requests"],
        "ms_per_article": round(best["wall"] / per_article, 2),
        "ms_per_article_each_pass": [round(one["wall"] / per_article, 2) for one in passes],
        "took_ms_per_article": round(best["took_ms"] / len(documents), 2),
        "opensearch_cpu_ms_per_article": round(min(one["cpu"] for one in passes) / per_article, 2),
        "matches_per_article": round(best["hits"] / len(documents), 2),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--alerts", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--articles", type=int, default=300)
    parser.add_argument("--cost-sizes", type=int, nargs="*", default=[1000, 10000])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cost-articles", type=int, default=128, help="articles percolated per pass in (b)")
    parser.add_argument("--opensearch-url", default=pipeline.OPENSEARCH_URL)
    parser.add_argument("--nats-url", default=pipeline.NATS_URL)
    parser.add_argument("--results", type=Path, default=RESULTS, help="where the results JSON goes")
    args = parser.parse_args()
    # SIGTERM ends the run through the clean-up below, like Ctrl-C.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))

    pipeline.OPENSEARCH_URL, pipeline.NATS_URL = args.opensearch_url, args.nats_url  # what Service.start passes on
    namespace = f"bench-{uuid.uuid4().hex[:8]}"
    search = OpenSearchSettings(
        url=args.opensearch_url, alias=f"{namespace}-articles", alerts_alias=f"{namespace}-alerts"
    )
    os.environ["NEWSFLOW_OPENSEARCH_ALERTS_ALIAS"] = search.alerts_alias
    topology = Topology(namespace)
    records = list(generate(read_source(None), args.articles + 20))
    warm_up, measured = records[:20], records[20:]
    client = sync_client(search)
    store = AlertStore(client, search.alias, search.alerts_alias)
    result: dict[str, Any] = {"machine": pipeline.machine(), "load_before": os.getloadavg(), "namespace": namespace}
    services = pipeline.Services(Path(tempfile.mkdtemp(prefix="alerts-bench-")))
    try:
        result["register_s"] = register(client, store, saved_searches(args.alerts, records))
        log(f"{args.alerts} saved searches registered in {result['register_s']} s; starting {STAGES}")
        await services.start(STAGES, namespace)
        await latency(topology, warm_up, args.rate, args.nats_url)  # models loaded, consumers bound
        log(f"publishing {len(measured)} articles at {args.rate}/s")
        cpu_before = {service.stage: pipeline.cpu_seconds(service.pid) for service in services.running}
        opensearch_before = opensearch_cpu_s(client)
        result["latency"] = await latency(topology, measured, args.rate, args.nats_url)
        result["opensearch_cpu_ms_per_article"] = round(
            (opensearch_cpu_s(client) - opensearch_before) * 1000 / len(measured), 1
        )
        # CPU per article of each stage: what the latency would be bounded by on a machine of its own.
        # Per article published: a stage that had not reached every article by the end of the drain is
        # under-counted; the alerts stage's CPU per article it did reach (each fires the match-all alert) is
        # ``alerts_cpu_ms_per_alerted_article``.
        result["cpu_ms_per_article"] = {
            service.stage: round(
                (pipeline.cpu_seconds(service.pid) - cpu_before[service.stage]) * 1000 / len(measured), 1
            )
            for service in services.running
        }
        if result["latency"]["alerted"]:
            per_alerted = result["cpu_ms_per_article"]["alerts"] * len(measured) / result["latency"]["alerted"]
            result["alerts_cpu_ms_per_alerted_article"] = round(per_alerted, 1)
        result["latency"]["saved_searches"] = args.alerts
        result["latency"]["goal_p99_s"] = GOAL_P99_S
        result["load_after_latency"] = os.getloadavg()
        log(f"latency: {result['latency']}")
        client.indices.refresh(index=search.alias)
        found = client.search(
            index=search.alias,
            body={"size": args.cost_articles, "_source": {"excludes": ["signature", "entities.spans"]}},
        )
        documents = [hit["_source"] for hit in found["hits"]["hits"]]
        services.stop_all()
        result["percolation_cost"] = {}
        for size in args.cost_sizes:
            client.indices.delete(index=f"{search.alerts_alias}-v*")
            register(client, store, saved_searches(size, records, seed=DEFAULT_SEED + size))
            for highlight in (True, False):
                cost = percolation_cost(client, store, documents, args.batch, args.repeat, highlight)
                cost["load"] = os.getloadavg()
                result["percolation_cost"][f"{size}{'' if highlight else ' without highlights'}"] = cost
                log(f"percolating {size} saved searches: {cost}")
    finally:
        services.stop_all()
        client.indices.delete(index=f"{namespace}-*", ignore_unavailable=True)
        client.indices.delete_index_template(name=f"{search.alias}-template", ignore=[404])
        client.indices.delete_index_template(name=f"{search.alerts_alias}-template", ignore=[404])
        client.close()
        connection = await nats.connect(args.nats_url)
        js = connection.jetstream()
        for drop in (
            js.delete_stream(topology.stream),
            js.delete_key_value(topology.alerts_fired_bucket),
            js.delete_key_value(topology.kv_bucket),
        ):
            try:
                await drop
            except Exception as error:  # already gone, or never made
                log(f"cleanup: {error!r}")
        await connection.close()
    result["command"] = " ".join([Path(sys.executable).name, *sys.argv])
    args.results.write_text(json.dumps(result, indent=2) + "\n")
    log(f"wrote {args.results}")


if __name__ == "__main__":
    asyncio.run(main())
