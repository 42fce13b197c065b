"""Padding lines dropped from an extracted page's text: a date stamp only when the date is the whole line."""

from __future__ import annotations

import pytest

from services.ingest.extract.padding_filter import drop_padding_lines, is_date_stamp


@pytest.mark.parametrize(
    "line",
    [
        "14 November 2026",
        "Nov 14, 2026",
        "Revised 14 November 2026, 08:20",
        "Posted on November 14, 2026 at 8:20 pm EST",
        "Saturday, 14 November 2026",
        "2026-11-14 08:20",
        "14.11.2026",
        "14.11.2026, 08:20 Uhr",
        "14/11/2026 à 08h20",
        "2026-11-14T08:20:00+01:00",
        "Actualizado 2026-11-14",
    ],
)
def test_a_line_that_is_a_date_with_at_most_a_label_and_a_time_is_a_stamp(line: str) -> None:
    assert is_date_stamp(line)


@pytest.mark.parametrize(
    "line",
    [
        "Lock gates close 14 November 2026",
        "Gates close 14 November 2026",
        "Toll rises Nov 14, 2026",
        "Hafenfest abgesagt am 14.11.2026",
        "La grève des bus se termine le 14/11/2026",
        "14 November 2026: harbour toll rises",
        "Firmware 2.14.11 released",
        "Termin: 14.11.2026, 19 Uhr",
        "Trial date set for 14 November 2026",
    ],
)
def test_a_short_line_that_only_contains_a_date_is_news(line: str) -> None:
    assert not is_date_stamp(line)


def test_one_line_news_items_with_dates_are_kept_and_the_stamp_between_them_dropped() -> None:
    text = "\n".join(
        [
            "Revised 14 November 2026, 08:20",
            "Gates close 14 November 2026",
            "Toll rises Nov 14, 2026",
        ]
    )
    assert drop_padding_lines(text) == "Gates close 14 November 2026\nToll rises Nov 14, 2026"
