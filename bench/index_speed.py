"""Index stage speed: linked articles per second into the local OpenSearch node (goal: 2,000/s).

The BBC articles (``../shared/data/bbc-news``) first go through the real stage code in process
(ingest, enrich, entity link) to become ``ArticleLinked`` messages, untimed. Then, timed, the
index stage's own work runs as in the service, ``batches_in_flight`` batches at a time: decoding each message from
its JSON bytes, and ``IndexWorker.process_batch`` (the story-cluster ``_msearch``, then the
batch's ``bulk_requests`` concurrent ``_bulk`` requests). Two passes into a fresh index:

* ``fresh``: every article once;
* ``retold``: a copy of every article under a new id with 30% of its MinHash values replaced
  (a retelling, Jaccard ~0.7), indexed after the first pass, so every document finds a
  near-duplicate and joins its cluster; the share that joined the right cluster is reported.

For reference, ``node_bulk_only`` sends the same documents as bare ``_bulk`` requests (no
decoding, no cluster lookup), split in ``bulk_requests`` concurrent requests per batch as the
stage does, into another fresh index with the same template: what the node itself accepts,
against which the stage's own overhead shows. Each measure is repeated (``--repeat``) and the
best run reported, since the machine may be shared. CPU seconds per document, of this process
(``client``) and of the OpenSearch node (its ``_nodes/stats``), are reported too: they depend
far less than the rate on what else runs on the machine.

NATS fetch and ack are not included (the pipeline benchmark measures the whole path).

    .venv/bin/python bench/index_speed.py [--data ../shared/data] [--batch 256] [--limit 0] [--repeat 3]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import math
import os
import random
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np
from opensearchpy.helpers import async_scan
from pydantic import JsonValue

from cli.inprocess import InProcessPipeline
from corpus import read_bbc_files
from services.index.app import IndexWorker, bulk_body, create_worker
from services.index.settings import IndexSettings
from shared.messages import ArticleLinked, DocumentSubmitted, Signature
from shared.search.client import async_client
from shared.search.indices import ensure_index, template_name
from shared.settings import OpenSearchSettings
from shared.signature import pack_minhash
from shared.stage import StageContext

RESULTS = Path(__file__).resolve().parent / "results"
GOAL_DOCUMENTS_PER_SECOND = 2_000
RETOLD_SHARE_CHANGED = 0.3
NODE_STATS_REFRESH_S = 1.1


def read_bbc(folder: Path, limit: int) -> list[DocumentSubmitted]:
    submissions = []
    for number, (path, title, body) in enumerate(read_bbc_files(folder)):
        hints: dict[str, JsonValue] = {
            "title": title,
            "body": body,
            "url": f"https://bbc.example/{path.parent.name}/{path.stem}",
        }
        submissions.append(DocumentSubmitted(submission_id=f"bbc-{number}", kind="record", hints=hints))
        if limit and len(submissions) == limit:
            break
    return submissions


def retold(article: ArticleLinked, rng: random.Random) -> ArticleLinked:
    """The same article under a new id, its MinHash changed in 30% of positions."""
    assert article.signature is not None
    minhash = np.array(article.signature.values, dtype=np.uint32)  # a copy: the message's values stay as they are
    changed = rng.sample(range(len(minhash)), int(len(minhash) * RETOLD_SHARE_CHANGED))
    minhash[changed] = [rng.getrandbits(32) for _ in changed]
    signature = Signature(minhash=pack_minhash(minhash))
    return article.model_copy(update={"article_id": f"{article.article_id}-retold", "signature": signature})


async def node_cpu_seconds(client: Any) -> float:
    """CPU time the OpenSearch node(s) have used so far.

    A node refreshes this figure at most once a second (``monitor.process.refresh_interval``): waiting
    that long first makes it current, and at the end of a pass also counts the merges that follow it."""
    await asyncio.sleep(NODE_STATS_REFRESH_S)
    stats = await client.nodes.stats(metric="process")
    return sum(node["process"]["cpu"]["total_in_millis"] for node in stats["nodes"].values()) / 1000


async def index_pass(
    worker: IndexWorker, messages: list[bytes], batch_size: int, batches_in_flight: int
) -> dict[str, Any]:
    """The batches worked on ``batches_in_flight`` at a time, as the stage runtime does (shared/stage.py)."""
    latencies = []
    failures = 0
    slots = asyncio.Semaphore(batches_in_flight)

    async def one_batch(raws: list[bytes]) -> None:
        nonlocal failures
        async with slots:
            batch_started = time.perf_counter()
            batch = [ArticleLinked.model_validate_json(raw) for raw in raws]
            outcomes = await worker.process_batch(batch)
            failures += sum(1 for outcome in outcomes if isinstance(outcome, Exception))
            latencies.append(time.perf_counter() - batch_started)

    node_cpu = await node_cpu_seconds(worker.client)
    started = time.perf_counter()
    cpu = time.process_time()
    await asyncio.gather(
        *(one_batch(messages[start : start + batch_size]) for start in range(0, len(messages), batch_size))
    )
    wall = time.perf_counter() - started
    client_cpu = time.process_time() - cpu
    node_cpu = await node_cpu_seconds(worker.client) - node_cpu
    return {
        "documents": len(messages),
        "failed": failures,
        "seconds": round(wall, 2),
        "documents_per_second": round(len(messages) / wall),
        "client_cpu_seconds": round(client_cpu, 2),
        "client_cpu_us_per_document": round(client_cpu / len(messages) * 1e6),
        "node_cpu_us_per_document": round(node_cpu / len(messages) * 1e6),
        "batch_ms_median": round(statistics.median(latencies) * 1000, 1),
        "batch_ms_p95": round(sorted(latencies)[math.ceil(0.95 * len(latencies)) - 1] * 1000, 1),
    }


async def clusters_joined(settings: OpenSearchSettings, originals: list[ArticleLinked]) -> dict[str, Any]:
    """How many retold copies joined the cluster of the article they retell."""
    client = async_client(settings)
    try:
        await client.indices.refresh(index=settings.alias)
        found: dict[str, str] = {}
        async for hit in async_scan(client, index=settings.alias, query={"_source": ["cluster_id"]}, size=5000):
            found[hit["_id"]] = hit["_source"]["cluster_id"]
    finally:
        await client.close()
    joined = sum(
        1 for article in originals if found.get(f"{article.article_id}-retold") == found.get(article.article_id)
    )
    return {"retold": len(originals), "joined_the_original_cluster": joined, "share": round(joined / len(originals), 4)}


async def node_bulk_only(
    settings: OpenSearchSettings, articles: list[ArticleLinked], batch_size: int, requests_per_batch: int
) -> dict[str, float]:
    """Documents per second the node accepts as bare _bulk requests, the bodies prepared beforehand."""
    client = async_client(settings)
    part = math.ceil(batch_size / requests_per_batch)

    async def send(body: bytes) -> None:
        response = await client.bulk(body=body)
        assert not response["errors"], "the node refused documents"

    try:
        await ensure_index(client, settings.alias)
        # The stage's own request bodies (external versions included), each article its own cluster.
        batches = [
            [bulk_body(settings.alias, some, [article.article_id for article in some]) for some in _chunks(batch, part)]
            for batch in _chunks(articles, batch_size)
        ]
        node_cpu = await node_cpu_seconds(client)
        started = time.perf_counter()
        for bodies in batches:
            await asyncio.gather(*(send(body) for body in bodies))
        rate = len(articles) / (time.perf_counter() - started)
        node_cpu = await node_cpu_seconds(client) - node_cpu
        return {"documents_per_second": rate, "node_cpu_us_per_document": node_cpu / len(articles) * 1e6}
    finally:
        await _drop(client, settings)
        await client.close()


def _chunks(items: list[ArticleLinked], size: int) -> list[list[ArticleLinked]]:
    return [items[start : start + size] for start in range(0, len(items), size)]


async def _drop(client: Any, settings: OpenSearchSettings) -> None:
    await client.indices.delete(index=f"{settings.alias}-v*")
    await client.indices.delete_index_template(name=template_name(settings.alias))


def fresh_settings() -> OpenSearchSettings:
    return OpenSearchSettings(alias=f"bench-index-{uuid.uuid4().hex[:8]}-articles")


async def stage_run(articles: list[ArticleLinked], copies: list[ArticleLinked], batch: int) -> dict[str, Any]:
    """Both passes of the index stage into one fresh index."""
    settings = fresh_settings()
    stage_settings = IndexSettings(opensearch=settings, batch_size=batch)
    worker = create_worker(stage_settings)
    await worker.start(StageContext("index", stage_settings, stage_settings.topology))
    in_flight = stage_settings.batches_in_flight
    try:
        fresh = await index_pass(worker, [article.model_dump_json().encode() for article in articles], batch, in_flight)
        retold_pass = await index_pass(worker, [copy.model_dump_json().encode() for copy in copies], batch, in_flight)
        joined = await clusters_joined(settings, [article for article in articles if article.signature])
    finally:
        assert worker.client is not None
        await _drop(worker.client, settings)
        await worker.stop()
    return {"fresh": fresh, "retold": retold_pass, "clusters": joined}


async def run(args: argparse.Namespace) -> dict[str, Any]:
    submissions = read_bbc(args.data / "bbc-news" / "train", args.limit)
    print(f"building {len(submissions)} linked articles in process (untimed)…", file=sys.stderr)
    built = time.perf_counter()
    async with InProcessPipeline() as pipeline:
        articles = [
            ArticleLinked.model_validate(article.model_dump()) for article in await pipeline.articles(submissions)
        ]
    build_seconds = time.perf_counter() - built
    rng = random.Random(7)
    copies = [retold(article, rng) for article in articles if article.signature]
    # The service holds one batch of articles at a time; this process holds thousands, and the
    # garbage collector would scan them all again and again. Frozen, they are left out of its
    # passes, so the timed work costs what it costs in the service.
    gc.collect()
    gc.freeze()
    load_at_start = os.getloadavg()
    runs = []
    node = []
    for _ in range(args.repeat):
        runs.append(await stage_run(articles, copies, args.batch))
        node.append(await node_bulk_only(fresh_settings(), articles, args.batch, IndexSettings().bulk_requests))
    best = max(runs, key=lambda run: run["fresh"]["documents_per_second"] + run["retold"]["documents_per_second"])
    mean_bytes = sum(len(article.model_dump_json()) for article in articles) / len(articles)
    return {
        "data": f"bbc-news/train ({len(articles)} articles) through the in-process stages, indexed as ArticleLinked",
        "goal_documents_per_second": GOAL_DOCUMENTS_PER_SECOND,
        "batch_size": args.batch,
        "bulk_requests_per_batch": IndexSettings().bulk_requests,
        "batches_in_flight": IndexSettings().batches_in_flight,
        "mean_message_bytes": round(mean_bytes),
        "entities_per_article": round(sum(len(a.entities) for a in articles) / len(articles), 1),
        "build_seconds_untimed": round(build_seconds, 1),
        "load_average_at_start": [round(value, 2) for value in load_at_start],
        "load_average_at_end": [round(value, 2) for value in os.getloadavg()],
        "cpu_count": os.cpu_count(),
        "repeat": args.repeat,
        "best": best,
        "fresh_documents_per_second_all_runs": [run["fresh"]["documents_per_second"] for run in runs],
        "retold_documents_per_second_all_runs": [run["retold"]["documents_per_second"] for run in runs],
        "node_bulk_only_documents_per_second_all_runs": [round(run["documents_per_second"]) for run in node],
        "node_bulk_only_node_cpu_us_per_document_all_runs": [round(run["node_cpu_us_per_document"]) for run in node],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--batch", type=int, default=IndexSettings().batch_size, help="documents per _bulk")
    parser.add_argument("--limit", type=int, default=0, help="at most this many BBC articles (0: all)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each measure; the best is reported")
    args = parser.parse_args()
    result = asyncio.run(run(args))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "index_speed.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
