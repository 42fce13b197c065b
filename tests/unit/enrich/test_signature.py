from __future__ import annotations

import pytest

from services.enrich.signature import MAX_SHINGLES, shingles, signature_of
from services.enrich.text import Text
from shared.signature import BANDS, NUM_PERM, estimated_similarity, shares_band

OTHER_CHIP_STORY = "\n\n".join(
    (
        "Northgate Memory said on Thursday it would cut prices for its flash storage chips by a tenth, the "
        "second cut this year, as phone makers order fewer parts.",
        "The company blamed weak demand in Europe and a build-up of unsold stock at its warehouses in "
        "Malaysia. Northgate expects sales to recover in the second half of next year.",
        "Analysts said rivals were likely to follow with their own price cuts before the holiday season. "
        "Northgate shares fell 4 per cent in Seoul.",
    )
)


def tokens(body: str) -> list[str]:
    return Text("", body).content_tokens


def reworded(body: str) -> str:
    """What another outlet might run: a sentence dropped, some words changed, a credit line added."""
    changed = body.replace("said", "stated").replace("about", "around").replace("rose", "climbed")
    changed = changed.replace("Harbourline shares climbed 3.2 per cent in New York trading after the opening.", "")
    return "NEW YORK (Newswire) - " + changed + "\n\nThis story was first published by Test Wire."


def test_same_text_same_signature(samples) -> None:
    first, second = signature_of(tokens(samples.chip_body)), signature_of(tokens(samples.chip_body))
    assert first == second
    assert first is not None
    assert len(first.values) == NUM_PERM and len(first.band_keys) == BANDS
    assert len(set(first.band_keys)) == BANDS  # each key carries its band number
    assert estimated_similarity(first.values, second.values) == 1.0


def test_a_rewrite_shares_a_band_and_scores_close_to_its_jaccard(samples) -> None:
    original, retold = tokens(samples.chip_body), tokens(reworded(samples.chip_body))
    a, b = signature_of(original), signature_of(retold)
    assert a and b
    assert shares_band(a.band_keys, b.band_keys)
    exact = len(shingles(original) & shingles(retold)) / len(shingles(original) | shingles(retold))
    assert estimated_similarity(a.values, b.values) == pytest.approx(exact, abs=0.12)


def test_another_story_on_the_same_topic_shares_no_band(samples) -> None:
    a, b = signature_of(tokens(samples.chip_body)), signature_of(tokens(OTHER_CHIP_STORY))
    assert a and b
    assert not shares_band(a.band_keys, b.band_keys)
    assert estimated_similarity(a.values, b.values) < 0.1


@pytest.mark.parametrize("body", ["", "Word", "Too short to sign at all."])
def test_too_little_text_has_no_signature(body: str) -> None:
    assert signature_of(tokens(body)) is None


def test_shingles_are_bounded() -> None:
    many = [f"w{i}" for i in range(MAX_SHINGLES * 2)]
    assert len(shingles(many)) == MAX_SHINGLES


def test_estimated_similarity_refuses_different_schemes() -> None:
    with pytest.raises(ValueError):
        estimated_similarity([1, 2, 3], [1, 2])
    assert estimated_similarity([], []) == 0.0
