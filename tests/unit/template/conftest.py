"""Texts written for these tests: one a child could read, one a committee wrote."""

from __future__ import annotations

import pytest

EASY_TEXT = (
    "The dog ran to the park. It was a warm day. The kids threw a ball and the dog got it. "
    "Then they all sat in the sun. The dog went to sleep."
)
HARD_TEXT = (
    "Notwithstanding considerable institutional uncertainty, the parliamentary committee recommended "
    "comprehensive constitutional reorganisation, emphasising administrative accountability, "
    "intergovernmental coordination and the progressive harmonisation of regulatory obligations. "
    "Representatives characterised the consultation as fundamentally unrepresentative."
)


@pytest.fixture
def easy_text() -> str:
    return EASY_TEXT


@pytest.fixture
def hard_text() -> str:
    return HARD_TEXT
