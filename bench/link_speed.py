"""Entity-link stage speed and memory: articles per second on one core, and peak RSS.

Every BBC development article (``../shared/data/bbc-news``, ~390 words on
average) goes through ``EntityLinkWorker.process`` as in the service:
mention finding, disambiguation, salience, the pydantic promotion to
``ArticleLinked`` and the provenance stamp. A second run joins articles in
pairs (~780 words, the length the team's dependency notes measure with).
Throughput is given against wall time and against this process's CPU time
(what one core delivers even when other work shares the machine). A third
run times one article of MAX_BODY_CHARS (the longest ingest lets through),
dense with names, written here: it must take seconds, not minutes. Peak RSS
is the process's high-water mark with the bundled KB and overlay loaded.
The load averages at start and end say how busy the machine was meanwhile.

    .venv/bin/python bench/link_speed.py [--data ../shared/data] [--repeat 3] [--limit N]

``--limit N`` takes the first N articles only (quick runs, profiling:
``python -m cProfile -s tottime bench/link_speed.py --limit 300 --repeat 1``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time
from pathlib import Path
from typing import Any

from corpus import read_bbc_files
from services.entity_link.app import EntityLinkWorker, create_worker
from services.entity_link.settings import EntityLinkSettings
from shared.messages import MAX_BODY_CHARS, ArticleEnriched, ArticleLinked, Source

RESULTS = Path(__file__).resolve().parent / "results"
GOAL_ARTICLES_PER_SECOND = 300
GOAL_PEAK_RSS_MB = 600
# Names for the longest article: known companies and places, and people made up from first and last names.
_COMPANIES = ["Alibaba Group", "Nvidia", "Toyota", "Samsung Electronics", "DeepSeek", "Airbus", "Meta", "Apple"]
_PLACES = ["Beijing", "Hangzhou", "Seoul", "Toulouse", "Nagoya", "Lisbon", "Nairobi", "Santiago", "Oslo"]
_FIRST = ["Ana", "Tomas", "Mei", "Kofi", "Ingrid", "Rahul", "Sofia", "Jonas", "Amara", "Kenji", "Lucia", "Omar"]
_LAST = ["Varga", "Lindqvist", "Okafor", "Tanaka", "Moreau", "Castillo", "Novak", "Haddad", "Brennan", "Sato"]


def read_bbc(folder: Path) -> list[tuple[str, str]]:
    return [(title, body) for _, title, body in read_bbc_files(folder)]


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


def name_dense_article() -> tuple[str, str]:
    """A MAX_BODY_CHARS body in which every sentence names four entities, over a hundred of them distinct."""
    sentences: list[str] = []
    length = index = 0
    while length < MAX_BODY_CHARS:
        person = f"{_FIRST[index % len(_FIRST)]} {_LAST[index // len(_FIRST) % len(_LAST)]}"
        company, place = _COMPANIES[index % len(_COMPANIES)], _PLACES[index % len(_PLACES)]
        sentence = f"{company} said {person} met officials in {place} before flying to Washington. "
        sentences.append(sentence)
        length += len(sentence)
        index += 1
    return "Talks in Beijing", "".join(sentences)[:MAX_BODY_CHARS]


def longest_article(worker: EntityLinkWorker) -> dict[str, Any]:
    title, body = name_dense_article()
    (item,) = messages([(title, body)])
    cpu = time.process_time()
    (linked,) = worker.process(item)
    seconds = time.process_time() - cpu
    assert isinstance(linked, ArticleLinked)
    return {
        "characters": len(body),
        "entities": len(linked.entities),
        "mentions": sum(e.mentions for e in linked.entities),
        "cpu_seconds": round(seconds, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--limit", type=int, default=None, help="only the first N articles")
    args = parser.parse_args()
    load_at_start = os.getloadavg()
    started = time.perf_counter()
    worker = create_worker(EntityLinkSettings())
    worker.process(messages([("Warm-up", "Alibaba Group said on Tuesday.")])[0])  # builds the automaton
    load_seconds = time.perf_counter() - started
    rss_after_load = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    articles = read_bbc(args.data / "bbc-news" / "train")[: args.limit]
    single = throughput(worker, messages(articles), args.repeat)
    pairs = [(a[0], a[1] + "\n\n" + b[1]) for a, b in zip(articles[0::2], articles[1::2], strict=False)]
    doubled = throughput(worker, messages(pairs), args.repeat)
    longest = longest_article(worker)
    result = {
        "data": f"bbc-news/train ({len(articles):,} articles), one process, one thread",
        "goal_articles_per_second": GOAL_ARTICLES_PER_SECOND,
        "goal_peak_rss_mb": GOAL_PEAK_RSS_MB,
        "load_seconds": round(load_seconds, 2),
        "rss_after_load_mb": round(rss_after_load),
        "articles": single,
        "article_pairs": doubled,
        "longest_article": longest,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "load_average_at_start": [round(value, 2) for value in load_at_start],
        "load_average_at_end": [round(value, 2) for value in os.getloadavg()],
    }
    text = json.dumps(result, indent=2)
    print(text)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "link_speed.json").write_text(text + "\n")


if __name__ == "__main__":
    main()
