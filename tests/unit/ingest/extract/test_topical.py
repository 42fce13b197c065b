from __future__ import annotations

from services.ingest.extract.topical import content_words, language_fit, overlap, words_of

ARTICLE = "The island council voted to rebuild the harbour wall after winter storms breached it twice."


def test_a_passage_on_the_article_topic_overlaps_and_another_story_does_not() -> None:
    context = content_words(ARTICLE)
    assert (overlap("Harbour wall to be rebuilt after storms", context) or 0.0) >= 0.5
    assert overlap("Pop singer announces farewell tour", context) == 0.0


def test_a_passage_of_common_words_only_has_no_overlap_to_give() -> None:
    assert overlap("They said that it would", content_words(ARTICLE)) is None


def test_language_fit_tells_the_translation_from_the_original() -> None:
    vocabulary = words_of(ARTICLE)
    assert language_fit("Council votes to rebuild the harbour wall", vocabulary) > language_fit(
        "Le conseil vote la reconstruction du mur", vocabulary
    )
