"""Clean text captured from a news page or an aggregator: keep the article, drop the padding,
and read the facts the padding carries (author, date, source, verified flag, attribution, topic).

Lines are classified one by one (``lines.classify``); then a pass over them
drops the blocks that some headers open (a teaser list after "More in …", a
summary after "Key takeaways", the advert after "Sponsored"), finds the
title, and keeps the article: the prose from the first paragraph to the last,
with what sits between (crossheads, lists) unless it is padding.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum

from services.ingest.extract.attribution import wire_dateline
from services.ingest.extract.lines import TEXT_KINDS, Facts, Kind, Line, classify, is_headline_like

# A summary's content is bullets or one short paragraph; a longer one is the article itself.
MAX_SUMMARY_WORDS = 40
# When there is no title line, a first sentence up to this long is title enough.
MAX_TITLE_WORDS = 20


@dataclass
class CleanText:
    title: str | None
    body: str
    facts: Facts = field(default_factory=Facts)


class _Block(Enum):
    NONE = "none"
    TEASERS = "teasers"
    SUMMARY = "summary"
    ADVERT = "advert"


def clean_captured_text(text: str) -> CleanText:
    """The article inside captured page text (plain text or markdown)."""
    lines = [classify(unit) for unit in paragraph_units(text)]
    facts = Facts()
    for line in lines:
        facts.merge(line.facts)
    kept, summary_lead = _drop_padding_blocks(lines)
    title, body_lines = _title_and_body(kept)
    if title is None and summary_lead is not None:
        title = _as_title(summary_lead.text)
    if title is None and body_lines:
        title = _first_sentence_title(body_lines[0].text)
    if body_lines and facts.original_source is None:
        facts.original_source = wire_dateline(body_lines[0].text)
    return CleanText(title=title, body="\n\n".join(line.text for line in body_lines), facts=facts)


def paragraph_units(text: str) -> list[str]:
    """Lines, except that a hard-wrapped paragraph (a block of ~fixed-width lines) is joined into one."""
    units: list[str] = []
    for block in re.split(r"\n[ \t]*\n", text.replace("\r\n", "\n").replace("\r", "\n")):
        rows = [row.strip() for row in block.split("\n") if row.strip()]
        if _looks_hard_wrapped(rows):
            units.append(" ".join(rows))
        else:
            units.extend(row for row in rows if not re.fullmatch(r"[-*_=]{3,}", row))
    return units


def _looks_hard_wrapped(rows: list[str]) -> bool:
    if len(rows) < 2:
        return False
    inner = rows[:-1]
    if any(re.match(r"^(?:#|[-*+•]\s|\d{1,2}[.)]\s|>)", row) for row in rows):
        return False
    if not all(40 <= len(row) <= 100 for row in inner):
        return False
    # Wrapped lines break mid-sentence; one paragraph per line ends each on a full stop.
    mid_sentence = sum(1 for row in inner if not re.search(r"[.!?:\"”]$", row))
    return mid_sentence * 2 >= len(inner)


def _drop_padding_blocks(lines: list[Line]) -> tuple[list[Line], Line | None]:
    """Drop padding lines and the blocks their headers open. Returns the kept lines and a summary's lead."""
    kept: list[Line] = []
    block = _Block.NONE
    summary_lead: Line | None = None
    summary_prose_seen = False
    for line in lines:
        if line.kind in (Kind.TEASER_HEADER, Kind.SUMMARY_HEADER, Kind.ADVERT_HEADER, Kind.MARKER):
            block = {
                Kind.TEASER_HEADER: _Block.TEASERS,
                Kind.SUMMARY_HEADER: _Block.SUMMARY,
                Kind.ADVERT_HEADER: _Block.ADVERT,
            }.get(line.kind, _Block.NONE)
            summary_prose_seen = False
            continue
        if line.kind not in TEXT_KINDS:
            # Padding after an advert label was the advert itself (or another slot): the slot is over.
            # A teaser list or summary, though, can hold padding lines and goes on.
            block = _Block.NONE if block is _Block.ADVERT else block
            continue
        if block is _Block.TEASERS:
            # Teasers are headline-shaped items; the first real paragraph ends the list.
            if line.kind is not Kind.PROSE or line.words < 12:
                continue
            block = _Block.NONE
        elif block is _Block.SUMMARY:
            if line.kind is Kind.LIST_ITEM:
                continue
            if line.kind is Kind.PROSE and not summary_prose_seen and line.words <= MAX_SUMMARY_WORDS:
                summary_prose_seen = True
                summary_lead = summary_lead or line
                continue
            block = _Block.NONE
        elif block is _Block.ADVERT:
            block = _Block.NONE
            if line.words <= 25:  # the advert's own line; a long paragraph is the article resuming
                continue
        kept.append(line)
    return kept, summary_lead


def _title_and_body(kept: list[Line]) -> tuple[str | None, list[Line]]:
    prose_positions = [index for index, line in enumerate(kept) if line.kind is Kind.PROSE]
    if not prose_positions:
        return None, []
    first, last = prose_positions[0], prose_positions[-1]
    head = kept[:first]
    title_line = next((line for line in head if line.heading_level == 1), None) or next(
        (line for line in head if line.kind is Kind.HEADLINE), None
    )
    body = [line for line in kept[first : last + 1] if line.kind is not Kind.HEADLINE or _is_crosshead(line)]
    return (title_line.text if title_line else None), body


def _is_crosshead(line: Line) -> bool:
    """A subheading inside the article: a markdown heading, or a short headline-shaped line."""
    return line.heading_level > 1 or line.words <= 8


def _as_title(sentence: str) -> str:
    return sentence.rstrip().rstrip(".").strip()


def _first_sentence_title(paragraph: str) -> str | None:
    """A headline-like first sentence, when the capture has no title line."""
    sentence = re.split(r"(?<=[.!?])\s+(?=[A-Z\"“])", paragraph, maxsplit=1)[0]
    title = _as_title(sentence)
    if len(title.split()) <= MAX_TITLE_WORDS and (is_headline_like(title) or len(title.split()) >= 3):
        return title
    words = title.split()[:MAX_TITLE_WORDS]
    return " ".join(words) + "…" if words else None
