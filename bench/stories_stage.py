"""The stories stage's own worker on the story-clusters development sets, against the real
OpenSearch: articles (cached pipeline output, bench/stories_data.py) in date order, in the stage's
batches, each batch one ``_msearch`` and one ``_bulk``; B-cubed P/R/F1 of the ``story_id`` read
back from the stories index (members of each live story; merged ids resolved), per part.

Also the stage's cost: Python CPU per article in the worker (profiles, grouping, documents; the
OpenSearch requests' client side included) and wall time per batch. With ``--replicas 2``, two
workers (as two replicas of the stage would, sharing the index and the stage's turn in NATS
key-value, services/stories/turn.py) take the batches from one queue concurrently; a batch's
articles refused by a 409 go back to the queue's head, as a redelivery would. ``--no-turns``
measures replicas that share only the index. ``--cold`` gives every batch a freshly started worker
that remembers nothing, so it finds candidates only through the search, as a stage does for stories
older than its memory window (minutes) in a real stream.

    .venv/bin/python bench/stories_stage.py [--batch-size 128] [--replicas 1] [--no-turns]
        [--opensearch http://127.0.0.1:9200] [--nats nats://127.0.0.1:4222]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
import uuid
from pathlib import Path

import nats
from nats.js import JetStreamContext
from stories_cluster import bcubed
from stories_data import SETS, load

from services.stories.app import StoriesWorker, create_worker
from services.stories.settings import StoriesSettings
from shared.search.client import async_client
from shared.search.indices import template_name
from shared.settings import OpenSearchSettings
from shared.stage import StageContext

RESULTS = Path(__file__).resolve().parent / "results" / "stories_stage.json"


async def run_part(
    name: str,
    part: str,
    url: str,
    batch_size: int,
    replicas: int,
    jetstream: JetStreamContext | None,
    cold: bool,
) -> dict[str, object]:
    rows = sorted(
        (row for row in load(name) if row.part == part),
        key=lambda row: (row.article.published_at or row.article.ingested_at, row.article.article_id),
    )
    alias = f"bench{uuid.uuid4().hex[:8]}-stories"
    search = OpenSearchSettings(url=url, alias=f"{alias}-unused", stories_alias=alias)
    settings = StoriesSettings(opensearch=search, batch_size=batch_size, namespace=alias)
    workers = [create_worker(settings) for _ in range(replicas)]
    for worker in workers:
        await worker.start(StageContext("stories", settings, settings.topology, jetstream))
    pending = [row.article for row in rows]
    spent = {"cpu": 0.0, "wall": 0.0, "batches": 0, "retried": 0}

    async def replica(worker: StoriesWorker) -> None:
        while pending:
            batch = pending[:batch_size]
            del pending[:batch_size]
            if cold:  # (every worker is stopped at the end)
                worker = create_worker(settings)
                await worker.start(StageContext("stories", settings, settings.topology, jetstream))
                workers.append(worker)
            started_cpu, started_wall = time.process_time(), time.perf_counter()
            outcomes = await worker.process_batch(batch)
            spent["cpu"] += time.process_time() - started_cpu
            spent["wall"] += time.perf_counter() - started_wall
            spent["batches"] += 1
            failed = [
                article for article, outcome in zip(batch, outcomes, strict=True) if isinstance(outcome, Exception)
            ]
            spent["retried"] += len(failed)
            pending[:0] = failed
            await asyncio.sleep(0)  # let the other replica take the next batch

    try:
        await asyncio.gather(*(replica(worker) for worker in workers))
        client = async_client(search)
        await client.indices.refresh(index=alias)
        live = {"bool": {"must_not": [{"exists": {"field": "merged_into"}}]}}
        found = await client.search(index=alias, body={"size": 10_000, "query": live})
        await client.indices.delete(index=f"{alias}-v*")
        await client.indices.delete_index_template(name=template_name(alias))
        await client.close()
    finally:
        for worker in workers:
            await worker.stop()
        if jetstream is not None:
            await jetstream.delete_key_value(settings.topology.stories_turn_bucket)
    predicted = {member: hit["_id"] for hit in found["hits"]["hits"] for member in hit["_source"]["member_ids"]}
    gold = {row.article.article_id: row.story for row in rows}
    assert set(predicted) == set(gold), "every article is in exactly one live story"
    return {
        "bcubed_from_opensearch": bcubed(predicted, gold),
        # process_time counts the whole process: with two replicas, both replicas' CPU.
        "worker_cpu_ms_per_article": round(spent["cpu"] * 1000 / len(rows) / replicas, 3),
        "wall_ms_per_batch": round(spent["wall"] * 1000 / spent["batches"], 1),
        "articles": len(rows),
        "retried_after_conflict": spent["retried"],
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--replicas", type=int, default=1)
    parser.add_argument("--no-turns", action="store_true", help="replicas share only the index")
    parser.add_argument("--cold", action="store_true", help="a fresh worker (empty memory) for every batch")
    parser.add_argument("--opensearch", default="http://127.0.0.1:9200")
    parser.add_argument("--nats", default="nats://127.0.0.1:4222")
    parser.add_argument(
        "--tuning-only", action="store_true", help="score the train parts only (the untouched ones are scored once)"
    )
    args = parser.parse_args()
    parts = ("train",) if args.tuning_only else ("train", "untouched")
    turns = "" if not args.no_turns else " --no-turns"
    results: dict[str, object] = {
        "command": f"python bench/stories_stage.py --batch-size {args.batch_size} --replicas {args.replicas}"
        + turns
        + (" --cold" if args.cold else "")
        + (" --tuning-only" if args.tuning_only else ""),
        "load_average_at_start": os.getloadavg(),
    }
    connection = None if args.no_turns else await nats.connect(args.nats)
    jetstream = None if connection is None else connection.jetstream()
    for name in SETS:
        for part in parts:
            results[f"{name}/{part}"] = await run_part(
                name, part, args.opensearch, args.batch_size, args.replicas, jetstream, args.cold
            )
            print(name, part, results[f"{name}/{part}"], flush=True)
    if connection is not None:
        await connection.close()
    results["load_average_at_end"] = os.getloadavg()
    suffix = "" if args.replicas == 1 else f"_{args.replicas}_replicas"
    variant = (
        ("_no_turns" if args.no_turns else "")
        + ("_cold" if args.cold else "")
        + ("_tuning" if args.tuning_only else "")
    )
    out = RESULTS.with_name(f"stories_stage{suffix}{variant}.json")
    out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    asyncio.run(main())
