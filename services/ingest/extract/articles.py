"""Turn one document into a clean article (the ingest stage's pure core: no network, no state).

What a submitter states in ``hints`` wins over what is read from the document;
what is read from the document wins over what is guessed (a domain as source
name, a first sentence as title).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import JsonValue

from services.ingest.extract.attribution import canonical_elsewhere
from services.ingest.extract.captured_text import clean_captured_text, dateline_date
from services.ingest.extract.dates import parse_date
from services.ingest.extract.html_page import Page, extract_page
from shared.errors import PermanentError
from shared.ids import article_id, canonical_url, domain_of
from shared.messages import (
    MAX_BODY_CHARS,
    ArticleIngested,
    DocumentSubmitted,
    Heading,
    OriginalSource,
    Source,
)

_MAX_TITLE_CHARS = 300
# C0 control characters other than tab and line breaks, and DEL: never text, and trouble for every consumer.
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass
class ReadFacts:
    """What ingest read from the document itself (the hints come on top)."""

    title: str | None = None
    subtitle: str | None = None
    headings: list[Heading] = field(default_factory=list)
    author: str | None = None
    published_at: datetime | None = None
    source: str | None = None
    verified: bool | None = None
    canonical: str | None = None
    language: str | None = None
    original_source: OriginalSource | None = None
    metadata: dict[str, JsonValue] = field(default_factory=dict)


def article_from_submission(submission: DocumentSubmitted) -> ArticleIngested:
    """The article in a document that carries its content (text, markdown, HTML or a record)."""
    # The submission's own url is where the document came from, unless a hint says otherwise.
    hints = {"url": submission.url, **submission.hints} if submission.url else submission.hints
    if submission.kind == "record":
        return article_from_record(hints)
    if submission.kind in ("text", "markdown"):
        return article_from_text(submission.content or "", hints)
    if submission.kind == "html":
        return article_from_html(submission.content or "", submission.url, hints)
    raise PermanentError("unsupported_kind", f"a {submission.kind!r} submission is fetched by the service first")


def article_from_text(text: str, hints: dict[str, Any]) -> ArticleIngested:
    """Plain text or markdown, possibly captured from an aggregator with its padding."""
    if not text.strip():
        raise PermanentError("empty_body", "the document is empty")
    cleaned = clean_captured_text(text)
    facts = cleaned.facts
    body = cleaned.body or _raw_body(text)
    metadata: dict[str, JsonValue] = dict(facts.metadata)
    if facts.section:
        metadata["section"] = facts.section
    if facts.byline:
        metadata["byline"] = facts.byline
    read = ReadFacts(
        title=cleaned.title,
        subtitle=cleaned.subtitle,
        # Offsets hold only while the body is used as written (not replaced by the raw text).
        headings=[Heading(text=heading.text, start=heading.start) for heading in cleaned.headings]
        if cleaned.body
        else [],
        author=facts.author,
        published_at=facts.published_at,
        source=facts.source,
        verified=facts.verified,
        original_source=facts.original_source,
        metadata=metadata,
    )
    return build_article(body, read, hints)


def article_from_html(
    html: str | bytes, url: str | None, hints: dict[str, Any], charset: str | None = None
) -> ArticleIngested:
    page = extract_page(html, _hint(hints, "url") or url, charset)
    if page is None:
        raise PermanentError("no_article_text", "no article text found in the page")
    return build_article(page.text, _facts_of_page(page, _hint(hints, "url") or url), hints, url)


def _heading_offsets(text: str, headings: list[str]) -> list[Heading]:
    """Where each heading line of the text starts."""
    found: list[Heading] = []
    start = 0
    for line in text.split("\n"):
        if line in headings:
            found.append(Heading(text=line, start=start))
        start += len(line) + 1
    return found


def article_from_record(record: dict[str, Any]) -> ArticleIngested:
    title, body = record.get("title"), record.get("body")
    if not isinstance(body, str) or not isinstance(title, str):
        raise PermanentError("invalid_record", "a record needs string fields 'title' and 'body'")
    return article_from_text(body, record)


def _facts_of_page(page: Page, url: str | None) -> ReadFacts:
    own_canonical, original = page.canonical_url, None
    if url and page.canonical_url:
        original = canonical_elsewhere(url, page.canonical_url, None)
        if original:  # a copy of another outlet's article: credit it, keep this page's own address
            own_canonical = None
    return ReadFacts(
        title=page.title,
        subtitle=page.subtitle,
        headings=_heading_offsets(page.text, page.headings),
        author=page.author,
        # A page that declares no date may still open with a dateline (a press release, wire copy).
        published_at=page.published_at or dateline_date(page.text.split("\n")[:3]),
        source=page.site_name,
        canonical=own_canonical,
        language=page.language,
        original_source=original or page.original_source,
    )


def build_article(body: str, read: ReadFacts, hints: dict[str, Any], url: str | None = None) -> ArticleIngested:
    cleaned_body = _CONTROL_CHARACTERS.sub("", body)
    shift = len(cleaned_body) - len(cleaned_body.lstrip())
    body = cleaned_body.strip()
    if not body:
        raise PermanentError("empty_body", "the document has no article text")
    url = _hint(hints, "url") or url
    address = read.canonical or url
    canonical = canonical_url(address) if address else None
    title = _CONTROL_CHARACTERS.sub(
        "", _hint(hints, "title") or read.title or _first_line(body)
    ).strip() or _first_line(body)
    body, truncated = truncate_body(body)
    source_name = _hint(hints, "source") or read.source
    source_domain = (
        domain_of(url)
        or domain_of(canonical)
        or (source_name if source_name and _looks_like_domain(source_name) else None)
    )
    return ArticleIngested(
        article_id=article_id(canonical, title, body),
        url=url,
        canonical_url=canonical,
        title=title[:_MAX_TITLE_CHARS],
        subtitle=read.subtitle,
        body=body,
        headings=_headings_in(body, read.headings, shift),
        body_truncated=truncated,
        source=Source(
            name=source_name or source_domain or "unknown",
            domain=source_domain,
            verified=_verified_hint(hints) if "verified" in hints else read.verified,
        ),
        author=_hint(hints, "author") or read.author,
        published_at=_date_hint(hints) or read.published_at,
        language_hint=_hint(hints, "language") or read.language,
        original_source=_original_source_hint(hints) or read.original_source,
        metadata=read.metadata,
    )


def _headings_in(body: str, headings: list[Heading], shift: int) -> list[Heading]:
    """Headings whose offsets still point at their text in the final body (control characters and
    truncation can move or cut it); one that no longer does is left out rather than mislocated."""
    located = [Heading(text=heading.text, start=heading.start - shift) for heading in headings]
    return [heading for heading in located if body[heading.start : heading.start + len(heading.text)] == heading.text]


def truncate_body(body: str) -> tuple[str, bool]:
    """Bodies over ``MAX_BODY_CHARS`` are cut at the last paragraph (or word) break before the limit."""
    if len(body) <= MAX_BODY_CHARS:
        return body, False
    cut = body[:MAX_BODY_CHARS]
    boundary = cut.rfind("\n")
    if boundary < MAX_BODY_CHARS // 2:
        boundary = cut.rfind(" ")
    return (cut[:boundary] if boundary > 0 else cut).rstrip(), True


def _raw_body(text: str) -> str:
    """Text in which no paragraph was recognised (a single short line, say): kept as written."""
    return re.sub(r"[ \t]+", " ", text).strip()


def _first_line(body: str) -> str:
    return body.split("\n", 1)[0][:200]


def _looks_like_domain(name: str) -> bool:
    return bool(re.fullmatch(r"[a-z0-9-]+(?:\.[a-z0-9-]+)+", name.lower()))


def _hint(hints: dict[str, Any], key: str) -> str | None:
    value = hints.get(key)
    return (value.strip() or None) if isinstance(value, str) else None


def _verified_hint(hints: dict[str, Any]) -> bool | None:
    value = hints.get("verified")
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, str) and value.lower() in ("true", "false", "yes", "no"):
        return value.lower() in ("true", "yes")
    raise PermanentError("invalid_hint", f"verified must be true or false, not {value!r}")


def _date_hint(hints: dict[str, Any]) -> datetime | None:
    value = _hint(hints, "published_at")
    if value is None:
        return None
    parsed = parse_date(value)
    if parsed is None:
        raise PermanentError("invalid_date", f"published_at {value!r} is not a date")
    return parsed


def _original_source_hint(hints: dict[str, Any]) -> OriginalSource | None:
    value = hints.get("original_source")
    if isinstance(value, str) and value.strip():
        return OriginalSource(name=value.strip())
    if isinstance(value, dict) and isinstance(value.get("name"), str):
        url = value.get("url")
        return OriginalSource(name=value["name"], url=url if isinstance(url, str) else None)
    return None
