"""Writes saved-objects.ndjson, the OpenSearch Dashboards objects `newsflow setup --dashboards-url` imports:
the ``articles`` index pattern, saved searches, one visualization per facet and a dashboard of them.

Saved objects nest JSON inside JSON strings (visState, searchSourceJSON, panelsJSON); this script is the
readable source of that file. Run it after a change; tests/unit/index/test_dashboards.py fails when the
file and the script disagree, and checks every field against the index template.

    .venv/bin/python deploy/dashboards/build_saved_objects.py
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

OUTPUT = Path(__file__).with_name("saved-objects.ndjson")
INDEX_PATTERN_ID = "newsflow-articles"
ALIAS = "articles"
TIME_FIELD = "dated_at"
INDEX_REF = "kibanaSavedObjectMeta.searchSourceJSON.index"
# The object formats these attributes follow, so Dashboards applies no older migration to them.
MIGRATION = {
    "index-pattern": "7.6.0",
    "search": "7.9.3",
    "visualization": "7.10.0",
    "dashboard": "7.9.3",
}


def _source(query: str = "", with_index: bool = True) -> dict[str, str]:
    source: dict[str, Any] = {"query": {"query": query, "language": "kuery"}, "filter": []}
    if with_index:
        source["indexRefName"] = INDEX_REF
    return {"searchSourceJSON": json.dumps(source)}


def _saved(kind: str, object_id: str, attributes: dict[str, Any], references: list[dict[str, str]]) -> dict[str, Any]:
    return {
        "id": object_id,
        "type": kind,
        "attributes": attributes,
        "references": references,
        "migrationVersion": {kind: MIGRATION[kind]},
    }


def _index_reference() -> list[dict[str, str]]:
    return [{"name": INDEX_REF, "type": "index-pattern", "id": INDEX_PATTERN_ID}]


def index_pattern() -> dict[str, Any]:
    # No field list: Dashboards reads the fields from the index when it first opens the pattern.
    return _saved("index-pattern", INDEX_PATTERN_ID, {"title": ALIAS, "timeFieldName": TIME_FIELD}, [])


def saved_search(object_id: str, title: str, query: str, description: str) -> dict[str, Any]:
    attributes = {
        "title": title,
        "description": description,
        "columns": ["title", "source.name", "primary_topic", "sentiment.label", "entity_names"],
        "sort": [[TIME_FIELD, "desc"]],
        "version": 1,
        "kibanaSavedObjectMeta": _source(query),
    }
    return _saved("search", object_id, attributes, _index_reference())


COUNT = {"id": "1", "enabled": True, "type": "count", "schema": "metric", "params": {}}


def _terms(field: str, size: int, schema: str, label: str) -> dict[str, Any]:
    return {
        "id": "2",
        "enabled": True,
        "type": "terms",
        "schema": schema,
        "params": {
            "field": field,
            "orderBy": "1",
            "order": "desc",
            "size": size,
            "otherBucket": False,
            "otherBucketLabel": "Other",
            "missingBucket": False,
            "missingBucketLabel": "Missing",
            "customLabel": label,
        },
    }


def visualization(object_id: str, title: str, kind: str, params: dict[str, Any], aggs: list[Any]) -> dict[str, Any]:
    # Params left out take the visualization type's defaults when Dashboards loads the object.
    state = {"title": title, "type": kind, "params": {"type": kind, **params}, "aggs": aggs}
    attributes = {
        "title": title,
        "visState": json.dumps(state),
        "uiStateJSON": "{}",
        "description": "",
        "version": 1,
        "kibanaSavedObjectMeta": _source(),
    }
    return _saved("visualization", object_id, attributes, _index_reference())


def facet_table(object_id: str, title: str, field: str, label: str, size: int = 20) -> dict[str, Any]:
    params = {"perPage": 10, "showPartialRows": False, "showMetricsAtAllLevels": False, "showTotal": False}
    return visualization(object_id, title, "table", params, [COUNT, _terms(field, size, "bucket", label)])


def facet_pie(object_id: str, title: str, field: str, label: str, size: int = 10) -> dict[str, Any]:
    params = {"addTooltip": True, "addLegend": True, "legendPosition": "right", "isDonut": True}
    return visualization(object_id, title, "pie", params, [COUNT, _terms(field, size, "segment", label)])


def articles_over_time() -> dict[str, Any]:
    histogram = {
        "id": "2",
        "enabled": True,
        "type": "date_histogram",
        "schema": "segment",
        "params": {"field": TIME_FIELD, "interval": "auto", "min_doc_count": 1, "extended_bounds": {}},
    }
    params = {"addTooltip": True, "addLegend": False}
    return visualization(
        "newsflow-articles-over-time", "newsflow: articles over time", "histogram", params, [COUNT, histogram]
    )


def dashboard(panels: list[dict[str, Any]], columns: int = 2) -> dict[str, Any]:
    width, height = 48 // columns, 15
    panel_specs = []
    references = []
    for number, panel in enumerate(panels):
        reference = f"panel_{number}"
        references.append({"name": reference, "type": panel["type"], "id": panel["id"]})
        grid = {"x": (number % columns) * width, "y": (number // columns) * height, "w": width, "h": height}
        panel_specs.append(
            {
                "panelIndex": str(number + 1),
                "gridData": {**grid, "i": str(number + 1)},
                "embeddableConfig": {},
                "version": "2.19.0",
                "panelRefName": reference,
            }
        )
    attributes = {
        "title": "newsflow: news overview",
        "description": "What the pipeline indexed: volume over time, topics, sources, entities, sentiment, "
        "languages, the largest stories and the latest articles.",
        "panelsJSON": json.dumps(panel_specs),
        "optionsJSON": json.dumps({"hidePanelTitles": False, "useMargins": True}),
        "timeRestore": True,
        "timeFrom": "now-30d",
        "timeTo": "now",
        "refreshInterval": {"pause": True, "value": 0},
        "version": 1,
        "kibanaSavedObjectMeta": _source(with_index=False),
    }
    return _saved("dashboard", "newsflow-overview", attributes, references)


def saved_objects() -> list[dict[str, Any]]:
    latest = saved_search(
        "newsflow-latest", "newsflow: latest articles", "", "Every article, newest first, with its topic and sentiment."
    )
    searches = [
        latest,
        saved_search(
            "newsflow-negative", "newsflow: negative coverage", "sentiment.label:negative", "Articles read as negative."
        ),
        saved_search(
            "newsflow-technology",
            "newsflow: technology",
            "topic_keys:technology or topic_keys:technology/*",
            "Technology and its subtopics.",
        ),
    ]
    visualizations = [
        articles_over_time(),
        facet_table("newsflow-topics", "newsflow: topics", "topic_keys", "Topic"),
        facet_table("newsflow-sources", "newsflow: sources", "source.name", "Source"),
        facet_table("newsflow-entities", "newsflow: entities", "entity_names", "Entity", size=25),
        facet_pie("newsflow-sentiment", "newsflow: sentiment", "sentiment.label", "Sentiment", size=3),
        facet_pie("newsflow-languages", "newsflow: languages", "language", "Language"),
        # A story cluster's article count is its size: the largest stories are the most retold.
        facet_table("newsflow-stories", "newsflow: largest stories", "cluster_id", "Story (cluster id)", size=10),
    ]
    return [index_pattern(), *searches, *visualizations, dashboard([*visualizations, latest])]


def render() -> str:
    return "".join(json.dumps(saved, ensure_ascii=False, sort_keys=True) + "\n" for saved in saved_objects())


if __name__ == "__main__":
    OUTPUT.write_text(render())
    print(f"wrote {OUTPUT}")
