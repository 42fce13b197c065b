from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from services.ingest.extract.dates import find_date, parse_date


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Published 2 April 2026", datetime(2026, 4, 2, tzinfo=UTC)),
        ("by A. Writer · 14 Mar 2026 · 4 min read", datetime(2026, 3, 14, tzinfo=UTC)),
        ("updated Jan 30, 2026", datetime(2026, 1, 30, tzinfo=UTC)),
        ("Nov 12, 2026, 09:40 GMT", datetime(2026, 11, 12, 9, 40, tzinfo=UTC)),
        ("September 3rd, 2025 at 5:15 pm", datetime(2025, 9, 3, 17, 15, tzinfo=UTC)),
        ("pub=2026-03-14", datetime(2026, 3, 14, tzinfo=UTC)),
        ("2026-03-14T08:00:00+02:00", datetime(2026, 3, 14, 8, tzinfo=timezone(timedelta(hours=2)))),
    ],
)
def test_written_dates_are_found(text: str, expected: datetime) -> None:
    assert find_date(text) == expected


@pytest.mark.parametrize("text", ["31 February 2026", "May the fourth", "in 2026 the tide", "views 2026"])
def test_things_that_are_not_dates_are_not_dates(text: str) -> None:
    assert find_date(text) is None


def test_the_first_date_written_wins() -> None:
    assert find_date("Updated 5 May 2026, first published 2026-05-01") == datetime(2026, 5, 5, tzinfo=UTC)


def test_field_dates_are_iso_first_and_always_aware() -> None:
    assert parse_date("2026-01-02") == datetime(2026, 1, 2, tzinfo=UTC)
    assert parse_date("2026-01-02T03:04:05Z") == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert parse_date("Fri, 2 Jan 2026") == datetime(2026, 1, 2, tzinfo=UTC)
    assert parse_date("   ") is None


@pytest.mark.parametrize(
    ("text", "offset_hours"),
    [("12 Jan 2027 09:15 CET", 1), ("Mar 3, 2027, 10:00 EST", -5), ("4 July 2027 18:30 BST", 1)],
)
def test_zone_abbreviations_give_the_offset(text: str, offset_hours: int) -> None:
    found = find_date(text)
    assert found is not None
    assert found.utcoffset() == timedelta(hours=offset_hours)


@pytest.mark.parametrize("text", ["Posted 03/04/2027", "on 4.5.27"])
def test_numeric_dates_whose_day_and_month_cannot_be_told_apart_are_not_read(text: str) -> None:
    assert find_date(text) is None
