"""The search parameters /v1/articles, /v1/export and the search page share, as one FastAPI dependency."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import Query
from fastapi.exceptions import RequestValidationError

from shared.search.queries import Cursor, SearchRequest

MAX_PAGE_SIZE = 100
Sentiment = Literal["positive", "neutral", "negative"]
# Each value is bounded here; the request line as a whole by ApiSettings.max_query_bytes.


def search_request(
    q: Annotated[str, Query(max_length=500, description="Full text (title, summary, takeaways, body, entities)")] = "",
    topic: Annotated[list[str], Query(max_length=20, description="Topic key, as the topic facet lists it")] = [],  # noqa: B006  (FastAPI copies defaults)
    source: Annotated[list[str], Query(max_length=20, description="Outlet name, exactly")] = [],  # noqa: B006
    entity: Annotated[list[str], Query(max_length=20, description="Entity id (Q-number) or @handle")] = [],  # noqa: B006
    sentiment: Annotated[list[Sentiment], Query(max_length=3)] = [],  # noqa: B006
    language: Annotated[list[str], Query(max_length=20, description="ISO 639-1 code")] = [],  # noqa: B006
    story: Annotated[list[str], Query(max_length=20, description="Story id")] = [],  # noqa: B006
    since: Annotated[datetime | None, Query(description="Dated from (ISO 8601)")] = None,
    until: Annotated[datetime | None, Query(description="Dated until (ISO 8601)")] = None,
    sort: Annotated[Literal["relevance", "date"], Query(description="relevance needs q; date is newest first")] = (
        "relevance"
    ),
) -> SearchRequest:
    if since and until and since > until:
        raise invalid("until", "must not be before since")
    handles = [value[1:] for value in entity if value.startswith("@")]
    ids = [value for value in entity if not value.startswith("@")]
    filters: dict[str, list[str]] = {
        "topic": topic,
        "source": source,
        "entity": ids,
        "handle": handles,
        "sentiment": [str(label) for label in sentiment],
        "language": language,
    }
    return SearchRequest(
        text=q.strip(),
        filters={name: values for name, values in filters.items() if values},
        since=since,
        until=until,
        sort_by_recency=sort == "date",
        stories=story,
    )


def page_cursor(
    cursor: Annotated[str | None, Query(max_length=2000, description="next_cursor of the previous page")] = None,
) -> Cursor | None:
    if cursor is None:
        return None
    try:
        return Cursor.decode(cursor)
    except ValueError as error:
        raise invalid("cursor", str(error)) from None


def invalid(field: str, message: str) -> RequestValidationError:
    """A 422 naming the query parameter, for checks that span parameters or parse them."""
    return RequestValidationError([{"type": "value_error", "loc": ("query", field), "msg": message, "input": None}])
