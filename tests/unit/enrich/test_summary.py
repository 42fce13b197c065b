from __future__ import annotations

import pytest

from services.enrich.summary import MAX_TAKEAWAYS, MIN_TAKEAWAYS, SUMMARY_MAX_WORDS, Summarizer
from services.enrich.text import Text
from shared.background import BackgroundFrequencies


@pytest.fixture(scope="module")
def summarizer(resources) -> Summarizer:
    return Summarizer(resources.background)


def test_summary_is_the_lead_without_its_dateline(summarizer: Summarizer, samples) -> None:
    digest = summarizer.digest(Text(samples.chip_title, samples.chip_body).prose)
    assert digest.summary is not None
    assert digest.summary.startswith("Harbourline Semiconductor opened its first chip plant")
    assert "COLUMBUS" not in digest.summary
    assert len(digest.summary.split()) <= SUMMARY_MAX_WORDS


def test_takeaways_are_distinct_body_sentences_not_in_the_summary(summarizer: Summarizer, samples) -> None:
    text = Text(samples.chip_title, samples.chip_body)
    digest = summarizer.digest(text.prose)
    body_sentences = {sentence.text for sentence in text.prose}
    assert MIN_TAKEAWAYS <= len(digest.takeaways) <= MAX_TAKEAWAYS
    assert len(set(digest.takeaways)) == len(digest.takeaways)
    assert set(digest.takeaways) <= body_sentences
    assert digest.summary is not None
    assert not any(takeaway in digest.summary for takeaway in digest.takeaways)
    positions = [next(s.position for s in text.prose if s.text == t) for t in digest.takeaways]
    assert positions == sorted(positions)  # in reading order


def test_padding_never_reaches_the_digest(summarizer: Summarizer, samples) -> None:
    digest = summarizer.digest(Text(samples.chip_title, samples.padded_body).prose)
    assert digest.summary is not None
    everything = " ".join([digest.summary, *digest.takeaways])
    for padding in ("Subscribe", "Share", "sponsored", "min read", "More in Technology"):
        assert padding not in everything


def test_short_and_empty_bodies(summarizer: Summarizer) -> None:
    short = summarizer.digest(Text("Note", "The museum reopens on Friday after a two-year repair of its roof.").prose)
    assert short.summary == "The museum reopens on Friday after a two-year repair of its roof."
    assert short.takeaways == []
    assert summarizer.digest([]).summary is None


def test_an_overlong_only_sentence_is_trimmed(summarizer: Summarizer) -> None:
    sentence = "The report " + " ".join(f"covers item {i}," for i in range(40)) + " and ends here."
    digest = summarizer.digest(Text("Long", sentence).prose)
    assert digest.summary is not None
    assert len(digest.summary.split()) <= SUMMARY_MAX_WORDS + 1
    assert digest.summary.endswith("…")


def test_redundant_sentences_are_not_repeated(resources) -> None:
    body = (
        "The city opened a new bridge over the river on Monday. "
        "The city opened a new bridge over the river on Monday, officials said. "
        "Traffic on the old crossing fell by half within hours. "
        "Engineers spent four years building the steel arch. "
        "Local shops expect more customers from the east bank. "
        "The toll will be free for the first month."
    )
    digest = Summarizer(BackgroundFrequencies(documents=10, frequencies={})).digest(Text("Bridge", body).prose)
    chosen = [digest.summary or "", *digest.takeaways]
    assert sum("opened a new bridge" in sentence for sentence in chosen) == 1
