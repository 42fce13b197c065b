"""Topic accuracy: BBC cross-validation, and the sample corpus and aggregator captures as a development set.

* BBC (``../shared/data/bbc-news``, 1,780 articles, five classes):
  stratified 5-fold cross-validation. The corpus holds several versions of
  some stories (updates of one report); they are grouped with the stage's
  own near-duplicate signature and kept in one fold, so no story is both
  trained on and tested. Each fold trains the model exactly as
  ``services/enrich/training/train_topics.py`` does and reports:

  - ``model_accuracy``: the model's best class among the five;
  - ``stage_accuracy``: the enricher's primary topic (model + taxonomy
    rules over all eight top-level topics), BBC's classes mapped to
    business, entertainment, politics, sport, technology. A BBC article the
    rules call science, health or world counts as an error here.

* Development set (``corpus/sample``: 45 articles in all 8 topics, and the 8
  aggregator captures, padding included): the shipped model's primary topic
  against the expected one. The taxonomy's keywords were written while
  looking at these texts, so read this as a sanity check, not a held-out score.

    .venv/bin/python bench/enrich_topics.py [--data ../shared/data] [--folds 5]
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from enrich_corpus import RESULTS, SHARED_DATA, DevArticle, read_aggregator_captures, read_sample_corpus
from sklearn.model_selection import StratifiedGroupKFold

from services.enrich.signature import signature_of
from services.enrich.text import Text
from services.enrich.topics import DEFAULT_TOPIC_MODEL, LinearTopicModel, Taxonomy, TopicClassifier
from services.enrich.training.train_topics import fit_topic_model, read_bbc
from shared.signature import NEAR_DUPLICATE_JACCARD, estimated_similarity

BBC_TO_TAXONOMY = {
    "business": "business",
    "entertainment": "entertainment",
    "politics": "politics",
    "sport": "sport",
    "tech": "technology",
}


@dataclass(frozen=True)
class Prepared:
    title: list[str]
    title_lower: list[str]
    body: list[str]
    body_lower: list[str]

    @classmethod
    def of(cls, text: Text) -> Prepared:
        return cls(text.title_surface, text.title_tokens, text.content_surface, text.content_tokens)

    @property
    def model_tokens(self) -> list[str]:
        return [*self.title_lower, *self.body_lower]


def primary_topic(classifier: TopicClassifier, doc: Prepared) -> str | None:
    topics = classifier.classify(doc.title, doc.title_lower, doc.body, doc.body_lower)
    return topics[0].key if topics else None


def story_groups(docs: Sequence[Prepared]) -> list[int]:
    """Connected components of 'shares an LSH band and estimated Jaccard >= threshold'."""
    parent = list(range(len(docs)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    signatures = [signature_of(doc.body_lower) for doc in docs]
    buckets: dict[str, list[int]] = {}
    for i, signature in enumerate(signatures):
        for key in signature.lsh_bands if signature else []:
            buckets.setdefault(key, []).append(i)
    for members in buckets.values():
        for other in members[1:]:
            a, b = signatures[members[0]], signatures[other]
            if a and b and estimated_similarity(a.minhash, b.minhash) >= NEAR_DUPLICATE_JACCARD:
                parent[find(other)] = find(members[0])
    return [find(i) for i in range(len(docs))]


def cross_validate(data: Path, folds: int, taxonomy: Taxonomy) -> dict[str, Any]:
    articles = read_bbc(data / "bbc-news")
    docs = [Prepared.of(Text(article.title, article.body)) for article in articles]
    labels = np.array([article.label for article in articles])
    groups = story_groups(docs)
    splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=0)
    model_hits = stage_hits = 0
    fold_scores = []
    stage_predictions: Counter[str] = Counter()
    per_class: dict[str, list[int]] = {label: [0, 0] for label in BBC_TO_TAXONOMY}
    for train_index, test_index in splitter.split(np.zeros(len(docs)), labels, groups):
        model = fit_topic_model([docs[i].model_tokens for i in train_index], labels[train_index].tolist())
        classifier = TopicClassifier(model, taxonomy)
        fold_stage_hits = 0
        for i in test_index:
            probabilities = model.probabilities(docs[i].model_tokens)
            model_hits += max(probabilities, key=lambda label: probabilities[label]) == labels[i]
            predicted = primary_topic(classifier, docs[i])
            stage_predictions[predicted or "none"] += 1
            hit = predicted == BBC_TO_TAXONOMY[labels[i]]
            fold_stage_hits += hit
            per_class[labels[i]][0] += hit
            per_class[labels[i]][1] += 1
        stage_hits += fold_stage_hits
        fold_scores.append(round(fold_stage_hits / len(test_index), 4))
    return {
        "articles": len(docs),
        "folds": folds,
        "story_groups_with_several_versions": sum(1 for n in Counter(groups).values() if n > 1),
        "model_accuracy": round(model_hits / len(docs), 4),
        "stage_accuracy": round(stage_hits / len(docs), 4),
        "stage_accuracy_per_fold": fold_scores,
        "stage_accuracy_per_class": {label: round(h / n, 4) for label, (h, n) in per_class.items()},
        "stage_primary_topics": dict(stage_predictions.most_common()),
        "goal": 0.95,
    }


def development_set(articles: Sequence[DevArticle], classifier: TopicClassifier) -> dict[str, Any]:
    misses = []
    per_topic: dict[str, list[int]] = {}
    for article in articles:
        predicted = primary_topic(classifier, Prepared.of(article.text()))
        expected = article.topic or "none"
        tally = per_topic.setdefault(expected, [0, 0])
        tally[0] += predicted == expected
        tally[1] += 1
        if predicted != expected:
            misses.append({"article": article.name, "expected": expected, "predicted": predicted})
    hits = sum(h for h, _ in per_topic.values())
    return {
        "articles": len(articles),
        "accuracy": round(hits / len(articles), 4),
        "per_topic": {topic: f"{h}/{n}" for topic, (h, n) in sorted(per_topic.items())},
        "misses": misses,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=SHARED_DATA)
    parser.add_argument("--folds", type=int, default=5)
    args = parser.parse_args()
    taxonomy = Taxonomy.load()
    shipped = TopicClassifier(LinearTopicModel.load(DEFAULT_TOPIC_MODEL), taxonomy)
    result = {
        "bbc_cross_validation": cross_validate(args.data, args.folds, taxonomy),
        "development_set": development_set([*read_sample_corpus(), *read_aggregator_captures(args.data)], shipped),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "enrich_topics.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
