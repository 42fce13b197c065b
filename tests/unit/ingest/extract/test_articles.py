from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.ingest.app import _raise_for_feed, create_worker
from services.ingest.extract.articles import article_from_html, article_from_text, truncate_body
from services.ingest.settings import IngestSettings
from shared.errors import PermanentError, TransientError
from shared.messages import MAX_BODY_CHARS, ArticleIngested, DocumentSubmitted
from shared.settings import ServiceSettings
from shared.stage import Dropped, StageContext
from shared.topology import Topology
from tests.support import offline_outcomes

LEDE = (
    "The cable car up Mount Harda reopened on Friday after a six-week safety inspection, "
    "the operator said, with new brakes on every cabin."
)
SECOND = "Tickets will cost the same as last season, and the first cabin leaves at eight each morning."
CAPTURE = "\n".join(
    [
        "Travel / Mountains",
        "Harda cable car reopens after safety inspection",
        "By Lars Vik · 6 June 2026",
        LEDE,
        SECOND,
        "Original source: Valley Courier ↗",
        "src=valleycourier.example topic=travel verified=false",
    ]
)


def test_text_facts_become_fields() -> None:
    article = article_from_text(CAPTURE, {})
    assert article.title == "Harda cable car reopens after safety inspection"
    assert article.body == f"{LEDE}\n\n{SECOND}"
    assert article.author == "Lars Vik"
    assert article.published_at == datetime(2026, 6, 6, tzinfo=UTC)
    assert article.source.name == "valleycourier.example"
    assert article.source.domain == "valleycourier.example"
    assert article.source.verified is False
    assert article.original_source is not None and article.original_source.name == "Valley Courier"
    assert article.metadata == {"topic": "travel", "section": "travel/mountains"}


def test_hints_win_over_what_the_text_says() -> None:
    hints = {
        "title": "Cable car back in service",
        "source": "Alpine Wire",
        "verified": True,
        "published_at": "2026-06-07T10:00:00Z",
        "author": "Desk Editor",
        "url": "https://www.alpine.example/harda?utm_campaign=x",
        "original_source": {"name": "Harda Times", "url": "https://harda.example/a"},
    }
    article = article_from_text(CAPTURE, hints)
    assert article.title == "Cable car back in service"
    assert article.source.name == "Alpine Wire"
    assert article.source.domain == "alpine.example"
    assert article.source.verified is True
    assert article.author == "Desk Editor"
    assert article.published_at == datetime(2026, 6, 7, 10, tzinfo=UTC)
    assert article.canonical_url == "https://alpine.example/harda"
    assert article.original_source is not None and article.original_source.url == "https://harda.example/a"


def test_a_bad_date_hint_is_a_permanent_error() -> None:
    with pytest.raises(PermanentError) as raised:
        article_from_text(CAPTURE, {"published_at": "soon"})
    assert raised.value.reason == "invalid_date"


def test_a_page_copied_from_another_outlet_credits_it_and_keeps_its_own_address() -> None:
    html = (
        '<html><head><link rel="canonical" href="https://origin.example/story">'
        '<meta property="og:site_name" content="Origin Daily"></head>'
        f"<body><article><h1>Harda cable car reopens</h1><p>{LEDE}</p><p>{SECOND}</p></article></body></html>"
    )
    article = article_from_html(html, "https://copycat.example/harda", {})
    assert article.canonical_url == "https://copycat.example/harda"
    assert article.original_source is not None
    assert article.original_source.url == "https://origin.example/story"
    assert article.source.name == "Origin Daily"


def test_long_bodies_are_cut_at_a_paragraph_break_and_marked() -> None:
    paragraph = "word " * 999 + "end."
    body, truncated = truncate_body("\n".join([paragraph] * (MAX_BODY_CHARS // len(paragraph) + 5)))
    assert truncated and len(body) <= MAX_BODY_CHARS and body.endswith("end.")
    assert truncate_body("short body") == ("short body", False)


async def test_the_offline_path_drops_exact_duplicates_but_not_redeliveries() -> None:
    first = DocumentSubmitted(submission_id="a", kind="text", content=CAPTURE)
    same_text_elsewhere = DocumentSubmitted(submission_id="b", kind="text", content=CAPTURE.replace("Travel", "Trips"))
    [article], [duplicate], [retried] = await offline_outcomes(create_worker(), first, same_text_elsewhere, first)
    assert isinstance(article, ArticleIngested) and isinstance(duplicate, Dropped)
    assert duplicate.reason == "duplicate" and duplicate.details["duplicate_of"] == article.article_id
    assert isinstance(retried, ArticleIngested)  # the same submission again: a retry, not a duplicate


async def test_the_offline_path_refuses_what_needs_fetching() -> None:
    url = DocumentSubmitted(submission_id="u", kind="url", url="https://news.example/a")
    [refused] = await offline_outcomes(create_worker(), url)
    assert isinstance(refused, PermanentError) and refused.reason == "needs_fetch"


async def test_the_submissions_url_is_kept_for_text_and_records() -> None:
    text = DocumentSubmitted(submission_id="t", kind="text", url="https://news.example/a?utm_source=x", content=CAPTURE)
    record = DocumentSubmitted(
        submission_id="r", kind="record", url="https://news.example/b", hints={"title": "T", "body": LEDE}
    )
    [from_text], [from_record] = await offline_outcomes(create_worker(), text, record)
    assert isinstance(from_text, ArticleIngested) and isinstance(from_record, ArticleIngested)
    assert from_text.url == "https://news.example/a?utm_source=x"
    assert from_text.canonical_url == "https://news.example/a"
    assert from_record.url == "https://news.example/b"


def test_control_characters_never_reach_the_article() -> None:
    article = article_from_text(f"Cable\x00 car\x07 news\n{LEDE}\x1b\n{SECOND}\x7f", {})
    assert article.title == "Cable car news"
    assert not any(ord(character) < 32 and character not in "\n\t" for character in article.body)
    assert "\x7f" not in article.body and LEDE in article.body


def _feed(items: str) -> str:
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>Valley</title>{items}</channel></rss>'


async def test_a_feed_without_entries_is_refused_with_a_reason() -> None:
    worker = create_worker(IngestSettings())
    [outcome] = await worker.process_batch(
        [DocumentSubmitted(submission_id="f", kind="feed", url="https://valley.example/rss", content=_feed(""))]
    )
    assert isinstance(outcome, PermanentError) and outcome.reason == "empty_feed"


async def test_the_service_refuses_to_start_without_the_nats_connection_that_keeps_its_state() -> None:
    worker = create_worker(IngestSettings())
    with pytest.raises(RuntimeError, match="JetStream"):
        await worker.start(StageContext("ingest", ServiceSettings(), Topology()))
    await worker.stop()


def test_one_failed_entry_among_transient_failures_makes_the_feed_retried() -> None:
    with pytest.raises(TransientError):
        _raise_for_feed([PermanentError("refused", "x"), TransientError("timeout")], "https://valley.example/rss")


async def test_offline_a_feed_entry_that_needs_its_page_is_reported_not_failed() -> None:
    entry = "<item><title>Story</title><link>https://valley.example/story</link></item>"
    feed = DocumentSubmitted(submission_id="f", kind="feed", url="https://valley.example/rss", content=_feed(entry))
    [outcome] = await offline_outcomes(create_worker(), feed)
    assert outcome == [
        Dropped("needs_fetch", {"url": "https://valley.example/story", "feed": "https://valley.example/rss"})
    ]


def test_subtitle_and_headings_reach_the_article_with_offsets_into_its_body() -> None:
    text = "\n".join(
        [
            "Harda cable car reopens after safety inspection — New brakes were fitted on every cabin in the closure.",
            LEDE,
            "Prices and times",
            SECOND,
        ]
    )
    article = article_from_text(text, {})
    assert article.title == "Harda cable car reopens after safety inspection"
    assert article.subtitle == "New brakes were fitted on every cabin in the closure."
    assert [heading.text for heading in article.headings] == ["Prices and times"]
    heading = article.headings[0]
    assert article.body[heading.start : heading.start + len(heading.text)] == heading.text
