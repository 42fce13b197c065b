"""Turn one submitted document into clean articles (the ingest stage's pure core)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import trafilatura
from trafilatura.settings import Document

from shared.errors import PermanentError
from shared.ids import article_id, canonical_url, domain_of
from shared.messages import MAX_BODY_CHARS, ArticleIngested, DocumentSubmitted, Source


def articles_from(submission: DocumentSubmitted) -> list[ArticleIngested]:
    if submission.kind == "record":
        return [_from_record(submission.hints)]
    if submission.kind in ("text", "markdown"):
        return [_from_text(submission.content or "", submission.hints)]
    if submission.kind == "html":
        return [_from_html(submission.content or "", submission.url, submission.hints)]
    raise PermanentError("unsupported_kind", f"documents of kind {submission.kind!r} are not handled yet")


def _str(hints: dict[str, Any], key: str) -> str | None:
    value = hints.get(key)
    return value.strip() or None if isinstance(value, str) else None


def build_article(title: str, body: str, hints: dict[str, Any], url: str | None = None) -> ArticleIngested:
    title, body = title.strip(), body.strip()
    if not body:
        raise PermanentError("empty_body", "the document has no article text")
    url = _str(hints, "url") or url
    truncated = len(body) > MAX_BODY_CHARS
    canonical = canonical_url(url) if url else None
    published = _str(hints, "published_at")
    source_name = _str(hints, "source") or domain_of(url) or "unknown"
    return ArticleIngested(
        article_id=article_id(canonical, title, body),
        url=url,
        canonical_url=canonical,
        title=title or body.split("\n", 1)[0][:200],
        body=body[:MAX_BODY_CHARS],
        body_truncated=truncated,
        source=Source(name=source_name, domain=domain_of(url)),
        author=_str(hints, "author"),
        published_at=_parse_date(published) if published else None,
        language_hint=_str(hints, "language"),
    )


def _parse_date(value: str) -> datetime:
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as error:
        raise PermanentError("invalid_date", f"published_at {value!r} is not an ISO 8601 date") from error


def _from_record(record: dict[str, Any]) -> ArticleIngested:
    title, body = record.get("title"), record.get("body")
    if not isinstance(body, str) or not isinstance(title, str):
        raise PermanentError("invalid_record", "a record needs string fields 'title' and 'body'")
    return build_article(title, body, record)


def _from_text(text: str, hints: dict[str, Any]) -> ArticleIngested:
    lines = text.strip().splitlines()
    if not lines:
        raise PermanentError("empty_body", "the document is empty")
    title = _str(hints, "title") or lines[0].lstrip("# ")
    return build_article(title, "\n".join(lines[1:]), hints)


def _from_html(html: str, url: str | None, hints: dict[str, Any]) -> ArticleIngested:
    extracted = trafilatura.bare_extraction(html, url=url, favor_precision=True, with_metadata=True)
    if not isinstance(extracted, Document) or not extracted.text:
        raise PermanentError("no_article_text", "no article text found in the page")
    merged = {
        "author": extracted.author,
        "published_at": extracted.date,
        "source": extracted.sitename,
        **hints,
    }
    return build_article(
        _str(hints, "title") or extracted.title or "", extracted.text, merged, url or extracted.url
    )
