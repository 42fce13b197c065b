from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from pydantic import JsonValue

from services.ingest.collect.feeds import (
    FULL_CONTENT_CHARS,
    FeedRefused,
    entry_submission,
    parse_feed,
    without_entity_expansion,
)

LONG_TEXT = "The lake ferry timetable changes next month. " * (FULL_CONTENT_CHARS // 40)

RSS = f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>
<title>Lake News</title><language>en-gb</language>
<item><title>Teaser only</title><link>/2026/teaser</link><description>Short teaser.</description>
<pubDate>Sat, 11 Apr 2026 09:30:00 GMT</pubDate></item>
<item><title>Full story</title><link>https://lake.example/2026/full</link>
<content:encoded><![CDATA[<p>{LONG_TEXT}</p>]]></content:encoded></item>
<item><title>Script link</title><link>javascript:alert(1)</link></item>
</channel></rss>"""


def test_rss_entries_with_links_resolved_and_unsafe_links_dropped() -> None:
    feed = parse_feed(RSS.encode(), "https://lake.example/feed.xml")
    assert feed.title == "Lake News"
    assert feed.language == "en"
    assert [entry.url for entry in feed.entries] == [
        "https://lake.example/2026/teaser",
        "https://lake.example/2026/full",
    ]
    assert feed.entries[0].published_at == datetime(2026, 4, 11, 9, 30, tzinfo=UTC)


def test_a_complete_entry_travels_as_html_and_a_teaser_as_a_url() -> None:
    feed = parse_feed(RSS.encode(), "https://lake.example/feed.xml")
    hints: dict[str, JsonValue] = {"source": "Lake News", "verified": True}
    teaser, full = (entry_submission(entry, hints, "src1") for entry in feed.entries)
    assert teaser.kind == "url" and teaser.url == "https://lake.example/2026/teaser"
    assert teaser.hints["published_at"] == "2026-04-11T09:30:00+00:00"
    assert full.kind == "html" and full.content is not None and "lake ferry" in full.content
    assert full.hints["source"] == "Lake News" and full.hints["verified"] is True
    assert entry_submission(feed.entries[1], hints, "src1").submission_id == full.submission_id


def test_atom() -> None:
    atom = b"""<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Hill Post</title>
    <entry><title>Snow closes pass</title><link href="https://hill.example/snow"/>
    <author><name>Kari Dal</name></author><updated>2026-01-05T07:00:00Z</updated></entry></feed>"""
    entry = parse_feed(atom, None).entries[0]
    assert (entry.url, entry.title, entry.author) == ("https://hill.example/snow", "Snow closes pass", "Kari Dal")


def test_an_rss_author_is_a_name_never_a_bare_address() -> None:
    items = "".join(
        f"<item><title>Item {number}</title><link>https://lake.example/{number}</link><author>{author}</author></item>"
        for number, author in enumerate(["ola@lake.example (Ola Berg)", "desk@lake.example", "Lake desk"])
    )
    feed = parse_feed(
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>L</title>{items}</channel></rss>'.encode(), None
    )
    assert [entry.author for entry in feed.entries] == ["Ola Berg", None, "Lake desk"]


def test_json_feed() -> None:
    document = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "Coast Radio",
        "language": "nb",
        "items": [
            {
                "id": "1",
                "url": "https://coast.example/a",
                "title": "Storm",
                "content_text": "Wind.\n\nRain.",
                "date_published": "2026-02-01T06:00:00Z",
                "authors": [{"name": "Per Ås"}],
            },
            {"id": "no-url-here"},
        ],
    }
    feed = parse_feed(json.dumps(document).encode(), None)
    assert feed.language == "nb"
    [entry] = feed.entries
    assert entry.author == "Per Ås" and entry.content_html == "<p>Wind.</p><p>Rain.</p>"
    assert entry.published_at == datetime(2026, 2, 1, 6, tzinfo=UTC)


@pytest.mark.parametrize(
    "data",
    [b"<html><body><p>Just a page</p></body></html>", b'{"not": "a feed"}', b"{broken json", b""],
)
def test_what_is_not_a_feed_is_refused_with_a_reason(data: bytes) -> None:
    with pytest.raises(FeedRefused) as refused:
        parse_feed(data, None)
    assert refused.value.reason in ("not_a_feed", "invalid_json")


def test_entity_declarations_that_could_expand_are_removed_before_parsing() -> None:
    entities = '<!ENTITY a0 "lol">' + "".join(f'<!ENTITY a{i} "{f"&a{i - 1};" * 10}">' for i in range(1, 10))
    external = '<!ENTITY % remote PUBLIC "-//x//y" "http://attacker.example/x.dtd">'
    bomb = f"""<?xml version="1.0"?><!DOCTYPE rss [{entities}{external}]>
    <rss version="2.0"><channel><title>&a9;</title>
    <item><title>x</title><link>https://x.example/1</link></item></channel></rss>""".encode()
    cleaned = without_entity_expansion(bomb)
    assert b'<!ENTITY a0 "lol">' in cleaned
    assert b"<!ENTITY a1" not in cleaned and b"attacker" not in cleaned
    feed = parse_feed(bomb, None)
    assert len(feed.title or "") < 100 and len(feed.entries) == 1
