from shared.ids import article_id, canonical_url


def test_tracking_parameters_fragments_and_host_case_do_not_change_the_canonical_url() -> None:
    a = canonical_url("HTTPS://www.Example.com/news/story/?utm_source=x&id=7&fbclid=abc#comments")
    b = canonical_url("https://example.com/news/story?id=7")
    assert a == b == "https://example.com/news/story?id=7"


def test_meaningful_query_parameters_are_kept() -> None:
    assert canonical_url("https://example.com/a?page=2") != canonical_url("https://example.com/a?page=3")


def test_article_id_is_deterministic_by_url_or_by_normalised_text() -> None:
    assert article_id("https://example.com/a?utm_medium=x") == article_id("https://example.com/a")
    assert article_id(None, "Title", "Body  text!") == article_id(None, "title", "body text")
    assert article_id(None, "Title", "Body") != article_id(None, "Title", "Other body")
