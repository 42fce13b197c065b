"""What the API answers, as pydantic models (they are the OpenAPI document's schemas), and the
conversions from the query module's results."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from shared.search.alerts import SavedSearch
from shared.search.queries import STORY_FIELD, EntityPage, SearchResult, Story, Trending, TrendingTerm


class Article(BaseModel):
    """An indexed article. Lists leave out ``body``; every other indexed field is passed on as it is."""

    model_config = ConfigDict(extra="allow")

    id: str
    title: str
    url: str | None = None
    source: dict[str, Any]
    published_at: str | None = None
    dated_at: str | None = None
    language: str | None = None
    summary: str | None = None
    story_id: str
    story_size: int | None = Field(default=None, description="Articles in the story (in lists and article lookups)")
    score: float | None = None
    highlight: dict[str, list[str]] = Field(
        default_factory=dict, description="Matched fragments; the text is not HTML-escaped, matches are in <em>"
    )


class Facet(BaseModel):
    key: str
    count: int
    label: str | None = Field(default=None, description="The entity's name, for entity facets")


class SearchPage(BaseModel):
    total: int
    stories: int = Field(description="Distinct stories among all matches (approximate beyond 3,000)")
    articles: list[Article]
    facets: dict[str, list[Facet]]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page")


class Moment(BaseModel):
    """A member's place in its story's timeline."""

    id: str
    title: str
    outlet: str
    dated_at: str | None


class StoryOut(BaseModel):
    id: str
    size: int
    outlets: list[str]
    first_seen: str | None
    last_seen: str | None
    original: Article
    members: list[Article] = Field(description="The original first, then the others oldest first")
    timeline: list[Moment] = Field(description="The members in the order they were published")


class EntityOut(BaseModel):
    entity: dict[str, Any]
    total: int
    articles: list[Article]
    mentions_per_day: list[Facet] = Field(description="Articles mentioning the entity, per day (UTC)")
    co_occurring: list[Facet]


class TopicOut(BaseModel):
    topic: str
    total: int
    stories: int
    articles: list[Article] = Field(description="The newest article of each story")
    subtopics: list[Facet]
    entities: list[Facet]
    sources: list[Facet]


class RelatedOut(BaseModel):
    article_id: str
    related: list[Article] = Field(description="One article per story, other stories than the article's own")


class Term(BaseModel):
    key: str
    label: str | None
    count: int
    baseline_count: int
    score: float


class TrendingOut(BaseModel):
    window_start: str
    window_end: str
    baseline_start: str
    articles: int
    entities: list[Term]
    topics: list[Term]


class Problem(BaseModel):
    detail: str


class AlertShown(SavedSearch):
    query: dict[str, Any] = Field(description="The percolator query the alert is stored as")


class AlertTest(BaseModel):
    alert_id: str
    total: int = Field(description="Indexed articles the alert matches")
    articles: list[Article] = Field(description="The newest of them")


def article(hit: dict[str, Any]) -> Article:
    fields = {key: value for key, value in hit.items() if key not in ("_id", "_score", "story_size")}
    return Article.model_validate(
        {
            **fields,
            "id": hit["_id"],
            "score": hit.get("_score"),
            "story_id": hit.get(STORY_FIELD) or hit["_id"],
            "story_size": hit.get("story_size"),
        }
    )


def facets(result: SearchResult) -> dict[str, list[Facet]]:
    return {
        name: [
            Facet(key=key, count=count, label=result.entity_names.get(key) if name == "entity" else None)
            for key, count in buckets
        ]
        for name, buckets in result.facets.items()
    }


def search_page(result: SearchResult) -> SearchPage:
    return SearchPage(
        total=result.total,
        stories=result.stories,
        articles=[article(hit) for hit in result.hits],
        facets=facets(result),
        next_cursor=result.next_cursor.encode() if result.next_cursor else None,
    )


def story(found: Story) -> StoryOut:
    members = [article(member) for member in found.members]
    return StoryOut(
        id=found.story_id,
        size=len(members),
        outlets=found.outlets,
        first_seen=found.first_seen,
        last_seen=found.last_seen,
        original=members[0],
        members=members,
        timeline=[
            Moment(id=m["_id"], title=m["title"], outlet=m["source"]["name"], dated_at=m.get("dated_at"))
            for m in found.timeline
        ],
    )


def entity(page: EntityPage) -> EntityOut:
    return EntityOut(
        entity=page.entity,
        total=page.total,
        articles=[article(hit) for hit in page.articles],
        mentions_per_day=[Facet(key=day, count=count) for day, count in page.per_day],
        co_occurring=[
            Facet(key=key, count=count, label=page.entity_names.get(key)) for key, count in page.co_occurring
        ],
    )


def topic(key: str, result: SearchResult) -> TopicOut:
    shown = facets(result)
    return TopicOut(
        topic=key,
        total=result.total,
        stories=result.stories,
        articles=[article(hit) for hit in result.hits],
        subtopics=[facet for facet in shown.get("topic", []) if facet.key.startswith(f"{key}/")],
        entities=shown.get("entity", []),
        sources=shown.get("source", []),
    )


def trending(found: Trending) -> TrendingOut:
    def terms(listed: list[TrendingTerm]) -> list[Term]:
        return [
            Term(key=t.key, label=t.label, count=t.count, baseline_count=t.baseline_count, score=t.score)
            for t in listed
        ]

    return TrendingOut(
        window_start=found.window[0].isoformat(),
        window_end=found.window[1].isoformat(),
        baseline_start=found.baseline[0].isoformat(),
        articles=found.articles,
        entities=terms(found.entities),
        topics=terms(found.topics),
    )
