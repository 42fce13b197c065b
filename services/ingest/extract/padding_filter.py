"""Padding that survives HTML extraction: paywall prompts, share bars, adverts, teaser lists
and site footers that sit inside the article's container. The line kinds are the ones
``lines`` recognises in captured text; here only the unambiguous ones are dropped, since
a page's extracted text has already lost most of its padding."""

from __future__ import annotations

import re

from services.ingest.extract.dates import parse_date
from services.ingest.extract.lines import Kind, classify, word_count

_DROPPED = frozenset({Kind.PAYWALL, Kind.SHARE, Kind.ADVERT, Kind.ADVERT_HEADER, Kind.TERMINAL, Kind.DISCLOSURE})
# A teaser list's items are short: a line this long ends the list.
_TEASER_ITEM_MAX_WORDS = 15
# A line that is only a date ("23.10.2018", "2021-11-19 14:02", "3 May 2026"): the page's date stamp.
_NUMERIC_DATE = re.compile(r"^\d{1,4}[./-]\d{1,2}[./-]\d{2,4}(?:,?\s+\d{1,2}[:.]\d{2}(?:\s*(?:Uhr|h))?)?$")
_DATE_LINE_MAX_WORDS = 5
# Every padding kind is a short line; longer ones are article paragraphs and skip classification.
_PADDING_MAX_WORDS = 40


def drop_padding_lines(text: str) -> str:
    kept: list[str] = []
    in_teasers = False
    for raw in text.split("\n"):
        if not raw.strip():
            continue
        if word_count(raw) > _PADDING_MAX_WORDS:
            in_teasers = False
            kept.append(raw.strip())
            continue
        line = classify(raw)
        if line.kind is Kind.TEASER_HEADER:
            in_teasers = True
            continue
        if in_teasers and line.words <= _TEASER_ITEM_MAX_WORDS and line.kind is not Kind.PROSE:
            continue
        in_teasers = False
        if line.kind not in _DROPPED and not _is_date_stamp(line.text):
            kept.append(raw.strip())
    return "\n".join(kept)


def _is_date_stamp(text: str) -> bool:
    return bool(_NUMERIC_DATE.match(text)) or (
        word_count(text) <= _DATE_LINE_MAX_WORDS and parse_date(text) is not None
    )
