"""Out-of-fold topic accuracy per dataset over the whole training pool: a steadier tuning signal.

``bench/topics_tuning.py`` scores on the tuning slices alone (46 rows per SIB-200
language, where one row is 2 points). Here every row of the training pool
(train files and tuning slices, never an untouched row) is scored by a model
fitted on the other folds (3 folds grouped by row identity, so a sentence and
its translations share a fold): 739 rows per SIB-200 language, 351 French
news articles. Each row's top-level scores come from the whole classifier
(model plus the taxonomy's keywords); the best topic is counted right both
unconditionally ("argmax") and only when it clears the threshold, as the
stage emits it ("at_threshold", the figure users get).

To fit many variants quickly, one feature space (vocabulary and idf) is
counted over the whole pool, labels unseen, and the folds slice one matrix;
the training script counts them per fold instead.

    .venv/bin/python bench/topics_oof.py [--c 20 80] [--max-features 60000]

Each value of C costs three fits (~2 CPU minutes).
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from enrich_corpus import RESULTS, SHARED_DATA
from scipy.sparse import csr_matrix
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold

from services.enrich.topics import Taxonomy, TopicClassifier
from services.enrich.training.datasets import LabelledText, load_corpus
from services.enrich.training.train_topics import (
    FOLDS,
    MAX_FEATURES,
    document_text,
    document_tokens,
    feature_matrix,
)


def accuracy_per_dataset(
    rows: Sequence[LabelledText], scores: Sequence[dict[str, float]], threshold: float
) -> dict[str, dict[str, float]]:
    tallies: dict[str, list[int]] = {}
    for row, row_scores in zip(rows, scores, strict=True):
        best = max(row_scores, key=row_scores.__getitem__)
        tally = tallies.setdefault(row.dataset, [0, 0, 0])
        tally[0] += best == row.topic
        tally[1] += best == row.topic and row_scores[best] >= threshold
        tally[2] += 1
    return {
        name: {"rows": n, "argmax": round(right / n, 3), "at_threshold": round(listed / n, 3)}
        for name, (right, listed, n) in sorted(tallies.items())
    }


Scorer = Callable[[dict[str, float], int], dict[str, float]]  # (model probabilities, row) -> top-level scores


def out_of_fold(rows: Sequence[LabelledText], matrix: csr_matrix, c: float, score: Scorer) -> list[dict[str, float]]:
    labels = np.array([row.topic for row in rows])
    scores: list[dict[str, float]] = [{} for _ in rows]
    for train, test in GroupKFold(n_splits=FOLDS).split(matrix, labels, [row.identity for row in rows]):
        model = LogisticRegression(C=c, max_iter=300, tol=1e-3).fit(matrix[train], labels[train])
        for i, probabilities in zip(test, model.predict_proba(matrix[test]), strict=True):
            scores[i] = score(dict(zip(model.classes_, probabilities.tolist(), strict=True)), i)
    return scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=SHARED_DATA)
    parser.add_argument("--c", type=float, nargs="+", default=[20.0, 80.0], help="inverse regularisation strengths")
    parser.add_argument("--max-features", type=int, default=MAX_FEATURES)
    parser.add_argument("--threshold", type=float, default=0.2, help="the threshold a listed topic must clear")
    args = parser.parse_args()
    rows = load_corpus(args.data).training_pool()
    texts = [document_text(row) for row in rows]
    documents = [document_tokens(text) for text in texts]
    _, matrix = feature_matrix(documents, args.max_features)
    classifier = TopicClassifier(None, Taxonomy.load())
    densities = [
        classifier.keyword_density(
            text.title_surface, text.title_tokens, text.content_surface, text.content_tokens, row.language
        )
        for text, row in zip(texts, rows, strict=True)
    ]
    figures = {}
    for c in args.c:
        scores = out_of_fold(rows, matrix, c, lambda p, i: classifier.top_level_scores(p, densities[i]))
        figures[f"C={c:g}"] = accuracy_per_dataset(rows, scores, args.threshold)
    result = {
        "command": "bench/topics_oof.py",
        "load_average_at_start": list(os.getloadavg()),
        "max_features": args.max_features,
        "threshold": args.threshold,
        "out_of_fold_first_topic": figures,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "topics_oof.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
