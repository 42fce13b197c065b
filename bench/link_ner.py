"""Mention F1 of the recogniser on CoNLL-2003 ``eng.testa`` (exact span and type, PER/ORG/LOC/MISC).

Two figures: the statistical recogniser alone (what ``ner/train.py`` trains),
and the stage's whole mention finder (recogniser + KB aliases reconciled, KB
types mapped back to CoNLL's: PRODUCT/EVENT -> MISC), run on each document's
tokens joined by spaces. The data is read from ``../shared/data`` at run time.

    .venv/bin/python bench/link_ner.py [--data ../shared/data]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from services.entity_link.linker import Linker
from services.entity_link.ner.train import Example, load_examples, predict_spans, score

RESULTS = Path(__file__).resolve().parent / "results"
GOAL_F1 = 0.88
_CONLL_TYPE = {"PER": "PER", "ORG": "ORG", "LOC": "LOC", "MISC": "MISC", "PRODUCT": "MISC", "EVENT": "MISC"}


def pipeline_spans(linker: Linker, example: Example) -> set[tuple[int, int, str]]:
    """The mention finder's spans over a document's tokens, mapped to token indices and CoNLL types."""
    words = example.doc.words
    starts, offset = {}, 0
    ends = {}
    for index, word in enumerate(words):
        starts[offset] = index
        ends[offset + len(word)] = index + 1
        offset += len(word) + 1
    found: set[tuple[int, int, str]] = set()
    for item in linker.link_mentions("", " ".join(words)):
        mention = item.mention
        if mention.start in starts and mention.end in ends:
            found.add((starts[mention.start], ends[mention.end], _CONLL_TYPE[mention.ner_type or item.type]))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    args = parser.parse_args()
    linker = Linker.from_files()
    tagger = linker.finder.tagger
    examples = load_examples(args.data / "conll2003" / "eng.testa", linker.kb)
    gold = [example.spans for example in examples]
    started = time.perf_counter()
    recogniser = score(predict_spans(tagger, examples), gold)
    recogniser_seconds = time.perf_counter() - started
    pipeline = score([pipeline_spans(linker, example) for example in examples], gold)
    result = {
        "data": "conll2003/eng.testa (216 documents, 5,942 entities)",
        "measure": "exact span + type, micro P/R/F1 (conlleval)",
        "goal_f1": GOAL_F1,
        "recogniser": recogniser,
        "recogniser_tokens_per_second": round(sum(len(e.doc.words) for e in examples) / recogniser_seconds),
        "mention_finder": pipeline,
    }
    text = json.dumps(result, indent=2)
    print(text)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "link_ner.json").write_text(text + "\n")


if __name__ == "__main__":
    main()
