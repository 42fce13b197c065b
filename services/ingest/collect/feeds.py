"""RSS 0.9x/1.0/2.0 and Atom through feedparser; JSON Feed by hand (feedparser 6.0 does not read it).

Hostile input: the document is handed to feedparser as a byte stream (a
``str`` would make it fetch URLs or open files); external entities are off in
its SAX parser; before parsing, every ENTITY declaration other than a plain
literal (one naming other entities, a parameter entity, an external one) is
removed from the DOCTYPE, so nothing expands beyond what was sent (expat's own
amplification limit would stop a "billion laughs", but only after seconds of
work); documents arrive size-capped from the fetcher. A feed that yields
nothing is refused with the reason.
"""

from __future__ import annotations

import calendar
import hashlib
import io
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser
from lxml.html import fromstring
from pydantic import JsonValue

from services.ingest.extract.dates import parse_date
from shared.errors import PermanentError
from shared.messages import DocumentSubmitted

# An entry whose own content holds this much text is the article; shorter is a teaser, so the page is fetched.
FULL_CONTENT_CHARS = 1200


_DOCTYPE_SEARCH_BYTES = 65536
_DOCTYPE_SUBSET = re.compile(rb"<!DOCTYPE[^\[>]{0,500}\[(?P<subset>.*?)\]\s*>", re.DOTALL | re.IGNORECASE)
_ENTITY_DECLARATION = re.compile(rb"<!ENTITY\s[^>]*>", re.IGNORECASE)
_LITERAL_ENTITY = re.compile(rb"""<!ENTITY\s+[\w.:-]+\s+(?:"[^"&%]*"|'[^'&%]*')\s*>""", re.IGNORECASE)


class FeedRefused(PermanentError):
    """A document that is not a feed, or not one that can be read."""


# RSS's <author>: an e-mail address, optionally followed by the name in parentheses.
_RSS_AUTHOR = re.compile(r"\S+@\S+\s+\((.+)\)")
_ADDRESS = re.compile(r"\S+@\S+")


@dataclass
class FeedEntry:
    url: str
    title: str | None = None
    author: str | None = None
    published_at: datetime | None = None
    content_html: str | None = None  # the longest of the entry's content and summary
    language: str | None = None

    @property
    def content_chars(self) -> int:
        return len(_text_of(self.content_html)) if self.content_html else 0


@dataclass
class Feed:
    title: str | None
    entries: list[FeedEntry] = field(default_factory=list)
    language: str | None = None
    malformed: str | None = None  # why the XML was not well-formed, when it still yielded entries


def parse_feed(data: bytes, feed_url: str | None = None, content_type: str | None = None) -> Feed:
    if data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{"):
        return _parse_json_feed(data, feed_url)
    data = without_entity_expansion(data)
    headers = {"content-location": feed_url or "", "content-type": content_type or "application/xml"}
    result = feedparser.parse(io.BytesIO(data), response_headers=headers)
    problem = str(result.get("bozo_exception") or "") if result.get("bozo") else None
    feed_info = result.get("feed") or {}
    if not result.get("version") and not result.entries:
        raise FeedRefused("not_a_feed", problem or "no RSS, Atom or JSON Feed structure found")
    language = _language(feed_info.get("language"))
    entries = [entry for raw in result.entries if (entry := _entry(raw, feed_url, language)) is not None]
    return Feed(title=feed_info.get("title"), entries=entries, language=language, malformed=problem)


def without_entity_expansion(data: bytes) -> bytes:
    """The document with every DOCTYPE entity declaration that could expand (or fetch) removed."""
    match = _DOCTYPE_SUBSET.search(data[:_DOCTYPE_SEARCH_BYTES])
    if not match:
        return data
    subset = match.group("subset")
    safe = _ENTITY_DECLARATION.sub(lambda m: m.group(0) if _LITERAL_ENTITY.fullmatch(m.group(0)) else b"", subset)
    return data if safe == subset else data[: match.start("subset")] + safe + data[match.end("subset") :]


def _entry(raw: Any, feed_url: str | None, feed_language: str | None) -> FeedEntry | None:
    url = _http_url(raw.get("link"), feed_url) or _http_url(raw.get("id"), feed_url)
    if url is None:
        return None
    bodies = [part.get("value", "") for part in raw.get("content") or []] + [raw.get("summary") or ""]
    stamp = raw.get("published_parsed") or raw.get("updated_parsed")
    return FeedEntry(
        url=url,
        title=_clean(raw.get("title")),
        author=_author(raw),
        published_at=datetime.fromtimestamp(calendar.timegm(stamp), UTC) if stamp else None,
        content_html=max(bodies, key=len) or None,
        language=_language((raw.get("content") or [{}])[0].get("language")) or feed_language,
    )


def _parse_json_feed(data: bytes, feed_url: str | None) -> Feed:
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as error:
        raise FeedRefused("invalid_json", str(error)[:200]) from error
    if not isinstance(document, dict) or not str(document.get("version", "")).startswith("https://jsonfeed.org/"):
        raise FeedRefused("not_a_feed", "JSON without a jsonfeed.org version")
    items = document.get("items")
    if not isinstance(items, list):
        raise FeedRefused("not_a_feed", "a JSON Feed needs an items list")
    language = _language(document.get("language"))
    entries = []
    for item in items:
        if not isinstance(item, dict):
            continue
        url = _http_url(item.get("url"), feed_url) or _http_url(item.get("id"), feed_url)
        if url is None:
            continue
        bodies = [
            _str(item.get("content_html")),
            _html_of_text(_str(item.get("content_text"))),
            _str(item.get("summary")),
        ]
        date = _str(item.get("date_published")) or _str(item.get("date_modified"))
        entries.append(
            FeedEntry(
                url=url,
                title=_clean(_str(item.get("title"))),
                author=_json_feed_author(item) or _json_feed_author(document),
                published_at=parse_date(date) if date else None,
                content_html=max(bodies, key=len) or None,
                language=_language(item.get("language")) or language,
            )
        )
    return Feed(title=_clean(_str(document.get("title"))), entries=entries, language=language)


def _author(raw: Any) -> str | None:
    """The entry's author by name: RSS writes ``jane@example.com (Jane Doe)`` (feedparser's own split
    of it misreads newer domains), and an address alone is no name to show."""
    author = _clean(raw.get("author"))
    if author and (rss := _RSS_AUTHOR.fullmatch(author)):
        return rss.group(1).strip()
    if author and _ADDRESS.fullmatch(author):
        return None
    return _clean((raw.get("author_detail") or {}).get("name")) or author


def _json_feed_author(item: dict[str, Any]) -> str | None:
    authors = item.get("authors") or ([item["author"]] if isinstance(item.get("author"), dict) else [])
    names = [author["name"] for author in authors if isinstance(author, dict) and isinstance(author.get("name"), str)]
    return ", ".join(names) or None


def entry_submission(entry: FeedEntry, source_hints: dict[str, JsonValue], source_key: str) -> DocumentSubmitted:
    """What to ingest for one entry: its own content when it is the whole article, else its page."""
    hints: dict[str, JsonValue] = {key: value for key, value in source_hints.items() if value is not None}
    hints["url"] = entry.url
    if entry.title:
        hints["title"] = entry.title
    if entry.author:
        hints["author"] = entry.author
    if entry.published_at:
        hints["published_at"] = entry.published_at.isoformat()
    if entry.language and "language" not in hints:
        hints["language"] = entry.language
    submission_id = hashlib.blake2b(f"{source_key}\x00{entry.url}".encode(), digest_size=12).hexdigest()
    if entry.content_html and entry.content_chars >= FULL_CONTENT_CHARS:
        return DocumentSubmitted(
            submission_id=submission_id,
            kind="html",
            content=f"<html><body><article>{entry.content_html}</article></body></html>",
            url=entry.url,
            hints=hints,
        )
    return DocumentSubmitted(submission_id=submission_id, kind="url", url=entry.url, hints=hints)


def _http_url(value: Any, base: str | None) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    url = urljoin(base or "", value.strip())
    return url if urlsplit(url).scheme in ("http", "https") and urlsplit(url).hostname else None


def _text_of(html: str) -> str:
    try:
        return " ".join(fromstring(f"<div>{html}</div>").itertext()).strip()
    except (ValueError, TypeError):
        return html


def _html_of_text(text: str) -> str:
    return "".join(f"<p>{_escape(paragraph)}</p>" for paragraph in re.split(r"\n\s*\n", text) if paragraph.strip())


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _language(value: Any) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    code = re.split(r"[-_]", value.strip().lower(), maxsplit=1)[0]
    return code if re.fullmatch(r"[a-z]{2,3}", code) else None


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _clean(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    return re.sub(r"\s+", " ", value).strip() or None
