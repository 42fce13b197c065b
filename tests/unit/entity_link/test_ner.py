import itertools
from pathlib import Path

import numpy as np

from services.entity_link.ner.conll import iob1_spans, read_documents
from services.entity_link.ner.features import Featurizer, TokenDoc, candidate_mask, segments, sentence_ids
from services.entity_link.ner.tagger import TAGS, Tagger, viterbi
from services.entity_link.ner.train import Example, score, train


def test_iob1_starts_a_new_entity_only_on_a_type_change_or_b() -> None:
    tags = ["I-PER", "I-PER", "B-PER", "O", "I-LOC", "I-ORG", "I-ORG"]
    assert iob1_spans(tags) == [(0, 2, "PER"), (2, 3, "PER"), (4, 5, "LOC"), (5, 7, "ORG")]


def test_conll_reader_splits_documents_and_sentences(tmp_path: Path) -> None:
    path = tmp_path / "sample.conll"
    path.write_text(
        "-DOCSTART- -X- O O\n\nAnna NNP I-NP I-PER\nvisits VBZ I-VP O\nOslo NNP I-NP I-LOC\n\n"
        "-DOCSTART- -X- O O\n\nAcme NNP I-NP I-ORG\n"
    )
    documents = list(read_documents(path))
    assert [[s.words for s in d.sentences] for d in documents] == [[["Anna", "visits", "Oslo"]], [["Acme"]]]
    assert documents[0].sentences[0].spans == [(0, 1, "PER"), (2, 3, "LOC")]


def test_candidates_are_capitalised_runs_with_the_small_words_inside_names() -> None:
    words = ["the", "Bank", "of", "England", "said", "on", "Windows", "95", "of", "course"]
    featurizer = Featurizer(8, {})
    doc = TokenDoc.from_sentences([words])
    mask = featurizer.candidates(doc, featurizer.word_table(words))
    assert mask.tolist() == [False, True, True, True, False, False, True, True, False, False]
    assert segments(mask, doc.sentence) == [(1, 4), (6, 8)]
    lone = candidate_mask(["A", "of", "b"], np.array([True, False, False]), np.array([False, True, False]))
    assert lone.tolist() == [True, False, False]  # "of" joins only two capitalised words


def test_sentences_break_after_full_stops_and_line_breaks() -> None:
    words = ["One", ".", "Two", "three", "Four"]
    assert sentence_ids(words, np.array([True, False, False, False, True])).tolist() == [0, 0, 1, 1, 2]


def test_viterbi_never_opens_a_segment_with_an_inside_tag() -> None:
    emissions = np.zeros((2, len(TAGS)), dtype=np.float32)
    emissions[:, TAGS.index("I-ORG")] = 5.0  # the emissions alone would say I-ORG, I-ORG
    tagger = Tagger.empty(Featurizer(8, {}))
    transitions, opening = tagger.constrained()
    tags = [TAGS[t] for t in viterbi(emissions, np.array([2]), transitions, opening)]
    assert tags == ["B-ORG", "I-ORG"]


def _best_path_by_brute_force(emissions: np.ndarray, transitions: np.ndarray, opening: np.ndarray) -> list[int]:
    paths = itertools.product(range(len(TAGS)), repeat=len(emissions))

    def total(path: tuple[int, ...]) -> float:
        steps = sum(float(transitions[a, b]) for a, b in itertools.pairwise(path))
        return float(opening[path[0]]) + steps + sum(float(emissions[i, t]) for i, t in enumerate(path))

    return list(max(paths, key=total))


def test_viterbi_decodes_segments_of_different_lengths_together_as_if_one_by_one() -> None:
    rng = np.random.default_rng(7)
    lengths = np.array([3, 1, 2, 1, 3])
    emissions = rng.normal(size=(int(lengths.sum()), len(TAGS))).astype(np.float32)
    tagger = Tagger.empty(Featurizer(8, {}))
    tagger.transitions = rng.normal(size=tagger.transitions.shape).astype(np.float32)
    tagger.opening = rng.normal(size=tagger.opening.shape).astype(np.float32)
    transitions, opening = tagger.constrained()
    expected: list[int] = []
    for start, length in zip(np.cumsum([0, *lengths[:-1]]), lengths, strict=True):
        expected += _best_path_by_brute_force(emissions[start : start + length], transitions, opening)
    assert viterbi(emissions, lengths, transitions, opening).tolist() == expected


def _example(words: list[str], spans: list[tuple[int, int, str]]) -> Example:
    gold = np.zeros(len(words), dtype=np.int64)
    for start, end, kind in spans:
        gold[start] = TAGS.index(f"B-{kind}")
        gold[start + 1 : end] = TAGS.index(f"I-{kind}")
    return Example(TokenDoc.from_sentences([words]), gold, set(spans))


def test_the_perceptron_learns_names_from_a_few_sentences_and_survives_a_save(tmp_path: Path) -> None:
    people = ["Anna Berg", "Tom Hale", "Rita Moss", "Ivan Holt"]
    places = ["Oslo", "Lima", "Quito", "Hanoi"]
    examples = []
    for person in people:
        for place in places:
            first, last = person.split()
            examples.append(
                _example(["Yesterday", first, last, "flew", "to", place, "."], [(1, 3, "PER"), (5, 6, "LOC")])
            )
    tagger = train(examples, Featurizer(16, {}), epochs=5)
    unseen = _example(["Yesterday", "Anna", "Moss", "flew", "to", "Lima", "."], [(1, 3, "PER"), (5, 6, "LOC")])
    found = {(s.start, s.end, s.type) for s in tagger.spans(unseen.doc)}
    assert found == unseen.spans
    assert score([found], [unseen.spans])["f1"] == 1.0
    tagger.save(tmp_path / "ner.npz")
    reloaded = Tagger.load(tmp_path / "ner.npz", {})
    assert {(s.start, s.end, s.type) for s in reloaded.spans(unseen.doc)} == found


def test_score_counts_exact_span_and_type() -> None:
    result = score([{(0, 2, "PER"), (3, 4, "LOC")}], [{(0, 2, "PER"), (3, 4, "ORG")}])
    assert (result["precision"], result["recall"], result["PER_f1"], result["LOC_precision"]) == (0.5, 0.5, 1.0, 0.0)


def test_a_sentence_break_splits_a_run_of_candidates() -> None:
    mask = np.array([True, True, True, True, False, True])
    assert segments(mask, np.array([0, 0, 1, 1, 1, 1])) == [(0, 2), (2, 4), (5, 6)]
