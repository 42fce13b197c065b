"""The story-clusters development sets, run through the pipeline's own stage code (ingest, enrich,
entity_link in process, as ``newsflow process --stage entity_link`` does) and cached under
``.local/stories-bench/`` so the story benchmark iterates in seconds.

Texts are read at run time from ``../shared/data/story-clusters`` (never copied into the repository).
Each set is split by a hash of the story id: ``train`` (tuned on) and ``untouched`` (scored only).

    .venv/bin/python bench/stories_data.py            # builds the cache once (~2 min)
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cli.inprocess import InProcessPipeline
from shared.messages import ArticleLinked, DocumentSubmitted

REPO = Path(__file__).resolve().parent.parent
DATA = REPO.parent / "shared" / "data" / "story-clusters"
CACHE = REPO / ".local" / "stories-bench"
SETS = ("allsides", "ecbplus")
# An ECB+ article has no date: all of a set's undated articles are placed in one day, in a seeded shuffle.
UNDATED_DAY = datetime.fromisoformat("2020-01-01T00:00:00+00:00")
# AllSides gives every member of a story the roundup's time; real outlets publish hours apart.
# Each article is moved by a seeded offset within +-SPREAD, so identical times cannot give a story away.
SPREAD = timedelta(hours=36)


@dataclass(frozen=True)
class Labelled:
    article: ArticleLinked
    story: str
    related_group: str
    part: str  # "train" or "untouched"


def part_of(story: str) -> str:
    """A stable split by story: a quarter of the stories are never tuned on."""
    return "untouched" if hashlib.sha256(story.encode()).digest()[0] < 64 else "train"


def _dated(records: list[dict[str, object]], seed: int) -> list[dict[str, object]]:
    rng = random.Random(seed)
    for record in records:
        published = record.get("published_at")
        if isinstance(published, str):
            moved = datetime.fromisoformat(published) + SPREAD * rng.uniform(-1, 1)
        else:
            moved = UNDATED_DAY + timedelta(hours=24) * rng.random()
        record["published_at"] = moved.isoformat()
    return records


# What each record says of itself, handed to ingest as hints.
KNOWN = ("title", "body", "url", "source", "published_at")


def build(name: str) -> Path:
    return asyncio.run(_build(name))


async def _build(name: str) -> Path:
    records = [json.loads(line) for line in (DATA / f"{name}-dev.jsonl").read_text().splitlines() if line.strip()]
    records = _dated(records, seed=14)
    out = CACHE / f"{name}.jsonl"
    CACHE.mkdir(parents=True, exist_ok=True)
    async with InProcessPipeline(up_to="entity_link") as pipeline:
        with out.open("w") as sink:
            for number, record in enumerate(records):
                hints = {
                    key: record[key] for key in ("title", "body", "url", "source", "published_at") if record.get(key)
                }
                hints.setdefault("source", "unknown")
                submission = DocumentSubmitted(submission_id=record["id"], kind="record", hints=hints)
                articles = await pipeline.articles([submission])
                if not articles:  # ingest dropped it as a copy of an article already seen (same URL or text)
                    print(f"{name}: {record['id']} is a duplicate of an earlier article, left out", file=sys.stderr)
                    continue
                (article,) = articles
                row = {
                    "story": record["story"],
                    "related_group": record["related_group"],
                    "article": article.model_dump(mode="json"),
                }
                sink.write(json.dumps(row) + "\n")
                if number % 100 == 0:
                    print(f"{name}: {number}/{len(records)}", file=sys.stderr)
    return out


def load(name: str) -> list[Labelled]:
    path = CACHE / f"{name}.jsonl"
    if not path.exists():
        build(name)
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    return [
        Labelled(
            ArticleLinked.model_validate(row["article"]), row["story"], row["related_group"], part_of(row["story"])
        )
        for row in rows
    ]


if __name__ == "__main__":
    for name in SETS:
        print(build(name))
