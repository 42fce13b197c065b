from __future__ import annotations

import pytest

from services.ingest.extract.attribution import attribution_in_padding, canonical_elsewhere, wire_dateline


def test_a_name_stops_at_the_end_of_its_sentence() -> None:
    found = attribution_in_padding("This note began from a source item from Tidewater Journal. Open the original.")
    assert found is not None and found.name == "Tidewater Journal"


def test_an_address_names_the_source_by_domain_and_keeps_the_url() -> None:
    found = attribution_in_padding("Original source: https://www.tidewater.example/2026/ferry")
    assert found is not None
    assert found.name == "tidewater.example"
    assert found.url == "https://www.tidewater.example/2026/ferry"


def test_lines_without_an_attribution_phrase_name_nothing() -> None:
    assert attribution_in_padding("The ferry sailed via the northern channel at dawn") is None
    assert attribution_in_padding("Related stories from the coast") is None


def test_wire_datelines() -> None:
    assert (found := wire_dateline("BERGEN (Fjord Wire) — The council voted")) and found.name == "Fjord Wire"
    assert wire_dateline("The council (which meets monthly) - voted") is None


def test_a_canonical_link_to_another_site_is_the_original() -> None:
    page = "https://aggregator.example/story/1"
    original = canonical_elsewhere(page, "https://www.herald.example/a/1", "Herald")
    assert original is not None and original.name == "Herald" and original.url == "https://www.herald.example/a/1"
    assert canonical_elsewhere(page, "https://m.aggregator.example/story/1", None) is None
    assert canonical_elsewhere(page, None, None) is None


@pytest.mark.parametrize(
    ("line", "outlet"),
    [
        (
            "This column first appeared in Swedish in Kvällsbladet Norr and was translated by our desk.",
            "Kvällsbladet Norr",
        ),
        ("First published in Portuguese by Gazeta do Planalto.", "Gazeta do Planalto"),
        ("Translated from the Finnish original at Lapin Viesti.", "Lapin Viesti"),
        ("This profile originally appeared in The Moorland Courier.", "The Moorland Courier"),
    ],
)
def test_a_translation_note_names_the_outlet_not_the_language(line: str, outlet: str) -> None:
    found = attribution_in_padding(line)
    assert found is not None and found.name == outlet


def test_a_translator_is_no_outlet() -> None:
    assert attribution_in_padding("Translated from Greek by Eleni Papadaki.") is None
