from __future__ import annotations

from pathlib import Path

import pytest

from services.ingest.collect.sources import SourcesError, load_sources, parse_sources

REPO = Path(__file__).resolve().parents[4]


def test_a_valid_registry() -> None:
    sources = parse_sources(
        """
sources:
  - name: Lake News
    url: https://lake.example/feed.xml
    poll_interval: 15m
    verified: true
    language: en
  - name: Hill Post front page
    url: https://hill.example/
    kind: page
    poll_interval: 3600
    outlet: Hill Post
"""
    )
    lake, hill = sources
    assert lake.poll_interval_s == 900 and lake.kind == "feed" and lake.verified
    assert hill.poll_interval_s == 3600 and hill.kind == "page"
    assert hill.hints() == {"source": "Hill Post", "verified": False}
    assert lake.key != hill.key and lake.host == "lake.example"


def test_every_bad_entry_is_reported_with_its_position_and_name() -> None:
    with pytest.raises(SourcesError) as error:
        parse_sources(
            """
sources:
  - name: Good
    url: https://good.example/feed
  - name: Ftp feed
    url: ftp://files.example/feed
  - name: Hasty
    url: https://hasty.example/feed
    poll_interval: 5s
  - url: https://nameless.example/feed
    colour: blue
  - just a string
  - name: Good
    url: https://good.example/other
"""
        )
    problems = error.value.problems
    assert any(p.startswith("source #2 ('Ftp feed'): url:") for p in problems)
    assert any(p.startswith("source #3 ('Hasty'): poll_interval") and "at least" in p for p in problems)
    assert any(p.startswith("source #4: name:") for p in problems)
    assert any(p.startswith("source #4: colour:") for p in problems)
    assert any(p.startswith("source #5: must be a mapping") for p in problems)
    assert any("name 'Good' is listed more than once" in p for p in problems)


def test_a_file_without_a_sources_list_says_so() -> None:
    with pytest.raises(SourcesError, match="sources:"):
        parse_sources("feeds: []")
    with pytest.raises(SourcesError, match="YAML"):
        parse_sources("sources: [unclosed")


def test_the_shipped_registry_is_valid() -> None:
    assert load_sources(REPO / "deploy" / "sources.yaml")
