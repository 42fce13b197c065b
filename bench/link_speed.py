"""Entity-link stage speed and memory: articles per second on one core, and peak RSS.

Every BBC development article (``../shared/data/bbc-news``, ~390 words on
average) goes through ``EntityLinkWorker.process`` as in the service:
mention finding, disambiguation, salience, the pydantic promotion to
``ArticleLinked`` and the provenance stamp. A second run joins articles in
pairs (~780 words, the length the team's dependency notes measure with).
Throughput is given against wall time and against this process's CPU time
(what one core delivers even when other work shares the machine). Peak RSS
is the process's high-water mark with the bundled KB and overlay loaded.

    .venv/bin/python bench/link_speed.py [--data ../shared/data] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path
from typing import Any

from services.entity_link.app import EntityLinkWorker, create_worker
from services.entity_link.settings import EntityLinkSettings
from shared.messages import ArticleEnriched, ArticleLinked, Source

RESULTS = Path(__file__).resolve().parent / "results"
GOAL_ARTICLES_PER_SECOND = 300
GOAL_PEAK_RSS_MB = 600


def read_bbc(folder: Path) -> list[tuple[str, str]]:
    articles = []
    for path in sorted(folder.glob("*/*.txt")):
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:  # one file of the corpus is Latin-1 (see its SOURCE.md)
            text = raw.decode("latin-1")
        title, _, body = text.strip().partition("\n")
        articles.append((title.strip(), body.strip()))
    return articles


def messages(articles: list[tuple[str, str]]) -> list[ArticleEnriched]:
    return [
        ArticleEnriched(article_id=f"bench-{i}", title=title, body=body, source=Source(name="bench"))
        for i, (title, body) in enumerate(articles)
    ]


def throughput(worker: EntityLinkWorker, items: list[ArticleEnriched], repeat: int) -> dict[str, Any]:
    best_wall = best_cpu = float("inf")
    entities = 0
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        entities = 0
        for item in items:  # counted on the way: keeping every result would inflate the peak RSS
            (linked,) = worker.process(item)
            entities += len(linked.entities) if isinstance(linked, ArticleLinked) else 0
        best_wall = min(best_wall, time.perf_counter() - wall)
        best_cpu = min(best_cpu, time.process_time() - cpu)
    words = sum(len(item.body.split()) for item in items)
    return {
        "articles": len(items),
        "mean_words": round(words / len(items)),
        "entities_per_article": round(entities / len(items), 1),
        "articles_per_second_wall": round(len(items) / best_wall, 1),
        "articles_per_second_cpu": round(len(items) / best_cpu, 1),
        "words_per_second_cpu": round(words / best_cpu),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    started = time.perf_counter()
    worker = create_worker(EntityLinkSettings())
    worker.process(messages([("Warm-up", "Alibaba Group said on Tuesday.")])[0])  # builds the automaton
    load_seconds = time.perf_counter() - started
    rss_after_load = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    articles = read_bbc(args.data / "bbc-news" / "train")
    single = throughput(worker, messages(articles), args.repeat)
    pairs = [(a[0], a[1] + "\n\n" + b[1]) for a, b in zip(articles[0::2], articles[1::2], strict=False)]
    doubled = throughput(worker, messages(pairs), args.repeat)
    result = {
        "data": "bbc-news/train (1,780 articles), one process, one thread",
        "goal_articles_per_second": GOAL_ARTICLES_PER_SECOND,
        "goal_peak_rss_mb": GOAL_PEAK_RSS_MB,
        "load_seconds": round(load_seconds, 2),
        "rss_after_load_mb": round(rss_after_load),
        "articles": single,
        "article_pairs": doubled,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }
    text = json.dumps(result, indent=2)
    print(text)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "link_speed.json").write_text(text + "\n")


if __name__ == "__main__":
    main()
