"""End-to-end linking on the AIDA-CoNLL development set (216 documents, QIDs via ELEVANT).

Every document's text goes through the stage's linker (its own mentions, no
gold spans given); a prediction is a (span, QID) pair, local ids are not
links. Measures:

* ``overall``: micro P/R/F1 of (exact span, QID) against every gold mention
  with a QID (NIL gold mentions only make a prediction at their span wrong);
* ``in_kb``: the same restricted to gold mentions whose entity is in the KB,
  with precision over the predictions made at those spans: how well the
  linker finds and disambiguates what its KB can name;
* ``coverage``: the share of gold mentions whose entity the KB holds, and
  ``candidate_recall``: the share whose surface form leads to it at all.

Two configurations:

* ``bundled``: the KB exactly as shipped (lists + overlay); AIDA is not used.
* ``with_mention_counts_2fold``: the KB plus mention->entity counts from
  AIDA-dev itself, cross-validated by document halves: the counts come from
  one half (the first 108 documents or the last 108) and are scored on the
  other, never on the documents they came from.

    .venv/bin/python bench/link_aida.py [--data ../shared/data]
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from services.entity_link.kb.entity import KBEntity
from services.entity_link.kb.index import KnowledgeBase
from services.entity_link.linker import Linker, load_knowledge_base
from services.entity_link.ner.tagger import Tagger
from services.entity_link.settings import DEFAULT_NER_MODEL
from shared.messages import EntityType

RESULTS = Path(__file__).resolve().parent / "results"
GOAL_IN_KB_F1 = 0.90
# ELEVANT's coarse Wikidata types -> ours, for entities the counts add to the KB.
_GOLD_TYPES: dict[str, EntityType] = {"Q5": "PER", "Q43229": "ORG", "Q27096213": "LOC"}

Pair = tuple[int, int, str]


def read_documents(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def gold_pairs(document: dict[str, Any]) -> set[Pair]:
    return {
        (label["span"][0], label["span"][1], label["entity_id"])
        for label in document["labels"]
        if str(label["entity_id"]).startswith("Q")
    }


def gold_type(label: dict[str, Any]) -> EntityType:
    for part in str(label.get("type", "")).split("|"):
        if part in _GOLD_TYPES:
            return _GOLD_TYPES[part]
    return "MISC"


def add_mention_counts(kb: KnowledgeBase, documents: Iterable[dict[str, Any]]) -> int:
    """Teach the KB which entity each surface form named in these documents, and how often."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    labels: dict[str, dict[str, Any]] = {}
    for document in documents:
        for label in document["labels"]:
            qid = str(label["entity_id"])
            if qid.startswith("Q"):
                surface = document["text"][label["span"][0] : label["span"][1]]
                counts[surface][qid] += 1
                labels.setdefault(qid, label)
    added = 0
    for qid, label in labels.items():
        if kb.get(qid) is None:
            kb.add(KBEntity(id=qid, name=str(label.get("name") or qid), type=gold_type(label), prior=0.3))
            added += 1
    for surface, per_entity in counts.items():
        total = sum(per_entity.values())
        for qid, count in per_entity.items():
            kb.set_alias_weight(qid, surface, max(0.5, count / total))
    return added


def evaluate(linker: Linker, documents: list[dict[str, Any]]) -> dict[str, Any]:
    kb = linker.kb
    totals = Counter[str]()
    started = time.perf_counter()
    for document in documents:
        gold = gold_pairs(document)
        predicted = {
            (item.mention.start, item.mention.end, item.entity_id)
            for item in linker.link_mentions("", document["text"])
            if item.entity_id.startswith("Q")
        }
        gold_in_kb = {g for g in gold if kb.get(g[2]) is not None}
        kb_spans = {(s, e) for s, e, _ in gold_in_kb}
        at_kb_spans = {p for p in predicted if (p[0], p[1]) in kb_spans}
        text = document["text"]
        reachable = sum(
            1 for s, e, qid in gold_in_kb if any(c.entity.id == kb.resolve(qid) for c in kb.lookup(text[s:e]))
        )
        totals.update(
            {
                "gold": len(gold),
                "predicted": len(predicted),
                "correct": len({(s, e, kb.resolve(q)) for s, e, q in gold} & predicted),
                "gold_in_kb": len(gold_in_kb),
                "predicted_at_kb_spans": len(at_kb_spans),
                "correct_in_kb": len({(s, e, kb.resolve(q)) for s, e, q in gold_in_kb} & at_kb_spans),
                "candidate_reachable": reachable,
            }
        )
    seconds = time.perf_counter() - started
    return {
        "documents": len(documents),
        "overall": prf(totals["correct"], totals["predicted"], totals["gold"]),
        "in_kb": prf(totals["correct_in_kb"], totals["predicted_at_kb_spans"], totals["gold_in_kb"]),
        "coverage": round(totals["gold_in_kb"] / totals["gold"], 4),
        "candidate_recall": round(totals["candidate_reachable"] / totals["gold"], 4),
        "counts": dict(totals),
        "documents_per_second": round(len(documents) / seconds, 1),
    }


def prf(correct: int, predicted: int, gold: int) -> dict[str, float]:
    precision = correct / predicted if predicted else 0.0
    recall = correct / gold if gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4)}


def pooled(folds: list[dict[str, Any]]) -> dict[str, Any]:
    totals = Counter[str]()
    for fold in folds:
        totals.update(fold["counts"])
    return {
        "overall": prf(totals["correct"], totals["predicted"], totals["gold"]),
        "in_kb": prf(totals["correct_in_kb"], totals["predicted_at_kb_spans"], totals["gold_in_kb"]),
        "coverage": round(totals["gold_in_kb"] / totals["gold"], 4),
        "candidate_recall": round(totals["candidate_reachable"] / totals["gold"], 4),
        "counts": dict(totals),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    args = parser.parse_args()
    documents = read_documents(args.data / "entity-linking" / "aida-conll-dev.jsonl")

    bundled = evaluate(Linker.from_files(), documents)

    half = len(documents) // 2
    halves = [documents[:half], documents[half:]]
    folds = []
    for held_out in (0, 1):
        kb = load_knowledge_base()
        added = add_mention_counts(kb, halves[1 - held_out])
        linker = Linker(kb, Tagger.load(DEFAULT_NER_MODEL, kb.token_types))
        fold = evaluate(linker, halves[held_out])
        fold["entities_added_from_counts"] = added
        folds.append(fold)

    result = {
        "data": "entity-linking/aida-conll-dev.jsonl (216 documents, 4,789 gold mentions with a QID)",
        "measure": "micro P/R/F1 over (exact span, QID); NIL gold mentions excluded from recall",
        "goal_in_kb_f1": GOAL_IN_KB_F1,
        "bundled": bundled,
        "with_mention_counts_2fold": {
            "note": "counts from one half of AIDA-dev, scored on the other half, pooled over both folds",
            **pooled(folds),
            "folds": folds,
        },
    }
    text = json.dumps(result, indent=2)
    print(text)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "link_aida.json").write_text(text + "\n")


if __name__ == "__main__":
    main()
