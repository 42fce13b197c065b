"""The page's markup read for structure: foreign blocks, the deck, section headings."""

from __future__ import annotations

from services.ingest.extract.html_page import extract_page

STORY = [
    "The orchard cooperative of Saltwick pressed its first cider from the new hillside trees this week, "
    "four years after the growers replanted the slopes lost to the 2022 frost.",
    "Growers say the apples are smaller than those of the old trees but sweeter, and the cooperative "
    "expects to press about 60,000 litres from them this season.",
    "The replanting was paid for by a levy on members and a loan from the regional farm bank, which the "
    "cooperative hopes to repay within eight years of cider sales.",
    "Its chair, Bertil Amundsen, said the hillside would be at full yield by 2030 if the winters stay mild.",
]


def _page(inside: str = "", after_headline: str = "", between: str = "") -> str:
    first, second = "".join(f"<p>{p}</p>" for p in STORY[:2]), "".join(f"<p>{p}</p>" for p in STORY[2:])
    return (
        "<!doctype html><html><head><title>Saltwick presses first cider from replanted slopes</title></head>"
        "<body><main><div class='post'><h1>Saltwick presses first cider from replanted slopes</h1>"
        f"{after_headline}<div class='post-body'>{first}{between}{second}</div>{inside}</div></main></body></html>"
    )


def test_a_rail_of_linked_headlines_with_decks_about_other_things_is_cut_wherever_it_sits() -> None:
    rail = (
        "<div class='x1'><b>See also</b>"
        "<div><a href='/a'>Tram line reopens after bridge repairs</a><span>Services run every ten minutes.</span></div>"
        "<div><a href='/b'>Choir from Nordhavn wins regional contest</a><span>The judges were unanimous.</span></div>"
        "</div>"
    )
    page = extract_page(_page(between=rail))
    assert page is not None
    assert "Tram line" not in page.text and "Nordhavn" not in page.text
    assert all(paragraph in page.text for paragraph in STORY)


def test_a_box_ending_in_a_call_to_action_about_something_else_is_cut() -> None:
    box = (
        "<div class='z'><span>Partner</span><p>Fly to the sun this winter with Corvane Air, now from 39 euros.</p>"
        "<a href='https://partner.example'>Book now</a></div>"
    )
    page = extract_page(_page(inside=box))
    assert page is not None
    assert "Corvane" not in page.text
    assert STORY[-1] in page.text


def test_links_about_the_article_itself_are_kept() -> None:
    documents = (
        "<ul><li><a href='/levy'>The cooperative's replanting levy and the farm bank loan, in full</a></li>"
        "<li><a href='/frost'>How the 2022 frost destroyed the Saltwick hillside orchard</a></li></ul>"
    )
    page = extract_page(_page(between=documents))
    assert page is not None
    assert "replanting levy" in page.text


def test_the_sentence_styled_apart_under_the_headline_is_the_deck_not_the_first_paragraph() -> None:
    page = extract_page(
        _page(
            after_headline="<span class='by'>By Lena Haug</span><div class='intro'>Growers say the wait for "
            "the replanted trees has paid off.</div>"
        )
    )
    assert page is not None
    assert page.subtitle == "Growers say the wait for the replanted trees has paid off."
    assert "Growers say the wait" not in page.text
    assert STORY[0] in page.text


def test_a_first_paragraph_styled_like_the_body_is_no_deck() -> None:
    page = extract_page(_page())
    assert page is not None
    assert page.subtitle is None
    assert STORY[0] in page.text


def test_section_headings_are_read_from_the_markup_and_put_back_above_their_paragraph() -> None:
    page = extract_page(_page(between="<h3>Paying back the bank</h3>"))
    assert page is not None
    assert page.headings == ["Paying back the bank"]
    lines = page.text.split("\n")
    assert lines[lines.index("Paying back the bank") + 1] == STORY[2]


def test_a_heading_over_a_list_of_links_is_no_section_heading() -> None:
    page = extract_page(_page(inside="<h2>Key moments</h2><ul><li><a href='#m1'>First pressing</a></li></ul>"))
    assert page is not None
    assert page.headings == []


def test_a_pull_quote_printed_again_is_read_once() -> None:
    quote = "<blockquote><p>the hillside would be at full yield by 2030</p></blockquote>"
    page = extract_page(_page(inside=quote))
    assert page is not None
    assert page.text.count("full yield by 2030") == 1


def test_teaser_cards_without_links_in_the_body_are_dropped_by_their_rhythm() -> None:
    cards = (
        "<div class='card' data-href='/n/1'><h3>Ferry fares to rise on the island routes</h3>"
        "<p>Operators blame the price of diesel.</p></div>"
        "<div class='card' data-href='/n/2'><h3>Library in Vossby extends its hours</h3>"
        "<p>It will stay open until nine on weekdays.</p></div>"
    )
    page = extract_page(_page(between=cards))
    assert page is not None
    assert "Ferry fares" not in page.text and "diesel" not in page.text and "Vossby" not in page.text
    assert all(paragraph in page.text for paragraph in STORY)


def test_a_plain_list_among_the_paragraphs_is_kept_with_its_heading() -> None:
    varieties = (
        "<h2>Varieties on the new slopes</h2>"
        "<ul><li>a late russet for keeping</li><li>a sharp green apple for blending</li>"
        "<li>a red dessert apple sold at the farm gate</li></ul>"
    )
    page = extract_page(_page(between=varieties))
    assert page is not None
    assert "- a sharp green apple for blending" in page.text
    assert page.text.index(STORY[1]) < page.text.index("a late russet") < page.text.index(STORY[2])
    assert page.headings == ["Varieties on the new slopes"]


def test_the_author_is_read_from_byline_markup_above_the_article_not_from_comments_below() -> None:
    byline = "<p class='meta'>Words by <span class='author-name'>Liv Sandvoll</span> · Pictures by Aksel Brun</p>"
    comments = "<div class='comments'><span class='comment-author'>Henrik Dahl</span><p>Lovely!</p></div>"
    assert (page := extract_page(_page(after_headline=byline, inside=comments))) is not None
    assert page.author == "Liv Sandvoll"
    assert (page := extract_page(_page(inside=comments))) is not None
    assert page.author is None


def test_a_photo_credit_in_a_caption_is_cut_and_the_caption_itself_is_not_taken_for_one() -> None:
    figure = (
        "<figure><img src='/a.jpg' alt=''><figcaption>Growers sort the first apples. "
        "<small>Photograph: Marit Løvaas/Fjellposten</small></figcaption></figure>"
    )
    page = extract_page(_page(between=figure))
    assert page is not None
    assert "Marit Løvaas" not in page.text
    assert all(paragraph in page.text for paragraph in STORY)


def test_closing_lines_naming_the_site_are_dropped_unless_the_page_is_about_the_site() -> None:
    promotion = "<p>Follow the Saltwick Gazette on Instagram for more harvest news.</p>"
    html = (
        _page(between="", inside="")
        .replace("</div></div></main>", f"{promotion}</div></div></main>")
        .replace("<head>", "<head><meta property='og:site_name' content='Saltwick Gazette'>")
    )
    page = extract_page(html)
    assert page is not None
    assert "Instagram" not in page.text
    credit = "<p>This story first appeared on the Saltwick Gazette.</p>"
    assert (page := extract_page(html.replace(promotion, credit))) is not None
    assert "first appeared on the Saltwick Gazette." in page.text  # where the article is from
    reporting = (
        "<p>The cooperative's chair told the Saltwick Gazette that the first pressing had sold out to local "
        "shops within a day, and that a second pressing from the older trees would follow next month.</p>"
    )
    assert (
        page := extract_page(html.replace("<div class='post-body'>", f"<div class='post-body'>{reporting}"))
    ) is not None
    assert "Instagram" in page.text


def test_a_line_that_is_only_a_date_stamp_is_dropped() -> None:
    page = extract_page(_page(between="<p>14.09.2026</p>"))
    assert page is not None
    assert "14.09.2026" not in page.text
    assert all(paragraph in page.text for paragraph in STORY)


def test_a_heading_closing_the_text_with_nothing_under_it_is_dropped() -> None:
    page = extract_page(_page(inside="<h2>More stories from the valley</h2>"))
    assert page is not None
    assert "More stories" not in page.text
    assert page.text.endswith(STORY[-1])


def test_a_standfirst_the_page_declares_as_its_description_is_the_subtitle_whatever_its_markup() -> None:
    standfirst = "The growers replanted the frost-hit hillside four years ago and have now pressed its first apples."
    html = _page(after_headline=f"<ul class='summary'><li><strong>{standfirst}</strong></li></ul>").replace(
        "<head>", f"<head><meta name='description' content='{standfirst[:70]}…'>"
    )
    page = extract_page(html)
    assert page is not None
    assert page.subtitle == standfirst
    assert standfirst not in page.text


def test_clickable_headline_and_deck_cards_about_the_article_s_own_town_are_cut_in_mid_body() -> None:
    cards = (
        "<div class='tile' data-target-url='/n/1'><h4>Saltwick ferry timetable changes for winter</h4>"
        "<p>Crossings from the cooperative's quay drop to four a day.</p></div>"
        "<div class='tile' data-target-url='/n/2'><h4>Saltwick growers open a farm shop</h4>"
        "<p>The hillside cooperative will sell cider and apple juice on Saturdays.</p></div>"
    )
    page = extract_page(_page(between=cards))
    assert page is not None
    assert "ferry timetable" not in page.text and "farm shop" not in page.text
    assert all(paragraph in page.text for paragraph in STORY)


def test_short_sections_without_a_click_target_are_the_article_not_cards() -> None:
    sections = (
        "<section class='item'><h4>Saltwick harbour wall repaired</h4><p>The work finished a week early.</p></section>"
        "<section class='item'><h4>Saltwick orchard trail reopens</h4><p>Walkers can use it from Monday.</p></section>"
    )
    page = extract_page(_page(between=sections))
    assert page is not None
    assert "The work finished a week early." in page.text and "Walkers can use it from Monday." in page.text


TABLE = "<table><tr><th>Variety</th><th>Tonnes</th></tr><tr><td>{0}</td><td>{1}</td></tr></table>"


def test_a_heading_over_a_table_is_a_section_heading_each_over_its_own_table() -> None:
    tables = (
        f"<h2>Harvest on the hillside</h2>{TABLE.format('Saltwick Russet', '412')}"
        f"<h2>Harvest in the valley</h2>{TABLE.format('Old Pippin', '230')}"
    )
    page = extract_page(_page(between=tables))
    assert page is not None
    assert page.headings == ["Harvest on the hillside", "Harvest in the valley"]
    lines = page.text.split("\n")
    hillside, valley = lines.index("Harvest on the hillside"), lines.index("Harvest in the valley")
    assert "Saltwick Russet" in lines[hillside + 3] and "Old Pippin" in lines[valley + 3]


def test_a_photo_caption_under_the_headline_is_not_the_deck() -> None:
    caption = "Pickers on the upper terrace of the Saltwick hillside at dawn."
    figure = f"<figure><img src='/p.jpg'><figcaption>{caption}</figcaption></figure>"
    standfirst = "<p class='lede'>Four years after the frost, the replanted slopes have given their first pressing.</p>"
    page = extract_page(_page(after_headline=figure + standfirst))
    assert page is not None
    assert page.subtitle == "Four years after the frost, the replanted slopes have given their first pressing."


def test_the_deck_is_found_past_a_repeated_headline_a_row_of_links_and_an_image_s_caption() -> None:
    standfirst = "Four years after the frost, the replanted slopes have given their first pressing. It sold out."
    above = (
        "<h2 class='title-again'>Saltwick presses its first cider from the replanted slopes</h2>"
        "<div class='meta'><a href='/food'>Food</a> / <a href='/farm'>Farming</a> / <a href='/ek'>E. Kvist</a></div>"
        "<div class='image-note'>Pickers on the upper terrace of the hillside at dawn, before the rain came.</div>"
        f"<p class='lede'>{standfirst}</p>"
    )
    page = extract_page(_page(after_headline=above))
    assert page is not None
    assert page.subtitle == standfirst


def test_a_section_label_over_the_opening_headline_is_dropped() -> None:
    body = "".join(f"<p>{paragraph}</p>" for paragraph in STORY)
    html = (
        "<html><head><title>Cider</title></head><body><main><article><p>Orchard news</p>"
        f"<p>Saltwick presses first cider from replanted slopes</p>{body}</article></main></body></html>"
    )
    page = extract_page(html)
    assert page is not None
    assert page.text.startswith("Saltwick presses first cider from replanted slopes\n")


def test_a_translation_note_on_a_page_credits_the_outlet_the_piece_first_ran_in() -> None:
    note = (
        "<p><em>This report first appeared in Norwegian in Fjordbladet Vest and was translated by Ines Berg.</em></p>"
    )
    page = extract_page(_page(inside=note))
    assert page is not None and page.original_source is not None
    assert page.original_source.name == "Fjordbladet Vest"
    assert all(paragraph in page.text for paragraph in STORY)


def _sectioned(extra: str = "", first_class: str = "item") -> str:
    """The story as a column of short sections, each a heading over one paragraph; the first is the
    shortest, a deck's length, and not the column's densest block."""
    sections = "".join(
        f"<section class='{first_class if n == 1 else 'item'}'><h3>Part {n}</h3><p>{paragraph}</p></section>"
        for n, paragraph in enumerate([STORY[-1], *STORY[:-1]], 1)
    )
    return (
        f"<!doctype html><html><head><title>Saltwick in brief</title></head><body>{extra}<main><article>"
        f"<h1>Saltwick in brief</h1>{sections}</article></main></body></html>"
    )


def test_a_paragraph_under_a_section_heading_is_the_body_not_the_deck() -> None:
    page = extract_page(_sectioned(first_class="item first"))  # styled apart, as a deck would be
    assert page is not None
    assert page.subtitle is None
    assert all(paragraph in page.text for paragraph in STORY)


def test_a_consent_dialog_longer_than_any_paragraph_is_not_taken_for_the_article() -> None:
    consent = (
        "<div role='dialog'><p>"
        + " ".join(["We and our many partners store and read information on your device to measure audiences."] * 4)
        + "</p><button>Accept</button></div>"
    )
    page = extract_page(_sectioned(consent))
    assert page is not None
    assert "partners store" not in page.text
    assert page.headings == [f"Part {n}" for n in range(1, len(STORY) + 1)]
