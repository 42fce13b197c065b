from hypothesis import given
from hypothesis import strategies as st

from services.entity_link.text import fold, handle_for, local_id, normalise_alias, shape, slugify, tokenize


def test_fold_removes_case_accents_and_punctuation_without_moving_offsets() -> None:
    text = "Alibába's “Qwen-3-Max” İstanbul"
    folded = fold(text)
    assert len(folded) == len(text)
    assert folded.split() == ["alibaba", "s", "qwen", "3", "max", "istanbul"]


@given(st.text())
def test_fold_always_keeps_the_length(text: str) -> None:
    assert len(fold(text)) == len(text)


def test_alias_keys_meet_the_spellings_of_one_name() -> None:
    assert normalise_alias("Alibaba Group Holding Ltd.") == normalise_alias("ALIBABA  group holding, ltd")
    assert normalise_alias("Qwen-3-Max") == "qwen 3 max"


def test_handles_and_local_ids_are_stable_and_plain() -> None:
    assert handle_for("Alibaba Group Holding Ltd.") == "alibabagroup"
    assert handle_for("DeepSeek") == "deepseek"
    assert handle_for("Washington, D.C.") == "washington"
    assert local_id("ORG", "Donghai Securities") == "nf:org:donghai-securities"
    assert slugify("Société Générale!") == "societe-generale"


def test_tokens_follow_conll_conventions() -> None:
    text = "The U.S. all-rounder O'Neill said V. Drakes joined Apple's team in 1,000.5 seconds."
    words = [text[a:b] for a, b in tokenize(text)]
    assert words == [
        "The", "U.S.", "all-rounder", "O'Neill", "said", "V.", "Drakes", "joined", "Apple", "'s", "team", "in",
        "1,000.5", "seconds", ".",
    ]  # fmt: skip


def test_shape_collapses_runs() -> None:
    assert [shape(w) for w in ("Alibaba", "NASA", "V4", "iPhone")] == ["Xx", "X", "Xd", "xXx"]
