"""Padding removal on captured text. Every text here is written for these tests (no dataset text),
and on purpose in other words than the development captures: the rules must generalise."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.ingest.extract.captured_text import clean_captured_text, paragraph_units

PARAGRAPHS = [
    "The harbour authority of Port Elling said on Tuesday it would close the old ferry terminal "
    "for eight months while engineers replace its flood gates.",
    "Ferries will dock at a temporary pier two kilometres north, and a shuttle bus will run every "
    "twenty minutes, the authority said in a statement.",
    '"We would rather lose a summer than lose the terminal," said Maren Holt, who chairs the authority.',
]
TITLE = "Port Elling to shut old ferry terminal for flood-gate repairs"


def _capture(*padding_before: str, padding_after: tuple[str, ...] = (), between: tuple[str, ...] = ()) -> str:
    body = [PARAGRAPHS[0], *between, *PARAGRAPHS[1:]]
    return "\n".join([*padding_before, *body, *padding_after])


def test_padding_of_every_kind_is_dropped_and_its_facts_are_read() -> None:
    text = _capture(
        "News › Regions › Coast",
        TITLE,
        "By Ida Brenner | 3 March 2025 | 5 min read",
        "Share · Tweet · Email",
        between=("ADVERTISEMENT", "Try the Coastline app today. Download now →"),
        padding_after=(
            "Subscribers only. Log in to keep reading.",
            "Most read",
            "Lighthouse keeper retires after forty years",
            "Tide tables for the week ahead",
            "© 2025 Coastline Media. All rights reserved.",
            "item=cl-881 src=coastline.example topic=transport verified=true",
        ),
    )
    cleaned = clean_captured_text(text)
    assert cleaned.title == TITLE
    assert cleaned.body == "\n\n".join(PARAGRAPHS)
    facts = cleaned.facts
    assert facts.author == "Ida Brenner"
    assert facts.published_at == datetime(2025, 3, 3, tzinfo=UTC)
    assert facts.source == "coastline.example"
    assert facts.verified is True
    assert facts.metadata["topic"] == "transport"
    assert facts.section == "news/regions/coast"


def test_navigation_before_the_title_and_a_status_row_around_it() -> None:
    text = _capture("$ open /world/coast", "[NOTE · n-17] src=wire.example pub=2025-05-02 topic=coast", TITLE)
    cleaned = clean_captured_text(text)
    assert cleaned.title == TITLE
    assert cleaned.body.startswith(PARAGRAPHS[0])
    assert cleaned.facts.published_at == datetime(2025, 5, 2, tzinfo=UTC)
    assert cleaned.facts.metadata["item_kind"] == "note"


def test_a_summary_section_is_dropped_and_gives_the_title_when_there_is_none() -> None:
    text = "\n".join(
        [
            "🗞️ In brief",
            "Port Elling closes its ferry terminal for repairs until the spring.",
            "🔎 The details",
            *PARAGRAPHS,
            "⭐ Key points",
            "• Eight months of works",
            "• Temporary pier to the north",
        ]
    )
    cleaned = clean_captured_text(text)
    assert cleaned.title == "Port Elling closes its ferry terminal for repairs until the spring"
    assert cleaned.body == "\n\n".join(PARAGRAPHS)


def test_without_a_title_line_a_short_first_sentence_is_the_title() -> None:
    lede = "Port Elling will close its old ferry terminal. " + PARAGRAPHS[0]
    cleaned = clean_captured_text("\n".join([lede, *PARAGRAPHS[1:]]))
    assert cleaned.title == "Port Elling will close its old ferry terminal"
    assert cleaned.body.startswith(lede)


def test_a_long_first_sentence_is_cut_to_a_title_length() -> None:
    sentence = " ".join(["word"] * 40) + "."
    cleaned = clean_captured_text(sentence + "\n" + PARAGRAPHS[0])
    assert cleaned.title is not None and cleaned.title.endswith("…")
    assert len(cleaned.title.split()) <= 21


@pytest.mark.parametrize(
    ("line", "name"),
    [
        ("Original source: Fjord Morning Post ↗", "Fjord Morning Post"),
        ("This digest began from a wire item from Baltic Newswire.", "Baltic Newswire"),
        ("This briefing started from a Coastal Herald report. Read the original.", "Coastal Herald"),
        ("read 3 min · first reported by The Harbour Ledger", "The Harbour Ledger"),
        ("Coastline desk | 4 May 2025 | via Northern Daily", "Northern Daily"),
        ("This story originally appeared in Seaboard Weekly.", "Seaboard Weekly"),
    ],
)
def test_attribution_lines_become_the_original_source_and_leave_the_body(line: str, name: str) -> None:
    cleaned = clean_captured_text(_capture(TITLE, line))
    assert cleaned.facts.original_source is not None
    assert cleaned.facts.original_source.name == name
    assert line not in cleaned.body
    assert cleaned.body == "\n\n".join(PARAGRAPHS)


def test_a_wire_dateline_credits_the_wire_and_keeps_the_lede() -> None:
    lede = "OSLO (Nordic Wire) - " + PARAGRAPHS[0]
    cleaned = clean_captured_text("\n".join([TITLE, lede, *PARAGRAPHS[1:]]))
    assert cleaned.facts.original_source is not None
    assert cleaned.facts.original_source.name == "Nordic Wire"
    assert cleaned.body.startswith(lede)


def test_prose_that_mentions_subscribers_or_sponsors_is_article_text() -> None:
    sentence = (
        "The streaming service said subscribers who sign up before June keep the old price, and its "
        "sponsored football coverage will continue."
    )
    cleaned = clean_captured_text("\n".join([TITLE, PARAGRAPHS[0], sentence]))
    assert sentence in cleaned.body


def test_an_advert_slot_does_not_swallow_the_paragraph_after_it() -> None:
    long_paragraph = PARAGRAPHS[1] + " " + PARAGRAPHS[2]
    cleaned = clean_captured_text("\n".join([TITLE, PARAGRAPHS[0], "Sponsored", long_paragraph]))
    assert long_paragraph in cleaned.body


def test_a_summary_header_does_not_swallow_a_long_first_paragraph() -> None:
    first = " ".join([PARAGRAPHS[0], PARAGRAPHS[1], PARAGRAPHS[2]])
    cleaned = clean_captured_text("\n".join([TITLE, "TL;DR", first, PARAGRAPHS[1]]))
    assert first in cleaned.body


def test_a_teaser_list_ends_where_the_article_resumes() -> None:
    text = "\n".join([TITLE, PARAGRAPHS[0], "Related", "Harbour fees rise again", PARAGRAPHS[1], PARAGRAPHS[2]])
    cleaned = clean_captured_text(text)
    assert "Harbour fees" not in cleaned.body
    assert PARAGRAPHS[1] in cleaned.body


def test_markdown_is_read_as_text() -> None:
    text = "\n\n".join(
        [
            f"# {TITLE}",
            "**By Ida Brenner** · 3 March 2025",
            f"{PARAGRAPHS[0]} More in the [authority's notice](https://port.example/notice).",
            "## What changes for passengers",
            PARAGRAPHS[1],
            "---",
            PARAGRAPHS[2],
        ]
    )
    cleaned = clean_captured_text(text)
    assert cleaned.title == TITLE
    assert cleaned.facts.author == "Ida Brenner"
    assert "What changes for passengers" in cleaned.body
    assert "authority's notice" in cleaned.body and "](" not in cleaned.body
    assert "---" not in cleaned.body


def test_hard_wrapped_paragraphs_are_joined() -> None:
    wrapped = (
        "The harbour authority of Port Elling said on Tuesday it would\n"
        "close the old ferry terminal for eight months while engineers\n"
        "replace its flood gates, the first repair in thirty years.\n"
    )
    units = paragraph_units(f"{TITLE}\n\n{wrapped}\n{PARAGRAPHS[1]}")
    assert units[1].startswith("The harbour authority") and units[1].endswith("thirty years.")
    assert len(units) == 3


@pytest.mark.parametrize(
    "sentence",
    [
        "Upgrade work on the bridge will begin in May and last most of the summer.",
        "Register to vote by Friday, the electoral commission reminded residents.",
        "Ad spending rose five per cent in the quarter, the agency said.",
        "Promoted to captain last season, she has not missed a match since.",
        "Recommended doses were cut by half after the first trial.",
        "Summary judgment was granted to the city on Monday.",
        "More on that later, the minister told reporters.",
        "How the plan works is still unclear to most tenants.",
        "By Friday, the council had voted to close the pier.",
        "The study was first published by the Lancet in May.",
        "Highlights of the festival include a night parade on the river.",
        "About 40 people work for us here, the owner said.",
    ],
)
def test_article_sentences_that_resemble_padding_are_kept(sentence: str) -> None:
    cleaned = clean_captured_text("\n".join([TITLE, PARAGRAPHS[0], sentence, PARAGRAPHS[1]]))
    assert sentence in cleaned.body
    assert cleaned.facts.original_source is None


# -- issue 15: lists, tables, teaser runs, headings, titles --------------------------------------------

OWN_ANALYSIS = "\n".join(
    [
        "# Gannet Rail orders hydrogen trains for the coast line",
        "## Overview",
        "Gannet Rail will replace its diesel fleet on the coast line with twelve hydrogen trains built by Torvane.",
        "## Key points",
        "• • The first trains run in 2029 between Selby Cove and Marram.",
        "• • Refuelling happens at a new depot run by Brackwater Gas.",
        "## Fleet figures",
        "| Train | Seats | Range |",
        "|---|---|---|",
        "| Torvane H2 | 180 | 900 km |",
        "| Diesel today | 160 | 1,200 km |",
        "## Specifications",
        "- Top speed: 140 km/h",
        "- Tank: refilled in fifteen minutes",
    ]
)


def test_a_page_made_of_its_own_analysis_keeps_every_part() -> None:
    cleaned = clean_captured_text(OWN_ANALYSIS)
    assert cleaned.title == "Gannet Rail orders hydrogen trains for the coast line"
    for passage in (
        "twelve hydrogen trains built by Torvane",
        "• The first trains run in 2029",
        "Brackwater Gas",
        "| Torvane H2 | 180 | 900 km |",
        "- Top speed: 140 km/h",
        "- Tank: refilled in fifteen minutes",
    ):
        assert passage in cleaned.body
    # Rows of one table stay on consecutive lines: still a markdown table.
    assert "| Train | Seats | Range |\n|---|---|---|\n| Torvane H2" in cleaned.body
    assert [heading.text for heading in cleaned.headings] == ["Overview", "Fleet figures", "Specifications"]
    for heading in cleaned.headings:
        assert cleaned.body[heading.start : heading.start + len(heading.text)] == heading.text


def test_a_summary_the_article_repeats_is_dropped_but_a_fresh_one_is_kept() -> None:
    repeated = clean_captured_text("\n".join([TITLE, "Key points", "• Port Elling ferry terminal closes", *PARAGRAPHS]))
    assert "• Port Elling ferry terminal closes" not in repeated.body
    fresh = clean_captured_text("\n".join([TITLE, *PARAGRAPHS, "Key points", "• Crews from Varden Docks do the work"]))
    assert "Crews from Varden Docks do the work" in fresh.body


def test_teaser_runs_are_dropped_in_the_middle_and_at_the_end_with_or_without_a_label() -> None:
    text = "\n".join(
        [
            TITLE,
            PARAGRAPHS[0],
            "Orchestra names new conductor",
            "She starts in the autumn season.",
            "Rail strike called off",
            "Unions accepted the latest pay offer.",
            *PARAGRAPHS[1:],
            "Around the region",
            "Bakery wins national award",
            "Its rye loaf beat two hundred entries.",
            "School roof repaired before term",
            "Pupils return to the building on Monday.",
        ]
    )
    cleaned = clean_captured_text(text)
    assert cleaned.body == "\n\n".join(PARAGRAPHS)


def test_crossheads_with_their_paragraphs_are_kept_and_reported_as_headings() -> None:
    text = "\n".join(
        [
            TITLE,
            PARAGRAPHS[0],
            "The temporary pier",
            PARAGRAPHS[1],
            "What the authority says",
            PARAGRAPHS[2],
        ]
    )
    cleaned = clean_captured_text(text)
    assert "The temporary pier" in cleaned.body
    assert [heading.text for heading in cleaned.headings] == ["The temporary pier", "What the authority says"]


def test_a_wire_results_table_and_fact_sheet_are_kept_whole() -> None:
    rows = [
        "HOCKEY - NORTH CUP RESULTS .",
        "TROMSVIK 2027-02-14",
        "Results of North Cup matches on Saturday :",
        "Tromsvik Ravens 4 Lindholm Otters 2",
        "Sagvik 1 Brekke Foxes 3",
        "Standings :",
        "Brekke Foxes 10 8 1 1 17",
        "Tromsvik Ravens 10 7 2 1 15",
        "Next game : Sagvik v Tromsvik Ravens",
        "Venue : Ice Hall",
    ]
    cleaned = clean_captured_text("\n".join(rows))
    assert cleaned.title == "HOCKEY - NORTH CUP RESULTS"
    for row in rows[1:]:
        assert row in cleaned.body
    assert cleaned.facts.published_at == datetime(2027, 2, 14, tzinfo=UTC)


def test_the_headline_is_chosen_over_a_masthead_an_edition_line_and_a_consent_notice() -> None:
    text = "\n".join(
        [
            "THE COASTAL POST",
            "Edition 77 · Friday · 5 March 2027",
            "Your privacy matters",
            "We and our partners use cookies on your device to personalise content and measure how you use the site.",
            TITLE,
            *PARAGRAPHS,
        ]
    )
    cleaned = clean_captured_text(text)
    assert cleaned.title == TITLE
    assert cleaned.body == "\n\n".join(PARAGRAPHS)
    assert cleaned.facts.published_at == datetime(2027, 3, 5, tzinfo=UTC)


def test_a_translated_piece_takes_the_headline_in_the_body_language_and_credits_the_original() -> None:
    text = "\n".join(
        [
            "Port Elling ferme son vieux terminal de ferry",
            TITLE,
            "Translated from French. The original story first appeared in La Voix du Port and was shortened.",
            *PARAGRAPHS,
        ]
    )
    cleaned = clean_captured_text(text)
    assert cleaned.title == TITLE
    assert cleaned.facts.original_source is not None
    assert cleaned.facts.original_source.name == "La Voix du Port"
    assert "ferme son" not in cleaned.body


def test_a_deck_glued_to_the_headline_becomes_the_subtitle() -> None:
    deck = "The work will take eight months and ferries move to a temporary pier."
    cleaned = clean_captured_text("\n".join([f"{TITLE} — {deck}", *PARAGRAPHS]))
    assert (cleaned.title, cleaned.subtitle) == (TITLE, deck)
    assert cleaned.body == "\n\n".join(PARAGRAPHS)


def test_a_sentence_between_headline_and_byline_is_the_standfirst() -> None:
    deck = "Engineers will replace the flood gates over the winter."
    cleaned = clean_captured_text("\n".join([TITLE, deck, "By Ida Brenner · 3 March 2025", *PARAGRAPHS]))
    assert (cleaned.title, cleaned.subtitle) == (TITLE, deck)
    assert cleaned.body == "\n\n".join(PARAGRAPHS)


def test_a_press_release_dateline_gives_the_date() -> None:
    lede = "SELBY COVE, Norland, February 2, 2027 /Gannet Rail/ -- Gannet Rail today confirmed its hydrogen order."
    cleaned = clean_captured_text(
        "\n".join(["NEWS RELEASE", "Gannet Rail confirms hydrogen train order", lede, *PARAGRAPHS])
    )
    assert cleaned.title == "Gannet Rail confirms hydrogen train order"
    assert cleaned.facts.published_at == datetime(2027, 2, 2, tzinfo=UTC)
    assert lede in cleaned.body


def test_an_ambiguous_numeric_date_is_left_empty() -> None:
    cleaned = clean_captured_text("\n".join([TITLE, "Posted 04/05/2027", *PARAGRAPHS]))
    assert cleaned.facts.published_at is None


def test_a_wire_credit_under_a_headline_line_and_a_date_on_a_padding_line_are_read() -> None:
    text = "\n".join(
        [
            "SAILING - COAST CUP",
            "Revised: 2027-06-01T07:45+02:00 · machine-assisted digest",
            "MARRAM, Jun 1 (Tidewire) - Crews from four clubs sailed the first race of the Coast Cup on Monday.",
            "Varden Sailing Club led after the first day.",
        ]
    )
    cleaned = clean_captured_text(text)
    assert cleaned.facts.original_source is not None
    assert cleaned.facts.original_source.name == "Tidewire"
    assert cleaned.facts.published_at == datetime(2027, 6, 1, 5, 45, tzinfo=UTC)


def test_a_fact_sheet_under_a_dateline_is_not_a_teaser_list() -> None:
    rows = [
        "BOND SALE - Harrowgate Water Board .",
        "KESTON 2027-03-02",
        "Issuer name Harrowgate Water Board",
        "Lead manager Orrin Capital Markets",
        "Listing Keston Exchange",
        "Purpose : to refinance pipes laid in the last century across the county .",
        "- Coupon N / A",
    ]
    cleaned = clean_captured_text("\n".join(rows))
    for row in rows[2:5]:
        assert row in cleaned.body
    assert "- Coupon N / A" in cleaned.body


def test_a_fixture_list_closing_wire_copy_is_kept() -> None:
    fixtures = ["Norland at Vesteria", "Ostmark at Fjellby Republic", "Kaldera at Sorrow Isles"]
    cleaned = clean_captured_text("\n".join([TITLE, *PARAGRAPHS, "Second round draw :", *fixtures]))
    for fixture in fixtures:
        assert fixture in cleaned.body
