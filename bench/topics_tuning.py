"""The tuning-slice figures of the topic model: what changes to training were chosen on.

The untouched slices (``services/enrich/training/datasets.py``) are never
looked at here. The model is fitted on the training pool less every tuning
slice (the dev files' other halves, and a quarter of BBC's training rows by a
second hash) and scored on those tuning slices: the first topic through the
classifier (model plus the taxonomy's keywords), no topic counting as wrong,
once with the multi-label threshold alone and once with each primary
threshold given.

    .venv/bin/python bench/topics_tuning.py [--c 20] [--primary 0.1 0.15]

Each run fits one model (~5 min on a loaded 2-core machine).
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Sequence
from pathlib import Path

from enrich_corpus import RESULTS, SHARED_DATA

from services.enrich.topics import Taxonomy, TopicClassifier
from services.enrich.training.datasets import LabelledText, is_untouched, load_corpus
from services.enrich.training.train_topics import REGULARISATION_C, document_text, document_tokens, fit_topic_model

BBC_TUNING_SHARE = 0.25  # BBC has no dev file: a quarter of its training rows tunes


def tuning_split(data: Path) -> tuple[list[LabelledText], dict[str, list[LabelledText]]]:
    """(rows to fit on, tuning rows per dataset); neither holds an untouched row."""
    corpus = load_corpus(data)
    tuning = {
        name: [row for row in file.tune() if name != "bbc" or is_untouched(f"tune:{row.identity}", BBC_TUNING_SHARE)]
        for name, file in corpus.evaluation.items()
    }
    tuned_on = {row.identity for rows in tuning.values() for row in rows}
    return [row for row in corpus.training_pool() if row.identity not in tuned_on], tuning


def first_topic_accuracy(
    classifier: TopicClassifier, rows: Sequence[LabelledText], primary_threshold: float | None
) -> float:
    threshold = classifier.threshold if primary_threshold is None else primary_threshold
    hits = 0
    for row in rows:
        scores = classifier.top_level_scores_of(document_text(row))
        best = max(scores, key=scores.__getitem__)
        hits += best == row.topic and scores[best] >= threshold
    return round(hits / len(rows), 4)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=SHARED_DATA)
    parser.add_argument("--c", type=float, default=REGULARISATION_C, help="inverse regularisation strength")
    parser.add_argument("--threshold", type=float, default=0.2, help="the multi-label threshold")
    parser.add_argument("--primary", type=float, nargs="*", default=[0.1], help="primary thresholds to score")
    args = parser.parse_args()
    fit_rows, tuning = tuning_split(args.data)
    model = fit_topic_model(
        [document_tokens(document_text(row)) for row in fit_rows], [r.topic for r in fit_rows], c=args.c
    )
    classifier = TopicClassifier(model, Taxonomy.load(), threshold=args.threshold)
    result = {
        "command": "bench/topics_tuning.py",
        "load_average_at_start": list(os.getloadavg()),
        "c": args.c,
        "tuning_rows": {name: len(rows) for name, rows in tuning.items()},
        "first_topic_accuracy": {
            str(primary): {name: first_topic_accuracy(classifier, rows, primary) for name, rows in tuning.items()}
            for primary in [None, *args.primary]
        },
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"topics_tuning_c{args.c:g}.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
