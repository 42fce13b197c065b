"""Every feed of ``rss-feed-samples`` through the feed parser: parsed, refused with a reason, or crashed.

A crash is any exception other than the parser's own refusal; the goal is none.

    .venv/bin/python bench/ingest_feeds.py [--data ../shared/data]
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

from services.ingest.collect.feeds import FeedRefused, parse_feed

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"
FEED_SUFFIXES = {".xml", ".json", ".rss", ".atom"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    args = parser.parse_args()
    folder = args.data / "rss-feed-samples"
    files = sorted(path for path in folder.rglob("*") if path.suffix.lower() in FEED_SUFFIXES)
    outcomes: Counter[str] = Counter()
    refusals: Counter[str] = Counter()
    crashes: list[dict[str, str]] = []
    entries = malformed_but_read = 0
    started = time.perf_counter()
    for path in files:
        try:
            feed = parse_feed(path.read_bytes(), feed_url=f"http://feeds.test/{path.name}")
        except FeedRefused as refusal:
            outcomes["refused"] += 1
            refusals[refusal.reason] += 1
        except Exception as error:  # what this benchmark exists to find
            outcomes["crashed"] += 1
            crashes.append({"file": str(path.relative_to(folder)), "error": repr(error)[:300]})
        else:
            outcomes["parsed"] += 1
            entries += len(feed.entries)
            malformed_but_read += feed.malformed is not None
    elapsed = time.perf_counter() - started
    report: dict[str, Any] = {
        "files": len(files),
        "parsed": outcomes["parsed"],
        "refused": outcomes["refused"],
        "crashed": outcomes["crashed"],
        "refusal_reasons": dict(refusals.most_common()),
        "parsed_though_malformed": malformed_but_read,
        "entries": entries,
        "files_per_second": round(len(files) / elapsed, 1),
        "crashes": crashes[:20],
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    text = json.dumps(report, indent=2)
    (RESULTS / "ingest_feeds.json").write_text(text + "\n", encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
