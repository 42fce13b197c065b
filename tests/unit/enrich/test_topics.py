from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from services.enrich.text import Text
from services.enrich.topics import (
    DEFAULT_TOPIC_MODEL,
    FeatureSpace,
    KeywordMatcher,
    LinearTopicModel,
    Taxonomy,
    TopicClassifier,
    word_features,
)
from tests.support import SAMPLE

TAXONOMY = Taxonomy.from_mapping(
    {
        "sport": {
            "iptc": "medtop:15000000",
            "keywords": ["match"],
            "children": {"tennis": {"keywords": ["tennis"]}},
        },
        "business": {"keywords": ["profit", "shares"]},
        "health": {
            "keywords": {"en": ["vaccine", "WHO", "hospital"], "es": ["vacuna", "hospital"]},
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


def classify(classifier: TopicClassifier, title: str, body: str, language: str = "en") -> list[tuple[str, float]]:
    text = Text(title, body)
    topics = classifier.classify(
        text.title_surface, text.title_tokens, text.content_surface, text.content_tokens, language
    )
    return [(topic.key, topic.score) for topic in topics]


def test_word_features_are_the_word_and_its_accent_folded_character_ngrams() -> None:
    features = word_features("été")
    assert features[0] == "été"
    assert {"#<et", "#ete", "#te>", "#<ete>"} <= set(features)
    # Cognates share n-grams across languages: the point of using them.
    assert {"#<eco", "#onom"} <= set(word_features("économie")) & set(word_features("economy"))


def test_feature_vectors_are_l2_normalised_sublinear_tf_idf_over_words_and_ngrams() -> None:
    space = FeatureSpace(["a", "b", "#<a>"], np.array([1.0, 2.0, 1.0]))
    columns, values = space.vector(["a", "b", "a", "a", "zzz"])
    assert sorted(columns.tolist()) == [0, 1, 2]
    assert np.linalg.norm(values) == pytest.approx(1.0)
    by_column = dict(zip(columns.tolist(), values.tolist(), strict=True))
    assert by_column[0] / by_column[1] == pytest.approx((1 + np.log(3)) / 2.0)
    assert by_column[2] == pytest.approx(by_column[0])  # "#<a>" occurs wherever "a" does
    assert space.vector([])[0].size == 0


def test_model_round_trips_through_npz(tmp_path: Path) -> None:
    model = replace(toy_model(), threshold=0.3, primary_threshold=0.1)
    model.save(tmp_path / "model.npz")
    loaded = LinearTopicModel.load(tmp_path / "model.npz")
    assert loaded.classes == model.classes and loaded.vocabulary == model.vocabulary
    assert (loaded.threshold, loaded.primary_threshold, loaded.languages) == (0.3, 0.1, model.languages)
    assert loaded.probabilities(["racket"]) == pytest.approx(model.probabilities(["racket"]), abs=1e-6)


def test_keyword_case_rules_and_parent_counting() -> None:
    matcher = KeywordMatcher(TAXONOMY.roots)
    tokens = ["WHO", "said", "who", "got", "the", "vaccine", "at", "hospital"]
    hits = matcher.count(tokens, [token.lower() for token in tokens])
    # "WHO" matches once (not "who"); "vaccine" is listed by health and its child but counts once for health.
    assert hits["health"] == 3
    assert hits["health/public-health"] == 1


def test_keywords_are_chosen_by_language() -> None:
    english = KeywordMatcher(TAXONOMY.roots, "en")
    spanish = KeywordMatcher(TAXONOMY.roots, "es")
    assert english.count(["vacuna"], ["vacuna"])["health"] == 0
    assert spanish.count(["vacuna", "match"], ["vacuna", "match"]) == {"health": 1, "sport": 1}
    assert TAXONOMY.languages == {"en", "es"}


def test_topics_below_the_threshold_are_not_listed() -> None:
    body = "The racket was new. The racket broke in the final set today."
    assert classify(TopicClassifier(toy_model(), TAXONOMY, threshold=0.2), "Results", body)
    assert classify(TopicClassifier(toy_model(), TAXONOMY, threshold=0.999), "Results", body) == []


def test_the_best_topic_needs_only_the_primary_threshold() -> None:
    body = "The racket was new and the racket broke, but the profit of the club rose."  # sport 0.79
    unsure = replace(toy_model(), threshold=0.95, primary_threshold=0.3)
    assert [key for key, _ in classify(TopicClassifier(unsure, TAXONOMY), "Results", body)] == ["sport"]
    assert classify(TopicClassifier(replace(unsure, primary_threshold=None), TAXONOMY), "Results", body) == []


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
    classifier = TopicClassifier(None, TAXONOMY)
    topics = classify(classifier, "Quarterly profit", "Shares rose after the profit report.")
    assert topics[0][0] == "business"


def test_nothing_to_read_gives_no_topics() -> None:
    assert classify(TopicClassifier(toy_model(), TAXONOMY), "", "") == []


IPTC_TOP_LEVEL = {
    "entertainment": "medtop:01000000",
    "crime": "medtop:02000000",
    "disaster": "medtop:03000000",
    "business": "medtop:04000000",
    "education": "medtop:05000000",
    "environment": "medtop:06000000",
    "health": "medtop:07000000",
    "human-interest": "medtop:08000000",
    "labour": "medtop:09000000",
    "lifestyle": "medtop:10000000",
    "politics": "medtop:11000000",
    "religion": "medtop:12000000",
    "technology": "medtop:13000000",
    "society": "medtop:14000000",
    "sport": "medtop:15000000",
    "conflict": "medtop:16000000",
    "weather": "medtop:17000000",
}


def test_shipped_taxonomy_is_the_iptc_top_level_and_the_model_knows_its_keys(resources) -> None:
    taxonomy, model = resources.taxonomy, resources.topic_model
    assert {root.key: root.iptc for root in taxonomy.roots} == IPTC_TOP_LEVEL
    assert {"technology/artificial-intelligence", "technology/semiconductors", "politics/trade-policy"} <= {
        child.key for root in taxonomy.roots for child in root.children
    }
    assert set(model.classes) <= {root.key for root in taxonomy.roots}
    assert {"en", "fr", "de", "es"} <= TopicClassifier(model, taxonomy).languages
    assert 0.0 < model.threshold < 1.0
    assert DEFAULT_TOPIC_MODEL.stat().st_size < 5_000_000


def test_shipped_classifier_on_a_written_chip_story(resources, samples) -> None:
    classifier = TopicClassifier(resources.topic_model, resources.taxonomy)
    keys = [key for key, _ in classify(classifier, samples.chip_title, samples.chip_body)]
    assert keys[0] == "technology"
    assert "technology/semiconductors" in keys


@pytest.mark.parametrize(
    ("language", "title", "body", "expected"),
    [
        (
            "fr",
            "Le club remporte la coupe",
            "L'équipe a gagné la finale du championnat dimanche. L'entraîneur a félicité ses joueurs "
            "après le match, et les supporters ont fêté la victoire dans le stade.",
            "sport",
        ),
        (
            "de",
            "Krankenhäuser starten Impfkampagne",
            "Die Ärzte in den Krankenhäusern der Region impfen seit Montag gegen die Grippe. Die Patienten "
            "sollen sich früh melden, sagte die Gesundheitsbehörde, weil die Krankheit sich schnell ausbreitet.",
            "health",
        ),
        (
            "es",
            "El banco central sube los tipos de interés",
            "La inflación sigue alta y el banco central ha subido los tipos. Los inversores esperan que la "
            "economía crezca menos este año, y la bolsa cayó tras el anuncio sobre los mercados.",
            "business",
        ),
    ],
)
def test_shipped_classifier_reads_french_german_and_spanish(
    resources, language: str, title: str, body: str, expected: str
) -> None:
    classifier = TopicClassifier(resources.topic_model, resources.taxonomy)
    assert classify(classifier, title, body, language)[0][0] == expected


def test_the_sample_corpus_is_labelled_with_the_taxonomys_top_level_keys(resources) -> None:
    expected = json.loads((SAMPLE / "expected.json").read_text())
    keys = {root.key for root in resources.taxonomy.roots}
    labels = Counter(article["topic"] for article in expected["articles"])
    assert set(labels) <= keys and set(expected["topics"]) == set(labels)
    assert expected["counts_by_topic"] == dict(labels)
