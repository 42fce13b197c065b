"""Clean text captured from a news page or an aggregator: keep the article, drop the padding,
and read the facts the padding carries (author, date, source, verified flag, attribution, topic).

Lines are classified one by one (``lines.classify``). Then:

* padding lines go, with the blocks some headers open (a teaser list after
  "More in …", the advert after "Sponsored"); a summary block goes only when
  the article repeats it (a page whose content *is* the summary keeps it);
* the title is the headline-shaped line before the article that shares most
  words with it (mastheads, edition lines and consent notices share none);
  a deck glued to it or standing between it and the byline is the subtitle;
* the body is everything after the title that is text: prose, lists, tables,
  crossheads; minus runs of teasers, found by their rhythm (short headline,
  optional one-sentence deck, repeated) and their distance from the article's
  topic, wherever they sit and whether a header announces them or not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from itertools import pairwise

from services.ingest.extract.attribution import wire_dateline
from services.ingest.extract.dates import find_date, find_date_span
from services.ingest.extract.lines import (
    TEXT_KINDS,
    Facts,
    Kind,
    Line,
    classify,
    is_aligned_label_row,
    is_headline_like,
)
from services.ingest.extract.topical import content_words, language_fit, overlap, words_of

# A summary's paragraph is short; a longer one is the article itself.
MAX_SUMMARY_WORDS = 40
# When there is no title line, a first sentence up to this long is title enough.
MAX_TITLE_WORDS = 20
# A summary the article repeats (this share of its content words or more) is padding; a fresher one is content.
SUMMARY_REDUNDANT_SHARE = 0.5
# A teaser is about another story: it shares less than this with the article around it.
TEASER_MAX_OVERLAP = 0.25
# Teaser headlines and decks are short.
TEASER_HEADLINE_WORDS = (3, 14)
TEASER_DECK_MAX_WORDS = 30
# A headline candidate this close to the best fit, and earlier, is the headline.
TITLE_NEAR_BEST = 0.95
# What can sit above a headline (masthead, edition line, greeting, consent notice) is short.
HEAD_MAX_LINES = 4
HEAD_MAX_WORDS = 60
# A section heading is a short label.
HEADING_MAX_WORDS = 8
_TABLE_OR_LIST = frozenset({Kind.TABLE_ROW, Kind.LIST_ITEM})
_CONTENT = frozenset({Kind.PROSE, Kind.TABLE_ROW, Kind.LIST_ITEM})
_GLUED_DECK = re.compile(r"\s+[—–|]\s+|:\s+")
# "Issuer: Akron", "Rating : A": a fact sheet's row (a short label, a short or numeric value).
_FACT_ROW = re.compile(r"^(?:\S+\s?){1,3}:\s+(?:(?:\S+\s?){1,3}|.*\d.*)$")
# "Sept 27", "October 8": a date, which a fact sheet or a fixture list has and a teaser headline rarely does.
_DAY_OF_MONTH = re.compile(r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d{1,2}\b", re.I)
_ONE_SENTENCE = re.compile(r"^[^.!?]*[.!?][\"'”’)]*$")


@dataclass
class Heading:
    text: str
    start: int  # offset in the body


@dataclass
class CleanText:
    title: str | None
    body: str
    facts: Facts = field(default_factory=Facts)
    subtitle: str | None = None
    headings: list[Heading] = field(default_factory=list)


class _Block(Enum):
    NONE = "none"
    TEASERS = "teasers"
    SUMMARY = "summary"
    ADVERT = "advert"


@dataclass
class _Kept:
    line: Line
    position: int  # index among all the capture's lines, padding included
    summary: int | None = None  # which summary block the line belongs to


def clean_captured_text(text: str) -> CleanText:
    """The article inside captured page text (plain text or markdown)."""
    lines = _with_table_headers([classify(unit) for unit in paragraph_units(text)])
    facts = Facts()
    for line in lines:
        facts.merge(line.facts)
    kept, summary_lead = _drop_padding_blocks(lines)
    kept = _drop_repeated_summaries(kept)
    title_at, title = _find_title(kept)
    body = kept[title_at + 1 :] if title_at is not None else kept
    subtitle = None
    if title is not None:
        title, subtitle = _split_glued_deck(title)
    if title_at is not None and subtitle is None and kept[title_at].line.kind is Kind.PROSE:
        body = kept[title_at:]  # a sentence taken as title is still the article's first sentence
    if subtitle is None and title_at is not None:
        subtitle, body = _standfirst(kept[title_at], body, lines)
    body = _drop_teaser_runs(body)
    body = _drop_trailing_labels(body)
    body_lines = [item.line for item in body]
    if title is None and summary_lead is not None:
        title = _as_title(summary_lead.text)
    if title is None and body_lines:
        title = _first_sentence_title(body_lines[0].text)
    if facts.original_source is None:  # the lede's credit; a headline line may still stand above it
        facts.original_source = next(filter(None, (wire_dateline(line.text) for line in body_lines[:2])), None)
    if facts.published_at is None:
        facts.published_at = dateline_date([line.text for line in body_lines[:3]]) or _head_date(kept, title_at)
    text_out, headings = _join(body_lines)
    return CleanText(title=title, body=text_out, facts=facts, subtitle=subtitle, headings=headings)


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
    if any(re.match(r"^(?:#|[-*+•]\s|\d{1,2}[.)]\s|>|\|)", row) for row in rows):
        return False
    if any(re.search(r"\S(?: {2,}|\t)\S", row) for row in rows):  # columns aligned with spaces: a table
        return False
    if not all(40 <= len(row) <= 100 for row in inner):
        return False
    # Wrapped lines break mid-sentence; one paragraph per line ends each on a full stop.
    mid_sentence = sum(1 for row in inner if not re.search(r"[.!?:\"”]$", row))
    return mid_sentence * 2 >= len(inner)


def _with_table_headers(lines: list[Line]) -> list[Line]:
    """A row of aligned labels right above a table's rows is its header, not a row of buttons."""
    for line, following in pairwise(lines):
        if line.kind is not Kind.TABLE_ROW and following.kind is Kind.TABLE_ROW and is_aligned_label_row(line.text):
            line.kind = Kind.TABLE_ROW
    return lines


def _drop_padding_blocks(lines: list[Line]) -> tuple[list[_Kept], Line | None]:
    """Drop padding lines and the blocks their headers open. Returns the kept lines and a summary's lead."""
    kept: list[_Kept] = []
    block = _Block.NONE
    summary_lead: Line | None = None
    summaries = 0
    for position, line in enumerate(lines):
        if line.kind in (Kind.TEASER_HEADER, Kind.SUMMARY_HEADER, Kind.ADVERT_HEADER, Kind.MARKER):
            block = {
                Kind.TEASER_HEADER: _Block.TEASERS,
                Kind.SUMMARY_HEADER: _Block.SUMMARY,
                Kind.ADVERT_HEADER: _Block.ADVERT,
            }.get(line.kind, _Block.NONE)
            summaries += line.kind is Kind.SUMMARY_HEADER
            continue
        if line.kind not in TEXT_KINDS:
            # Padding after an advert label was the advert itself (or another slot): the slot is over.
            # A teaser list or summary, though, can hold padding lines and goes on.
            block = _Block.NONE if block is _Block.ADVERT else block
            continue
        summary = None
        if block is _Block.TEASERS:
            # Teasers are headline-shaped items; the first real paragraph ends the list.
            if line.kind is not Kind.PROSE or line.words < 12:
                continue
            block = _Block.NONE
        elif block is _Block.SUMMARY:
            # A summary is bullets, a table or one short paragraph; a longer paragraph is the article itself.
            block_started = bool(kept) and kept[-1].summary == summaries
            if line.kind in (Kind.LIST_ITEM, Kind.TABLE_ROW) or (
                line.kind is Kind.PROSE
                and line.words <= MAX_SUMMARY_WORDS
                and summary_lead is None
                and not block_started
            ):
                summary = summaries
                if line.kind is Kind.PROSE:
                    summary_lead = summary_lead or line
            else:
                block = _Block.NONE
        elif block is _Block.ADVERT:
            block = _Block.NONE
            if line.words <= 25:  # the advert's own line; a long paragraph is the article resuming
                continue
        kept.append(_Kept(line, position, summary))
    return kept, summary_lead


def _drop_repeated_summaries(kept: list[_Kept]) -> list[_Kept]:
    """A summary block goes when the rest of the page says the same; otherwise it is the content."""
    blocks = {item.summary for item in kept if item.summary is not None}
    for block in blocks:
        inside = " ".join(item.line.text for item in kept if item.summary == block)
        rest = content_words(" ".join(item.line.text for item in kept if item.summary is None))
        share = overlap(inside, rest)
        if share is not None and share >= SUMMARY_REDUNDANT_SHARE:
            kept = [item for item in kept if item.summary != block]
    return kept


def _core_start(kept: list[_Kept]) -> int | None:
    """Where the article's running text begins: the first paragraph that another content line follows,
    or that is long and about what the rest of the page is about (a greeting or a consent notice is not)."""
    prose = [index for index, item in enumerate(kept) if item.line.kind is Kind.PROSE]
    for index in prose:
        if index + 1 < len(kept) and kept[index + 1].line.kind in _CONTENT:
            return index
        after = content_words(" ".join(item.line.text for item in kept[index + 1 :]))
        if _on_topic_paragraph(kept[index].line, after):
            return index
    return prose[0] if prose else None


def _find_title(kept: list[_Kept]) -> tuple[int | None, str | None]:
    """The headline: a level-1 heading, else the headline-shaped line before the article closest to its topic."""
    core = _core_start(kept)
    if core is None:
        return None, None
    # The headline stands above the dateline ("HONG KONG 1996-08-28"), which opens the article.
    head_end = next((index for index in range(core + 1) if _is_dateline(kept[index].line)), core + 1)
    candidates = [index for index in range(head_end) if _title_shaped(kept[index].line, index == core)]
    if not candidates:
        return None, None
    level_one = [index for index in candidates if kept[index].line.heading_level == 1]
    if level_one:
        return level_one[0], kept[level_one[0]].line.text
    context = content_words(" ".join(item.line.text for item in kept[core + 1 :]))
    fit = {index: _title_fit(kept[index].line.text, kept[max(core, index + 1) :]) for index in candidates}
    # The first line that fits about as well as the best: a kicker restating the headline comes after it.
    best = next(index for index in candidates if fit[index] >= TITLE_NEAR_BEST * max(fit.values()))
    above = kept[:best]
    if (
        len(above) > HEAD_MAX_LINES
        or sum(item.line.words for item in above) > HEAD_MAX_WORDS
        or any(_on_topic_paragraph(item.line, context) for item in above)
    ):
        best = candidates[0]  # the article starts above that headline (a wire table, say): do not cut it
    line = kept[best].line
    glued = _split_glued_deck(line.text)[1] is not None
    return best, _as_title(line.text) if line.kind is Kind.PROSE and not glued else line.text


def _title_fit(candidate: str, article: list[_Kept]) -> float:
    """Topic (content words) and language (every word) shared with the article: a masthead fits neither,
    the source-language headline of a translated piece only the first."""
    text = " ".join(item.line.text for item in article)
    return ((overlap(candidate, content_words(text)) or 0.0) + language_fit(candidate, words_of(text))) / 2


def _is_dateline(line: Line) -> bool:
    """A place and a date alone on a line: "LONDON 1996-08-25", "HAARLEM , Netherlands 1996-08-27"."""
    span = find_date_span(line.text) if line.words <= 8 else None
    if span is None:
        return False
    place = (line.text[: span[0]] + line.text[span[1] :]).replace(",", " ").split()
    return 1 <= len(place) <= 4 and all(word[0].isupper() and not re.search(r"\d", word) for word in place)


def _on_topic_paragraph(line: Line, context: set[str]) -> bool:
    """A paragraph of the article (not a masthead or a consent notice) above a candidate headline."""
    return line.kind is Kind.PROSE and line.words > 15 and (overlap(line.text, context) or 0.0) >= TEASER_MAX_OVERLAP


def _title_shaped(line: Line, is_core: bool) -> bool:
    if line.heading_level == 1:
        return True
    if line.kind is Kind.PROSE and _split_glued_deck(line.text)[1] is not None:
        return True
    if line.kind is Kind.PROSE:
        # A one-sentence first line ("GOLF - SCORES AT THE OPEN ."), never the article's running text.
        return not is_core and line.words <= 15 and bool(_ONE_SENTENCE.match(line.text))
    return line.kind in (Kind.HEADLINE, Kind.OTHER) and is_headline_like(line.text, line.words)


def _split_glued_deck(title: str) -> tuple[str, str | None]:
    """ "Headline — A deck sentence." -> ("Headline", "A deck sentence.")."""
    for separator in _GLUED_DECK.finditer(title):
        head, deck = title[: separator.start()].strip(), title[separator.end() :].strip()
        if len(head.split()) >= 3 and len(deck.split()) >= 6 and re.search(r"[.!?]$", deck) and deck[0].isupper():
            return head, deck
    return title, None


def _standfirst(title: _Kept, body: list[_Kept], lines: list[Line]) -> tuple[str | None, list[_Kept]]:
    """A one-sentence paragraph between the headline and the byline or dateline is the deck."""
    if len(body) < 2 or body[0].line.kind is not Kind.PROSE or not _ONE_SENTENCE.match(body[0].line.text):
        return None, body
    deck, after = body[0], body[1]
    between = lines[deck.position + 1 : after.position]
    if deck.position == title.position + 1 and any(line.kind is Kind.METADATA for line in between):
        return deck.line.text, body[1:]
    return None, body


def is_teaser_headline(line: Line) -> bool:
    low, high = TEASER_HEADLINE_WORDS
    numbers = sum(1 for word in line.text.split() if any(ch.isdigit() for ch in word))
    return (
        line.kind in (Kind.HEADLINE, Kind.OTHER)
        and not _FACT_ROW.match(line.text)
        and not _DAY_OF_MONTH.search(line.text)
        and "(" not in line.text  # "Team ( Country )": a results or draw row
        and low <= line.words <= high
        and numbers <= 1
        and line.text[0].isupper()
        and not line.text.endswith((".", ",", ";", ":"))
    )


def is_teaser_deck(line: Line) -> bool:
    return line.kind is Kind.PROSE and line.words <= TEASER_DECK_MAX_WORDS and bool(_ONE_SENTENCE.match(line.text))


def _drop_teaser_runs(body: list[_Kept]) -> list[_Kept]:
    dropped = teaser_runs([item.line for item in body])
    return [item for index, item in enumerate(body) if index not in dropped]


def teaser_runs(lines: list[Line]) -> set[int]:
    """Indices of runs of two or more teasers (headline, optional one-sentence deck) about other stories,
    with the label announcing a run: the rhythm and the topical distance, whatever the wording."""
    items: list[tuple[int, int]] = []
    index = 0
    while index < len(lines):
        if is_teaser_headline(lines[index]):
            end = index + 1
            if end < len(lines) and is_teaser_deck(lines[end]):
                end += 1
            items.append((index, end))
            index = end
        else:
            index += 1
    runs: list[list[tuple[int, int]]] = []
    for item in items:
        if runs and runs[-1][-1][1] == item[0]:
            runs[-1].append(item)
        else:
            runs.append([item])
    # Teasers come as headline + deck pairs; bare headlines are a teaser list only where a label announces
    # them: a run of bare lines in wire copy is a draw, a fixture list or a fact sheet.
    runs = [
        run
        for run in runs
        if len(run) >= 2
        and (
            sum(end - start == 2 for start, end in run) * 2 > len(run)
            or (run[0][0] > 0 and _is_label(lines[run[0][0] - 1]))
        )
    ]
    if not runs:
        return set()
    in_runs = {index for run in runs for start, end in run for index in range(start, end)}
    context = content_words(" ".join(line.text for index, line in enumerate(lines) if index not in in_runs))
    dropped: set[int] = set()
    for run in runs:
        distant = [
            (overlap(" ".join(line.text for line in lines[start:end]), context) or 0.0) < TEASER_MAX_OVERLAP
            for start, end in run
        ]
        if sum(distant) * 2 > len(distant):
            dropped.update(index for start, end in run for index in range(start, end))
            header = run[0][0] - 1  # a short label announcing the run ("Elsewhere on the site")
            if header >= 0 and _is_label(lines[header]) and not overlap(lines[header].text, context):
                dropped.add(header)
    return dropped


def _is_label(line: Line) -> bool:
    """A short section label ("Elsewhere on the site"); a line with figures (a dateline, a score) is not one,
    nor a lead-in ending in a colon ("Second round draw:"), which introduces the article's own list."""
    return (
        line.kind in (Kind.HEADLINE, Kind.OTHER)
        and line.words <= 6
        and not line.text.endswith((".", ":"))
        and not re.search(r"\d", line.text)
    )


def _drop_trailing_labels(body: list[_Kept]) -> list[_Kept]:
    """Interface text left at the end ("Manage preferences"): a sentence-case label sharing nothing with the article."""
    while len(body) > 1:
        last = body[-1].line
        context = content_words(" ".join(item.line.text for item in body[:-1]))
        capitals = sum(1 for word in last.text.split() if word[:1].isupper())
        if not (_is_label(last) and capitals <= 1 and not re.search(r"\d", last.text)):
            break
        if overlap(last.text, context):
            break
        body = body[:-1]
    return body


def _is_heading(line: Line, following: Line | None) -> bool:
    if following is None or following.kind not in _CONTENT or line.kind not in (Kind.HEADLINE, Kind.OTHER):
        return False
    if line.heading_level > 1:
        return True
    text = line.text
    return (
        1 <= line.words <= HEADING_MAX_WORDS
        and text[0].isupper()
        and not re.search(r"[.,;:!?]$|\d", text)
        and not text.isupper()
    )


def _join(body: list[Line]) -> tuple[str, list[Heading]]:
    """The body text (rows of one table or list on consecutive lines) and where its headings are."""
    parts: list[str] = []
    headings: list[Heading] = []
    length = 0
    for index, line in enumerate(body):
        if parts:
            together = line.kind in _TABLE_OR_LIST and body[index - 1].kind is line.kind
            separator = "\n" if together else "\n\n"
            parts.append(separator)
            length += len(separator)
        following = body[index + 1] if index + 1 < len(body) else None
        if _is_heading(line, following):
            headings.append(Heading(text=line.text, start=length))
        parts.append(line.text)
        length += len(line.text)
    return "".join(parts), headings


def dateline_date(first_lines: list[str]) -> datetime | None:
    """A date in a dateline: "PHOENIX 1996-08-22", "AALBORG, Denmark, December 3, 2026 /X/ -- …"."""
    for line in first_lines:
        opening = re.split(r"\s+(?:--|-|—|–)\s+|\s+/[^/]+/\s+", line, maxsplit=1)[0]
        if len(opening.split()) <= 10 and (found := find_date(opening)):
            return found
    return None


def _head_date(kept: list[_Kept], title_at: int | None) -> datetime | None:
    """A date on a line above the headline (an edition line, a masthead)."""
    for item in kept[: title_at or 0]:
        if item.line.kind is not Kind.PROSE and (found := find_date(item.line.text)):
            return found
    return None


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
