"""The OpenSearch Dashboards saved objects: valid, self-consistent, and naming only fields the index has."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from shared.search.indices import TEMPLATE_FILE
from shared.settings import OpenSearchSettings

DASHBOARDS = Path(__file__).resolve().parents[3] / "deploy" / "dashboards"
AGGREGATABLE = {"keyword", "date", "long", "integer", "float", "double", "boolean"}


def _load_builder() -> Any:
    spec = importlib.util.spec_from_file_location("build_saved_objects", DASHBOARDS / "build_saved_objects.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _fields(properties: dict[str, Any], prefix: str = "", nested: bool = False) -> Iterator[tuple[str, str, bool]]:
    """(path, type, under a nested field) for every mapped field and sub-field of the template."""
    for name, mapping in properties.items():
        path = f"{prefix}{name}"
        kind = mapping.get("type", "object")
        inside_nested = nested or kind == "nested"
        yield path, kind, inside_nested
        for sub, sub_mapping in mapping.get("fields", {}).items():
            yield f"{path}.{sub}", sub_mapping["type"], inside_nested
        yield from _fields(mapping.get("properties", {}), f"{path}.", inside_nested)


MAPPED = {
    path: (kind, nested)
    for path, kind, nested in _fields(json.loads(TEMPLATE_FILE.read_text())["template"]["mappings"]["properties"])
}


@pytest.fixture(scope="module")
def objects() -> list[dict[str, Any]]:
    lines = (DASHBOARDS / "saved-objects.ndjson").read_text().splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def assert_aggregatable(field: str) -> None:
    assert field in MAPPED, f"{field} is not in the index template"
    kind, nested = MAPPED[field]
    assert kind in AGGREGATABLE and not nested, f"Dashboards cannot aggregate {field} ({kind}, nested={nested})"


def test_the_file_is_what_the_builder_writes() -> None:
    assert (DASHBOARDS / "saved-objects.ndjson").read_text() == _load_builder().render()


def test_ids_are_unique_and_every_reference_resolves(objects: list[dict[str, Any]]) -> None:
    keys = [(saved["type"], saved["id"]) for saved in objects]
    assert len(keys) == len(set(keys))
    for saved in objects:
        for reference in saved["references"]:
            assert (reference["type"], reference["id"]) in keys, f"{saved['id']} refers to a missing {reference}"


def test_the_index_pattern_is_the_alias_with_a_mapped_time_field(objects: list[dict[str, Any]]) -> None:
    (pattern,) = [saved for saved in objects if saved["type"] == "index-pattern"]
    assert pattern["attributes"]["title"] == OpenSearchSettings().alias
    assert MAPPED[pattern["attributes"]["timeFieldName"]][0] == "date"


def test_every_search_source_names_its_index_through_a_reference(objects: list[dict[str, Any]]) -> None:
    for saved in objects:
        meta = saved["attributes"].get("kibanaSavedObjectMeta")
        if not meta:
            continue
        source = json.loads(meta["searchSourceJSON"])
        assert source["query"]["language"] == "kuery"
        if "indexRefName" in source:
            assert source["indexRefName"] in {reference["name"] for reference in saved["references"]}


def test_visualizations_aggregate_mapped_fields(objects: list[dict[str, Any]]) -> None:
    visualizations = [saved for saved in objects if saved["type"] == "visualization"]
    assert len(visualizations) >= 6
    facets = set()
    for saved in visualizations:
        state = json.loads(saved["attributes"]["visState"])
        assert state["title"] == saved["attributes"]["title"]
        assert state["type"] == state["params"]["type"]
        for agg in state["aggs"]:
            if "field" in agg["params"]:
                assert_aggregatable(agg["params"]["field"])
                facets.add(agg["params"]["field"])
    assert {"topic_keys", "source.name", "sentiment.label", "language", "dated_at"} <= facets
    assert facets & {"entity_ids", "entity_names"}


def test_saved_searches_show_and_sort_mapped_fields(objects: list[dict[str, Any]]) -> None:
    searches = [saved for saved in objects if saved["type"] == "search"]
    assert len(searches) >= 2
    for saved in searches:
        for column in saved["attributes"]["columns"]:
            assert column in MAPPED, column
        for field, direction in saved["attributes"]["sort"]:
            assert_aggregatable(field)
            assert direction in {"asc", "desc"}


def test_the_dashboard_places_every_panel_once(objects: list[dict[str, Any]]) -> None:
    (board,) = [saved for saved in objects if saved["type"] == "dashboard"]
    panels = json.loads(board["attributes"]["panelsJSON"])
    references = {reference["name"]: reference for reference in board["references"]}
    assert sorted(panel["panelRefName"] for panel in panels) == sorted(references)
    assert len({panel["panelIndex"] for panel in panels}) == len(panels)
    cells = set()
    for panel in panels:
        grid = panel["gridData"]
        assert grid["x"] + grid["w"] <= 48  # the dashboard grid is 48 columns wide
        cells.add((grid["x"], grid["y"]))
    assert len(cells) == len(panels)  # no two panels start at the same place
    kinds = {references[panel["panelRefName"]]["type"] for panel in panels}
    assert kinds == {"visualization", "search"}
