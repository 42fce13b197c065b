from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from services.enrich.sentiment import SentimentScorer, load_vader_lexicon
from services.enrich.text import Text, tokenize

SENTENCES = [
    "The team played a wonderful match and the fans loved it.",
    "The company reported a terrible loss and cut hundreds of jobs.",
    "The results were not good for the government.",
    "The plan is not bad at all.",
    "The launch was very successful.",
    "The launch was slightly successful.",
    "The food was great, but the service was awful.",
    "Officials said the bridge would reopen in March.",
    "The storm killed three people and destroyed homes.",
    "Investors cheered the strong profits!",
    "The TERRIBLE decision angered voters.",
    "It was the least helpful answer.",
]


@pytest.fixture(scope="module")
def scorer() -> SentimentScorer:
    return SentimentScorer(load_vader_lexicon())


def compound(scorer: SentimentScorer, sentence: str) -> float:
    tokens = tuple(tokenize(sentence))
    return scorer.sentence_compound(tokens, tuple(token.lower() for token in tokens), sentence)


@pytest.mark.parametrize("sentence", SENTENCES)
def test_follows_vader_on_news_like_sentences(scorer: SentimentScorer, sentence: str) -> None:
    reference = SentimentIntensityAnalyzer().polarity_scores(sentence)["compound"]
    assert compound(scorer, sentence) == pytest.approx(reference, abs=0.05)


def test_negation_flips_and_boosters_raise(scorer: SentimentScorer) -> None:
    assert compound(scorer, "The results were good.") > 0 > compound(scorer, "The results were not good.")
    assert compound(scorer, "The launch was very successful.") > compound(scorer, "The launch was successful.")
    assert compound(scorer, "The launch was slightly successful.") < compound(scorer, "The launch was successful.")


def test_article_label_follows_its_sentences(scorer: SentimentScorer) -> None:
    happy = Text("Win", "The team won a wonderful victory. Fans celebrated a great night. The coach was delighted.")
    grim = Text("Loss", "The crash killed six people. Rescuers found terrible damage. Families are grieving.")
    flat = Text("Notice", "The council meets on Tuesday. The agenda lists three items. The meeting starts at noon.")
    assert scorer.score(happy.prose).label == "positive"
    assert scorer.score(grim.prose).label == "negative"
    assert scorer.score(flat.prose).label == "neutral"


def test_no_sentences_is_neutral(scorer: SentimentScorer) -> None:
    result = scorer.score([])
    assert (result.label, result.score) == ("neutral", 0.0)


@given(
    st.lists(
        st.sampled_from(["good", "bad", "not", "very", "but", "GREAT", "awful", "the", "least", "no"]), max_size=40
    )
)
def test_compound_stays_within_bounds(words: list[str]) -> None:
    scorer = SentimentScorer({"good": 1.9, "bad": -2.5, "great": 3.1, "awful": -2.0, "no": -1.2})
    sentence = " ".join(words) + "!"
    value = scorer.sentence_compound(tuple(words), tuple(word.lower() for word in words), sentence)
    assert -1.0 <= value <= 1.0
