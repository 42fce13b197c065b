"""Dates as news pages write them: ISO stamps, "14 March 2026", "Nov 12, 2026, 09:40 GMT".

A small parser of our own rather than ``dateutil``'s fuzzy mode, which finds a
"date" in almost any string with a number in it; here a date must look like one.
All-numeric dates other than ISO ("03/04/2026") are never read: without the
page's locale the day and the month cannot be told apart. Zone abbreviations
("CET", "EST") are resolved with dateparser's table.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo

from dateparser.timezone_parser import pop_tz_offset_from_string

_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ),
        start=1,
    )
    for name in names
}
_MONTH = r"(?P<month>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_YEAR = r"(?P<year>(?:19|20)\d\d)"
_DAY = r"(?P<day>[0-3]?\d)(?:st|nd|rd|th)?"
_ZONE = r"(?P<zone>Z|UTC|GMT|[+-]\d\d:?\d\d|[A-Z]{2,5}\b)"
_TIME = (
    r"(?:(?:,|\s+at|\s*T)?\s*(?P<hour>[0-2]?\d):(?P<minute>[0-5]\d)(?::(?P<second>[0-5]\d)(?:\.\d+)?)?\s*(?P<ampm>[ap]\.?m\.?)?\s*"
    + _ZONE
    + r"?)?"
)

_PATTERNS = [
    re.compile(r"\b(?P<year>(?:19|20)\d\d)-(?P<num_month>[01]\d)-(?P<day>[0-3]\d)" + _TIME, re.IGNORECASE),
    re.compile(r"\b" + _DAY + r"\s+" + _MONTH + r",?\s+" + _YEAR + r"\b" + _TIME, re.IGNORECASE),
    re.compile(r"\b" + _MONTH + r"\s+" + _DAY + r",?\s+" + _YEAR + r"\b" + _TIME, re.IGNORECASE),
]


def find_date(text: str) -> datetime | None:
    """The first date written in ``text`` (UTC when no zone is given), or None."""
    found: list[tuple[int, datetime]] = []
    for pattern in _PATTERNS:
        for match in pattern.finditer(text):
            value = _from_match(match)
            if value is not None:
                found.append((match.start(), value))
                break
    return min(found, key=lambda item: item[0])[1] if found else None


def find_date_span(text: str) -> tuple[int, int] | None:
    """Where the first date in ``text`` is written, so a caller can cut it out."""
    spans = [match.span() for pattern in _PATTERNS if (match := pattern.search(text)) and _from_match(match)]
    return min(spans) if spans else None


def parse_date(value: str) -> datetime | None:
    """A date given as a field (a hint, a feed or page stamp): ISO 8601 first, then a written date."""
    text = value.strip()
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return find_date(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _from_match(match: re.Match[str]) -> datetime | None:
    groups = match.groupdict()
    month = int(groups["num_month"]) if groups.get("num_month") else _MONTHS[groups["month"].lower()]
    hour = int(groups["hour"] or 0)
    if groups.get("ampm"):
        hour = hour % 12 + (12 if groups["ampm"].lower().startswith("p") else 0)
    try:
        return datetime(
            int(groups["year"]),
            month,
            int(groups["day"]),
            hour,
            int(groups["minute"] or 0),
            int(groups["second"] or 0),
            tzinfo=_zone(groups.get("zone")),
        )
    except ValueError:  # 31 February, hour 25: not a date after all
        return None


def _zone(text: str | None) -> tzinfo:
    if not text or text.upper() in ("Z", "UTC", "GMT"):
        return UTC
    if text[0].isalpha():
        named = pop_tz_offset_from_string(f" {text}")[1]
        offset = named.utcoffset(None) if named else None
        return timezone(offset) if offset is not None else UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
