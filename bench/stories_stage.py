"""The stories stage's own worker on the story-clusters development sets, against the real
OpenSearch: articles (cached pipeline output, bench/stories_data.py) in date order, in the stage's
batches, each batch one ``_msearch`` and one ``_bulk``; B-cubed P/R/F1 of the ``story_id`` read
back from the stories index (members of each live story; merged ids resolved), per part.

Also the stage's cost: Python CPU per article in the worker (profiles, grouping, documents; the
OpenSearch requests' client side included) and wall time per batch.

    .venv/bin/python bench/stories_stage.py [--batch-size 128] [--opensearch http://127.0.0.1:9200]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
import uuid
from pathlib import Path

from stories_cluster import bcubed
from stories_data import SETS, load

from services.stories.app import create_worker
from services.stories.settings import StoriesSettings
from shared.search.client import async_client
from shared.search.indices import template_name
from shared.settings import OpenSearchSettings

RESULTS = Path(__file__).resolve().parent / "results" / "stories_stage.json"


async def run_part(name: str, part: str, url: str, batch_size: int) -> dict[str, object]:
    rows = sorted(
        (row for row in load(name) if row.part == part),
        key=lambda row: ((row.article.published_at or row.article.ingested_at), row.article.article_id),
    )
    alias = f"bench{uuid.uuid4().hex[:8]}-stories"
    search = OpenSearchSettings(url=url, alias=f"{alias}-unused", stories_alias=alias)
    worker = create_worker(StoriesSettings(opensearch=search, batch_size=batch_size))
    await worker.start()
    cpu = wall = 0.0
    retried = 0
    try:
        pending = [row.article for row in rows]
        while pending:
            batch, pending = pending[:batch_size], pending[batch_size:]
            started_cpu, started_wall = time.process_time(), time.perf_counter()
            outcomes = await worker.process_batch(batch)
            cpu += time.process_time() - started_cpu
            wall += time.perf_counter() - started_wall
            failed = [
                article for article, outcome in zip(batch, outcomes, strict=True) if isinstance(outcome, Exception)
            ]
            retried += len(failed)
            pending = failed + pending  # as a redelivery would
        client = async_client(search)
        await client.indices.refresh(index=alias)
        found = await client.search(
            index=alias, body={"size": 10_000, "query": {"bool": {"must_not": [{"exists": {"field": "merged_into"}}]}}}
        )
        await client.indices.delete(index=f"{alias}-v*")
        await client.indices.delete_index_template(name=template_name(alias))
        await client.close()
    finally:
        await worker.stop()
    predicted = {member: hit["_id"] for hit in found["hits"]["hits"] for member in hit["_source"]["member_ids"]}
    gold = {row.article.article_id: row.story for row in rows}
    assert set(predicted) == set(gold), "every article is in exactly one live story"
    batches = -(-len(rows) // batch_size)
    return {
        "bcubed_from_opensearch": bcubed(predicted, gold),
        "worker_cpu_ms_per_article": round(cpu * 1000 / len(rows), 3),
        "wall_ms_per_batch": round(wall * 1000 / batches, 1),
        "articles": len(rows),
        "retried_after_conflict": retried,
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--opensearch", default="http://127.0.0.1:9200")
    args = parser.parse_args()
    results: dict[str, object] = {
        "command": f"python bench/stories_stage.py --batch-size {args.batch_size}",
        "load_average_at_start": os.getloadavg(),
    }
    for name in SETS:
        for part in ("train", "untouched"):
            results[f"{name}/{part}"] = await run_part(name, part, args.opensearch, args.batch_size)
            print(name, part, results[f"{name}/{part}"], flush=True)
    results["load_average_at_end"] = os.getloadavg()
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    asyncio.run(main())
