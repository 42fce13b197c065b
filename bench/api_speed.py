"""Read API speed: p50/p99 latency and requests/s for search, article, story and entity at 20
concurrent clients, against an index of >= 10,000 articles, and the service's resident memory.

The articles are ``corpus.py``'s records (generated from the sample unless ``--corpus``), run
through the real stage code in process (ingest, enrich, entity link; cached in ``.local/bench/``
as JSON Lines, untimed) and the index stage's worker into an alias of the bench's own. The API runs
as its own process (``python -m services.api``), as in production; the clients are an asyncio
httpx pool in this process, on the same machine (so they take CPU from the service and the node).
Each endpoint is loaded for ``--seconds`` after a short warm-up, with requests chosen at random:

* ``search``: ``/v1/articles?q=<a keyword of the corpus>`` (relevance, facets, highlights);
* ``article``: ``/v1/articles/{id}``; ``story``: ``/v1/stories/{id}`` of multi-article stories
  when there are any; ``entity``: ``/v1/entities/{id}`` of the 50 most named entities.

    .venv/bin/python bench/api_speed.py [--articles 10000] [--clients 20] [--seconds 20] [--keep-index]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import httpx

from cli.inprocess import articles_of
from corpus import DEFAULT_SEED, describe, generate, read_source
from services.index.app import create_worker
from services.index.settings import IndexSettings
from shared.localhost import free_port
from shared.messages import ArticleLinked, DocumentSubmitted
from shared.search.client import async_client, sync_client
from shared.search.indices import template_name
from shared.settings import OpenSearchSettings
from shared.stage import StageContext

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
CACHE = ROOT / ".local" / "bench"
BATCH = 256
WARM_UP_S = 2.0


def linked_articles(count: int, corpus: Path | None) -> list[ArticleLinked]:
    """The corpus through the real stage code, cached by size and source."""
    cache = CACHE / f"api-linked-{count}-{'sample' if corpus is None else corpus.name}.jsonl"
    if cache.exists():
        return [ArticleLinked.model_validate_json(line) for line in cache.read_text().splitlines()]
    started = time.monotonic()
    submissions = [
        DocumentSubmitted(submission_id=f"api-bench-{number}", kind="record", hints=record)
        for number, record in enumerate(generate(read_source(corpus), count, DEFAULT_SEED))
    ]
    articles = [ArticleLinked.model_validate(a.model_dump()) for a in articles_of(submissions)]
    print(f"  {len(articles)} articles through the stages in {time.monotonic() - started:.0f} s", flush=True)
    CACHE.mkdir(parents=True, exist_ok=True)
    cache.write_text("".join(article.model_dump_json() + "\n" for article in articles))
    return articles


async def index(settings: OpenSearchSettings, articles: list[ArticleLinked]) -> None:
    stage_settings = IndexSettings(opensearch=settings)
    worker = create_worker(stage_settings)
    await worker.start(StageContext("index", stage_settings, stage_settings.topology))
    try:
        for start in range(0, len(articles), BATCH):
            await worker.process_batch(articles[start : start + BATCH])
        assert worker.client is not None
        await worker.client.indices.refresh(index=settings.alias)
    finally:
        await worker.stop()


async def remove(settings: OpenSearchSettings) -> None:
    client = async_client(settings)
    await client.indices.delete(index=f"{settings.alias}-v*", ignore_unavailable=True)
    await client.indices.delete_index_template(name=template_name(settings.alias), ignore=[404])
    await client.close()


def targets(settings: OpenSearchSettings, articles: list[ArticleLinked]) -> dict[str, list[str]]:
    """The paths each endpoint is asked for, read from the index as a user would find them."""
    client = sync_client(settings)
    aggs = {
        "stories": {"terms": {"field": "cluster_id", "size": 200, "min_doc_count": 2}},
        "entities": {"terms": {"field": "entity_ids", "size": 50}},
    }
    response = client.search(index=settings.alias, body={"size": 0, "aggs": aggs})["aggregations"]
    client.close()
    stories = [bucket["key"] for bucket in response["stories"]["buckets"]] or [a.article_id for a in articles[:200]]
    keywords = sorted({keyword for article in articles[:2000] for keyword in article.keywords[:3]})
    return {
        "search": [f"/v1/articles?q={httpx.QueryParams({'q': word})['q']}" for word in keywords[:500]],
        "article": [f"/v1/articles/{article.article_id}" for article in articles],
        "story": [f"/v1/stories/{story}" for story in stories],
        "entity": [f"/v1/entities/{bucket['key']}" for bucket in response["entities"]["buckets"]],
    }


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


async def load(base: str, paths: list[str], clients: int, seconds: float, pid: int) -> dict[str, Any]:
    latencies: list[float] = []
    errors = 0
    peak_rss = 0.0
    rng = random.Random(DEFAULT_SEED)

    async def client_loop(http: httpx.AsyncClient, until: float, record: bool) -> None:
        nonlocal errors
        while time.monotonic() < until:
            started = time.perf_counter()
            response = await http.get(rng.choice(paths))
            elapsed = time.perf_counter() - started
            if record:
                latencies.append(elapsed)
                errors += response.status_code != 200

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as http:
        warm = time.monotonic() + WARM_UP_S
        await asyncio.gather(*(client_loop(http, warm, False) for _ in range(clients)))
        started = time.monotonic()
        loops = asyncio.gather(*(client_loop(http, started + seconds, True) for _ in range(clients)))
        while not loops.done():
            peak_rss = max(peak_rss, rss_mb(pid))
            await asyncio.sleep(0.5)
        await loops
        elapsed = time.monotonic() - started
    quantiles = statistics.quantiles(latencies, n=100)
    return {
        "requests": len(latencies),
        "errors": errors,
        "requests_per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": round(quantiles[49] * 1000, 1),
        "p99_ms": round(quantiles[98] * 1000, 1),
        "peak_rss_mb": round(peak_rss, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--corpus", type=Path)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--opensearch-url", default=os.environ.get("NEWSFLOW_OPENSEARCH_URL", "http://127.0.0.1:9200"))
    parser.add_argument("--keep-index", action="store_true", help="leave the bench's index for a rerun")
    args = parser.parse_args()

    settings = OpenSearchSettings(url=args.opensearch_url, alias=f"bench-api-{args.articles}-articles")
    articles = linked_articles(args.articles, args.corpus)
    probe = sync_client(settings)
    indexed = probe.indices.exists_alias(name=settings.alias) and probe.count(index=settings.alias)["count"]
    probe.close()
    if indexed != len(articles):
        asyncio.run(remove(settings))
        asyncio.run(index(settings, articles))
    paths = targets(settings, articles)

    port = free_port()
    env = {
        **os.environ,
        "NEWSFLOW_API_PORT": str(port),
        "NEWSFLOW_OPENSEARCH_URL": settings.url,
        "NEWSFLOW_OPENSEARCH_ALIAS": settings.alias,
        "NEWSFLOW_API_RATE_BURST": "1000000",
        "NEWSFLOW_API_RATE_PER_MINUTE": "100000000",
        "NEWSFLOW_API_LOG_LEVEL": "WARNING",
    }
    service = subprocess.Popen([sys.executable, "-m", "services.api"], cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        idle_rss = rss_mb(service.pid)
        load_before = os.getloadavg()
        endpoints = {
            name: asyncio.run(load(base, paths[name], args.clients, args.seconds, service.pid)) for name in paths
        }
        load_after = os.getloadavg()
    finally:
        service.terminate()
        service.wait(30)
        if not args.keep_index:
            asyncio.run(remove(settings))

    result = {
        "command": "bench/api_speed.py " + " ".join(sys.argv[1:]),
        "corpus": describe(args.corpus),
        "articles_indexed": len(articles),
        "clients": args.clients,
        "seconds_per_endpoint": args.seconds,
        "endpoints": endpoints,
        "service_rss_mb": {"idle": round(idle_rss, 1), "peak": max(e["peak_rss_mb"] for e in endpoints.values())},
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in load_after],
        "cpus": os.cpu_count(),
        "note": "clients, API and OpenSearch share the machine",
    }
    RESULTS.mkdir(exist_ok=True)
    # The 20-client figure is the goal's; other client counts are kept beside it.
    name = "api_speed.json" if args.clients == 20 else f"api_speed-{args.clients}-clients.json"
    (RESULTS / name).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
