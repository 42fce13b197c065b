from __future__ import annotations

import json
from datetime import UTC, datetime

from services.ingest.extract.html_page import extract_page

PARAGRAPHS = [
    "The river authority of Vennmark opened its new fish ladder on Saturday, the first on the river "
    "in ninety years, after a decade of planning and two failed funding rounds.",
    "Salmon numbers on the upper river have fallen by two thirds since the dam was built, and "
    "biologists expect the ladder to bring them back within a few seasons.",
    "The ladder cost 14 million crowns, most of it paid by the regional fishing association, "
    "whose members will count the fish that pass through it every autumn.",
    "Engineers shaped its pools to slow the current, so that smaller fish can rest between the "
    "steps instead of being washed back downstream by the spring floods.",
]


def _page(*, canonical: str = "https://news.example/river/fish-ladder", lang: str = "en", extra: str = "") -> str:
    linked = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": "Vennmark opens fish ladder to bring back salmon",
        "datePublished": "2026-04-11T09:30:00Z",
        "author": [{"@type": "Person", "name": "Oda Lien"}],
        "publisher": {"@type": "Organization", "name": "Example News"},
    }
    body = "".join(f"<p>{paragraph}</p>" for paragraph in PARAGRAPHS)
    return f"""<!doctype html><html lang="{lang}"><head>
<title>Vennmark opens fish ladder to bring back salmon | Example News</title>
<meta property="og:site_name" content="Example News">
<link rel="canonical" href="{canonical}">
<script type="application/ld+json">{json.dumps(linked)}</script>
<script>var tracking = "never article text";</script>
</head><body>
<nav><a href="/">Home</a> <a href="/river">River</a></nav>
<article><h1>Vennmark opens fish ladder to bring back salmon</h1>{body}
<p>Subscribe to keep reading our river coverage.</p>
{extra}
</article>
<footer><p>Example News reports on the river valleys. All rights reserved.</p></footer>
</body></html>"""


def test_article_text_and_metadata_are_read() -> None:
    page = extract_page(_page(), "https://news.example/river/fish-ladder?utm_source=feed")
    assert page is not None
    for paragraph in PARAGRAPHS:
        assert paragraph in page.text
    assert "Subscribe to keep reading" not in page.text
    assert "never article text" not in page.text
    assert "All rights reserved" not in page.text
    assert page.title == "Vennmark opens fish ladder to bring back salmon"
    assert page.author == "Oda Lien"
    assert page.published_at == datetime(2026, 4, 11, 9, 30, tzinfo=UTC)
    assert page.site_name == "Example News"
    assert page.canonical_url == "https://news.example/river/fish-ladder"
    assert page.language == "en"


def test_a_relative_canonical_link_is_made_absolute() -> None:
    page = extract_page(_page(canonical="/river/fish-ladder-2"), "https://news.example/x")
    assert page is not None and page.canonical_url == "https://news.example/river/fish-ladder-2"


def test_a_teaser_list_inside_the_article_is_dropped() -> None:
    teasers = "<h3>Related stories</h3><ul><li>Ferry fares rise on the lake</li><li>New bridge opens</li></ul>"
    page = extract_page(_page(extra=teasers), None)
    assert page is not None
    assert "Ferry fares rise" not in page.text
    assert PARAGRAPHS[-1] in page.text


def test_bytes_in_a_declared_legacy_charset_are_decoded() -> None:
    html = _page().replace("<head>", '<head><meta charset="windows-1252">').replace("crowns", "kronor \u00e5r")
    page = extract_page(html.encode("cp1252"), None)
    assert page is not None and "kronor \u00e5r" in page.text


def test_a_page_without_text_has_no_article() -> None:
    assert extract_page("<html><body><nav><a href='/'>Home</a></nav></body></html>", None) is None
    assert extract_page(b"", None) is None


def test_the_densest_block_is_the_element_whose_paragraphs_hold_most_text() -> None:
    from lxml.html import fromstring

    from services.ingest.extract.page_structure import clean_space, densest_paragraphs

    paragraphs = "".join(f"<p>{paragraph}</p>" for paragraph in PARAGRAPHS)
    tree = fromstring(
        "<html><body><div class='teaser'><p>Salmon return to Vennmark.</p><p>Subscribe to read on.</p></div>"
        f"<div class='panel'><section>{paragraphs}</section></div><footer><p>About us</p></footer></body></html>"
    )
    assert [clean_space(p.text_content()) for p in densest_paragraphs(tree)] == PARAGRAPHS


def test_a_page_whose_extraction_misses_the_dense_article_block_still_yields_the_article() -> None:
    # A paywalled layout: the article tag holds a teaser and the prompt; the story's paragraphs sit in a
    # block whose class trafilatura distrusts. The first pass keeps the teaser alone.
    story = "".join(f"<p>{paragraph}</p>" for paragraph in PARAGRAPHS * 3)
    page = extract_page(
        "<!doctype html><html><head><title>Fish ladder</title></head><body>"
        f"<article><h1>Vennmark opens fish ladder</h1><p>{PARAGRAPHS[0]}</p>"
        "<p>Members read on: the full account of the river's salmon continues for subscribers.</p></article>"
        f"<div class='sidebar'>{story}</div></body></html>"
    )
    assert page is not None
    for paragraph in PARAGRAPHS:
        assert paragraph in page.text
