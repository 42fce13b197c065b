"""An article page's text and metadata: trafilatura for the body, tuned for precision, and a
fast metadata reader of our own (meta tags, JSON-LD, ``rel=canonical``, ``lang``).

Measured on the article-extraction benchmark (``bench/ingest_extraction.py``):

* ``favor_precision`` and no comments beat trafilatura's defaults on heavy pages,
  where the defaults let teasers and reader comments through;
* trafilatura's ``fast`` mode (no readability/justext comparison) gives the same
  text on almost every page at about twice the speed; where it under-delivers it
  returns a scrap, so a short fast result is re-extracted in full mode;
* script, style, SVG and other non-text elements are stripped before trafilatura
  walks the tree: its pruning XPaths cost time per element, and none of those
  elements ever holds article text;
* trafilatura's own metadata pass (htmldate and friends) costs more than the
  body extraction, so title, author, date, site name, canonical URL and language
  come from the page's declared metadata instead;
* padding that survives inside the article container (paywall prompts, share
  bars, "Related" lists, credits) is dropped line by line (``padding_filter``),
  and so are runs of teasers kept as plain lines (the captured-text cleaner's
  headline + deck rhythm, far from the article's words);
* an extraction that is only a scrap falls back to the prose of the whole page;
* an extraction far shorter than the page's densest block of paragraphs (a
  paywall teaser kept and the article dropped, a magazine layout split into
  panels) is redone in full mode, and if still short, joined with the dense
  block in page order;
* the markup's structure (``page_structure``): link blocks about other things are
  cut before extraction, the deck under the ``<h1>`` becomes ``subtitle``, and
  ``<h2>``–``<h4>`` over the article's paragraphs become its headings.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import trafilatura
from lxml import etree
from lxml.html import HtmlElement, HTMLParser, fromstring
from trafilatura.settings import MANUALLY_CLEANED, Document

from services.ingest.extract.captured_text import TEASER_DECK_MAX_WORDS, teaser_runs
from services.ingest.extract.charset import text_to_clean_utf8, to_clean_utf8
from services.ingest.extract.dates import parse_date
from services.ingest.extract.lines import Facts, Kind, Line, LineKinds, classify, word_count
from services.ingest.extract.padding_filter import drop_padding_lines
from services.ingest.extract.page_structure import (
    clean_space,
    densest_paragraphs,
    drop_foreign_blocks,
    drop_photo_credits,
    drop_teaser_cards,
    markup_author,
    place_headings,
    place_lists,
    read_structure,
)
from shared.messages import OriginalSource

# Elements that never hold article text and only slow trafilatura's tree walks: trafilatura's
# own discard list (MANUALLY_CLEANED), less the elements it treats with care before discarding
# (forms, which wrap whole pages on some sites; figures holding tables; math; asides, whose
# removal cost must-contain segments on trafilatura-eval; the head), plus templates and meta
# tags once their metadata is read.
_DIALOGS = "//*[@role='dialog' or @role='alertdialog' or @aria-modal='true']"
_NON_TEXT_TAGS = tuple(sorted({*MANUALLY_CLEANED, "template", "meta"} - {"form", "figure", "math", "head", "aside"}))
# A fast extraction is redone in full mode when it looks like a miss: a scrap of text, or
# a short text that is a small share of what the page shows.
FULL_MODE_BELOW_CHARS = 600
SHORT_ARTICLE_CHARS = 1500
MIN_SHARE_OF_PAGE = 0.1
# An extraction under this share of the page's densest block of paragraphs missed the article.
MIN_SHARE_OF_DENSEST_BLOCK = 0.5
# Elements whose text is one line of the page, for joining an extraction with the densest block.
_MERGED_TAGS = ("p", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "pre")
# A line this long printed again inside another line is a pull quote; shorter ones ("Yes.") recur by chance.
PULL_QUOTE_MIN_WORDS = 6
PULL_QUOTE_MAX_WORDS = 60
PULL_QUOTE_MAX_REPEATS = 3
# A line this short naming the site is the site talking about itself; a paragraph naming it is reporting.
SELF_PROMOTION_MAX_WORDS = 30
# Self-promotion closes an article: it is looked for in the last third of its lines.
SELF_PROMOTION_TAIL_SHARE = 3
# Shorter site names ("bbc") turn up inside ordinary words.
SITE_NAME_MIN_CHARS = 5
# A closing line this short without a sentence's end is a heading or a label, not the article's last words.
TRAILING_HEADING_MAX_WORDS = 8
SECTION_LABEL_MAX_WORDS = 3
# Shorter than this and without a sentence, an extraction is a scrap (a menu, a button label).
MIN_TEXT_CHARS = 200
_TRAFILATURA_OPTIONS: dict[str, Any] = {
    "favor_precision": True,
    "include_comments": False,
    "include_tables": True,
    "with_metadata": False,
}
_PARSER = HTMLParser(encoding="utf-8", collect_ids=False, default_doctype=False, remove_comments=True, remove_pis=True)
# schema.org's Article types a news page declares (NewsArticle and its subtypes, blog and live-blog posts).
_ARTICLE_TYPES = {
    "article",
    "newsarticle",
    "reportagenewsarticle",
    "analysisnewsarticle",
    "backgroundnewsarticle",
    "opinionnewsarticle",
    "reviewnewsarticle",
    "askpublicnewsarticle",
    "blogposting",
    "liveblogposting",
    "report",
}


@dataclass
class Page:
    text: str
    title: str | None = None
    author: str | None = None
    published_at: datetime | None = None
    site_name: str | None = None
    canonical_url: str | None = None
    language: str | None = None
    subtitle: str | None = None
    headings: list[str] = field(default_factory=list)
    description: str | None = None  # the summary the page declares for link previews
    original_source: OriginalSource | None = None  # the outlet a translation or attribution note names


def extract_page(html: str | bytes, url: str | None = None, charset: str | None = None) -> Page | None:
    """The article a page holds, or None when it holds no article text.

    ``charset`` is what the HTTP response declared, if the page was fetched.
    """
    document = text_to_clean_utf8(html) if isinstance(html, str) else to_clean_utf8(html, charset)
    tree = _parse(document)
    if tree is None:
        return None
    page = read_metadata(tree, url)
    page.author = page.author or markup_author(tree)
    article = _prepare(tree, page.title)
    structure = read_structure(tree, article, page.description)  # read before trafilatura prunes the tree
    page_chars = len(tree.text_content())
    densest = "\n".join(clean_space(paragraph.text_content()) for paragraph in article)
    text = _body_text(tree, url)
    missed_dense = len(text) < MIN_SHARE_OF_DENSEST_BLOCK * len(densest)
    if (
        len(text) < FULL_MODE_BELOW_CHARS
        or (len(text) < SHORT_ARTICLE_CHARS and len(text) < MIN_SHARE_OF_PAGE * page_chars)
        or missed_dense
    ):
        # trafilatura prunes the tree it is given, so the full-mode pass needs a fresh one.
        fresh = _parse(document)
        if fresh is not None:
            _prepare(fresh, page.title)
        full_text = _body_text(fresh, url, fast=False) if fresh is not None else ""
        text = full_text if len(full_text) > len(text) else text
    if len(text) < MIN_SHARE_OF_DENSEST_BLOCK * len(densest):
        text = _with_dense_block(document, page.title, text)
    kinds = LineKinds()  # the passes below ask about the same lines
    text = _without_teaser_runs(drop_padding_lines(place_lists(text, structure.lists), kinds), kinds)
    page.original_source = kinds.original_source()
    if _is_scrap(text, kinds):  # nothing, or a few words of navigation
        text = _fallback_text(document)
    text = _without_trailing_headings(_without_self_promotion(text, page, kinds), kinds)
    text = _without_repeats(text, [page.author, structure.deck])
    text, page.headings = place_headings(text, structure.headings)
    page.subtitle = structure.deck
    page.text = text
    return page if text else None


def _prepare(tree: HtmlElement, title: str | None) -> list[HtmlElement]:
    """Strip what never holds article text and the blocks about other things; the article's paragraphs."""
    _strip_non_text(tree)
    drop_photo_credits(tree)
    article = densest_paragraphs(tree)
    drop_teaser_cards(tree, article)
    drop_foreign_blocks(tree, article, title)
    return article


def _with_dense_block(document: bytes, title: str | None, extracted: str) -> str:
    """The extraction joined with the densest block's paragraphs, in page order: a visible teaser
    paragraph above a hidden full body, or one panel of a magazine layout beside the main one."""
    tree = _parse(document)
    if tree is None:
        return extracted
    article = set(_prepare(tree, title))
    # trafilatura writes list items with a leading "- ".
    extracted_lines = {re.sub(r"^- ", "", line.strip()) for line in extracted.split("\n") if line.strip()}
    merged: dict[str, None] = {}  # in page order, each line once
    for element in tree.iter(*_MERGED_TAGS):
        text = clean_space(element.text_content())
        if text and (element in article or text in extracted_lines):
            merged.setdefault(text)
    return "\n".join(merged)


def _site_names(page: Page) -> set[str]:
    """The site's own name as it is written in running text: its declared name and its host's main label."""
    names = {page.site_name or ""}
    if page.canonical_url:
        host = urlsplit(page.canonical_url).hostname or ""
        labels = [label for label in host.split(".") if label != "www"]
        names.update(labels[:-1])  # not the top-level domain
    return {squeezed for name in names if len(squeezed := _squeezed(name)) >= SITE_NAME_MIN_CHARS}


def _without_self_promotion(text: str, page: Page, kinds: LineKinds) -> str:
    """Short lines closing the text that name the site itself ("follow us", "get our app", "more on"), on a page
    whose title and paragraphs do not name it: a page about the site (an about page, a product, a company's
    own news) names it throughout, and is left alone."""
    names = _site_names(page)
    if not names:
        return text
    lines = text.split("\n")
    prose = (line for line in lines if len(line.split()) > SELF_PROMOTION_MAX_WORDS)
    told = _squeezed(" ".join([page.title or "", *prose]))
    names = {name for name in names if name not in told}
    if not names:
        return text
    tail = len(lines) - len(lines) // SELF_PROMOTION_TAIL_SHARE  # such lines close an article
    return "\n".join(
        line
        for index, line in enumerate(lines)
        if index < tail
        or len(line.split()) > SELF_PROMOTION_MAX_WORDS
        or not any(name in _squeezed(line) for name in names)
        or kinds(line).kind is Kind.ATTRIBUTION  # "Originally published on …" says where the article is from
    )


def _squeezed(text: str) -> str:
    return re.sub(r"\W", "", text.casefold())


def _without_trailing_headings(text: str, kinds: LineKinds) -> str:
    """Heading-shaped lines closing the text ("More from the region", "Photos: Agency"): a heading with nothing
    under it labelled a block that was cut, or is a credit. And a section label over the opening headline."""
    lines = text.split("\n")
    while len(lines) > 1 and _is_bare_heading(kinds(lines[-1])):
        lines.pop()
    # A label of a word or three right above a headline opening the text is the section over it ("Press releases").
    while (
        len(lines) > 1
        and _is_bare_heading(label := kinds(lines[0]))
        and label.words <= SECTION_LABEL_MAX_WORDS
        and kinds(lines[1]).kind is Kind.HEADLINE
    ):
        lines.pop(0)
    return "\n".join(lines)


def _is_bare_heading(line: Line) -> bool:
    return (
        line.kind in (Kind.HEADLINE, Kind.OTHER, Kind.TEASER_HEADER)
        and line.words <= TRAILING_HEADING_MAX_WORDS
        and line.text[:1].isupper()  # a command or a code line is not one
        and not re.search(r"[.!?…:\"”»)]$|\d|[,;=/]", line.text)  # nor a signature ("Ana, the editors")
    )


def _without_teaser_runs(text: str, kinds: LineKinds) -> str:
    """Teasers extraction kept as plain lines (cards without links, "Read next" pairs): the captured-text
    cleaner's headline + deck rhythm and topical distance."""
    lines = text.split("\n")
    # A line longer than any teaser's deck only breaks a run: it need not be classified (a long page has
    # thousands of them).
    dropped = teaser_runs(
        [
            kinds(line)
            if (words := word_count(line)) <= TEASER_DECK_MAX_WORDS
            else Line(line, Kind.PROSE, Facts(), words=words)
            for line in lines
        ]
    )
    return "\n".join(line for index, line in enumerate(lines) if index not in dropped)


def _without_repeats(text: str, read_apart: list[str | None]) -> str:
    """Lines that repeat what the page says elsewhere: the byline and deck (read into their own fields),
    and pull quotes (a passage of the body printed again large, on a line of its own)."""
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    apart = {clean_space(item) for item in read_apart if item}
    quotes = _pull_quotes(lines)
    return "\n".join(
        line
        for index, line in enumerate(lines)
        if re.sub(r"^- ", "", line) not in apart and index not in quotes  # a deck set as a list item too
    )


def _pull_quotes(lines: list[str]) -> set[int]:
    """Short lines printed again inside another line. Each line's runs of words are looked up among the
    openings of the short lines, so the page is read once, not once per pair of lines."""
    openings: dict[tuple[str, ...], list[int]] = {}
    for index, line in enumerate(lines):
        words = tuple(line.split())
        if PULL_QUOTE_MIN_WORDS <= len(words) <= PULL_QUOTE_MAX_WORDS:
            openings.setdefault(words[:PULL_QUOTE_MIN_WORDS], []).append(index)
    # An opening that many lines share is a template (a listing's rows), not a quote printed twice.
    openings = {run: indices for run, indices in openings.items() if len(indices) <= PULL_QUOTE_MAX_REPEATS}
    repeated: set[int] = set()
    for holder, line in enumerate(lines):
        words = tuple(line.split())
        for start in range(len(words) - PULL_QUOTE_MIN_WORDS + 1):
            for index in openings.get(words[start : start + PULL_QUOTE_MIN_WORDS], ()):
                if index != holder and lines[index] != line and lines[index] in line:
                    repeated.add(index)
    return repeated


def _parse(document: bytes) -> HtmlElement | None:
    try:
        tree = fromstring(document, parser=_PARSER)
    except (ValueError, etree.ParserError):
        return None
    return tree if tree is not None and len(tree) else None


def _strip_non_text(tree: HtmlElement) -> HtmlElement:
    etree.strip_elements(tree, *_NON_TEXT_TAGS, with_tail=False)
    # A dialog (ARIA's role, or a modal) sits over the page, asking for consent or a subscription; it is
    # never the article, and a long consent text would otherwise be taken for its densest block.
    for dialog in tree.xpath(_DIALOGS):
        if dialog.getparent() is not None:
            dialog.drop_tree()
    return tree


def _body_text(tree: HtmlElement, url: str | None, fast: bool = True) -> str:
    document = trafilatura.bare_extraction(tree, url=url, fast=fast, **_TRAFILATURA_OPTIONS)
    return document.text.strip() if isinstance(document, Document) and document.text else ""


def _is_scrap(text: str, kinds: LineKinds) -> bool:
    if len(text) >= MIN_TEXT_CHARS:
        return False
    return not any(kinds(line).kind is Kind.PROSE for line in text.split("\n") if line.strip())


def _fallback_text(document: bytes) -> str:
    """When trafilatura finds no article: the prose among the page's visible text (trafilatura's baseline)."""
    tree = _parse(document)
    if tree is None:
        return ""
    _, text, _ = trafilatura.baseline(tree)
    return "\n".join(line.strip() for line in text.split("\n") if classify(line).kind is Kind.PROSE)


# -- metadata -----------------------------------------------------------------


def read_metadata(tree: HtmlElement, url: str | None) -> Page:
    """Title, author, date, site name, canonical URL and language a page declares."""
    meta = _meta_tags(tree)
    linked = list(_json_ld_articles(tree))
    canonical = _first(tree.xpath("//link[@rel='canonical']/@href")) or meta.get("og:url")
    return Page(
        text="",
        title=_title(tree, meta, linked),
        author=_author(tree, meta, linked),
        published_at=_published(tree, meta, linked),
        site_name=_clean(meta.get("og:site_name") or _ld_name(linked, "publisher") or meta.get("application-name")),
        canonical_url=urljoin(url or "", canonical.strip()) if canonical and canonical.strip() else None,
        language=_language(tree, meta),
        description=_clean(meta.get("description") or meta.get("og:description")),
    )


def _meta_tags(tree: HtmlElement) -> dict[str, str]:
    found: dict[str, str] = {}
    for element in tree.iter("meta"):
        key = element.get("property") or element.get("name") or element.get("itemprop") or element.get("http-equiv")
        content = element.get("content")
        if key and content and content.strip():
            found.setdefault(key.strip().lower(), content.strip())
    return found


def _json_ld_articles(tree: HtmlElement) -> Iterator[dict[str, Any]]:
    for script in tree.xpath("//script[@type='application/ld+json']"):
        try:
            data = json.loads(script.text or "")
        except (ValueError, RecursionError):
            continue
        yield from (item for item in _ld_items(data) if _ld_is_article(item))


def _ld_items(data: Any) -> Iterator[dict[str, Any]]:
    if isinstance(data, list):
        for item in data:
            yield from _ld_items(item)
    elif isinstance(data, dict):
        yield data
        if isinstance(data.get("@graph"), list):
            yield from _ld_items(data["@graph"])


def _ld_is_article(item: dict[str, Any]) -> bool:
    kinds = item.get("@type")
    names = kinds if isinstance(kinds, list) else [kinds]
    return any(isinstance(name, str) and name.lower() in _ARTICLE_TYPES for name in names)


def _ld_name(items: list[dict[str, Any]], key: str) -> str | None:
    for item in items:
        names = _ld_names(item.get(key))
        if names:
            return ", ".join(names)
    return None


def _ld_names(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value] if value.strip() and not value.startswith("http") else []
    if isinstance(value, dict):
        return _ld_names(value.get("name"))
    if isinstance(value, list):
        return [name for item in value for name in _ld_names(item)]
    return []


def _title(tree: HtmlElement, meta: dict[str, str], linked: list[dict[str, Any]]) -> str | None:
    headline = next((item["headline"] for item in linked if isinstance(item.get("headline"), str)), None)
    candidates = [meta.get("og:title"), headline, meta.get("twitter:title")]
    headings = [" ".join(h.itertext()).strip() for h in tree.iter("h1")]
    if len([h for h in headings if h]) == 1:
        candidates.append(headings[0] if headings[0] else None)
    candidates.append(_title_tag(tree))
    return next((title for candidate in candidates if (title := _clean(candidate))), None)


def _title_tag(tree: HtmlElement) -> str | None:
    """The <title>, without the " | Site name" most sites append."""
    text = _first(tree.xpath("//head/title/text()"))
    if not text:
        return None
    parts = [part.strip() for part in re.split(r"\s+[|–—·»-]\s+", text) if part.strip()]
    return max(parts, key=len) if parts else None


def _author(tree: HtmlElement, meta: dict[str, str], linked: list[dict[str, Any]]) -> str | None:
    declared = meta.get("author") or meta.get("article:author") or meta.get("byl") or meta.get("parsely-author")
    if declared and declared.startswith("http"):
        declared = None
    candidate = _ld_name(linked, "author") or declared
    if not candidate:
        byline = _first(tree.xpath("//*[@itemprop='author' or @rel='author']"))
        candidate = " ".join(byline.itertext()) if isinstance(byline, HtmlElement) else None
    cleaned = _clean(re.sub(r"(?i)^by\s+", "", candidate or ""))
    return cleaned if cleaned and len(cleaned) <= 120 else None


def _published(tree: HtmlElement, meta: dict[str, str], linked: list[dict[str, Any]]) -> datetime | None:
    ld_dates = [item.get("datePublished") for item in linked]
    keys = ("article:published_time", "og:published_time", "datepublished", "pubdate", "publishdate", "date")
    candidates = [
        *ld_dates,
        *(meta.get(key) for key in keys),
        meta.get("dc.date") or meta.get("dcterms.created") or meta.get("parsely-pub-date"),
        _first(tree.xpath("//time[@datetime]/@datetime")),
    ]
    for candidate in candidates:
        if isinstance(candidate, str) and (parsed := parse_date(candidate)):
            return parsed
    return None


def _language(tree: HtmlElement, meta: dict[str, str]) -> str | None:
    declared = tree.get("lang") or meta.get("content-language") or meta.get("og:locale") or meta.get("language")
    if not declared:
        return None
    code = re.split(r"[-_,;\s]", declared.strip().lower(), maxsplit=1)[0]
    return code if re.fullmatch(r"[a-z]{2,3}", code) else None


def _first(values: list[Any]) -> Any:
    return values[0] if values else None


def _clean(text: str | None) -> str | None:
    if not text:
        return None
    collapsed = re.sub(r"\s+", " ", text).strip()
    return collapsed or None
