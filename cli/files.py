"""Local files into ``DocumentSubmitted`` messages: what ``newsflow ingest`` and
``newsflow process`` read. A file that cannot be used yields a ``FileProblem``
with a clear reason instead of raising."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import yaml
from pydantic import JsonValue

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
FRONT_MATTER_SUFFIXES = (".txt", ".md", ".markdown")
# A folder's sidecar: what is known of its files (outlet, url, date), by file name.
SIDECAR = "outlets.yaml"
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

    What is known of a file (its outlet, url, date, author) comes from, the most specific winning:
    ``hints`` given by the caller (``--source``), the folder's ``outlets.yaml`` sidecar (defaults
    for the folder and entries per file name), the file's own YAML front matter, and for a JSONL
    record its own fields.
    """
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
    try:
        known: dict[str, JsonValue] = {**(hints or {}), **sidecar_hints(path)}
        front, content = front_matter(text) if suffix in FRONT_MATTER_SUFFIXES else ({}, text)
    except ValueError as error:
        yield FileProblem(name, str(error))
        return
    if suffix == ".jsonl":
        yield from _jsonl_records(name, text, known)
        return
    yield DocumentSubmitted(
        submission_id=_submission_id(name, text),
        kind=KIND_BY_SUFFIX[suffix],
        content=content,
        filename=path.name,
        hints={**known, **front},
    )


def sidecar_hints(path: Path) -> dict[str, JsonValue]:
    """What the folder's ``outlets.yaml`` says of this file: its ``default`` entry, then the file's own."""
    sidecar = path.parent / SIDECAR
    if not sidecar.is_file():
        return {}
    try:
        found = yaml.safe_load(sidecar.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise ValueError(f"{sidecar} is not readable YAML: {error}") from error
    entries = [found.get("default"), found.get("files", {}).get(path.name)] if isinstance(found, dict) else []
    if not all(entry is None or isinstance(entry, dict) for entry in entries):
        raise ValueError(f"{sidecar}: 'default' and each 'files' entry must be a mapping of hints")
    return {str(key): _hint(value) for entry in entries if entry for key, value in entry.items()}


def front_matter(text: str) -> tuple[dict[str, JsonValue], str]:
    """A text or markdown file's leading ``---`` YAML block, and the text after it."""
    if not text.startswith("---\n"):
        return {}, text
    block, separator, rest = text[4:].partition("\n---\n")
    if not separator:
        return {}, text
    try:
        found = yaml.safe_load(block)
    except yaml.YAMLError as error:
        raise ValueError(f"unreadable front matter: {error}") from error
    if not isinstance(found, dict):
        return {}, text  # a leading rule, not front matter
    return {str(key): _hint(value) for key, value in found.items()}, rest.lstrip("\n")


def _hint(value: object) -> JsonValue:
    """YAML reads dates as dates; hints are JSON."""
    if isinstance(value, date):
        return value.isoformat()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _jsonl_records(name: str, text: str, hints: dict[str, JsonValue]) -> Iterator[DocumentSubmitted | FileProblem]:
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
