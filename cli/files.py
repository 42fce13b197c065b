"""Local files into ``DocumentSubmitted`` messages: what ``newsflow ingest`` and
``newsflow process`` read. A file that cannot be used yields a ``FileProblem``
with a clear reason instead of raising."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from shared.messages import MAX_MESSAGE_BYTES, DocumentKind, DocumentSubmitted

KIND_BY_SUFFIX: dict[str, DocumentKind] = {
    ".txt": "text",
    ".md": "markdown",
    ".markdown": "markdown",
    ".html": "html",
    ".htm": "html",
    ".rss": "feed",
    ".atom": "feed",
    ".xml": "feed",
}
# A file travels as one message: leave room for the JSON envelope and its escaping.
MAX_FILE_BYTES = MAX_MESSAGE_BYTES - 256 * 1024


@dataclass(frozen=True)
class FileProblem:
    path: str
    error: str
    line: int | None = None


def _submission_id(*parts: str) -> str:
    return hashlib.blake2b("\x00".join(parts).encode(), digest_size=12).hexdigest()


def read_path(path: Path, hints: dict[str, str] | None = None) -> Iterator[DocumentSubmitted | FileProblem]:
    """Every submission one file holds: one for a page or text file, one per line of a JSONL file.

    ``hints`` (e.g. the outlet the files come from) apply to each; a JSONL record's own fields win.
    """
    hints = hints or {}
    name = str(path)
    if not path.exists():
        yield FileProblem(name, "no such file")
        return
    if not path.is_file():
        yield FileProblem(name, "not a regular file")
        return
    suffix = path.suffix.lower()
    if suffix != ".jsonl" and suffix not in KIND_BY_SUFFIX:
        yield FileProblem(
            name, f"unsupported file type {suffix or '(none)'}; use .txt .md .html .jsonl .rss .atom .xml"
        )
        return
    if path.stat().st_size > MAX_FILE_BYTES:
        yield FileProblem(name, f"file larger than {MAX_FILE_BYTES} bytes, the most one message carries")
        return
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as error:
        yield FileProblem(name, f"not UTF-8 text ({error.reason} at byte {error.start})")
        return
    except OSError as error:
        yield FileProblem(name, f"cannot read: {error.strerror}")
        return
    if suffix == ".jsonl":
        yield from _jsonl_records(name, text, hints)
        return
    yield DocumentSubmitted(
        submission_id=_submission_id(name, text),
        kind=KIND_BY_SUFFIX[suffix],
        content=text,
        filename=path.name,
        hints=dict(hints),
    )


def _jsonl_records(name: str, text: str, hints: dict[str, str]) -> Iterator[DocumentSubmitted | FileProblem]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            yield FileProblem(name, f"invalid JSON: {error.msg}", line=number)
            continue
        if not isinstance(record, dict):
            yield FileProblem(name, "a JSONL line must be an object", line=number)
            continue
        yield DocumentSubmitted(
            submission_id=_submission_id(name, str(number), line),
            kind="record",
            hints={**hints, **record},
            filename=f"{Path(name).name}:{number}",
        )
