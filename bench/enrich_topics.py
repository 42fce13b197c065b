"""Topic accuracy as users get it: each labelled text through the enrich stage, its first topic against gold.

Every text goes through ``EnrichWorker.process`` (the code path of
``newsflow process --stage enrich``: language detection, shared analysis,
the topic enricher with the shipped model and taxonomy), and the first topic
of the result is compared with the text's gold label mapped onto our
top-level topics (``services/enrich/training/datasets.py``). A text that
gets no topic (its best score under the calibrated threshold, or its
language unsupported) counts as wrong.

Per dataset, two slices (see ``datasets.py``):

* ``untouched``: rows split off by hash before any training or tuning and
  never looked at until this final score;
* ``tune``: the other rows of the same files, which the model trained on
  (its figure is training accuracy, printed to show the gap, not a result).

The training script's out-of-fold micro-F1 is the honest development figure.
The sample corpus (written for newsflow, 45 articles, labelled with the
taxonomy's top-level keys) and the aggregator captures are scored as a sanity
check; the captures' gold (in ../shared/data) still says "world", which is
right when the article lands in conflict, disaster, environment or society.

    .venv/bin/python bench/enrich_topics.py [--data ../shared/data]
"""

from __future__ import annotations

import argparse
import json
import os
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from enrich_corpus import RESULTS, SHARED_DATA, read_aggregator_captures, read_sample_corpus

from services.enrich.app import EnrichWorker, create_worker
from services.enrich.training.datasets import LabelledText, load_corpus
from shared.messages import ArticleEnriched, ArticleIngested, Source

GOALS = {
    "masakhanews-eng": 0.90,
    "bbc": 0.95,
    "sib200-eng14": 0.75,
    "sib200-en7": 0.80,
    "sib200-fr7": 0.80,
    "sib200-de7": 0.80,
    "masakhanews-fra": 0.85,
}
# The one label of the older taxonomy left in the captures' gold, and the topics it split into.
OLD_LABELS = {"world": {"conflict", "disaster", "environment", "society"}}


def first_topic(worker: EnrichWorker, number: int, title: str, body: str) -> str | None:
    message = ArticleIngested(article_id=f"bench-{number}", title=title, body=body, source=Source(name="bench"))
    [enriched] = worker.process(message)
    assert isinstance(enriched, ArticleEnriched)
    return enriched.topics[0].key if enriched.topics else None


def score(worker: EnrichWorker, rows: Sequence[LabelledText]) -> dict[str, Any]:
    hits = 0
    per_label: dict[str, list[int]] = {}
    confusions: Counter[str] = Counter()
    for number, row in enumerate(rows):
        predicted = first_topic(worker, number, row.title, row.body)
        hit = predicted == row.topic
        hits += hit
        tally = per_label.setdefault(row.topic, [0, 0])
        tally[0] += hit
        tally[1] += 1
        if not hit:
            confusions[f"{row.topic} -> {predicted or 'none'}"] += 1
    return {
        "rows": len(rows),
        "accuracy": round(hits / len(rows), 4) if rows else None,
        "per_topic": {topic: f"{h}/{n}" for topic, (h, n) in sorted(per_label.items())},
        "commonest_errors": dict(confusions.most_common(6)),
    }


def sample_corpus(worker: EnrichWorker, data: Path) -> dict[str, Any]:
    articles = [*read_sample_corpus(), *read_aggregator_captures(data)]
    hits = 0
    misses = []
    for number, article in enumerate(articles):
        predicted = first_topic(worker, number, article.title, article.body)
        expected = article.topic or "none"
        if predicted in OLD_LABELS.get(expected, {expected}):
            hits += 1
        else:
            misses.append({"article": article.name, "expected": expected, "predicted": predicted})
    return {"articles": len(articles), "accuracy": round(hits / len(articles), 4), "misses": misses}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=SHARED_DATA)
    args = parser.parse_args()
    worker = create_worker()
    corpus = load_corpus(args.data)
    datasets = {}
    for name, file in corpus.evaluation.items():
        datasets[name] = {
            "untouched": score(worker, file.untouched()),
            "tune_slice_trained_on": score(worker, file.tune())["accuracy"],
            "goal": GOALS[name],
        }
    result = {
        "command": "bench/enrich_topics.py",
        "load_average_at_start": list(os.getloadavg()),
        "first_topic_accuracy": datasets,
        "sample_corpus": sample_corpus(worker, args.data),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "enrich_topics.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
