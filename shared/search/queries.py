"""Queries users run against the ``articles`` alias: the CLI runs them, and
docs/querying.md documents the DSL they build, since users also query
OpenSearch directly.

The ``*_body`` functions build request bodies and the ``parse_*`` functions
read responses: both pure, so they are tested without a server. ``Searcher``
runs the queries that take more than one request (a page of hits, then the
size of each hit's story; an article, then its cluster).

Stories: an article the stories stage placed carries ``story_id`` (a document of
the ``stories`` alias, services/stories; a story merged into another points to it
with ``merged_into``); an older article only has the index stage's near-duplicate
``cluster_id`` (services/index/clusters.py). ``StoryKey`` is whichever the article
has. A story's members and its original are read at query time, so they are true
for every member at every moment.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from opensearchpy import OpenSearch
from opensearchpy.exceptions import NotFoundError

FACETS: dict[str, dict[str, Any]] = {
    "topic": {"terms": {"field": "topic_keys", "size": 20}},
    "source": {"terms": {"field": "source.name", "size": 20}},
    "entity": {"terms": {"field": "entity_ids", "size": 20}},
    "sentiment": {"terms": {"field": "sentiment.label", "size": 3}},
    "language": {"terms": {"field": "language", "size": 10}},
    "published": {"date_histogram": {"field": "dated_at", "calendar_interval": "day", "min_doc_count": 1}},
}
FILTER_FIELDS = {
    "topic": "topic_keys",
    "source": "source.name",
    "entity": "entity_ids",
    "handle": "entity_handles",
    "sentiment": "sentiment.label",
    "language": "language",
}
TEXT_FIELDS = ["title^3", "summary^2", "takeaways", "body", "keywords.text^2", "entity_names.text^2"]
# What a results list shows; the body and the signature are large and only the index needs them.
LIST_SOURCE = {"excludes": ["body", "signature", "entities.spans"]}
RECENCY = [{"dated_at": {"order": "desc"}}, {"article_id": "asc"}]
MAX_STORY_MEMBERS = 500


@dataclass
class SearchRequest:
    """A search: free text, facet filters, and the ``more on``/``more in`` shortcuts.

    ``more_on`` is an entity (``@handle`` or its id, a Wikidata QID or a local
    ``nf:`` id); ``more_in`` a topic key, whose subtopics count too. Both list
    the newest first, one article per story.
    """

    text: str = ""
    filters: dict[str, list[str]] = field(default_factory=dict)
    more_on: str | None = None
    more_in: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    size: int = 10
    sort_by_recency: bool = False
    one_per_story: bool = False

    @property
    def recency_first(self) -> bool:
        return self.sort_by_recency or not self.text or bool(self.more_on or self.more_in)

    @property
    def grouped_by_story(self) -> bool:
        return self.one_per_story or bool(self.more_on or self.more_in)


def entity_filter(subject: str) -> dict[str, Any]:
    """``@handle`` matches the entity's handle (case-insensitive); anything else is an entity id."""
    if subject.startswith("@"):
        return {"term": {"entity_handles": subject[1:]}}
    return {"term": {"entity_ids": subject}}


def topic_filter(topic: str) -> dict[str, Any]:
    """A topic and its subtopics: ``technology`` also matches ``technology/artificial-intelligence``."""
    key = topic.lstrip("#")
    return {"bool": {"should": [{"term": {"topic_keys": key}}, {"prefix": {"topic_keys": f"{key}/"}}]}}


def search_body(request: SearchRequest) -> dict[str, Any]:
    must: list[dict[str, Any]] = []
    if request.text:
        must.append({"multi_match": {"query": request.text, "fields": TEXT_FIELDS, "type": "best_fields"}})
    filters: list[dict[str, Any]] = [
        {"terms": {FILTER_FIELDS[name]: values}} for name, values in request.filters.items() if values
    ]
    if request.more_on:
        filters.append(entity_filter(request.more_on))
    if request.more_in:
        filters.append(topic_filter(request.more_in))
    if request.since or request.until:
        bounds = {"gte": request.since, "lte": request.until}
        filters.append({"range": {"dated_at": {op: _iso(at) for op, at in bounds.items() if at}}})
    body: dict[str, Any] = {
        "size": request.size,
        "query": {"bool": {"must": must or [{"match_all": {}}], "filter": filters}},
        "aggs": {**FACETS, "stories": {"cardinality": {"field": "cluster_id"}}},
        "highlight": {
            "fields": {
                "title": {"number_of_fragments": 0},
                "summary": {"number_of_fragments": 0},
                "body": {"fragment_size": 160, "number_of_fragments": 2},
            }
        },
        "_source": LIST_SOURCE,
        "track_total_hits": True,
    }
    if request.recency_first:
        body["sort"] = RECENCY
    if request.grouped_by_story:
        body["collapse"] = {"field": "cluster_id"}
    return body


@dataclass
class SearchResult:
    total: int
    hits: list[dict[str, Any]]
    facets: dict[str, list[tuple[str, int]]]
    # Distinct story clusters among all matches (an approximate count beyond 3,000).
    stories: int = 0
    entity_names: dict[str, str] = field(default_factory=dict)


def _hit(hit: Mapping[str, Any]) -> dict[str, Any]:
    return {**hit["_source"], "_id": hit["_id"], "_score": hit.get("_score"), "highlight": hit.get("highlight", {})}


def parse_response(response: Mapping[str, Any]) -> SearchResult:
    aggregations = response.get("aggregations", {})
    facets = {
        name: [(str(bucket.get("key_as_string", bucket["key"])), int(bucket["doc_count"])) for bucket in agg["buckets"]]
        for name, agg in aggregations.items()
        if "buckets" in agg
    }
    return SearchResult(
        total=int(response["hits"]["total"]["value"]),
        hits=[_hit(hit) for hit in response["hits"]["hits"]],
        facets=facets,
        stories=int(aggregations.get("stories", {}).get("value", 0)),
    )


def cluster_sizes_body(cluster_ids: Sequence[str]) -> dict[str, Any]:
    """How many articles each story cluster has, in the whole index."""
    unique = sorted(set(cluster_ids))
    return {
        "size": 0,
        "query": {"terms": {"cluster_id": unique}},
        "aggs": {"sizes": {"terms": {"field": "cluster_id", "size": max(1, len(unique))}}},
    }


def parse_cluster_sizes(response: Mapping[str, Any]) -> dict[str, int]:
    return {bucket["key"]: int(bucket["doc_count"]) for bucket in response["aggregations"]["sizes"]["buckets"]}


def entity_names_body(entity_ids: Sequence[str]) -> dict[str, Any]:
    """The name each entity id goes by in the newest article that mentions it (facets and trending report ids).

    ``entities`` is kept in ``_source`` but not indexed (deploy/opensearch/index-template.json), so the
    name comes from that article's ``_source``: one hit per id, reduced to its entities' ids and names.
    """
    unique = sorted(set(entity_ids))
    return {
        "size": 0,
        "query": {"terms": {"entity_ids": unique}},
        "aggs": {
            "ids": {
                "terms": {"field": "entity_ids", "include": unique, "size": max(1, len(unique))},
                "aggs": {
                    "newest": {
                        "top_hits": {
                            "size": 1,
                            "sort": [{"dated_at": {"order": "desc"}}],
                            "_source": {"includes": ["entities.id", "entities.name"]},
                        }
                    }
                },
            }
        },
    }


def parse_entity_names(response: Mapping[str, Any]) -> dict[str, str]:
    names = {}
    for bucket in response["aggregations"]["ids"]["buckets"]:
        for hit in bucket["newest"]["hits"]["hits"]:
            named = (e["name"] for e in hit["_source"].get("entities", []) if e.get("id") == bucket["key"])
            name = next(named, None)
            if name:
                names[bucket["key"]] = name
    return names


@dataclass(frozen=True)
class StoryKey:
    """What an article's story is found by: its ``story_id`` and the ids merged into it, else its ``cluster_id``."""

    field: str  # "story_id" or "cluster_id"
    ids: tuple[str, ...]
    document: dict[str, Any] | None = None  # the story's document in the stories index, if it has one

    @property
    def filter(self) -> dict[str, Any]:
        return {"terms": {self.field: list(self.ids)}}


# A chain of merges longer than this is not followed (each step is one GET).
MAX_MERGE_HOPS = 8


def related_body(article_id: str, story: StoryKey, size: int = 10) -> dict[str, Any]:
    """Articles like this one, outside its own story, one per story.

    ``min_doc_freq`` is 1 so that a small index still finds neighbours; in a
    large one, ``more_like_this`` weighs terms by tf-idf anyway.
    """
    return {
        "size": size,
        "query": {
            "bool": {
                "must": [
                    {
                        "more_like_this": {
                            "fields": ["title", "body"],
                            "like": [{"_id": article_id}],  # a document of the searched index
                            "min_term_freq": 1,
                            "min_doc_freq": 1,
                            "max_query_terms": 40,
                            "minimum_should_match": "20%",
                        }
                    }
                ],
                "must_not": [story.filter],
            }
        },
        "collapse": {"field": "cluster_id"},
        "_source": LIST_SOURCE,
    }


@dataclass
class TrendingTerm:
    key: str
    count: int  # articles in the recent window
    baseline_count: int  # articles in the whole baseline (which includes the window)
    score: float
    label: str | None = None


@dataclass
class TrendingStory:
    story_id: str
    count: int  # its articles in the window
    outlets: int  # the outlets among them
    headline: str | None = None


@dataclass
class Trending:
    window: tuple[datetime, datetime]
    baseline: tuple[datetime, datetime]
    articles: int  # in the window
    entities: list[TrendingTerm]
    topics: list[TrendingTerm]
    stories: list[TrendingStory] = field(default_factory=list)  # the most retold in the window


def trending_body(
    as_of: datetime, window: timedelta, baseline: timedelta, size: int = 10, min_doc_count: int = 3
) -> dict[str, Any]:
    """Entities and topics over-represented in the last ``window`` against the last ``baseline``.

    ``significant_terms`` compares each term's share of the window's articles
    with its share of the baseline's (JLH score): only terms whose share rose
    are returned, the most rising first.
    """

    def dated_within(span: timedelta) -> dict[str, Any]:
        return {"range": {"dated_at": {"gt": _iso(as_of - span), "lte": _iso(as_of)}}}

    def rising(field_name: str) -> dict[str, Any]:
        return {
            "significant_terms": {
                "field": field_name,
                "size": size,
                "min_doc_count": min_doc_count,
                "background_filter": dated_within(baseline),
            }
        }

    return {
        "size": 0,
        "track_total_hits": True,
        "query": {"bool": {"filter": [dated_within(window)]}},
        "aggs": {
            "entities": rising("entity_ids"),
            "topics": rising("topic_keys"),
            # The stories told by the most outlets in the window (then by the most articles).
            "stories": {
                "terms": {
                    "field": "story_id",
                    "size": size,
                    "min_doc_count": min_doc_count,
                    "order": [{"outlets": "desc"}, {"_count": "desc"}],
                },
                "aggs": {"outlets": {"cardinality": {"field": "source.name"}}},
            },
        },
    }


def parse_trending(response: Mapping[str, Any], as_of: datetime, window: timedelta, baseline: timedelta) -> Trending:
    def terms(name: str) -> list[TrendingTerm]:
        return [
            TrendingTerm(
                key=bucket["key"],
                count=int(bucket["doc_count"]),
                baseline_count=int(bucket["bg_count"]),
                score=float(bucket["score"]),
            )
            for bucket in response["aggregations"][name]["buckets"]
        ]

    return Trending(
        window=(as_of - window, as_of),
        baseline=(as_of - baseline, as_of),
        articles=int(response["hits"]["total"]["value"]),
        entities=terms("entities"),
        topics=terms("topics"),
        stories=[
            TrendingStory(bucket["key"], int(bucket["doc_count"]), int(bucket["outlets"]["value"]))
            for bucket in response["aggregations"].get("stories", {}).get("buckets", [])
        ],
    )


def story_members_body(story: StoryKey, size: int = MAX_STORY_MEMBERS) -> dict[str, Any]:
    return {
        "size": size,
        "query": {"bool": {"filter": [story.filter]}},
        "sort": [{"dated_at": {"order": "asc"}}, {"article_id": "asc"}],
        "_source": LIST_SOURCE,
    }


def _outlet(name: str | None) -> str:
    """Outlet names compared loosely: "Pacific Morning Herald" is "pacific-morning-herald"."""
    return re.sub(r"\W+", "", (name or "").casefold().replace("_", ""))


def choose_original(members: Sequence[Mapping[str, Any]]) -> Mapping[str, Any]:
    """The member the story started from.

    In order of preference: the member whose outlet other members credit as
    their ``original_source``; a member that credits no one; the earliest
    published (missing dates last). A member that credits an outlet is never
    taken to be that outlet's report, even when its own source carries the
    same name (an aggregator page can wear the original's label).
    """
    credited = {_outlet((member.get("original_source") or {}).get("name")) for member in members}

    def attributed(member: Mapping[str, Any]) -> bool:
        # A member's own credit names another outlet, so its outlet being credited means someone else credits it.
        outlet = _outlet((member.get("source") or {}).get("name"))
        own_credit = _outlet((member.get("original_source") or {}).get("name"))
        return bool(outlet) and outlet != own_credit and outlet in credited

    def preference(member: Mapping[str, Any]) -> tuple[bool, bool, datetime, datetime, str]:
        return (
            not attributed(member),
            bool(member.get("original_source")),
            _moment(member.get("published_at")),
            _moment(member.get("ingested_at")),
            member.get("article_id") or "",
        )

    return min(members, key=preference)


@dataclass
class Story:
    story_id: str  # the story's id, or (for an article no stories stage placed) its cluster id
    original: dict[str, Any]
    members: list[dict[str, Any]]  # the original first, then the others oldest first
    outlets: int  # how many outlets carry it
    headline: str | None = None
    merged_ids: list[str] = field(default_factory=list)


def story_of(story: StoryKey, members: Sequence[dict[str, Any]]) -> Story:
    """The story of ``members``; the original is the one the stories stage chose when it is among them."""
    chosen = (story.document or {}).get("original_article_id")
    stage_choice = next((member for member in members if chosen and member.get("_id") == chosen), None)
    original = stage_choice or choose_original(members)
    return Story(
        story_id=story.ids[0],
        original=dict(original),
        members=[dict(original), *(member for member in members if member is not original)],
        outlets=len({_outlet((member.get("source") or {}).get("name")) for member in members}),
        headline=(story.document or {}).get("headline") or original.get("title"),
        merged_ids=list(story.ids[1:]),
    )


class Searcher:
    """Runs the queries against one alias with a synchronous client (the CLI's)."""

    def __init__(self, client: OpenSearch, alias: str, stories_alias: str = "stories") -> None:
        self.client = client
        self.alias = alias
        self.stories_alias = stories_alias

    def search(self, request: SearchRequest) -> SearchResult:
        result = parse_response(self.client.search(index=self.alias, body=search_body(request)))
        cluster_ids = [hit["cluster_id"] for hit in result.hits if hit.get("cluster_id")]
        entity_ids = [key for key, _ in result.facets.get("entity", [])]
        lookups: list[dict[str, Any]] = []
        if cluster_ids:
            lookups += [{"index": self.alias}, cluster_sizes_body(cluster_ids)]
        if entity_ids:
            lookups += [{"index": self.alias}, entity_names_body(entity_ids)]
        if not lookups:
            return result
        responses = iter(self.client.msearch(body=lookups)["responses"])
        if cluster_ids:
            sizes = parse_cluster_sizes(_ok(next(responses)))
            for hit in result.hits:
                hit["cluster_size"] = sizes.get(hit.get("cluster_id", ""), 1)
        if entity_ids:
            result.entity_names = parse_entity_names(_ok(next(responses)))
        return result

    def article(self, article_id: str) -> dict[str, Any] | None:
        """One article (without its signature); None if there is no such article."""
        try:
            found = self.client.get(index=self.alias, id=article_id, _source_excludes=["signature"])
        except NotFoundError:
            return None
        return {**found["_source"], "_id": found["_id"]}

    def related(self, article_id: str, size: int = 10) -> list[dict[str, Any]]:
        body = related_body(article_id, self.story_key(article_id), size)
        return [_hit(hit) for hit in self.client.search(index=self.alias, body=body)["hits"]["hits"]]

    def trending(
        self,
        as_of: datetime | None = None,
        window: timedelta = timedelta(days=1),
        baseline: timedelta = timedelta(days=30),
        size: int = 10,
        min_doc_count: int = 3,
    ) -> Trending:
        as_of = as_of or datetime.now(UTC)
        body = trending_body(as_of, window, baseline, size, min_doc_count)
        trending = parse_trending(self.client.search(index=self.alias, body=body), as_of, window, baseline)
        if trending.entities:
            names_body = entity_names_body([term.key for term in trending.entities])
            names = parse_entity_names(self.client.search(index=self.alias, body=names_body))
            for term in trending.entities:
                term.label = names.get(term.key)
        if trending.stories:
            try:
                ids = [story.story_id for story in trending.stories]
                found = self.client.mget(index=self.stories_alias, body={"ids": ids})["docs"]
            except NotFoundError:  # no stories index (yet): the stories are listed by id
                found = []
            headlines = {doc["_id"]: doc["_source"].get("headline") for doc in found if doc.get("found")}
            for story in trending.stories:
                story.headline = headlines.get(story.story_id)
        return trending

    def story(self, article_id: str) -> Story:
        key = self.story_key(article_id)
        response = self.client.search(index=self.alias, body=story_members_body(key))
        return story_of(key, [_hit(hit) for hit in response["hits"]["hits"]])

    def story_key(self, article_id: str) -> StoryKey:
        """The article's story: its ``story_id`` resolved through merges, else its cluster (only those
        fields are fetched, not the article)."""
        try:
            found = self.client.get(index=self.alias, id=article_id, _source_includes=["cluster_id", "story_id"])
        except NotFoundError as error:
            raise LookupError(f"no article {article_id!r} in {self.alias!r}") from error
        story_id = found["_source"].get("story_id")
        if not story_id:
            return StoryKey("cluster_id", (str(found["_source"].get("cluster_id") or article_id),))
        document = self._story_document(str(story_id))
        if document is None:  # not written yet, or no stories index: the id alone still finds its members
            return StoryKey("story_id", (str(story_id),))
        ids = (
            document["story_id"],
            *(merged for merged in document.get("merged_ids", []) if merged != document["story_id"]),
        )
        return StoryKey("story_id", ids, document)

    def _story_document(self, story_id: str) -> dict[str, Any] | None:
        """The story's document, following ``merged_into`` to the story it merged into."""
        for _ in range(MAX_MERGE_HOPS):
            try:
                document: dict[str, Any] = self.client.get(index=self.stories_alias, id=story_id)["_source"]
            except NotFoundError:
                return None
            if not document.get("merged_into"):
                return document
            story_id = document["merged_into"]
        return None


def _ok(response: Mapping[str, Any]) -> Mapping[str, Any]:
    if "error" in response:
        raise RuntimeError(f"OpenSearch refused a query: {response['error']}")
    return response


def _moment(value: str | None) -> datetime:
    """A document's ISO date as an aware datetime; a missing one sorts after every real one."""
    if not value:
        return datetime.max.replace(tzinfo=UTC)
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat() if moment.tzinfo else moment.replace(tzinfo=UTC).isoformat()
