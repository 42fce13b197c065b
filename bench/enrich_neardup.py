"""Near-duplicate detection with the story signature: do retellings share an LSH band key, and unrelated stories not?

* Sample corpus and aggregator captures (padding included, as the pages
  were copied): retellings of one story (``story_cluster`` in
  corpus/sample/expected.json, ``stories`` in the captures' gold.json)
  should share a band key; every other pair of articles on the same topic
  should not. Reported per story with the exact 3-shingle Jaccard, which
  tells a retelling that reuses the wording (what a shingle signature can
  find) from an independent re-report in other words (what it cannot).
* Programmatic rewrites of BBC articles, made here at run time: an outlet's
  retelling is imitated by dropping sentences, swapping two neighbouring
  sentences, replacing common words with synonyms and adding a dateline and
  a credit line, at three strengths. Each rewrite should share a band key
  with its original.
* BBC same-category pairs (every pair of different articles in one class):
  how many share a band key. The corpus holds some real re-versions of one
  story (updates), so colliding pairs are split by their exact 3-shingle
  Jaccard: at least ``NEAR_DUPLICATE_JACCARD`` they are the same story told
  twice; below it they are false candidates, and the index's check with
  ``estimated_similarity`` should then reject them.

    .venv/bin/python bench/enrich_neardup.py [--data ../shared/data] [--rewrites 400]
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import re
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from enrich_corpus import RESULTS, SHARED_DATA, DevArticle, read_aggregator_captures, read_sample_corpus

from services.enrich.signature import shingles, signature_of
from services.enrich.text import Text, split_sentences
from services.enrich.training.datasets import LabelledText, read_bbc
from shared.messages import Signature
from shared.signature import BANDS, NEAR_DUPLICATE_JACCARD, NUM_PERM, ROWS, estimated_similarity, shares_band

# Words an outlet rewording a wire story commonly swaps (written for this benchmark).
SYNONYMS = {
    "said": "stated", "says": "states", "company": "firm", "firm": "company", "rise": "increase",
    "rose": "climbed", "fell": "dropped", "big": "large", "large": "big", "government": "administration",
    "people": "individuals", "new": "fresh", "help": "assist", "show": "indicate", "shows": "indicates",
    "also": "additionally", "but": "however", "buy": "purchase", "start": "begin", "started": "began",
    "end": "finish", "after": "following", "before": "ahead of", "about": "around", "many": "numerous",
    "use": "employ", "make": "create", "expected": "anticipated", "because": "since", "high": "elevated",
    "year": "twelve months", "told": "informed", "report": "study", "plans": "proposals", "cut": "reduce",
    "major": "key", "players": "athletes", "film": "movie", "market": "marketplace", "sales": "revenues",
    "chief": "head", "game": "match", "win": "victory", "won": "secured", "added": "continued",
    "however": "yet", "would": "will", "could": "might", "more": "additional", "than": "compared with",
    "number": "quantity", "announced": "unveiled", "important": "significant", "country": "nation",
}  # fmt: skip
DATELINES = ("LONDON — ", "NEW YORK (Newswire) - ", "PARIS, Nov 3 — ", "(Global Desk) - ")
CREDIT_LINES = (
    "This report first appeared in another outlet.",
    "The story was originally published by a partner news service.",
)
# (share of sentences dropped, share of listed words replaced, neighbouring sentence pairs swapped)
STRENGTHS = {"light": (0.1, 0.3, 1), "medium": (0.2, 0.6, 2), "heavy": (0.3, 1.0, 3)}
_WORD = re.compile(r"\w+|\W+")


def rewrite(article: LabelledText, strength: str, rng: random.Random) -> str:
    drop, swap, reorders = STRENGTHS[strength]
    sentences = [s for line in article.body.split("\n") if line.strip() for s in split_sentences(line.strip())]
    kept = [s for s in sentences if rng.random() >= drop] or sentences[:1]
    for _ in range(reorders):
        if len(kept) > 3:
            i = rng.randrange(1, len(kept) - 1)
            kept[i], kept[i + 1] = kept[i + 1], kept[i]
    reworded = [
        "".join(
            SYNONYMS[piece.lower()] if piece.lower() in SYNONYMS and rng.random() < swap else piece
            for piece in _WORD.findall(sentence)
        )
        for sentence in kept
    ]
    paragraphs = [" ".join(reworded[i : i + 2]) for i in range(0, len(reworded), 2)]
    return rng.choice(DATELINES) + "\n\n".join(paragraphs) + "\n\n" + rng.choice(CREDIT_LINES)


def signature(title: str, body: str) -> Signature | None:
    return signature_of(Text(title, body).content_tokens)


def jaccard(a: set[bytes], b: set[bytes]) -> float:
    return len(a & b) / len(a | b) if a or b else 0.0


def pair_report(pairs: Sequence[tuple[Signature | None, Signature | None]]) -> dict[str, Any]:
    shared = [bool(a and b and shares_band(a.band_keys, b.band_keys)) for a, b in pairs]
    similarities = [estimated_similarity(a.values, b.values) if a and b else 0.0 for a, b in pairs]
    return {
        "pairs": len(pairs),
        "share_a_band": sum(shared),
        "rate": round(sum(shared) / len(pairs), 4) if pairs else None,
        "estimated_similarity_min": round(min(similarities), 3) if similarities else None,
        "estimated_similarity_median": round(statistics.median(similarities), 3) if similarities else None,
        "estimated_similarity_max": round(max(similarities), 3) if similarities else None,
    }


def development_corpus(articles: Sequence[DevArticle]) -> dict[str, Any]:
    texts = {article.name: Text(article.title, article.body) for article in articles}
    signatures = {name: signature_of(text.content_tokens) for name, text in texts.items()}
    shingle_sets = {name: shingles(text.content_tokens) for name, text in texts.items()}
    stories: dict[str, list[tuple[Signature | None, Signature | None]]] = {}
    exact: dict[str, list[float]] = {}
    same_topic_other_story = []
    for a, b in itertools.combinations(articles, 2):
        pair = (signatures[a.name], signatures[b.name])
        if a.story and a.story == b.story:
            stories.setdefault(a.story, []).append(pair)
            exact.setdefault(a.story, []).append(jaccard(shingle_sets[a.name], shingle_sets[b.name]))
        elif a.topic == b.topic:
            same_topic_other_story.append(pair)
    return {
        "articles": len(articles),
        "retellings_of_one_story": {
            story: {
                **pair_report(pairs),
                "exact_jaccard_min": round(min(exact[story]), 3),
                "exact_jaccard_max": round(max(exact[story]), 3),
            }
            for story, pairs in stories.items()
        },
        "same_topic_different_story": pair_report(same_topic_other_story),
    }


def bbc_rewrites(articles: Sequence[LabelledText], count: int, rng: random.Random) -> dict[str, Any]:
    chosen = rng.sample(list(articles), min(count, len(articles)))
    report = {}
    for strength in STRENGTHS:
        pairs, exact = [], []
        for article in chosen:
            retold = rewrite(article, strength, rng)
            pairs.append((signature(article.title, article.body), signature(article.title, retold)))
            exact.append(
                jaccard(
                    shingles(Text(article.title, article.body).content_tokens),
                    shingles(Text("", retold).content_tokens),
                )
            )
        report[strength] = {
            **pair_report(pairs),
            "exact_jaccard_median": round(statistics.median(exact), 3),
            "exact_jaccard_p05": round(sorted(exact)[len(exact) // 20], 3),
        }
    return report


def bbc_same_category(articles: Sequence[LabelledText]) -> dict[str, Any]:
    texts = [Text(article.title, article.body) for article in articles]
    signatures = [signature_of(text.content_tokens) for text in texts]
    shingle_sets = [shingles(text.content_tokens) for text in texts]
    buckets: dict[str, list[int]] = {}
    for i, sig in enumerate(signatures):
        for key in sig.band_keys if sig else []:
            buckets.setdefault(key, []).append(i)
    colliding = {
        (a, b)
        for members in buckets.values()
        for a, b in itertools.combinations(members, 2)
        if articles[a].label == articles[b].label
    }
    same_story = false_candidates = rejected_by_check = 0
    for a, b in colliding:
        if jaccard(shingle_sets[a], shingle_sets[b]) >= NEAR_DUPLICATE_JACCARD:
            same_story += 1
            continue
        false_candidates += 1
        sig_a, sig_b = signatures[a], signatures[b]
        assert sig_a and sig_b
        rejected_by_check += estimated_similarity(sig_a.minhash, sig_b.minhash) < NEAR_DUPLICATE_JACCARD
    by_label: dict[str, int] = {}
    for article in articles:
        by_label[article.label] = by_label.get(article.label, 0) + 1
    pairs = sum(n * (n - 1) // 2 for n in by_label.values())
    return {
        "same_category_pairs": pairs,
        "share_a_band": len(colliding),
        "of_which_same_story_versions": same_story,
        "of_which_false_candidates": false_candidates,
        "false_candidate_rate": round(false_candidates / pairs, 6),
        "false_candidates_rejected_by_estimated_similarity": rejected_by_check,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=SHARED_DATA)
    parser.add_argument("--rewrites", type=int, default=400, help="BBC articles to rewrite at each strength")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    bbc = read_bbc(args.data / "bbc-news")
    result = {
        "parameters": {
            "num_perm": NUM_PERM,
            "bands": BANDS,
            "rows": ROWS,
            "near_duplicate_jaccard": NEAR_DUPLICATE_JACCARD,
        },
        "development_corpus": development_corpus([*read_sample_corpus(), *read_aggregator_captures(args.data)]),
        "bbc_rewrites": bbc_rewrites(bbc, args.rewrites, random.Random(args.seed)),
        "bbc_same_category": bbc_same_category(bbc),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "enrich_neardup.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
