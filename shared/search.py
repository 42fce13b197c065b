"""Queries users run against the ``articles`` alias: the CLI uses these, and the
README documents the DSL they build, since users also query OpenSearch directly."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

FACETS: dict[str, dict[str, Any]] = {
    "topic": {"terms": {"field": "topic_keys", "size": 20}},
    "source": {"terms": {"field": "source.name", "size": 20}},
    "entity": {"terms": {"field": "entity_ids", "size": 20}},
    "sentiment": {"terms": {"field": "sentiment.label", "size": 3}},
    "language": {"terms": {"field": "language", "size": 10}},
    "published": {"date_histogram": {"field": "published_at", "calendar_interval": "day", "min_doc_count": 1}},
}
FILTER_FIELDS = {
    "topic": "topic_keys",
    "source": "source.name",
    "entity": "entity_ids",
    "sentiment": "sentiment.label",
    "language": "language",
}


@dataclass
class SearchRequest:
    text: str = ""
    filters: dict[str, list[str]] = field(default_factory=dict)
    size: int = 10
    sort_by_recency: bool = False


def search_body(request: SearchRequest) -> dict[str, Any]:
    must: list[dict[str, Any]] = []
    if request.text:
        must.append(
            {
                "multi_match": {
                    "query": request.text,
                    "fields": ["title^3", "summary^2", "body", "keywords.text^2", "entities.name.text"],
                    "type": "best_fields",
                }
            }
        )
    filters = [{"terms": {FILTER_FIELDS[name]: values}} for name, values in request.filters.items() if values]
    body: dict[str, Any] = {
        "size": request.size,
        "query": {"bool": {"must": must or [{"match_all": {}}], "filter": filters}},
        "aggs": FACETS,
        "highlight": {"fields": {"title": {}, "body": {"fragment_size": 160, "number_of_fragments": 2}}},
        "_source": {"excludes": ["body", "signature", "entities.spans"]},
        "track_total_hits": True,
    }
    if request.sort_by_recency or not request.text:
        body["sort"] = [{"published_at": {"order": "desc", "missing": "_last"}}, {"ingested_at": "desc"}]
    return body


@dataclass
class SearchResult:
    total: int
    hits: list[dict[str, Any]]
    facets: dict[str, list[tuple[str, int]]]


def parse_response(response: dict[str, Any]) -> SearchResult:
    hits = [
        {**hit["_source"], "_id": hit["_id"], "_score": hit.get("_score"), "highlight": hit.get("highlight", {})}
        for hit in response["hits"]["hits"]
    ]
    facets = {
        name: [(str(bucket.get("key_as_string", bucket["key"])), int(bucket["doc_count"])) for bucket in agg["buckets"]]
        for name, agg in response.get("aggregations", {}).items()
        if "buckets" in agg
    }
    return SearchResult(total=int(response["hits"]["total"]["value"]), hits=hits, facets=facets)
