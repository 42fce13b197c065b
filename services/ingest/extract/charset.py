"""Which character encoding a fetched or read document is in.

The order is the one browsers use (WHATWG): a byte-order mark, then what the
HTTP header declares, then a ``<meta charset>`` / XML declaration in the first
bytes, then a guess. ISO-8859-1 is read as windows-1252, as browsers do.
"""

from __future__ import annotations

import codecs
import re

import charset_normalizer

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_DECLARED_IN_DOCUMENT = re.compile(
    rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*(?P<meta>[\w.:-]+)|<\?xml[^>]{0,100}encoding\s*=\s*["'](?P<xml>[\w.:-]+)""",
    re.IGNORECASE,
)
_SNIFF_BYTES = 4096
_GUESS_BYTES = 200_000
_ALIASES = {"iso-8859-1": "windows-1252", "latin-1": "windows-1252", "latin1": "windows-1252", "us-ascii": "utf-8"}
# Characters lxml refuses in the trees trafilatura builds (XML 1.0 forbids them); libxml2 keeps them.
_CONTROL_BYTES = bytes([*range(0, 9), 11, 12, *range(14, 32)])


def detect_encoding(raw: bytes, declared: str | None = None) -> str:
    for bom, name in _BOMS:
        if raw.startswith(bom):
            return name
    for candidate in (declared, _declared_in_document(raw)):
        if candidate and (known := _known_codec(candidate)):
            return known
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        best = charset_normalizer.from_bytes(raw[:_GUESS_BYTES]).best()
        guessed = _known_codec(best.encoding) if best else None
        return guessed or "windows-1252"
    return "utf-8"


def decode(raw: bytes, declared: str | None = None) -> str:
    return raw.decode(detect_encoding(raw, declared), errors="replace")


def to_clean_utf8(raw: bytes, declared: str | None = None) -> bytes:
    """The document as UTF-8 bytes without the control characters XML forbids."""
    encoding = detect_encoding(raw, declared)
    data = raw if encoding == "utf-8" else raw.decode(encoding, errors="replace").encode("utf-8")
    return data.translate(None, _CONTROL_BYTES)


def text_to_clean_utf8(text: str) -> bytes:
    return text.encode("utf-8", errors="replace").translate(None, _CONTROL_BYTES)


def _declared_in_document(raw: bytes) -> str | None:
    match = _DECLARED_IN_DOCUMENT.search(raw[:_SNIFF_BYTES])
    if not match:
        return None
    return (match.group("meta") or match.group("xml")).decode("ascii", errors="ignore")


def _known_codec(name: str) -> str | None:
    label = name.strip().lower()
    label = _ALIASES.get(label, label)
    try:
        return codecs.lookup(label).name.replace("_", "-") if label else None
    except LookupError:
        return None
