"""What kind of line a line of captured page text is.

Aggregators and news sites pad an article with lines of a few recognisable
kinds: navigation, bylines and read-time stamps, share bars, paywall prompts,
adverts, teaser lists, summaries, emoji UI markers, terminal-style status lines
and "how we report" footers. Each rule here describes one such kind of line
(its shape and its vocabulary), never the exact text of one site, and reads the
facts a padding line carries (author, date, source, verified flag, topic).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum

from services.ingest.extract.attribution import attribution_in_padding
from services.ingest.extract.dates import find_date, find_date_span
from shared.messages import OriginalSource


class Kind(Enum):
    PROSE = "prose"  # a sentence or paragraph of the article
    HEADLINE = "headline"  # headline-shaped: the title, a crosshead, or a teaser
    LIST_ITEM = "list_item"
    TABLE_ROW = "table_row"  # a markdown pipe row or an aligned plain-text row (results, standings, prices)
    OTHER = "other"  # short text of no recognised kind
    NAVIGATION = "navigation"
    METADATA = "metadata"  # bylines, datelines, key=value status lines
    SHARE = "share"
    PAYWALL = "paywall"
    ADVERT = "advert"  # an advert line with its content
    ADVERT_HEADER = "advert_header"  # "Sponsored" alone: the advert is on the next line
    TEASER_HEADER = "teaser_header"  # "More in Economy", "Related": a list of other stories follows
    SUMMARY = "summary"  # "TL;DR: …" with its content
    SUMMARY_HEADER = "summary_header"  # "Key takeaways" alone: bullets or one short paragraph follow
    MARKER = "marker"  # an emoji section label ("💡 What changed"): the section itself is kept
    DISCLOSURE = "disclosure"  # footers about the site, rights, editorial standards, wire credits
    ATTRIBUTION = "attribution"  # a line naming where the item came from
    TERMINAL = "terminal"  # shell prompts, box-drawn UI rows, "LIVE [...]" status rows


# Kinds that can be article text; every other kind is padding.
TEXT_KINDS = frozenset({Kind.PROSE, Kind.HEADLINE, Kind.LIST_ITEM, Kind.TABLE_ROW, Kind.OTHER})


@dataclass
class Facts:
    """What padding lines say about the article."""

    author: str | None = None
    byline: str | None = None  # a desk or staff byline that names no person
    published_at: datetime | None = None
    source: str | None = None
    verified: bool | None = None
    original_source: OriginalSource | None = None
    section: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)

    def merge(self, other: Facts) -> None:
        """Keep the first value found for each fact: the head of a page is the most reliable."""
        for name in ("author", "byline", "published_at", "source", "verified", "original_source", "section"):
            if getattr(self, name) is None:
                setattr(self, name, getattr(other, name))
        for key, value in other.metadata.items():
            self.metadata.setdefault(key, value)


@dataclass
class Line:
    text: str  # the line with markup and leading symbols removed
    kind: Kind
    facts: Facts
    heading_level: int = 0  # markdown "#" count; 0 when the line is not a heading
    words: int = 0


class LineKinds:
    """Each distinct line of one document classified once: the HTML path's passes over a page's text (padding,
    teaser runs, closing lines) ask about the same short lines. The lines are shared between the passes, so
    only passes that read them may use this, never one that changes a line's kind."""

    def __init__(self) -> None:
        self._known: dict[str, Line] = {}

    def __call__(self, raw: str) -> Line:
        text = raw.strip()
        line = self._known.get(text)
        if line is None:
            line = self._known[text] = classify(text)
        return line

    def original_source(self) -> OriginalSource | None:
        """The outlet the first attribution line asked about names ("This interview first appeared in …"):
        the line itself is dropped as padding, what it says is kept."""
        return next((line.facts.original_source for line in self._known.values() if line.facts.original_source), None)


_BULLET_GLYPHS = "-*+•·◦▪‣–—▸▹►▶➤➢✓✔☑✗✘★☆◆◇■□●○"
_BULLET = re.compile(r"^(?:[" + re.escape(_BULLET_GLYPHS) + r"]|\d{1,2}[.)])\s+")
# "• • item", "- - item": a marker doubled by a copy from a rendered list.
_REPEATED_BULLET = re.compile(r"^([" + re.escape(_BULLET_GLYPHS) + r"])(?:\s+\1)+\s+")
# A row of a markdown table, or of a plain-text table aligned with runs of spaces.
_PIPE_ROW = re.compile(r"^\|.*\|$")
_COLUMN_GAP = re.compile(r"\S(?: {2,}|\t)\S")
_NUMBER = re.compile(r"^[-+(]?[$€£]?\d[\d,.:/-]*%?\)?$|^[-+]$|^unch$", re.I)
_SENTENCE_END = re.compile(r"[.!?…。！？][\"'”’)\]»」』]*$")
# Han, kana and hangul: scripts written without spaces between words.
_UNSPACED_SCRIPT = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")
_SEPARATORS = re.compile(r"\s*\|\s*|\s+[·•‧∙]\s+|\s{2,}|\s+[—–]\s+(?=\S)")
# A label followed by its content on the same line: "TL;DR: …", "Related ▸ …".
_INLINE_LABEL = re.compile(r"^[^:▸]{1,40}?\s*[:▸]\s*\S")
# Attribution prose is about this item ("This briefing began from…"); prose naming another
# publication ("The study was first published by…") is part of the article.
_SELF_REFERENCE = re.compile(
    r"(?i)^(?:translat\w*|this\s+(?:story|article|brief|briefing|digest|report|piece|item|summary|post)|original|source|via"
    r"|this\s+[\w-]+\s+(?:was\s+)?(?:first|originally)\s+(?:appeared|published|ran|reported)"
    r"|first\s+(?:reported|published)|read\s+the\s+original|adapted|reprinted|republished|courtesy)"
)
_KEY_VALUE = re.compile(r"(?<![\w/])(?P<key>[a-zA-Z_][\w.-]{0,30})=(?P<value>(?:[·•]\s+)?[^\s=]*)")
_STATUS_ROW = re.compile(r"^(?:[A-Z]{2,}\s*\[|\[[A-Z][A-Z ]{1,20}\s*[·|:-]\s*[\w-]+\])")
_BRACKET_TAG = re.compile(r"\[(?P<kind>[A-Z][A-Z ]{1,20}?)\s*[·|:-]\s*(?P<id>[\w-]+)\]")
# A command line as a terminal-styled page prints it: "$ cmd", "user@host:~$ cmd", ">>> call()", "cd /path".
_SHELL_PROMPT = re.compile(
    r"^(?:[$%#❯➜λ]\s+\S|>>>\s*\S|[\w.-]+@[\w.-]+(?::\S*)?\s*[$#%>]|cd\s+[/~.]|ls\s+-|cat\s+[/~.])"
)
# Key hints of a text UI: "[q] quit  [n] next".
_KEY_HINTS = re.compile(r"^(?:\[\w{1,5}\]\s*[\w-]+\s*){2,}$")
# A label saying a machine made the text: "Summary generated by …", "Generated with …" (no verb before it:
# "The report was compiled by the ministry." is news).
_GENERATED_LABEL = re.compile(
    r"(?i)^(?:[\w-]+\s+){0,2}(?:generated|produced|compiled|assembled|created|written|summari[sz]ed|curated"
    r"|powered|auto-?generated)\s+(?:by|with|using)\b"
)
# A list of the sources an aggregator drew on ("Sources: A, B and 4 more"): the credit, not the article.
_SOURCE_LIST = re.compile(r"(?i)^sources\s*:")
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
# A question to the reader with reaction buttons after it ("Was this helpful? 👍 👎").
_FEEDBACK_WIDGET = re.compile(r"\?\s*(?:[\U0001F300-\U0001FAFF\u2600-\u27BF]\s*){2,}$")
_NOT_A_LABEL_VERB = re.compile(r"(?i)^(?:\w+\s+)?(?:was|were|is|are|been|be|has|have|had)\s")
_BOX_DRAWING = re.compile(r"^[\u2500-\u257F]")
_BREADCRUMB_SPLIT = re.compile(r"\s*(?:/|>|›|»|→|\\)\s*")

# An imperative that opens a sentence ("Subscribe to…", "Register to…") is a prompt only when the line
# also speaks of access ("Upgrade work on the bridge…" and "Register to vote…" are news).
_PAYWALL_IMPERATIVE = re.compile(
    r"(?i)(?:^|[.!?]\s+|🔒\s*)(?:subscribe|register|sign\s?up|sign\s?in|log\s?in|upgrade|join|unlock|become\s+a\s+member)\b"
)
_ACCESS_CUE = re.compile(
    r"(?i)\b(?:you|your|account|reading|read|unlock|access|free|members?|subscri\w*|newsletter|club|premium|pro|plus"
    r"|continue|sign\s?in|log\s?in|already|here|now|today|comments?)\b|[?]"
)
_PAYWALL = re.compile(
    r"(?i)\bcreate\s+an?\s+(?:free\s+)?account\b"
    r"|\balready\s+(?:a\s+(?:member|subscriber)|registered|subscribed|have\s+an\s+account)\b"
    r"|\b(?:is|are)\s+(?:locked|for\s+(?:members|subscribers|premium\s+\w+))\b"
    r"|\bthis\s+(?:article|story|content)\s+is\s+(?:for|available\s+to|reserved\s+for)\b"
    r"|\b(?:keep|continue)\s+reading\b|\bread\s+the\s+full\s+(?:story|article)\b"
    r"|\b(?:\d+|two|three|one)\s+(?:more\s+)?(?:free\s+)?(?:articles|stories)\s+(?:a|per|this)\s+month\b"
    r"|\bfree\s+for\s+members\b|\bmembers?[- ]only\b|🔒"
    # A mailing's footer: why the reader gets it and how to stop it.
    r"|\bunsubscribe\b|\byou(?:'re|\s+are)\s+receiving\b|\bmanage\s+(?:your\s+)?(?:preferences|subscriptions?)\b"
)
# An advert label stands alone or before a separator ("Sponsored · …"); "Ad spending rose" is news.
_ADVERT_LABEL = re.compile(
    r"(?i)^(?:(?:advertisement|advert|ads?|sponsored(?:\s+(?:content|post|links?|stories))?|promoted(?:\s+content)?"
    r"|paid\s+(?:post|content|partnership)|partner\s+content|sponsors?)\s*(?:$|[·|:▸—–-]|(?=brought\s+to\s+you\b))"
    r"|brought\s+to\s+you\s+by\b)"
)
# "this feed is sponsored by x", "presented by x": a sponsor credit anywhere in a short line.
_SPONSOR_CREDIT = re.compile(r"(?i)\b(?:sponsored|presented|brought\s+to\s+you|supported|underwritten)\s+by\b")
_INLINE_ADVERT = re.compile(r"(?i)\b(?:sponsored|promoted)\b\s*[·|:▸—–-]")
_CALL_TO_ACTION = re.compile(
    r"(?i)(?:\b(?:learn\s+more|book\s+a\s+demo|try\s+(?:it\s+)?(?:free|now)|get\s+started|download(?:\s+now)?|"
    r"get\s+the\s+app|shop\s+now|sign\s+up|find\s+out\s+more|start\s+(?:your\s+)?free\s+trial|bet\s+responsibly)\b"
    r"|[→↗]\s*\S*\s*$)"
)
_TEASER_LABEL = re.compile(
    r"(?i)^(?:you\s+(?:may|might)\s+also\s+(?:like|enjoy)|more\s+(?:in|on|from|about)\b|related(?:\s+\w+)?$"
    r"|related\s*[:▸]|trending(?:\s+now)?|most\s+(?:read|popular|viewed|shared)|recommended(?:\s+for\s+you)?"
    r"|read\s+(?:more|next)|also\s+read|see\s+also|top\s+stories|latest(?:\s+(?:news|stories))?$|popular\s+now"
    r"|what\s+to\s+read\s+next|editors?'?\s+picks|further\s+reading|more\s+stories|up\s+next|don'?t\s+miss)"
)
_SUMMARY_LABEL = re.compile(
    r"(?i)^(?:tl;?\s?dr|key\s+(?:takeaways|points)|takeaways|in\s+brief|at\s+a\s+glance|summary|the\s+short\s+version"
    r"|quick\s+take|highlights|what\s+you\s+need\s+to\s+know|the\s+gist|[\w-]*\s*(?:second|minute)\s+(?:brief|read)"
    r"|the\s+brief|brief(?:ing)?\s+summary)\b"
)
# "How X reports:", "About our coverage:": a colon, since "How the plan works." is article prose.
_DISCLOSURE = re.compile(
    r"(?i)^(?:how|about)\b[^:.]{0,40}\b(?:reports?|works|covers?|coverage|sources?|standards|us|briefings?)\s*:"
    r"|\b(?:editorial|trust)\s+(?:standards|principles|policy|guidelines)\b|^our\s+standards\b"
    r"|\ball\s+rights\s+(?:reserved|belong)\b|©|\(c\)\s*\d{4}|^copyright\b"
    r"|\b(?:ai|machine)[- ](?:assembled|generated|assisted)\s+(?:digest|summary|brief|briefing)\b"
    r"|^we\s+use\s+cookies\b|\bcookie\s+(?:policy|settings|preferences)\b"
)
# A picture's caption or credit line ("Photo: …", "Image credit: …").
_MEDIA_CREDIT = re.compile(
    r"(?i)^(?:photo|image|picture|video|graphic|illustration|file\s+photo)(?:\s+credit)?\s*[:|/]"
)
_WIRE_CREDIT = re.compile(
    r"(?i)^(?:(?:additional\s+)?reporting|editing|writing|compiled|graphics|production)\s+by\s+[A-Z]"
)
_SHARE_WORDS = re.compile(
    r"(?i)^(?:share(?:\s+(?:on|via|this)\b.*)?|copy\s+link|email|e-mail|print|comment|comments|\d+\s+comments?|save"
    r"|bookmark|tweet|post|like|helpful|follow|listen|gift(?:\s+(?:this\s+)?article)?|reddit|facebook|linkedin"
    r"|whatsapp|x|twitter|telegram|pin|send|follow\s+us(?:\s+on\s+\w+)?|listen(?:\s+to\s+this\s+(?:article|story))?"
    r"|\d+\s+min(?:ute)?s?\s+listen)$"
)
# Words one of which a line must hold before the (slower) pattern of its kind is tried.
_PAYWALL_WORDS = (
    "subscri",
    "receiving",
    "manage",
    "regist",
    "sign",
    "log",
    "upgrade",
    "join",
    "unlock",
    "member",
    "account",
    "reading",
    "locked",
    "read the full",
    "month",
    "🔒",
)
_DISCLOSURE_WORDS = (
    "cookie",
    "standards",
    "principles",
    "policy",
    "guidelines",
    "rights",
    "©",
    "(c)",
    "copyright",
    "digest",
    "summary",
    "brief",
)
_CALL_TO_ACTION_WORDS = (
    "learn",
    "demo",
    "try ",
    "started",
    "download",
    "app",
    "shop",
    "sign up",
    "find out",
    "trial",
    "responsibly",
    "→",
    "↗",
)
_YEAR = re.compile(r"(?:19|20)\d\d")
# A label (any language) and an all-numeric date: "Posted: 03/04/2026", "Veröffentlicht 3.4.26".
_NUMERIC_DATE_ROW = re.compile(r"^[^\W\d_](?:[^\W\d_]| ){0,20}?:?\s*\b\d{1,2}[./-]\d{1,2}[./-](?:\d{4}|\d{2})$")
_SEGMENT_LABEL = re.compile(r"^[A-Za-z][\w -]{0,20}?\s*:\s*")
_COUNT = re.compile(r"(?i)^\d[\d,.]*k?\s+[a-z]+$")
_READ_TIME = re.compile(
    r"(?i)\b(?:\d+\s*[-‑]?\s*min(?:ute)?s?\s+read|read(?:ing)?(?:\s+time)?\s*:?\s*\d+\s*min(?:ute)?s?)\b"
)
_VIEWS = re.compile(r"(?i)\b(?:views?\s+[\d,.]+k?|[\d,.]+k?\s+views?)\b")
_RELATIVE_TIME = re.compile(
    r"(?i)\b(?:\d+\s+(?:seconds?|secs?|minutes?|mins?|hours?|hrs?|days?|weeks?)\s+ago|just\s+now|yesterday|today)\b"
)
_DATE_LABEL = re.compile(
    r"(?i)\b(?:published|updated|posted|first\s+published|last\s+updated|modified)\s*:?\s*(?:on\s+)?"
)
# "By X", "Updates by X", "Author: X", "Author:X".
_BY = re.compile(r"(?i)^(?:(?:\w+\s+)?by\s+|(?:author|writer|words|reporter|byline)\s*:\s*)(?P<name>[^.!?]{2,80})$")
_DESK = re.compile(r"(?i)\b(?:staff|newsroom|desk|team|reporters?|editors?|correspondents?|wire|bureau)$")
_PERSON_NAME = re.compile(r"^[A-Z][\w'’.-]+(?:\s+(?:[A-Z][\w'’.-]+|de|van|von|der|da|di|la|le|bin|al))+$")


def classify(raw: str) -> Line:
    """Classify one line (or one paragraph of joined lines) of captured text."""
    text, heading_level = _strip_markdown(raw)
    text = _REPEATED_BULLET.sub(r"\1 ", text)
    # A glyph that marks a list item ("✓ …", "▸ …") is kept: only decorative symbols are stripped.
    text, had_symbol = (text, False) if _BULLET.match(text) else _strip_leading_symbols(text)
    facts = Facts()
    words = word_count(text)
    kind = _classify_text(text, had_symbol, heading_level, words, facts)
    if kind not in TEXT_KINDS and facts.published_at is None:
        facts.published_at = _labelled_date(text)
    return Line(text=text, kind=kind, facts=facts, heading_level=heading_level, words=words)


def _classify_text(text: str, had_symbol: bool, heading_level: int, words: int, facts: Facts) -> Kind:
    if not text:
        return Kind.MARKER
    if heading_level:
        return _classify_heading(text)
    if _PIPE_ROW.match(text) and text.count("|") >= 2:  # a markdown table row: unambiguous, so first
        return Kind.TABLE_ROW
    if "=" in text and _terminal_facts(text, facts):
        return Kind.METADATA
    if _BOX_DRAWING.match(text) or _SHELL_PROMPT.match(text) or _STATUS_ROW.match(text) or _KEY_HINTS.match(text):
        _status_row_facts(text, facts)
        return Kind.TERMINAL
    short = words <= 40
    lowered = text.lower()
    if words <= 15 and (_is_share_bar(text) or _is_button_row(text) or _FEEDBACK_WIDGET.search(text)):
        return Kind.SHARE
    prose = _is_prose(text, words)
    if short and _has_any(lowered, _PAYWALL_WORDS) and _is_paywall(text):
        return Kind.PAYWALL
    if (
        _ADVERT_LABEL.match(text)
        or (short and _has_any(lowered, ("sponsored", "promoted")) and _INLINE_ADVERT.search(text))
        or (short and not prose and _SPONSOR_CREDIT.search(text))
    ):
        return Kind.ADVERT_HEADER if words <= 3 else Kind.ADVERT
    # Teaser and summary labels count only as a short label, or before an inline list or text
    # ("More in Economy", "TL;DR: …"); "Recommended doses were cut." and "Summary judgment…" are news.
    if _TEASER_LABEL.match(text) and (_has_inline_list(text) or (words <= 6 and not prose)):
        return Kind.TERMINAL if _has_inline_list(text) else Kind.TEASER_HEADER
    summary_label = _SUMMARY_LABEL.match(text)
    if summary_label and (_INLINE_LABEL.match(text) or (len(text[summary_label.end() :].split()) <= 1 and not prose)):
        return Kind.SUMMARY if _INLINE_LABEL.match(text) else Kind.SUMMARY_HEADER
    if short and (
        _is_disclosure(lowered)
        or _WIRE_CREDIT.match(text)
        or _MEDIA_CREDIT.match(text)
        or _is_generated_label(text)
        or _SOURCE_LIST.match(text)
        or (not prose and _is_contact_line(text))
    ):
        return Kind.DISCLOSURE
    if short and (not prose or _SELF_REFERENCE.match(text)) and (source := attribution_in_padding(text)):
        facts.original_source = source
        if _byline_facts(text, facts) or not _is_prose(text, words):
            return Kind.METADATA
        return Kind.ATTRIBUTION
    if words <= 12 and _is_breadcrumb(text):
        facts.section = "/".join(part.strip().lower() for part in _BREADCRUMB_SPLIT.split(text) if part.strip())
        return Kind.NAVIGATION
    if words <= 30 and not (prose and words >= 8) and _byline_facts(text, facts):
        return Kind.METADATA
    if words <= 4 and _NUMERIC_DATE_ROW.match(text):  # "Posted: 03/04/2026": a stamp, unreadable without a locale
        return Kind.METADATA
    if had_symbol and words <= 6 and not prose:
        return Kind.MARKER
    if short and not prose and _has_any(lowered, _CALL_TO_ACTION_WORDS) and _CALL_TO_ACTION.search(text):
        return Kind.ADVERT
    if is_table_row(text):
        return Kind.TABLE_ROW
    if _BULLET.match(text):
        return Kind.LIST_ITEM
    if prose:
        return Kind.PROSE
    if is_headline_like(text, words):
        return Kind.HEADLINE
    return Kind.OTHER


def is_table_row(text: str) -> bool:
    """A row of a table: markdown pipes, or cells aligned by runs of spaces, or a row of figures."""
    if _PIPE_ROW.match(text) and text.count("|") >= 2:
        return True
    if (_SENTENCE_END.search(text) and not text.endswith(")")) or _EMAIL.search(text):
        return False
    if _YEAR.search(text) and (span := find_date_span(text)):  # a dateline's figures are not a row's
        text = text[: span[0]] + text[span[1] :]
    tokens = text.split()
    numbers = sum(1 for token in tokens if _NUMBER.match(token))
    if len(_COLUMN_GAP.findall(text)) >= 2 and numbers:
        return True
    # Wire tables arrive single-spaced: "Harlow Rovers 14 10 3 1 31 12 33".
    return numbers >= 3 and numbers * 10 >= len(tokens) * 3 and len(tokens) <= 40


def is_aligned_label_row(text: str) -> bool:
    """Cells of a few words set apart by runs of spaces and no figures: a table's header, or a row of buttons."""
    cells = [cell for cell in re.split(r" {2,}|\t", text) if cell.strip()]
    return len(cells) >= 3 and all(len(cell.split()) <= 3 for cell in cells) and not re.search(r"\d", text)


def _is_button_row(text: str) -> bool:
    """A row of interface labels ("Refresh for updates · Turn on notifications", "Home | World"):
    short segments with no figures and no name in them (only a segment's first word is capitalised)."""
    segments = [part.strip() for part in re.split(r"\s*[·|•]\s*|\s{2,}", text) if part.strip()]
    if len(segments) < 2 or re.search(r"\d", text):
        return False
    return all(
        1 <= len(words := segment.split()) <= 5 and not any(word[0].isupper() for word in words[1:])
        for segment in segments
    )


def _labelled_date(text: str) -> datetime | None:
    """A date right after a segment's label ("Revised: 5 May 2027 · AI-assisted digest"): a padding line of
    another kind can still date the item. A date elsewhere in it ("offer ends 31 May 2027") does not."""
    for segment in _SEPARATORS.split(text):
        rest = _SEGMENT_LABEL.sub("", segment.strip(), count=1)
        span = find_date_span(rest) if _YEAR.search(rest) else None
        if span and span[0] == 0 and rest != segment.strip():
            return find_date(rest)
    return None


def _is_contact_line(text: str) -> bool:
    """ "Press contact: desk@x.example, +00 …": an address with a label or a phone; a bare address (a
    reporter's, under the article) is part of the article."""
    address = _EMAIL.search(text)
    return address is not None and len((text[: address.start()] + text[address.end() :]).split()) >= 2


def _is_generated_label(text: str) -> bool:
    return bool(_GENERATED_LABEL.match(text)) and not _NOT_A_LABEL_VERB.match(text) and word_count(text) <= 15


def _status_row_facts(text: str, facts: Facts) -> None:
    """A terminal-styled row can carry the item's date and source ("┌─ pub 2 Dec 2026 ─ src x.example")."""
    if text.startswith("cd "):
        facts.section = text[3:].strip().strip("/")
    if _YEAR.search(text):
        facts.published_at = find_date(text)
    if source := re.search(r"(?i)\b(?:src|source)\s*[=: ]\s*(?P<domain>[a-z0-9-]+(?:\.[a-z0-9-]+)+)", text):
        facts.source = source.group("domain").lower()


def _has_any(lowered: str, words: tuple[str, ...]) -> bool:
    return any(word in lowered for word in words)


def _is_disclosure(lowered: str) -> bool:
    gate = lowered.startswith(("how", "about", "our ")) or _has_any(lowered, _DISCLOSURE_WORDS)
    return gate and bool(_DISCLOSURE.search(lowered))


def _classify_heading(text: str) -> Kind:
    if _TEASER_LABEL.match(text):
        return Kind.TEASER_HEADER
    if _SUMMARY_LABEL.match(text):
        return Kind.SUMMARY_HEADER
    return Kind.HEADLINE


def word_count(text: str) -> int:
    """Words, with a line in an unspaced script (Chinese, Japanese) counted at about two characters a word."""
    spaced = len(text.split())
    if text.isascii():
        return spaced
    return max(spaced, len(_UNSPACED_SCRIPT.findall(text)) // 2)


def is_headline_like(text: str, words: int | None = None) -> bool:
    count = len(text.split()) if words is None else words
    if not 3 <= count <= 30 or len(text) > 220 or text[-1] in ".,;:":
        return False
    if not (text[0].isupper() or text[0].isdigit() or text[0] in "\"'“‘"):
        return False
    # An all-capitals label of a few words is a section header, not a title.
    return not (text.isupper() and count <= 6)


def _is_prose(text: str, words: int) -> bool:
    return (words >= 4 and bool(_SENTENCE_END.search(text))) or words >= 25


def _is_paywall(text: str) -> bool:
    if _PAYWALL.search(text):
        return True
    opening = _PAYWALL_IMPERATIVE.search(text)
    if not opening:
        return False
    rest = text[opening.end() :]
    return len(rest.split()) <= 2 or bool(_ACCESS_CUE.search(rest))


def _strip_markdown(raw: str) -> tuple[str, int]:
    text = raw.strip()
    if not any(mark in text for mark in "#>[*_"):
        return text, 0
    heading = re.match(r"^(#{1,6})\s+", text)
    level = len(heading.group(1)) if heading else 0
    if heading:
        text = text[heading.end() :].rstrip("#").strip()
    text = re.sub(r"^>(?!>>)\s?", "", text)  # a quote's marker; ">>>" is a prompt
    text = re.sub(r"!\[[^\]]*\]\([^)]*\)", "", text)  # images
    text = re.sub(r"\[([^\]]+)\]\(([^)\s]+)[^)]*\)", r"\1 \2" if _is_link_only_attribution(text) else r"\1", text)
    text = re.sub(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1", r"\2", text)
    text = re.sub(r"(?<![\w*])\*(?=\S)([^*]+?)(?<=\S)\*(?![\w*])", r"\1", text)
    return text.strip(), level


def _is_link_only_attribution(text: str) -> bool:
    """Keep a link's address in attribution lines: it is the original source's URL."""
    return bool(re.search(r"(?i)\b(?:original|source|via|first\s+(?:published|reported)|canonical)\b", text))


def _strip_leading_symbols(text: str) -> tuple[str, bool]:
    """Drop emoji and pictographs a line starts with; say whether there were any."""
    position = 0
    while position < len(text) and (
        unicodedata.category(text[position]) in ("So", "Sk", "Cf", "Mn") or text[position] in "\ufe0f\u200d "
    ):
        if _BOX_DRAWING.match(text[position]):
            break
        position += 1
    return text[position:].strip(), position > 0 and bool(text[:position].strip())


def _is_share_bar(text: str) -> bool:
    """A row of share/save/comment buttons: every segment is a button label."""
    cleaned = "".join(" " if unicodedata.category(ch) in ("So", "Sk") else ch for ch in text)
    segments = [part.strip() for part in re.split(r"\s*[·|•]\s*|\s{2,}", cleaned) if part.strip()]
    if not segments:
        return False
    buttons = sum(1 for segment in segments if _SHARE_WORDS.match(segment) or _PAYWALL.search(segment))
    return buttons == len(segments) and any(_SHARE_WORDS.match(segment) for segment in segments)


def _has_inline_list(text: str) -> bool:
    return bool(_INLINE_LABEL.match(text) or re.search(r"\s[·|•]\s", text))


def _is_breadcrumb(text: str) -> bool:
    parts = [part for part in _BREADCRUMB_SPLIT.split(text) if part]
    if text.startswith("http") or _SENTENCE_END.search(text) or _BULLET.match(text):  # a list item, not a trail
        return False
    # Two crumbs are navigation only when both are one- or two-word labels ("Travel / Mountains").
    if len(parts) < 2 or (len(parts) == 2 and any(len(part.split()) > 2 for part in parts)):
        return False
    if any(re.search(r"\d", part) for part in parts):  # "1/2 cup", "24/7", dates
        return False
    # Every crumb is a short label; a headline with a slash ("Stocks / bonds rally") has a long one.
    return all(len(part.split()) <= 3 and not re.search(r"[,;:!?\"“”]", part) for part in parts)


def _terminal_facts(text: str, facts: Facts) -> bool:
    """A `key=value` status line (and any "[KIND · id]" tag on it); its pairs become facts."""
    pairs = [(m.group("key").lower(), m.group("value").lstrip("·• ").strip()) for m in _KEY_VALUE.finditer(text)]
    if len(pairs) < 2:
        return False
    for key, value in pairs:
        if value:
            _read_key_value(key, value, facts)
    if tag := _BRACKET_TAG.search(text):
        facts.metadata.setdefault("item_kind", tag.group("kind").strip().lower())
        facts.metadata.setdefault("item_id", tag.group("id"))
    return True


_SOURCE_KEYS = {"src", "source", "site", "outlet", "publisher", "domain"}
_DATE_KEYS = {"pub", "published", "date", "published_at", "pubdate", "time"}
_VERIFIED_KEYS = {"verified", "trusted", "trust"}


def _read_key_value(key: str, value: str, facts: Facts) -> None:
    if key in _SOURCE_KEYS:
        facts.source = facts.source or value
    elif key in _DATE_KEYS:
        facts.published_at = facts.published_at or find_date(value)
    elif key in _VERIFIED_KEYS and value.lower() in ("true", "false", "yes", "no", "1", "0"):
        facts.verified = value.lower() in ("true", "yes", "1")
    else:
        facts.metadata.setdefault(key, value)


def _byline_facts(text: str, facts: Facts) -> bool:
    """A byline or dateline: every segment is an author, a desk, a date, a read time, a view count or "via X".

    Returns whether the line is one; only then are its facts recorded.
    """
    found = Facts()
    segments = [part.strip() for part in _SEPARATORS.split(text) if part and part.strip()]
    unrecognised = [segment for segment in segments if not _byline_segment(segment, found)]
    # A bare name is the author when the rest of the line is a dateline ("Ana Lima · Markets desk · 3 May 2026").
    bare_name = len(unrecognised) == 1 and len(segments) > 1 and len(unrecognised[0].split()) <= 3
    if bare_name and found.published_at and _PERSON_NAME.match(unrecognised[0]):
        found.author = found.author or unrecognised[0]
        unrecognised = []
    # A status row of short segments ("AI summary · 6 sources · updated 2 hours ago"): a count or a time
    # in it, every segment a label of a few words.
    short_segments = len(segments) >= 3 and all(len(segment.split()) <= 4 for segment in segments)
    if short_segments and 0 < len(unrecognised) < len(segments) and any(_COUNT.match(part) for part in segments):
        unrecognised = []
    if not segments or unrecognised:
        return False
    facts.merge(found)
    return True


def _byline_segment(segment: str, facts: Facts) -> bool:
    rest = _READ_TIME.sub(" ", segment)
    rest = _VIEWS.sub(" ", rest)
    rest = _RELATIVE_TIME.sub(" ", rest)
    if source := attribution_in_padding(rest):
        facts.original_source = facts.original_source or source
        rest = re.sub(r"(?i)\b(?:via|first\s+reported\s+by|originally\s+published\s+(?:by|in))\b.*$", " ", rest)
    if _YEAR.search(rest) and (span := find_date_span(rest)):
        facts.published_at = facts.published_at or find_date(rest)
        rest = rest[: span[0]] + " " + rest[span[1] :]
        rest = _DATE_LABEL.sub(" ", rest)
    rest = re.sub(r"(?i)\b(?:updated|published|posted|on|at)\b", " ", rest).strip(" ,·|-–—")
    if not rest:
        return True
    if by := _BY.match(rest):
        _read_byline(by.group("name"), facts)
        return True
    if _DESK.search(rest) and len(rest.split()) <= 5 and rest[0].isupper():
        facts.byline = facts.byline or rest
        return True
    return False


def _read_byline(name: str, facts: Facts) -> None:
    # "Marco Ferri, Reuters-style wire" -> the person; "Circuitry Daily staff" -> a desk.
    person = re.split(r"\s*,\s*|\s+(?:for|of|in)\s+", name.strip(), maxsplit=1)[0].strip()
    if _DESK.search(person) or not _PERSON_NAME.match(person.replace(" and ", " ")):
        facts.byline = facts.byline or name.strip()
    else:
        facts.author = facts.author or person
