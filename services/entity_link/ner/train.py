"""Train the recogniser on CoNLL-2003 ``eng.train`` and score it on ``eng.testa``.

    python -m services.entity_link.ner.train --data ../shared/data

The training text is read at run time from the team's data folder and never
copied into the repository; only the weights (``data/ner.npz``) are.
Training is an averaged structured perceptron: decode a document, and where
the decoded tags differ from the gold ones, move the weights of the gold
tags' features up and of the decoded tags' features down. The average of the
weights over all steps generalises far better than the last ones.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from services.entity_link.kb.index import KnowledgeBase
from services.entity_link.linker import load_knowledge_base
from services.entity_link.ner.conll import Document, read_documents
from services.entity_link.ner.features import Featurizer, TokenDoc, kb_match_values
from services.entity_link.ner.tagger import TAGS, TYPES, Tagger, word_hashes
from services.entity_link.settings import DEFAULT_KB, DEFAULT_NER_MODEL

DEFAULT_BITS = 20
# A word is common (an ordinary word, whatever its capital at a sentence start) if the training text writes it
# in lower case at least this often, and at least twice as often as capitalised inside a sentence.
COMMON_MIN_LOWER = 3


@dataclass
class Example:
    doc: TokenDoc
    gold: np.ndarray  # gold tag index per token
    spans: set[tuple[int, int, str]]  # gold (start, end, type) over the document's tokens


def kb_matches(kb: KnowledgeBase, text: str) -> list[tuple[int, int, int]]:
    return [(match.start, match.end, kb.type_bits(key)) for match, key in kb.find_aliases(text)]


def to_example(document: Document, kb: KnowledgeBase) -> Example:
    words = [word for sentence in document.sentences for word in sentence.words]
    # The text the KB is matched over: the tokens joined by spaces, as the AIDA files write them.
    token_spans: list[tuple[int, int]] = []
    offset = 0
    for word in words:
        token_spans.append((offset, offset + len(word)))
        offset += len(word) + 1
    kb_match = kb_match_values(token_spans, kb_matches(kb, " ".join(words)))
    doc = TokenDoc.from_sentences([s.words for s in document.sentences], kb_match)
    gold = np.zeros(len(words), dtype=np.int64)
    spans: set[tuple[int, int, str]] = set()
    base = 0
    for sentence in document.sentences:
        for start, end, kind in sentence.spans:
            gold[base + start] = TAGS.index(f"B-{kind}")
            gold[base + start + 1 : base + end] = TAGS.index(f"I-{kind}")
            spans.add((base + start, base + end, kind))
        base += len(sentence.words)
    return Example(doc, gold, spans)


def load_examples(path: Path, kb: KnowledgeBase) -> list[Example]:
    return [to_example(document, kb) for document in read_documents(path)]


def common_words(documents: Iterable[Document]) -> np.ndarray:
    """``word_hashes`` of the words the documents write mostly in lower case ("cool", "reform", not "march")."""
    lower: Counter[str] = Counter()
    capitalised: Counter[str] = Counter()  # inside a sentence, where a capital means something
    for document in documents:
        for sentence in document.sentences:
            lower.update(word for word in sentence.words if word.islower())
            capitalised.update(word.lower() for word in sentence.words[1:] if word.istitle())
    return word_hashes(word for word, n in lower.items() if n >= COMMON_MIN_LOWER and n >= 2 * capitalised[word])


def _update_sequences(
    transitions: np.ndarray, opening: np.ndarray, tags: np.ndarray, runs: list[tuple[int, int]], sign: float
) -> None:
    offset = 0
    for a, b in runs:
        run = tags[offset : offset + b - a]
        opening[run[0]] += sign
        np.add.at(transitions, (run[:-1], run[1:]), sign)
        offset += b - a


def train(examples: list[Example], featurizer: Featurizer, epochs: int, seed: int = 13) -> Tagger:
    tagger = Tagger.empty(featurizer)
    # Running sums for the average: sum over steps c of (weights at step c) = c*W - U.
    weight_updates = np.zeros_like(tagger.weights, dtype=np.float64)
    transition_updates = np.zeros_like(tagger.transitions, dtype=np.float64)
    opening_updates = np.zeros_like(tagger.opening, dtype=np.float64)
    step = 1
    order = list(range(len(examples)))
    rng = random.Random(seed)
    for epoch in range(epochs):
        rng.shuffle(order)
        mistakes = 0
        for index in order:
            example = examples[index]
            decoded = tagger.decode(example.doc)
            gold = example.gold[decoded.positions]
            wrong = decoded.tags != gold
            if wrong.any():
                mistakes += int(wrong.sum())
                rows = decoded.rows[wrong]
                width = rows.shape[1]
                flat = rows.ravel()
                for tags, sign in ((gold[wrong], 1.0), (decoded.tags[wrong], -1.0)):
                    columns = np.repeat(tags, width)
                    np.add.at(tagger.weights, (flat, columns), sign)
                    np.add.at(weight_updates, (flat, columns), sign * step)
                transition_delta = np.zeros_like(tagger.transitions)
                opening_delta = np.zeros_like(tagger.opening)
                for tags, sign in ((gold, 1.0), (decoded.tags, -1.0)):
                    _update_sequences(transition_delta, opening_delta, tags, decoded.runs, sign)
                tagger.transitions += transition_delta
                tagger.opening += opening_delta
                transition_updates += transition_delta * step
                opening_updates += opening_delta * step
            step += 1
        print(json.dumps({"epoch": epoch + 1, "token_mistakes": mistakes}), flush=True)
    tagger.weights = (tagger.weights - weight_updates / step).astype(np.float32)
    tagger.transitions = (tagger.transitions - transition_updates / step).astype(np.float32)
    tagger.opening = (tagger.opening - opening_updates / step).astype(np.float32)
    return tagger


def score(
    predicted: Iterable[set[tuple[int, int, str]]], gold: Iterable[set[tuple[int, int, str]]]
) -> dict[str, float]:
    """Exact span-and-type micro precision, recall and F1, overall and per type (conlleval's measure)."""
    counts = {kind: [0, 0, 0] for kind in ("ALL", *TYPES)}  # true positives, predicted, gold
    for predicted_spans, gold_spans in zip(predicted, gold, strict=True):
        for kind in counts:
            p = {s for s in predicted_spans if kind in ("ALL", s[2])}
            g = {s for s in gold_spans if kind in ("ALL", s[2])}
            counts[kind][0] += len(p & g)
            counts[kind][1] += len(p)
            counts[kind][2] += len(g)
    result: dict[str, float] = {}
    for kind, (tp, n_pred, n_gold) in counts.items():
        precision = tp / n_pred if n_pred else 0.0
        recall = tp / n_gold if n_gold else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        prefix = "" if kind == "ALL" else f"{kind}_"
        result.update({f"{prefix}precision": precision, f"{prefix}recall": recall, f"{prefix}f1": f1})
    return {k: round(v, 4) for k, v in result.items()}


def predict_spans(tagger: Tagger, examples: list[Example]) -> list[set[tuple[int, int, str]]]:
    return [{(s.start, s.end, s.type) for s in tagger.spans(example.doc)} for example in examples]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path("../shared/data"), help="the team's data folder")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--bits", type=int, default=DEFAULT_BITS, help="log2 of the number of hashed feature rows")
    parser.add_argument("--out", type=Path, default=DEFAULT_NER_MODEL)
    parser.add_argument(
        "--kb",
        type=Path,
        default=DEFAULT_KB,
        help="the KB artifact the recogniser's name features come from: the one the service will load",
    )
    parser.add_argument(
        "--common-words-only",
        action="store_true",
        help="keep the model's weights and only recompute its common words (seconds, not minutes)",
    )
    args = parser.parse_args()

    kb = load_knowledge_base(args.kb)
    common = common_words(read_documents(args.data / "conll2003" / "eng.train"))
    if args.common_words_only:
        tagger = Tagger.load(args.out, kb.token_types)
        tagger.common_words = common
        tagger.save(args.out)
        print(json.dumps({"model": str(args.out), "common_words": len(common)}))
        return
    started = time.perf_counter()
    train_examples = load_examples(args.data / "conll2003" / "eng.train", kb)
    dev_examples = load_examples(args.data / "conll2003" / "eng.testa", kb)
    featurizer = Featurizer(args.bits, kb.token_types)
    tagger = train(train_examples, featurizer, args.epochs)
    tagger.common_words = common
    tagger.save(args.out)
    dev = score(predict_spans(tagger, dev_examples), [e.spans for e in dev_examples])
    print(
        json.dumps(
            {
                "model": str(args.out),
                "bytes": args.out.stat().st_size,
                "train_seconds": round(time.perf_counter() - started, 1),
                "epochs": args.epochs,
                "bits": args.bits,
                "eng.testa": dev,
            }
        )
    )


if __name__ == "__main__":
    main()
