"""Entity linking as users get it: text through the whole pipeline, scored against gold.

Every document goes through the same code as ``newsflow process --stage all``
(ingest -> enrich -> entity_link, in process) as a JSON Lines record; the
article's ``entities`` (their body spans) are aligned back to the source text
and scored:

* ``aida``: AIDA-CoNLL dev (216 Reuters documents, QIDs via ELEVANT). A
  prediction is (exact span, QID) for every QID entity span in the body;
  local ids are not links, demonyms (``kind: demonym``) are not mentions of
  the country. ``overall`` is micro P/R/F1 against every gold mention with a
  QID (a QID at a NIL span or at no gold span at all is a false positive);
  ``in_kb`` restricts recall to gold mentions whose QID the KB holds, with
  precision over the predictions at those spans; ``coverage`` is the share of
  gold QIDs the KB holds.
* ``conll``: typed mention P/R/F1 on CoNLL-2003 ``eng.testa`` (the same 216
  documents' tokens and tags): exact span and type, every entity of the
  article (local ids included, demonyms as MISC, PRODUCT/EVENT as MISC);
  ``untyped`` is the span alone.
* ``hard``: ``bench/data/link_hard_cases.jsonl``, sentences written for this
  bench (national teams vs countries, clubs vs cities, surnames vs companies,
  look-alike places, demonyms, acronyms, people in the news), scored like AIDA.
* ``short``: ``bench/data/link_short_texts.jsonl``, short texts written for
  this bench in the forms of the short-text sets kept aside for evaluation
  (KORE50's ambiguous first names and nicknames, RSS-500's headlines,
  Reuters-128's one-sentence wire copy), scored like the hard cases; all of
  it is untouched (goal: precision >= 0.80).

Every set is split in two: ``tune`` and ``untouched`` (AIDA/CoNLL by a hash
of the document id, the hard cases by their ``slice``). AIDA's tuning half is
split again, by another byte of the same hash, into ``study`` (whose errors
are read) and ``check`` (reported as figures only): a rule fitted to the
studied errors shows on the checked part whether it carries. Only the studied
part's errors (and the tuning slice of the hard cases) are ever written out
(``--errors``); the untouched half is reported as figures only.

    .venv/bin/python bench/link_pipeline.py [--data ../shared/data] [--errors /tmp/errors.jsonl] [--slice tune]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any

from cli.inprocess import InProcessPipeline
from shared.messages import DocumentSubmitted

RESULTS = Path(__file__).resolve().parent / "results"
HARD_CASES = Path(__file__).resolve().parent / "data" / "link_hard_cases.jsonl"
SHORT_TEXTS = Path(__file__).resolve().parent / "data" / "link_short_texts.jsonl"
SLICES = ("tune", "untouched")
PARTS = ("study", "check")
GOALS = {
    "aida_precision": 0.90,
    "aida_in_kb_recall": 0.83,
    "aida_f1": 0.65,
    "conll_typed_f1": 0.85,
    "short_precision": 0.80,
}
_CONLL_TYPES = {"PER": "PER", "ORG": "ORG", "LOC": "LOC", "MISC": "MISC", "PRODUCT": "MISC", "EVENT": "MISC"}

Pair = tuple[int, int, str]


def slice_of(document_id: str) -> str:
    """A fixed half of a document set, by a hash of the id: the same split on every run and machine."""
    return SLICES[_digest(document_id)[0] % 2]


def part_of(document_id: str) -> str:
    """A tuning document's part: ``study`` (errors read) or ``check`` (figures only), by another hash byte."""
    return PARTS[_digest(document_id)[1] % 2]


def _digest(document_id: str) -> bytes:
    return hashlib.blake2b(document_id.encode(), digest_size=4).digest()


@dataclass
class Document:
    id: str
    slice: str
    text: str
    gold_links: set[Pair] = field(default_factory=set)  # QID gold; NIL spans are only absent
    gold_typed: set[Pair] = field(default_factory=set)  # (start, end, CoNLL type)
    # Where only some names are annotated (the hard cases): predictions elsewhere are not scored.
    scored_spans: set[tuple[int, int]] | None = None
    part: str = ""  # of AIDA's tuning half: study or check


def _token_spans(text: str) -> list[tuple[int, int]]:
    spans, start = [], None
    for index, char in enumerate(text + " "):
        if char.isspace():
            if start is not None:
                spans.append((start, index))
                start = None
        elif start is None:
            start = index
    return spans


def offset_map(source: str, output: str) -> dict[int, int]:
    """Output character offsets -> source offsets, for token edges the two texts share.

    Ingest may reflow whitespace or drop a line; names keep their words, so
    aligning whitespace tokens carries every span whose words survived.
    """
    if source == output:
        return {}
    src, out = _token_spans(source), _token_spans(output)
    matcher = SequenceMatcher(None, [source[a:b] for a, b in src], [output[a:b] for a, b in out], autojunk=False)
    mapping: dict[int, int] = {}
    for block in matcher.get_matching_blocks():
        for k in range(block.size):
            (s0, s1), (o0, o1) = src[block.a + k], out[block.b + k]
            mapping[o0], mapping[o1] = s0, s1
    return mapping


@dataclass
class Output:
    links: set[Pair]
    typed: set[Pair]


async def run_pipeline(pipeline: InProcessPipeline, document: Document) -> Output:
    submission = DocumentSubmitted(submission_id=document.id, kind="record", hints={"title": "", "body": document.text})
    links: set[Pair] = set()
    typed: set[Pair] = set()
    for article in await pipeline.articles([submission]):
        mapping = offset_map(document.text, article.body)
        for entity in getattr(article, "entities", []):
            for start, end in entity.spans:
                if mapping:
                    if start not in mapping or end not in mapping:
                        continue
                    start, end = mapping[start], mapping[end]
                demonym = getattr(entity, "kind", None) == "demonym"
                typed.add((start, end, "MISC" if demonym else _CONLL_TYPES[entity.type]))
                if entity.id.startswith("Q") and not demonym:
                    links.add((start, end, entity.id))
    if document.scored_spans is not None:
        links = {p for p in links if (p[0], p[1]) in document.scored_spans}
    return Output(links, typed)


@dataclass
class Run:
    outputs: list[Output]
    kb: Any
    load_seconds: float
    seconds: float


async def run_documents(documents: list[Document]) -> Run:
    """Every document through one pipeline up to the entity facet (``newsflow process --stage link``)."""
    started = time.perf_counter()
    async with InProcessPipeline("entity_link") as pipeline:
        kb = pipeline.workers[-1].linker.kb  # type: ignore[attr-defined]
        load_seconds = time.perf_counter() - started
        started = time.perf_counter()
        outputs = [await run_pipeline(pipeline, document) for document in documents]
    return Run(outputs, kb, load_seconds, time.perf_counter() - started)


# -- data sets -------------------------------------------------------------------------------------------
def aida_documents(data: Path) -> list[Document]:
    documents = []
    with (data / "entity-linking" / "aida-conll-dev.jsonl").open(encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            gold = {
                (lab["span"][0], lab["span"][1], str(lab["entity_id"]))
                for lab in row["labels"]
                if str(lab["entity_id"]).startswith("Q")
            }
            document_id = f"aida-{row['id']}"
            documents.append(Document(document_id, slice_of(document_id), row["text"], gold))
            if documents[-1].slice == "tune":
                documents[-1].part = part_of(document_id)
    return documents


def conll_documents(path: Path) -> Iterator[tuple[str, set[Pair]]]:
    """Each eng.testa document as its tokens joined by single spaces (as AIDA's text), with typed gold spans."""
    tokens: list[tuple[str, str]] = []
    for line in [*path.read_text(encoding="utf-8").splitlines(), "-DOCSTART- -X- O O"]:
        if line.startswith("-DOCSTART-"):
            if tokens:
                yield _conll_text(tokens)
            tokens = []
        elif line.strip():
            parts = line.split()
            tokens.append((parts[0], parts[-1]))


def _conll_text(tokens: list[tuple[str, str]]) -> tuple[str, set[Pair]]:
    text_parts: list[str] = []
    spans: set[Pair] = set()
    offset, open_span = 0, None  # open_span: (start, end, type)
    for word, tag in tokens:
        start = offset
        offset += len(word) + 1
        text_parts.append(word)
        kind = tag[2:] if tag != "O" else None
        if open_span and (kind != open_span[2] or tag.startswith("B-")):
            spans.add(open_span)
            open_span = None
        if kind:
            open_span = (open_span[0], start + len(word), kind) if open_span else (start, start + len(word), kind)
    if open_span:
        spans.add(open_span)
    return " ".join(text_parts), spans


def with_conll(documents: list[Document], data: Path) -> int:
    """Attach eng.testa's typed spans to the AIDA documents with the same text; returns how many matched."""
    by_text = {d.text: d for d in documents}
    matched = 0
    for text, spans in conll_documents(data / "conll2003" / "eng.testa"):
        if text in by_text:
            by_text[text].gold_typed = spans
            matched += 1
    return matched


def hard_documents(path: Path) -> list[Document]:
    """Written cases (hard, short): ``links`` are [surface, QID or null, (n)]; null: a name that must not get a QID.

    The surface is its first occurrence in the text, or its n-th ("Musk" after "Elon Musk").

    Only the listed names are scored: a sentence's other names (a stadium, a
    state) are neither gold nor errors.
    """
    documents = []
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if not line.strip():
                continue
            row = json.loads(line)
            gold: set[Pair] = set()
            spans: set[tuple[int, int]] = set()
            for surface, qid, *occurrence in row["links"]:
                start = -1
                for _ in range(occurrence[0] if occurrence else 1):
                    start = row["text"].find(surface, start + 1)
                if start < 0:
                    raise ValueError(f"{row['id']}: {surface!r} not in its text")
                spans.add((start, start + len(surface)))
                if qid:
                    gold.add((start, start + len(surface), qid))
            documents.append(Document(row["id"], row["slice"], row["text"], gold, scored_spans=spans))
    return documents


# -- scoring ---------------------------------------------------------------------------------------------
def prf(correct: int, predicted: int, gold: int) -> dict[str, float]:
    precision = correct / predicted if predicted else 0.0
    recall = correct / gold if gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4)}


def score_links(counts: Counter[str]) -> dict[str, Any]:
    return {
        "overall": prf(counts["correct"], counts["predicted"], counts["gold"]),
        "in_kb": prf(counts["correct_in_kb"], counts["predicted_at_kb_spans"], counts["gold_in_kb"]),
        "coverage": round(counts["gold_in_kb"] / counts["gold"], 4) if counts["gold"] else 0.0,
        "counts": dict(counts),
    }


def link_counts(document: Document, output: Output, in_kb: Any) -> Counter[str]:
    gold = document.gold_links
    gold_in_kb = {g for g in gold if in_kb(g[2])}
    kb_spans = {(s, e) for s, e, _ in gold_in_kb}
    at_kb_spans = {p for p in output.links if (p[0], p[1]) in kb_spans}
    return Counter(
        {
            "gold": len(gold),
            "predicted": len(output.links),
            "correct": len(gold & output.links),
            "gold_in_kb": len(gold_in_kb),
            "predicted_at_kb_spans": len(at_kb_spans),
            "correct_in_kb": len(gold_in_kb & at_kb_spans),
        }
    )


def typed_counts(document: Document, output: Output) -> Counter[str]:
    gold, found = document.gold_typed, output.typed
    untyped_gold = {(s, e) for s, e, _ in gold}
    untyped_found = {(s, e) for s, e, _ in found}
    per_type: Counter[str] = Counter()
    for kind in ("PER", "ORG", "LOC", "MISC"):
        g = {p for p in gold if p[2] == kind}
        f = {p for p in found if p[2] == kind}
        per_type.update({f"{kind}_gold": len(g), f"{kind}_predicted": len(f), f"{kind}_correct": len(g & f)})
    return per_type + Counter(
        {
            "gold": len(gold),
            "predicted": len(found),
            "correct": len(gold & found),
            "untyped_correct": len(untyped_gold & untyped_found),
        }
    )


def score_typed(counts: Counter[str]) -> dict[str, Any]:
    return {
        "typed": prf(counts["correct"], counts["predicted"], counts["gold"]),
        "untyped": prf(counts["untyped_correct"], counts["predicted"], counts["gold"]),
        "by_type": {
            kind: prf(counts[f"{kind}_correct"], counts[f"{kind}_predicted"], counts[f"{kind}_gold"])["f1"]
            for kind in ("PER", "ORG", "LOC", "MISC")
        },
    }


def errors_of(document: Document, output: Output) -> dict[str, Any]:
    def show(pairs: set[Pair]) -> list[str]:
        return [f"{document.text[s:e]!r}@{s} {q}" for s, e, q in sorted(pairs)]

    return {
        "id": document.id,
        "false_positives": show(output.links - document.gold_links),
        "missed": show(document.gold_links - output.links),
        "typed_false_positives": show(output.typed - document.gold_typed) if document.gold_typed else [],
        "typed_missed": show(document.gold_typed - output.typed),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--hard-cases", type=Path, default=HARD_CASES)
    parser.add_argument("--short-texts", type=Path, default=SHORT_TEXTS)
    parser.add_argument(
        "--errors", type=Path, help="write the studied part's errors here (never the checked part or the untouched)"
    )
    parser.add_argument("--limit", type=int, default=0, help="only the first N AIDA documents (a quick look)")
    parser.add_argument(
        "--slice",
        choices=SLICES,
        help="only this slice of AIDA and the hard cases (tune while tuning: the untouched unseen)",
    )
    parser.add_argument("--out", type=Path, default=RESULTS / "link_pipeline.json")
    args = parser.parse_args()

    aida = aida_documents(args.data)
    if args.limit:
        aida = aida[: args.limit]
    conll_matched = with_conll(aida, args.data)
    hard = hard_documents(args.hard_cases) if args.hard_cases.exists() else []
    short = hard_documents(args.short_texts) if args.short_texts.exists() else []
    named = [
        (name, document)
        for name, documents in (("aida", aida), ("hard", hard), ("short", short))
        for document in documents
        # The short texts are checked on every run, their figures only: no set of them is tuned on.
        if args.slice in (None, document.slice) or name == "short"
    ]
    run = asyncio.run(run_documents([document for _, document in named]))

    def in_kb(qid: str) -> bool:
        return run.kb.get(qid) is not None

    totals: dict[str, Counter[str]] = {}
    errors = []
    for (name, document), output in zip(named, run.outputs, strict=True):
        parts = [document.slice, *([f"{document.slice}-{document.part}"] if document.part else [])]
        for part in parts:
            totals.setdefault(f"{name}/{part}", Counter()).update(link_counts(document, output, in_kb))
            if document.gold_typed:
                totals.setdefault(f"conll/{part}", Counter()).update(typed_counts(document, output))
        if document.slice == "tune" and document.part in ("", "study"):
            errors.append(errors_of(document, output))

    result: dict[str, Any] = {
        "command": "bench/link_pipeline.py"
        + (f" --limit {args.limit}" if args.limit else "")
        + (f" --slice {args.slice}" if args.slice else ""),
        "load": os.getloadavg()[0],
        "goals_untouched": GOALS,
        "split": "AIDA/CoNLL by blake2b(document id) byte 0, the tuning half's parts (study, check) by byte 1; "
        "hard cases by their 'slice'",
        "conll_documents_matched": conll_matched,
        "kb_entities": len(run.kb),
        "seconds_pipeline": round(run.seconds, 1),
        "seconds_load": round(run.load_seconds, 1),
    }
    for key in sorted(totals):
        name, part = key.split("/")
        scored = score_typed(totals[key]) if name == "conll" else score_links(totals[key])
        result.setdefault(name, {})[part] = scored
    text = json.dumps(result, indent=2)
    print(text)
    args.out.parent.mkdir(exist_ok=True)
    args.out.write_text(text + "\n")
    if args.errors:
        args.errors.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in errors))


if __name__ == "__main__":
    main()
