from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from services.enrich.text import Text
from services.enrich.topics import (
    DEFAULT_TOPIC_MODEL,
    KeywordMatcher,
    LinearTopicModel,
    Taxonomy,
    TopicClassifier,
    featurize,
)

TAXONOMY = Taxonomy.from_mapping(
    {
        "sport": {"model_class": "sport", "keywords": ["match"], "children": {"tennis": {"keywords": ["tennis"]}}},
        "business": {"model_class": "business", "keywords": ["profit", "shares"]},
        "health": {
            "keywords": ["vaccine", "WHO", "hospital"],
            "children": {"public-health": {"keywords": ["vaccine", "outbreak"]}},
        },
    }
)


def toy_model() -> LinearTopicModel:
    """Two classes: 'racket' says sport, 'profit' says business."""
    return LinearTopicModel(
        vocabulary=("racket", "profit", "the"),
        idf=np.array([2.0, 2.0, 1.0]),
        coef=np.array([[-4.0, 4.0], [4.0, -4.0], [0.0, 0.0]]),  # rows: features; columns: classes
        intercept=np.array([0.0, 0.0]),
        classes=("business", "sport"),
    )


def classify(classifier: TopicClassifier, title: str, body: str) -> list[tuple[str, float]]:
    text = Text(title, body)
    topics = classifier.classify(text.title_surface, text.title_tokens, text.content_surface, text.content_tokens)
    return [(topic.key, topic.score) for topic in topics]


def test_featurize_is_l2_normalised_sublinear_tf_idf() -> None:
    columns, values = featurize(["a", "b", "a", "a", "zzz"], {"a": 0, "b": 1}, np.array([1.0, 2.0]))
    assert sorted(columns.tolist()) == [0, 1]
    assert np.linalg.norm(values) == pytest.approx(1.0)
    by_column = dict(zip(columns.tolist(), values.tolist(), strict=True))
    assert by_column[0] / by_column[1] == pytest.approx((1 + np.log(3)) / 2.0)


def test_model_round_trips_through_npz(tmp_path: Path) -> None:
    model = toy_model()
    model.save(tmp_path / "model.npz")
    loaded = LinearTopicModel.load(tmp_path / "model.npz")
    assert loaded.classes == model.classes and loaded.vocabulary == model.vocabulary
    assert loaded.probabilities(["racket"]) == pytest.approx(model.probabilities(["racket"]), abs=1e-6)


def test_keyword_case_rules_and_parent_counting() -> None:
    matcher = KeywordMatcher(TAXONOMY.roots)
    tokens = ["WHO", "said", "who", "got", "the", "vaccine", "at", "hospital"]
    hits = matcher.count(tokens, [token.lower() for token in tokens])
    # "WHO" matches once (not "who"); "vaccine" is listed by health and its child but counts once for health.
    assert hits["health"] == 3
    assert hits["health/public-health"] == 1


def test_the_model_decides_without_keywords() -> None:
    classifier = TopicClassifier(toy_model(), TAXONOMY)
    topics = classify(classifier, "Results", "The racket was new. The racket broke in the final set today.")
    assert topics[0][0] == "sport"


def test_strong_keyword_evidence_lifts_a_topic_the_model_does_not_know() -> None:
    classifier = TopicClassifier(toy_model(), TAXONOMY)
    body = (
        "The vaccine campaign reached every hospital. A new vaccine slowed the outbreak. "
        "Doctors said the vaccine and the outbreak response kept hospital beds free. The profit was small."
    )
    topics = classify(classifier, "Vaccine drive slows outbreak", body)
    keys = [key for key, _ in topics]
    assert keys[0] == "health"
    assert keys[1] == "health/public-health"


def test_subtopics_follow_and_never_outrank_their_parent() -> None:
    classifier = TopicClassifier(toy_model(), TAXONOMY)
    topics = classify(classifier, "Tennis match", "The tennis match went to a racket maker's court. Tennis fans came.")
    scores = dict(topics)
    assert topics[0][0] == "sport"
    assert topics[1][0] == "sport/tennis"
    assert scores["sport/tennis"] <= scores["sport"]
    assert all(0.0 <= score <= 1.0 for score in scores.values())


def test_without_a_model_keywords_decide() -> None:
    topics = classify(TopicClassifier(None, TAXONOMY), "Quarterly profit", "Shares rose after the profit report.")
    assert topics[0][0] == "business"


def test_nothing_to_read_gives_no_topics() -> None:
    assert classify(TopicClassifier(toy_model(), TAXONOMY), "", "") == []


def test_shipped_taxonomy_and_model_agree(resources) -> None:
    taxonomy, model = resources.taxonomy, resources.topic_model
    keys = {root.key for root in taxonomy.roots}
    assert {"business", "politics", "technology", "sport", "entertainment", "science", "health", "world"} <= keys
    assert {"technology/artificial-intelligence", "technology/semiconductors", "politics/trade-policy"} <= {
        child.key for root in taxonomy.roots for child in root.children
    }
    assert set(model.classes) == {root.model_class for root in taxonomy.roots if root.model_class}
    assert DEFAULT_TOPIC_MODEL.stat().st_size < 2_000_000


def test_shipped_classifier_on_a_written_chip_story(resources, samples) -> None:
    classifier = TopicClassifier(resources.topic_model, resources.taxonomy)
    keys = [key for key, _ in classify(classifier, samples.chip_title, samples.chip_body)]
    assert keys[0] == "technology"
    assert "technology/semiconductors" in keys
