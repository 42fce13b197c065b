"""The query commands of ``newsflow``: search and what grows around it."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.console import Console

from shared.search import SearchRequest, parse_response, search_body
from shared.settings import OpenSearchSettings

console = Console(stderr=True)


def register_search_commands(app: typer.Typer) -> None:
    app.command()(search)


def search(
    query: Annotated[str, typer.Argument(help="Full-text query; empty for the newest articles")] = "",
    topic: Annotated[list[str] | None, typer.Option(help="Filter by topic key")] = None,
    source: Annotated[list[str] | None, typer.Option(help="Filter by source name")] = None,
    entity: Annotated[list[str] | None, typer.Option(help="Filter by entity id (QID)")] = None,
    sentiment: Annotated[list[str] | None, typer.Option(help="positive | neutral | negative")] = None,
    language: Annotated[list[str] | None, typer.Option(help="ISO 639-1 code")] = None,
    size: Annotated[int, typer.Option(help="How many hits")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="Print the raw result as JSON")] = False,
) -> None:
    """Full-text search with facet counts."""
    filters = {"topic": topic, "source": source, "entity": entity, "sentiment": sentiment, "language": language}
    request = SearchRequest(text=query, filters={k: v for k, v in filters.items() if v}, size=size)
    settings = OpenSearchSettings()
    response = _opensearch_call(settings, lambda client: client.search(index=settings.alias, body=search_body(request)))
    result = parse_response(response)
    if as_json:
        print(json.dumps({"total": result.total, "hits": result.hits, "facets": result.facets}, default=str))
        return
    out = Console()
    out.print(f"[bold]{result.total}[/bold] articles")
    for hit in result.hits:
        topics = ", ".join(hit.get("topic_keys") or [])
        out.print(
            f"• [bold]{hit.get('title')}[/bold]  ({hit['source']['name']}, {hit.get('published_at') or '-'}) {topics}"
        )
        for fragment in hit["highlight"].get("body", [])[:1]:
            out.print(f"    …{fragment}…", highlight=False)
    for name, buckets in result.facets.items():
        if buckets:
            out.print(f"[dim]{name}:[/dim] " + ", ".join(f"{key} ({count})" for key, count in buckets[:8]))


def _opensearch_call(settings: OpenSearchSettings, call: Any) -> Any:
    from opensearchpy.exceptions import ConnectionError as OpenSearchConnectionError
    from opensearchpy.exceptions import NotFoundError

    from shared.opensearch import sync_client

    try:
        return call(sync_client(settings))
    except OpenSearchConnectionError:
        console.print(f"[red]OpenSearch is not reachable at {settings.url}[/red] (is the stack up? `make up`)")
        raise typer.Exit(code=2) from None
    except NotFoundError:
        console.print(f"[red]no index behind the alias {settings.alias!r} yet[/red]: ingest something first")
        raise typer.Exit(code=2) from None
