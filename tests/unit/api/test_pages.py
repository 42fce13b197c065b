from starlette.datastructures import QueryParams

from services.api.pages import TEMPLATES, bars, highlighted, paragraphs, toggled, web_link


def test_a_highlight_keeps_its_marks_and_escapes_the_text() -> None:
    fragment = "the <em>chip</em> <script>alert(1)</script> & more"
    assert str(highlighted(fragment)) == ("the <mark>chip</mark> &lt;script&gt;alert(1)&lt;/script&gt; &amp; more")


def test_templates_escape_what_they_print() -> None:
    rendered = TEMPLATES.from_string("{{ title }}").render(title='<img src=x onerror="alert(1)">')
    assert rendered == "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;"


def test_the_body_is_split_into_paragraphs_at_blank_lines() -> None:
    assert paragraphs("First one.\nStill first.\n\n  \nSecond.\n") == ["First one.\nStill first.", "Second."]


def test_bars_scale_to_the_busiest_day_and_keep_empty_days_empty() -> None:
    drawn = bars([("2026-11-01", 4), ("2026-11-02", 0), ("2026-11-03", 1)])
    assert [bar["height"] for bar in drawn] == [60, 0, 15]


def test_a_facet_link_adds_or_removes_its_value_and_starts_again_at_page_one() -> None:
    params = QueryParams("q=chips&topic=technology&cursor=abc")
    assert toggled(params, "source", "Tech Ledger") == "/search?q=chips&topic=technology&source=Tech+Ledger"
    assert toggled(params, "topic", "technology") == "/search?q=chips"


def test_only_web_addresses_become_links() -> None:
    assert web_link("https://news.example/a?b=1") == "https://news.example/a?b=1"
    assert web_link("HTTP://news.example/") == "HTTP://news.example/"
    for hostile in ("javascript:alert(1)", " JavaScript:alert(1)", "data:text/html,<b>", "//evil.example", None, ""):
        assert web_link(hostile) is None
