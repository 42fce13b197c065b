"""Padding that survives HTML extraction: paywall prompts, share bars, adverts, teaser lists
and site footers that sit inside the article's container. The line kinds are the ones
``lines`` recognises in captured text; here only the unambiguous ones are dropped, since
a page's extracted text has already lost most of its padding."""

from __future__ import annotations

import re
from collections.abc import Callable

from services.ingest.extract.dates import find_date_span
from services.ingest.extract.lines import Kind, Line, classify, word_count

_DROPPED = frozenset({Kind.PAYWALL, Kind.SHARE, Kind.ADVERT, Kind.ADVERT_HEADER, Kind.TERMINAL, Kind.DISCLOSURE})
# A teaser list's items are short: a line this long ends the list.
_TEASER_ITEM_MAX_WORDS = 15
# A line that is only a date, with at most a label and a time ("23.10.2018", "Updated 3 May 2026, 17:55"): the
# page's date stamp. An all-numeric date (its day and month are never read) counts only with nothing before
# it: "Termin: 29.02.2020, 19 Uhr" in an events list is the event's date.
_NUMERIC_DATE_ONLY = re.compile(r"^\d{1,4}[./-]\d{1,2}[./-]\d{2,4}$")
_NUMERIC_DATE = re.compile(r"(?:\d{1,2}[./-]\d{1,2}[./-](?:19|20)\d\d|(?:19|20)\d\d[./-]\d{1,2}[./-]\d{1,2})\b")
_WORD = re.compile(r"[^\W\d_]+")
# A stamp's label is one word ("Updated", "Publié"), optionally with a short particle ("on", "le", "am");
# after the date only a time, a zone or a clock word ("Uhr", "GMT") may follow. "Strike ends" is a clause.
_PARTICLE_MAX_CHARS = 3
_CLOCK_WORD_MAX_CHARS = 4
# Every padding kind is a short line; longer ones are article paragraphs and skip classification.
_PADDING_MAX_WORDS = 40


def drop_padding_lines(text: str, classify_line: Callable[[str], Line] = classify) -> str:
    kept: list[str] = []
    in_teasers = False
    for raw in text.split("\n"):
        if not raw.strip():
            continue
        if word_count(raw) > _PADDING_MAX_WORDS:
            in_teasers = False
            kept.append(raw.strip())
            continue
        line = classify_line(raw)
        if line.kind is Kind.TEASER_HEADER:
            in_teasers = True
            continue
        if in_teasers and line.words <= _TEASER_ITEM_MAX_WORDS and line.kind is not Kind.PROSE:
            continue
        in_teasers = False
        if line.kind not in _DROPPED and not is_date_stamp(line.text):
            kept.append(raw.strip())
    return "\n".join(kept)


def is_date_stamp(text: str) -> bool:
    """Whether the date (with at most a one-word label before it and a time after it) is the whole line:
    a line that merely contains a date ("Strike ends 3 May 2026") is news."""
    if _NUMERIC_DATE_ONLY.match(text):
        return True
    numeric = _NUMERIC_DATE.match(text)
    span = find_date_span(text) or (numeric.span() if numeric else None)
    if span is None:
        return False
    label = _WORD.findall(text[: span[0]])
    # A time's own letters ("14h02", "9am") are part of it.
    after = [word for token in text[span[1] :].split() if not re.search(r"\d", token) for word in _WORD.findall(token)]
    particle = label[1:]
    return (
        len(label) <= 2
        and all(len(word) <= _PARTICLE_MAX_CHARS and word.islower() for word in particle)
        and len(after) <= 1
        and all(len(word) <= _CLOCK_WORD_MAX_CHARS for word in after)
    )
