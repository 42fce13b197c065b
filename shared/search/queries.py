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

import base64
import binascii
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from opensearchpy import OpenSearch
from opensearchpy.exceptions import NotFoundError

from shared.search.indices import LOCALIZED_LANGUAGES

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
# English analysis for every article, and each language's own analysis of its articles' title and body: an
# article has only the ``localized`` copy of its own language, so "hôpital" finds "les hôpitaux" in French
# articles while "strikes" still finds "striking" in English ones.
LOCALIZED_TITLES = [f"localized.{language}.title" for language in LOCALIZED_LANGUAGES]
LOCALIZED_BODIES = [f"localized.{language}.body" for language in LOCALIZED_LANGUAGES]
TEXT_FIELDS = [
    "title^3",
    "summary^2",
    "takeaways",
    "body",
    "keywords.text^2",
    "entity_names.text^2",
    *(f"{name}^3" for name in LOCALIZED_TITLES),
    *LOCALIZED_BODIES,
]
TITLE_HIGHLIGHT = {"number_of_fragments": 0}
BODY_HIGHLIGHT = {"fragment_size": 160, "number_of_fragments": 2}
# What a results list shows; the body, its localized copy and the signature are large and only the index needs them.
LIST_SOURCE = {"excludes": ["body", "localized", "signature", "entities.spans"]}
RECENCY = [{"dated_at": {"order": "desc"}}, {"article_id": "asc"}]
# Relevance with a unique tie-breaker, so a page's last hit is a cursor (``search_after``).
RELEVANCE = [{"_score": {"order": "desc"}}, {"article_id": "asc"}]
MAX_STORY_MEMBERS = 500
# What groups the articles of one story: the id the stories stage gives each article (an id merged into
# another story resolves to it, see ``Searcher.story_key``).
STORY_FIELD = "story_id"
DURATION = re.compile(r"^(\d+)([mhdw])$")
DURATION_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


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
    stories: list[str] = field(default_factory=list)
    exclude_stories: list[str] = field(default_factory=list)
    # Cursor pagination: every page sorts by a unique key and starts after the last hit of the one
    # before. By date, ``indexed_until`` keeps articles indexed after the first page out of the later
    # ones. By relevance that is not enough (a new article changes every score), so the pages read one
    # point in time, ``snapshot``: see ``paged``.
    paged: bool = False
    search_after: list[Any] | None = None
    indexed_until: datetime | None = None
    snapshot: str | None = None
    snapshot_keep_alive: str = "5m"

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


def story_filter(story_ids: Sequence[str]) -> dict[str, Any]:
    return {"terms": {STORY_FIELD: list(story_ids)}}


def search_query(request: SearchRequest) -> dict[str, Any]:
    """The ``query`` of a search: what matches, whatever the page, sort or facets."""
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
    if request.stories:
        filters.append(story_filter(request.stories))
    if request.since or request.until:
        bounds = {"gte": request.since, "lte": request.until}
        filters.append({"range": {"dated_at": {op: _iso(at) for op, at in bounds.items() if at}}})
    if request.indexed_until:
        filters.append({"range": {"indexed_at": {"lte": _iso(request.indexed_until)}}})
    query: dict[str, Any] = {"bool": {"must": must or [{"match_all": {}}], "filter": filters}}
    if request.exclude_stories:
        query["bool"]["must_not"] = [story_filter(request.exclude_stories)]
    return query


def search_body(request: SearchRequest) -> dict[str, Any]:
    body: dict[str, Any] = {
        # A paged search asks for one hit more than the page, to know whether another page follows.
        "size": request.size + 1 if request.paged else request.size,
        "query": search_query(request),
        "aggs": {**FACETS, "stories": {"cardinality": {"field": STORY_FIELD}}},
        "highlight": {
            "fields": {
                "title": TITLE_HIGHLIGHT,
                "summary": {"number_of_fragments": 0},
                "body": BODY_HIGHLIGHT,
                **dict.fromkeys(LOCALIZED_TITLES, TITLE_HIGHLIGHT),
                **dict.fromkeys(LOCALIZED_BODIES, BODY_HIGHLIGHT),
            }
        },
        "_source": LIST_SOURCE,
        "track_total_hits": True,
    }
    if request.recency_first:
        body["sort"] = RECENCY
    elif request.paged:
        body["sort"] = RELEVANCE
    if request.search_after:
        body["search_after"] = request.search_after
    if request.snapshot:
        body["pit"] = {"id": request.snapshot, "keep_alive": request.snapshot_keep_alive}
    if request.grouped_by_story:
        body["collapse"] = {"field": STORY_FIELD}
    return body


@dataclass(frozen=True)
class Cursor:
    """Where the next page starts: the sort values of the last hit, and the moment of the first page."""

    search_after: list[Any]
    indexed_until: datetime
    snapshot: str | None = None

    def encode(self) -> str:
        payload = {"after": self.search_after, "until": _iso(self.indexed_until), "pit": self.snapshot}
        return base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> Cursor:
        """Raises ``ValueError`` for anything that is not a cursor this module wrote."""
        try:
            payload = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
            after, until, snapshot = payload["after"], datetime.fromisoformat(payload["until"]), payload["pit"]
        except (binascii.Error, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as error:
            raise ValueError("not a cursor returned by a previous page") from error
        if not isinstance(after, list) or not all(isinstance(value, str | int | float) for value in after):
            raise ValueError("not a cursor returned by a previous page")
        if not isinstance(snapshot, str | None):
            raise ValueError("not a cursor returned by a previous page")
        return cls(after, until, snapshot)


def paged(
    request: SearchRequest, cursor: Cursor | None, now: datetime | None = None, snapshot: str | None = None
) -> SearchRequest:
    """The request for one page. The first (no cursor) fixes the moment later pages are bounded by and,
    ranked by relevance, the point in time ``snapshot`` they all read; later pages take both from the cursor."""
    if cursor is None:
        first = replace(request, paged=True, search_after=None, indexed_until=now or datetime.now(UTC))
        return replace(first, snapshot=None if first.recency_first else snapshot)
    return replace(
        request,
        paged=True,
        search_after=cursor.search_after,
        indexed_until=cursor.indexed_until,
        snapshot=cursor.snapshot,
    )


@dataclass
class SearchResult:
    total: int
    hits: list[dict[str, Any]]
    facets: dict[str, list[tuple[str, int]]]
    # Distinct story clusters among all matches (an approximate count beyond 3,000).
    stories: int = 0
    entity_names: dict[str, str] = field(default_factory=dict)
    # Paged searches: where the next page starts, None on the last page.
    next_cursor: Cursor | None = None


def _hit(hit: Mapping[str, Any]) -> dict[str, Any]:
    return {**hit["_source"], "_id": hit["_id"], "_score": hit.get("_score"), "highlight": _highlight(hit)}


def _highlight(hit: Mapping[str, Any]) -> dict[str, list[str]]:
    """Highlights by the field readers know: a match in ``localized.fr.body`` is a match in the body.
    Where both analyses matched, the article's own language marks more of its words, so its fragments win."""
    found: dict[str, list[str]] = {}
    for name, fragments in hit.get("highlight", {}).items():
        if name.startswith("localized."):
            found[name.rsplit(".", 1)[-1]] = fragments
        else:
            found.setdefault(name, fragments)
    return found


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


def story_sizes_body(story_ids: Sequence[str]) -> dict[str, Any]:
    """How many articles each story has, in the whole index."""
    unique = sorted(set(story_ids))
    return {
        "size": 0,
        "query": {"terms": {STORY_FIELD: unique}},
        "aggs": {"sizes": {"terms": {"field": STORY_FIELD, "size": max(1, len(unique))}}},
    }


def parse_story_sizes(response: Mapping[str, Any]) -> dict[str, int]:
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
        "collapse": {"field": STORY_FIELD},
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
    headline: str | None = None
    merged_ids: list[str] = field(default_factory=list)

    @property
    def timeline(self) -> list[dict[str, Any]]:
        """The members in the order they were published (undated ones last)."""
        return sorted(self.members, key=lambda member: (_moment(member.get("dated_at")), member.get("article_id", "")))

    @property
    def outlets(self) -> list[str]:
        """Each outlet once (names compared loosely), the original's first."""
        names = ((member.get("source") or {}).get("name") or "" for member in self.members)
        return list({_outlet(name): name for name in reversed(list(names))}.values())[::-1]

    @property
    def first_seen(self) -> str | None:
        return self.timeline[0].get("dated_at")

    @property
    def last_seen(self) -> str | None:
        return self.timeline[-1].get("dated_at")


def story_of(story: StoryKey, members: Sequence[dict[str, Any]]) -> Story:
    """The story of ``members``; the original is the one the stories stage chose when it is among them."""
    chosen = (story.document or {}).get("original_article_id")
    stage_choice = next((member for member in members if chosen and member.get("_id") == chosen), None)
    original = stage_choice or choose_original(members)
    return Story(
        story_id=story.ids[0],
        original=dict(original),
        members=[dict(original), *(member for member in members if member is not original)],
        headline=(story.document or {}).get("headline") or original.get("title"),
        merged_ids=list(story.ids[1:]),
    )


def parse_duration(text: str) -> timedelta:
    """``30m``, ``24h``, ``7d``, ``2w``; ``ValueError`` for anything else."""
    match = DURATION.match(text.strip())
    if not match:
        raise ValueError(f"{text!r} is not a duration such as 30m, 24h, 7d or 2w")
    return timedelta(**{DURATION_UNITS[match.group(2)]: int(match.group(1))})


def entity_body(subject: str, size: int = 20, co_occurring: int = 10) -> dict[str, Any]:
    """An entity's page: its newest articles, articles mentioning it per day, the entities named beside it.

    ``co_occurring`` asks for one more bucket than shown, because the entity itself is always the first.
    """
    return {
        "size": size,
        "query": {"bool": {"filter": [entity_filter(subject)]}},
        "sort": RECENCY,
        "_source": LIST_SOURCE,
        "track_total_hits": True,
        "aggs": {
            "per_day": {"date_histogram": {"field": "dated_at", "calendar_interval": "day", "min_doc_count": 0}},
            "co_occurring": {"terms": {"field": "entity_ids", "size": co_occurring + 1}},
        },
    }


@dataclass
class EntityPage:
    entity: dict[str, Any]  # id, name, type, handle as the newest article that mentions it has them
    total: int
    articles: list[dict[str, Any]]
    per_day: list[tuple[str, int]]  # every day from the first mention to the last, zeros included
    co_occurring: list[tuple[str, int]]  # entity id, articles mentioning both
    entity_names: dict[str, str] = field(default_factory=dict)


def _mentioned(subject: str, entity: Mapping[str, Any]) -> bool:
    if subject.startswith("@"):
        return str(entity.get("handle", "")).casefold() == subject[1:].casefold()
    return entity.get("id") == subject


def parse_entity_page(subject: str, response: Mapping[str, Any]) -> EntityPage | None:
    """None when no article mentions the entity."""
    result = parse_response(response)
    if not result.hits:
        return None
    entity = next(e for e in result.hits[0].get("entities", []) if _mentioned(subject, e))
    identity = {key: entity.get(key) for key in ("id", "name", "type", "handle")}
    return EntityPage(
        entity=identity,
        total=result.total,
        articles=result.hits,
        per_day=[(day[:10], count) for day, count in result.facets["per_day"]],
        co_occurring=[(key, count) for key, count in result.facets["co_occurring"] if key != identity["id"]],
    )


def export_body(
    request: SearchRequest, pit_id: str, keep_alive: str, size: int, after: list[Any] | None
) -> dict[str, Any]:
    """One page of an export: every field but the signature, in a point in time, newest first."""
    body: dict[str, Any] = {
        "size": size,
        "query": search_query(request),
        "sort": RECENCY,
        "_source": {"excludes": ["signature"]},
        "pit": {"id": pit_id, "keep_alive": keep_alive},
        "track_total_hits": False,
    }
    if after:
        body["search_after"] = after
    return body


def newest_body() -> dict[str, Any]:
    return {"size": 0, "aggs": {"newest": {"max": {"field": "dated_at"}}}}


class Searcher:
    """Runs the queries against one alias with a synchronous client (the CLI's)."""

    def __init__(self, client: OpenSearch, alias: str, stories_alias: str = "stories") -> None:
        self.client = client
        self.alias = alias
        self.stories_alias = stories_alias

    def search(self, request: SearchRequest) -> SearchResult:
        # A point in time names its indices itself.
        response = self.client.search(index=None if request.snapshot else self.alias, body=search_body(request))
        result = parse_response(response)
        if request.paged and len(result.hits) > request.size:
            del result.hits[request.size :]
            last = response["hits"]["hits"][request.size - 1]
            until = request.indexed_until or datetime.now(UTC)
            result.next_cursor = Cursor(last["sort"], until, response.get("pit_id", request.snapshot))
        story_ids = [hit[STORY_FIELD] for hit in result.hits if hit.get(STORY_FIELD)]
        entity_ids = [key for key, _ in result.facets.get("entity", [])]
        lookups: list[dict[str, Any]] = []
        if story_ids:
            lookups += [{"index": self.alias}, story_sizes_body(story_ids)]
        if entity_ids:
            lookups += [{"index": self.alias}, entity_names_body(entity_ids)]
        if not lookups:
            return result
        responses = iter(self.client.msearch(body=lookups)["responses"])
        if story_ids:
            sizes = parse_story_sizes(_ok(next(responses)))
            for hit in result.hits:
                hit["story_size"] = sizes.get(hit.get(STORY_FIELD, ""), 1)
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

    def open_snapshot(self, keep_alive: str) -> str:
        """A point in time of the alias (what relevance-ranked pages read), kept ``keep_alive`` after each use."""
        return str(self.client.create_pit(index=self.alias, params={"keep_alive": keep_alive})["pit_id"])

    def close_snapshot(self, snapshot: str) -> None:
        self.client.delete_pit(body={"pit_id": [snapshot]})

    def story(self, article_id: str) -> Story:
        story = self._story(self.story_key(article_id))
        if story is None:
            raise LookupError(f"no story for article {article_id!r} in {self.alias!r}")
        return story

    def story_by_id(self, story_id: str) -> Story | None:
        """The story named ``story_id`` (an id merged into another finds the survivor); None if none."""
        document = self._story_document(story_id)
        if document is not None:
            return self._story(self._key_of(document))
        return self._story(StoryKey(STORY_FIELD, (story_id,)))

    def _story(self, key: StoryKey) -> Story | None:
        response = self.client.search(index=self.alias, body=story_members_body(key))
        members = [_hit(hit) for hit in response["hits"]["hits"]]
        return story_of(key, members) if members else None

    def story_sizes(self, story_ids: Sequence[str]) -> dict[str, int]:
        """How many articles each story has (a story missing from the index has none)."""
        if not story_ids:
            return {}
        return parse_story_sizes(self.client.search(index=self.alias, body=story_sizes_body(story_ids)))

    def entity(self, subject: str, size: int = 20, co_occurring: int = 10) -> EntityPage | None:
        """An entity (``@handle`` or id) with its articles, daily counts and co-occurring entities."""
        response = self.client.search(index=self.alias, body=entity_body(subject, size, co_occurring))
        page = parse_entity_page(subject, response)
        if page is not None and page.co_occurring:
            names_body = entity_names_body([key for key, _ in page.co_occurring])
            page.entity_names = parse_entity_names(self.client.search(index=self.alias, body=names_body))
        return page

    def newest(self) -> datetime | None:
        """The date of the newest article (None in an empty index)."""
        value = self.client.search(index=self.alias, body=newest_body())["aggregations"]["newest"]["value"]
        return None if value is None else datetime.fromtimestamp(value / 1000, UTC)

    def export(self, request: SearchRequest, page_size: int = 500, keep_alive: str = "2m") -> Iterator[dict[str, Any]]:
        """Every matching article, newest first, read page by page from one point in time: articles
        indexed meanwhile are not included and none is repeated or skipped. Memory: one page."""
        pit_id = self.open_snapshot(keep_alive)
        try:
            after: list[Any] | None = None
            while True:
                body = export_body(request, pit_id, keep_alive, page_size, after)
                response = self.client.search(body=body)
                pit_id = response.get("pit_id", pit_id)
                hits = response["hits"]["hits"]
                yield from ({**hit["_source"], "_id": hit["_id"]} for hit in hits)
                if len(hits) < page_size:
                    return
                after = hits[-1]["sort"]
        finally:
            self.close_snapshot(pit_id)

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
        return self._key_of(document)

    @staticmethod
    def _key_of(document: dict[str, Any]) -> StoryKey:
        """A story document's key: its own id and every id merged into it."""
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
