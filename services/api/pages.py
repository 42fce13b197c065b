"""The reader pages: server-rendered HTML from the same queries as /v1, no JavaScript.

Jinja2 escapes everything it prints (autoescape on): article text is untrusted. The one markup
taken from OpenSearch, the ``<em>`` of a highlight, is rebuilt by ``highlighted`` around escaped text."""

from __future__ import annotations

import math
import re
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse
from jinja2 import ChainableUndefined, Environment, FileSystemLoader
from markupsafe import Markup, escape
from starlette.datastructures import QueryParams

from services.api import api
from services.api.access import check_rate
from services.api.api import Search
from services.api.params import page_cursor, search_request
from shared.search.queries import STORY_FIELD, Cursor, SearchRequest

PAGE_SIZE = 20
CHART_HEIGHT = 60

router = APIRouter(dependencies=[Depends(check_rate)], include_in_schema=False, default_response_class=HTMLResponse)


def highlighted(fragment: str) -> Markup:
    """A highlight fragment with its matches in <mark>: the text escaped, OpenSearch's <em> kept as the only markup."""
    parts = re.split(r"(</?em>)", fragment)
    tags = {"<em>": Markup("<mark>"), "</em>": Markup("</mark>")}
    return Markup("").join(tags.get(part) or escape(part) for part in parts)


def web_link(url: str | None) -> str | None:
    """An article's own link, only if it is a web address: escaping does not stop a ``javascript:`` URL."""
    if url and urlsplit(url).scheme.lower() in ("http", "https"):
        return url
    return None


def day(value: str | None) -> str:
    """``2026-11-24T08:00:00+00:00`` as ``24 Nov 2026``."""
    if not value:
        return ""
    return datetime.fromisoformat(value.replace("Z", "+00:00")).strftime("%-d %b %Y")


def topic_tag(key: str) -> str:
    """``technology/artificial-intelligence`` as ``#artificial-intelligence``."""
    return "#" + key.rsplit("/", 1)[-1]


def paragraphs(body: str) -> list[str]:
    """The clean body's paragraphs (the ingest stage separates them with blank lines)."""
    return [block.strip() for block in re.split(r"\n\s*\n", body) if block.strip()]


def bars(per_day: list[tuple[str, int]]) -> list[dict[str, Any]]:
    """An SVG bar per day, scaled to the busiest."""
    top = max((count for _, count in per_day), default=0) or 1
    return [
        {"day": date, "count": count, "height": max(1, math.ceil(CHART_HEIGHT * count / top)) if count else 0}
        for date, count in per_day
    ]


def toggled(params: QueryParams, name: str, value: str, replace: bool = False) -> str:
    """The search page's URL with a filter value added, or removed if it is on (a new filter starts at page 1)."""
    items = [(key, item) for key, item in params.multi_items() if key != "cursor"]
    if replace:
        items = [(key, item) for key, item in items if key != name] + [(name, value)]
    elif (name, value) in items:
        items.remove((name, value))
    else:
        items.append((name, value))
    return "/search?" + urlencode(items)


TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=True,
    undefined=ChainableUndefined,  # an article may lack any optional field
    trim_blocks=True,
    lstrip_blocks=True,
)
TEMPLATES.filters.update(
    highlighted=highlighted, day=day, topic_tag=topic_tag, paragraphs=paragraphs, web_link=web_link
)
TEMPLATES.globals.update(STORY_FIELD=STORY_FIELD, chart_height=CHART_HEIGHT, toggled=toggled)


def render(name: str, code: int = 200, headers: dict[str, str] | None = None, **context: Any) -> HTMLResponse:
    return HTMLResponse(TEMPLATES.get_template(name).render(**context), status_code=code, headers=headers)


def problem_page(request: Request, status: int, detail: str, headers: dict[str, str] | None = None) -> HTMLResponse:
    return render("problem.html", status, headers, status=status, detail=detail, query="")


@router.get("/")
def home(search: Search) -> HTMLResponse:
    latest = search.search(SearchRequest(one_per_story=True, sort_by_recency=True, size=PAGE_SIZE))
    # Trending as of the newest article, so an index that stopped growing still shows what rose last.
    newest = search.newest()
    trending = search.trending(as_of=newest, min_doc_count=2) if newest else None
    return render("home.html", latest=latest, trending=trending, query="")


@router.get("/search")
def search_results(
    request: Request,
    search: Search,
    wanted: Annotated[SearchRequest, Depends(search_request)],
    cursor: Annotated[Cursor | None, Depends(page_cursor)],
    size: Annotated[int, Query(ge=1, le=100)] = PAGE_SIZE,
) -> HTMLResponse:
    wanted.size = size
    result = api.search_page(request, search, wanted, cursor)
    chosen = {
        name: set(request.query_params.getlist(name)) for name in ("topic", "source", "entity", "sentiment", "language")
    }
    return render("search.html", result=result, query=wanted.text, chosen=chosen, params=request.query_params)


@router.get("/articles/{article_id}")
def article_page(request: Request, search: Search, article_id: str) -> HTMLResponse:
    article = search.article(article_id)
    if article is None:
        return problem_page(request, 404, "No such article.")
    story_id = article.get(STORY_FIELD) or article_id
    story = search.story_by_id(story_id)
    topic = article.get("primary_topic")
    more_in = search.search(SearchRequest(more_in=topic, exclude_stories=[story_id], size=5)).hits if topic else []
    return render(
        "article.html",
        article=article,
        story=story,
        related=search.related(article_id, 5),
        more_in=more_in,
        topic=topic,
        query="",
    )


@router.get("/stories/{story_id}")
def story_page(request: Request, search: Search, story_id: str) -> HTMLResponse:
    story = search.story_by_id(story_id)
    if story is None:
        return problem_page(request, 404, "No such story.")
    return render("story.html", story=story, query="")


@router.get("/entities/{subject}")
def entity_page(request: Request, search: Search, subject: str) -> HTMLResponse:
    page = search.entity(subject, PAGE_SIZE)
    if page is None:
        return problem_page(request, 404, "No article mentions this entity.")
    return render("entity.html", page=page, bars=bars(page.per_day), query="")


@router.get("/topics/{topic:path}")
def topic_page(search: Search, topic: str) -> HTMLResponse:
    key = topic.strip("/").lstrip("#")
    result = search.search(SearchRequest(more_in=key, size=PAGE_SIZE))
    return render("topic.html", topic=key, result=result, query="")
