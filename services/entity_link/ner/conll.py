"""Reading CoNLL-2003 files (``word POS chunk NER`` per line, IOB1 tags) into documents.

Used by the training script and the benchmark; the files themselves stay in
``../shared/data/conll2003`` and are read at run time.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

# A named span over a sentence's tokens: (first token, last token + 1, type).
Span = tuple[int, int, str]


@dataclass
class Sentence:
    words: list[str]
    spans: list[Span]


@dataclass
class Document:
    sentences: list[Sentence] = field(default_factory=list)


def iob1_spans(tags: list[str]) -> list[Span]:
    """Entity spans from IOB1 tags, where ``B-`` only separates two touching entities of one type."""
    spans: list[Span] = []
    start, current = -1, ""
    for index, tag in enumerate([*tags, "O"]):
        kind = tag[2:] if tag != "O" else ""
        begins = tag.startswith("B-") or kind != current
        if current and (begins or not kind):
            spans.append((start, index, current))
            current = ""
        if kind and (begins or not current):
            start, current = index, kind
    return spans


def read_documents(path: Path) -> Iterator[Document]:
    document = Document()
    words: list[str] = []
    tags: list[str] = []

    def close_sentence() -> None:
        if words:
            document.sentences.append(Sentence(list(words), iob1_spans(tags)))
            words.clear()
            tags.clear()

    with path.open(encoding="utf-8") as lines:
        for line in lines:
            parts = line.split()
            if not parts:
                close_sentence()
            elif parts[0] == "-DOCSTART-":
                close_sentence()
                if document.sentences:
                    yield document
                document = Document()
            else:
                words.append(parts[0])
                tags.append(parts[-1])
    close_sentence()
    if document.sentences:
        yield document
