"""Enrich stage speed on real news text: articles per second on one core, and the cost of each enricher.

Every BBC development article (``../shared/data/bbc-news``) goes through
``EnrichWorker.process`` exactly as in the service (shared analysis, all
enrichers of the registry, the pydantic promotion to ``ArticleEnriched``
and the provenance stamp), in one process, one thread. Throughput is given
against wall time and against this process's CPU time (what one core
delivers even when other work shares the machine). A second pass times each
step separately on a fresh ``Text`` in CPU time of this thread, so that
other processes do not inflate the tail: the shared analysis (sentence
splitting, tokenising, prose flags), then each enricher, then promotion.

    .venv/bin/python bench/enrich_speed.py [--data ../shared/data] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import time
from pathlib import Path
from typing import Any

from enrich_corpus import RESULTS, SHARED_DATA

from services.enrich.app import EnrichWorker, create_worker
from services.enrich.text import Text
from services.enrich.training.datasets import read_bbc
from shared.messages import ArticleEnriched, ArticleIngested, Source, promote

GOAL_ARTICLES_PER_SECOND = 300


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def summary_ms(seconds: list[float]) -> dict[str, float]:
    return {
        "median_ms": round(statistics.median(seconds) * 1000, 4),
        "p99_ms": round(percentile(seconds, 0.99) * 1000, 4),
        "mean_ms": round(statistics.fmean(seconds) * 1000, 4),
    }


def whole_stage(worker: EnrichWorker, messages: list[ArticleIngested], repeat: int) -> dict[str, Any]:
    best_wall = best_cpu = float("inf")
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        for message in messages:
            worker.process(message)
        best_wall = min(best_wall, time.perf_counter() - wall)
        best_cpu = min(best_cpu, time.process_time() - cpu)
    return {
        "articles": len(messages),
        "articles_per_second_wall": round(len(messages) / best_wall, 1),
        "articles_per_second_cpu": round(len(messages) / best_cpu, 1),
        "goal": GOAL_ARTICLES_PER_SECOND,
    }


def per_step(worker: EnrichWorker, messages: list[ArticleIngested]) -> dict[str, dict[str, float]]:
    timings: dict[str, list[float]] = {"shared_analysis": []}
    for enricher in worker.enrichers:
        timings[enricher.name] = []
    timings["promote_to_ArticleEnriched"] = []
    for message in messages:
        text = Text.of(message)
        started = time.thread_time()
        for sentence in text.sentences:  # forces tokenising, splitting and prose flags
            del sentence
        _ = (text.content_tokens, text.content_surface, text.title_tokens)
        timings["shared_analysis"].append(time.thread_time() - started)
        fields: dict[str, Any] = {}
        for enricher in worker.enrichers:
            started = time.thread_time()
            fields.update(enricher.enrich(text))
            timings[enricher.name].append(time.thread_time() - started)
        started = time.thread_time()
        promote(message, ArticleEnriched, **fields)
        timings["promote_to_ArticleEnriched"].append(time.thread_time() - started)
    return {step: summary_ms(seconds) for step, seconds in timings.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=SHARED_DATA)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    articles = read_bbc(args.data / "bbc-news")
    messages = [
        ArticleIngested(article_id=f"bbc-{number}", title=article.title, body=article.body, source=Source(name="BBC"))
        for number, article in enumerate(articles)
    ]
    load_started = time.perf_counter()
    worker = create_worker()  # as the service builds it, with the shipped model files
    load_seconds = time.perf_counter() - load_started
    worker.process(messages[0])  # first call: lazy imports
    result = {
        "corpus": "bbc-news development articles",
        "mean_body_chars": round(statistics.fmean(len(m.body) for m in messages)),
        "model_load_seconds": round(load_seconds, 2),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "whole_stage": whole_stage(worker, messages, args.repeat),
        "per_step": per_step(worker, messages),
        # Peak resident memory of this process: the articles, the worker and its models.
        "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "enrich_speed.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
