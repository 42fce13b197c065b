"""/v1: the JSON API. Every query comes from shared/search/queries.py, as the CLI's do."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from itertools import chain
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Security
from fastapi.responses import StreamingResponse
from fastapi.security import APIKeyHeader
from opensearchpy.exceptions import NotFoundError

from services.api import models
from services.api.access import check_rate, key_accepted
from services.api.params import MAX_PAGE_SIZE, invalid, page_cursor, search_request
from services.api.snapshots import Snapshots
from shared.search.queries import STORY_FIELD, Cursor, Searcher, SearchRequest, SearchResult, paged, parse_duration

API_KEY = APIKeyHeader(name="X-API-Key", auto_error=False, description="Required when the service has keys set")
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": models.Problem}}
PageSize = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)]


def searcher(request: Request) -> Searcher:
    found: Searcher = request.app.state.searcher
    return found


def require_key(request: Request, key: Annotated[str | None, Security(API_KEY)]) -> None:
    if not key_accepted(key, request.app.state.settings.key_hashes):
        raise HTTPException(
            401, detail="a valid X-API-Key header is required", headers={"WWW-Authenticate": "X-API-Key"}
        )


router = APIRouter(prefix="/v1", dependencies=[Depends(require_key), Depends(check_rate)], tags=["v1"])
Search = Annotated[Searcher, Depends(searcher)]


@router.get("/articles", response_model=models.SearchPage)
def list_articles(
    http: Request,
    search: Search,
    request: Annotated[SearchRequest, Depends(search_request)],
    cursor: Annotated[Cursor | None, Depends(page_cursor)],
    size: PageSize = 10,
) -> models.SearchPage:
    """Full text and filters, with facet counts and highlights; pages follow `next_cursor` and neither
    repeat nor skip an article while others are indexed. Ranked by relevance, the first page may miss
    articles indexed in the last seconds (`NEWSFLOW_API_SNAPSHOT_EVERY_S`)."""
    request.size = size
    return models.search_page(search_page(http, search, request, cursor))


def search_page(http: Request, search: Searcher, request: SearchRequest, cursor: Cursor | None) -> SearchResult:
    """One page of a search (the reader's search page shows the same)."""
    if cursor is not None:
        try:
            return search.search(paged(request, cursor))
        except NotFoundError:
            if cursor.snapshot is None:
                raise
            raise invalid("cursor", "expired: start again from the first page") from None
    if request.recency_first:
        return search.search(paged(request, None))
    snapshots: Snapshots = http.app.state.snapshots
    snapshot = snapshots.current()
    try:
        return search.search(paged(request, None, snapshot=snapshot))
    except NotFoundError:
        # The shared point in time is gone (expired unused, or the node restarted): open another, once.
        snapshots.discard(snapshot)
        return search.search(paged(request, None, snapshot=snapshots.current()))


@router.get("/articles/{article_id}", response_model=models.Article, responses=NOT_FOUND)
def get_article(search: Search, article_id: Annotated[str, Path(max_length=200)]) -> models.Article:
    """One article with its clean body."""
    found = search.article(article_id)
    if found is None:
        raise HTTPException(404, detail=f"no article {article_id!r}")
    story_id = found.get(STORY_FIELD) or article_id
    return models.article({**found, "story_size": search.story_sizes([story_id]).get(story_id, 1)})


@router.get("/stories/{story_id}", response_model=models.StoryOut, responses=NOT_FOUND)
def get_story(search: Search, story_id: Annotated[str, Path(max_length=200)]) -> models.StoryOut:
    """A story's articles from every outlet, the original first, with its timeline."""
    found = search.story_by_id(story_id)
    if found is None:
        raise HTTPException(404, detail=f"no story {story_id!r}")
    return models.story(found)


@router.get("/entities/{subject}", response_model=models.EntityOut, responses=NOT_FOUND)
def get_entity(
    search: Search,
    subject: Annotated[str, Path(max_length=200, description="A Q-number, a local nf: id, or @handle")],
    size: PageSize = 20,
) -> models.EntityOut:
    """An entity, its newest articles, articles mentioning it per day, and the entities named beside it."""
    page = search.entity(subject, size)
    if page is None:
        raise HTTPException(404, detail=f"no article mentions {subject!r}")
    return models.entity(page)


@router.get("/topics/{topic:path}", response_model=models.TopicOut)
def get_topic(
    search: Search,
    topic: Annotated[str, Path(max_length=200, description="A topic key, e.g. technology")],
    size: PageSize = 20,
) -> models.TopicOut:
    """The newest story of each kind in a topic and its subtopics, with its subtopics, entities and sources."""
    key = topic.strip("/").lstrip("#")
    return models.topic(key, search.search(SearchRequest(more_in=key, size=size)))


@router.get("/related/{article_id}", response_model=models.RelatedOut, responses=NOT_FOUND)
def get_related(
    search: Search, article_id: Annotated[str, Path(max_length=200)], size: PageSize = 10
) -> models.RelatedOut:
    """Articles like this one from other stories (more-like-this, one per story)."""
    try:
        hits = search.related(article_id, size)
    except LookupError:
        raise HTTPException(404, detail=f"no article {article_id!r}") from None
    return models.RelatedOut(article_id=article_id, related=[models.article(hit) for hit in hits])


@router.get("/trending", response_model=models.TrendingOut)
def get_trending(
    search: Search,
    window: Annotated[str, Query(description="The recent window: 30m, 24h, 7d, 2w")] = "24h",
    baseline: Annotated[str, Query(description="What the window is compared with (it includes the window)")] = "30d",
    as_of: Annotated[datetime | None, Query(description="End of the window (default: now)")] = None,
    size: Annotated[int, Query(ge=1, le=50)] = 10,
    min_articles: Annotated[int, Query(ge=1, le=1000)] = 3,
) -> models.TrendingOut:
    """Entities and topics rising in the window against the baseline (significant terms)."""
    spans = {name: _duration(name, value) for name, value in (("window", window), ("baseline", baseline))}
    if spans["baseline"] < spans["window"]:
        raise invalid("baseline", "must be at least as long as the window")
    return models.trending(search.trending(as_of, spans["window"], spans["baseline"], size, min_articles))


@router.get(
    "/export",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/x-ndjson": {}}, "description": "One article per line, body included"}},
)
def export(
    request: Request, search: Search, wanted: Annotated[SearchRequest, Depends(search_request)]
) -> StreamingResponse:
    """Every matching article as JSON Lines, newest first, from one point in time (bounded memory)."""
    articles = search.export(wanted, page_size=request.app.state.settings.export_page_size)
    # The first page is read here, so an unreachable OpenSearch is a 503, not a broken stream.
    first = next(articles, None)
    lines = chain([] if first is None else [first], articles)
    return StreamingResponse(_json_lines(lines), media_type="application/x-ndjson")


def _json_lines(articles: Iterator[dict[str, Any]]) -> Iterator[bytes]:
    for found in articles:
        yield (json.dumps(models.article(found).model_dump(mode="json"), ensure_ascii=False) + "\n").encode()


def _duration(name: str, text: str) -> Any:
    try:
        return parse_duration(text)
    except ValueError as error:
        raise invalid(name, str(error)) from None
