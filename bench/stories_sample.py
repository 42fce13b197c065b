"""Stories on the repository's sample corpus (one story retold by four padded aggregators, 40 stand-alone
articles; corpus/sample/expected.json) and on the aggregator captures (cap01-cap03 retell one story in
entirely different words; ../shared/data/aggregator-captures/gold.json): each file through the pipeline's
own stage code in process (ingest, enrich, entity_link, stories), as ``newsflow process --stage all`` does,
then B-cubed P/R/F1 against the gold stories (an article in no gold story is a story of its own).

    .venv/bin/python bench/stories_sample.py
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

from enrich_corpus import SAMPLE_CORPUS, SHARED_DATA
from stories_cluster import bcubed

from cli.files import read_path
from cli.inprocess import InProcessPipeline

RESULTS = Path(__file__).resolve().parent / "results" / "stories_sample.json"
CAPTURES = SHARED_DATA / "aggregator-captures"


def sample_gold() -> dict[str, str]:
    expected = json.loads((SAMPLE_CORPUS / "expected.json").read_text())
    return {
        f"{entry['file']}:{entry['line'] + 1}" if entry["line"] is not None else entry["file"]: entry["story_cluster"]
        or entry["file"] + str(entry["line"])
        for entry in expected["articles"]
    }


def captures_gold() -> dict[str, str]:
    gold = json.loads((CAPTURES / "gold.json").read_text())
    story_of = {capture: story for story, captures in gold["stories"].items() for capture in captures}
    return {name: story_of.get(name, name) for name in gold["captures"]}


def grouped(paths: list[Path], gold: dict[str, str]) -> dict[str, object]:
    return asyncio.run(_grouped(paths, gold))


async def _grouped(paths: list[Path], gold: dict[str, str]) -> dict[str, object]:
    predicted: dict[str, str] = {}
    async with InProcessPipeline("all") as pipeline:  # a fresh stories memory per corpus
        for path in paths:
            for submission in read_path(path):
                name = getattr(submission, "filename", None)
                async for article in pipeline.run([submission]):
                    if name in gold and "story_id" in article:
                        predicted[name] = article["story_id"]
    return {"bcubed": bcubed(predicted, {name: gold[name] for name in predicted}), "placed": len(predicted)}


def main() -> None:
    sample_files = sorted(path for path in SAMPLE_CORPUS.iterdir() if path.suffix in (".txt", ".md", ".html", ".jsonl"))
    capture_files = sorted(CAPTURES.glob("cap*.txt"))
    results = {
        "command": "python bench/stories_sample.py",
        "load_average": os.getloadavg(),
        "sample_corpus": grouped(sample_files, sample_gold()),
        "aggregator_captures": grouped(capture_files, captures_gold()),
    }
    print(json.dumps(results, indent=2))
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
