"""The query commands of ``newsflow``: search (with ``--more-on`` and ``--more-in``), related,
trending, story, and reindex. The queries themselves live in shared/search/queries.py; docs/querying.md
shows the OpenSearch DSL each one sends."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from shared.search import queries
from shared.search.queries import Searcher, SearchRequest, SearchResult
from shared.settings import OpenSearchSettings

console = Console(stderr=True)
out = Console()
T = TypeVar("T")


def register_search_commands(app: typer.Typer) -> None:
    for command in (search, related, trending, story, reindex):
        app.command()(command)


def parse_duration(text: str) -> timedelta:
    """``30m``, ``24h``, ``7d``, ``2w``."""
    try:
        return queries.parse_duration(text)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None


def search(
    query: Annotated[str, typer.Argument(help="Full-text query; empty for the newest articles")] = "",
    more_on: Annotated[
        str | None, typer.Option("--more-on", help="Stories about an entity: @handle or its id (Q-number)")
    ] = None,
    more_in: Annotated[str | None, typer.Option("--more-in", help="Stories in a topic and its subtopics")] = None,
    topic: Annotated[list[str] | None, typer.Option(help="Filter by topic key")] = None,
    source: Annotated[list[str] | None, typer.Option(help="Filter by source name")] = None,
    entity: Annotated[list[str] | None, typer.Option(help="Filter by entity id (QID)")] = None,
    sentiment: Annotated[list[str] | None, typer.Option(help="positive | neutral | negative")] = None,
    language: Annotated[list[str] | None, typer.Option(help="ISO 639-1 code")] = None,
    since: Annotated[datetime | None, typer.Option(help="Articles dated from (ISO date)")] = None,
    until: Annotated[datetime | None, typer.Option(help="Articles dated until (ISO date)")] = None,
    recent: Annotated[bool, typer.Option("--recent", help="Newest first instead of best match")] = False,
    size: Annotated[int, typer.Option(help="How many hits")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="Print the raw result as JSON")] = False,
) -> None:
    """Full-text search with highlights and facet counts; --more-on / --more-in list stories newest first."""
    filters = {"topic": topic, "source": source, "entity": entity, "sentiment": sentiment, "language": language}
    request = SearchRequest(
        text=query,
        filters={name: values for name, values in filters.items() if values},
        more_on=more_on,
        more_in=more_in,
        since=since,
        until=until,
        size=size,
        sort_by_recency=recent,
    )
    result = _with_searcher(lambda searcher: searcher.search(request))
    if as_json:
        print(json.dumps(asdict(result), default=str))
        return
    _print_result(result, request)


def related(
    article_id: Annotated[str, typer.Argument(help="The article to start from")],
    size: Annotated[int, typer.Option(help="How many stories")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON")] = False,
) -> None:
    """Articles like this one from other stories (more-like-this, one per story)."""
    hits = _with_searcher(lambda searcher: searcher.related(article_id, size))
    if as_json:
        print(json.dumps(hits, default=str))
        return
    out.print(f"[bold]{len(hits)}[/bold] related stories")
    for hit in hits:
        _print_hit(hit)


def trending(
    window: Annotated[str, typer.Option(help="The recent window: 30m, 24h, 7d")] = "24h",
    baseline: Annotated[str, typer.Option(help="What the window is compared with (it includes the window)")] = "30d",
    as_of: Annotated[datetime | None, typer.Option(help="End of the window (default: now)")] = None,
    size: Annotated[int, typer.Option(help="How many entities and topics")] = 10,
    min_articles: Annotated[int, typer.Option(help="Ignore terms in fewer articles of the window")] = 3,
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON")] = False,
) -> None:
    """Entities and topics rising in a recent window against a baseline (significant terms)."""
    result = _with_searcher(
        lambda searcher: searcher.trending(as_of, parse_duration(window), parse_duration(baseline), size, min_articles)
    )
    if as_json:
        print(json.dumps(asdict(result), default=str))
        return
    out.print(f"[bold]{result.articles}[/bold] articles in the last {window}, against the last {baseline}")
    for title, terms in (("entities", result.entities), ("topics", result.topics)):
        out.print(f"[bold]{title}[/bold]")
        for term in terms:
            name = f"{term.label} ({term.key})" if term.label else term.key
            out.print(f"  {escape(name)}: {term.count} in window, {term.baseline_count} in baseline")
    if result.stories:
        out.print("[bold]stories[/bold] (told by the most outlets)")
    for story in result.stories:
        out.print(f"  {escape(story.headline or story.story_id)}: {story.outlets} outlets, {story.count} articles")


def story(
    article_id: Annotated[str, typer.Argument(help="Any article of the story")],
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON")] = False,
) -> None:
    """The story's articles from every outlet, the original first."""
    result = _with_searcher(lambda searcher: searcher.story(article_id))
    if as_json:
        print(json.dumps(asdict(result), default=str))
        return
    outlets = len(result.outlets)
    carried = f"{outlets} {'outlet' if outlets == 1 else 'outlets'} carry this story"
    out.print(f"story {result.story_id}: [bold]{escape(result.headline or '')}[/bold]")
    out.print(f"{len(result.members)} articles; {carried}")
    for position, member in enumerate(result.members):
        _print_hit(member, note=" [green](original)[/green]" if position == 0 else "")


def reindex(
    delete_old: Annotated[bool, typer.Option("--delete-old", help="Delete the previous index afterwards")] = False,
) -> None:
    """Rebuild the index with the current template into a new versioned index and swap the alias (no downtime);
    the saved searches (alerts) are rebuilt against the new mapping the same way."""
    from shared.search.alerts import migrate_alerts
    from shared.search.reindex import reindex as run_reindex

    settings = OpenSearchSettings()
    with _opensearch(settings) as client:
        report = run_reindex(
            client, settings.alias, delete_old=delete_old, shards=settings.shards, replicas=settings.replicas
        )
        # Saved searches are parsed against the article mapping: they move with it.
        moved = migrate_alerts(client, settings.alias, settings.alerts_alias)
    out.print(
        f"alias {report.alias}: {report.source} -> {report.target}, {report.copied} documents in {report.seconds} s"
        + (f"; {report.source} deleted" if delete_old else f"; {report.source} kept")
    )
    if moved:
        out.print(f"alias {settings.alerts_alias}: {moved[0]} -> {moved[1]}, {moved[2]} saved searches rebuilt")


def _print_result(result: SearchResult, request: SearchRequest) -> None:
    stories = f" in {result.stories} {'story' if result.stories == 1 else 'stories'}"
    subject = request.more_on or request.more_in
    out.print(f"[bold]{result.total}[/bold] articles{stories}" + (f" on {escape(subject)}" if subject else ""))
    for hit in result.hits:
        _print_hit(hit)
        for fragment in hit["highlight"].get("body", [])[:1]:
            out.print(f"    …{_emphasis(fragment)}…", highlight=False)
    for name, buckets in result.facets.items():
        if buckets:
            labels = result.entity_names if name == "entity" else {}
            shown = (f"{labels.get(key, key)} ({count})" for key, count in buckets[:8])
            out.print(f"[dim]{name}:[/dim] " + escape(", ".join(shown)))


def _print_hit(hit: dict[str, Any], note: str = "") -> None:
    title = hit["highlight"]["title"][0] if hit.get("highlight", {}).get("title") else hit.get("title", "")
    size = hit.get("story_size", 1)
    outlets = f", {size} articles in this story" if size > 1 else ""
    out.print(
        f"• [bold]{_emphasis(title)}[/bold]{note}  ({escape(hit['source']['name'])}, {hit.get('dated_at', '-')}"
        f"{outlets}) [dim]{hit['_id']}[/dim]",
        highlight=False,
    )


def _emphasis(fragment: str) -> str:
    """OpenSearch marks highlights with <em>; show them bold, everything else literally."""
    return "[bold yellow]".join(escape(part) for part in fragment.split("<em>")).replace("</em>", "[/bold yellow]")


@contextmanager
def _opensearch(settings: OpenSearchSettings) -> Iterator[Any]:
    from opensearchpy.exceptions import ConnectionError as OpenSearchConnectionError
    from opensearchpy.exceptions import NotFoundError

    from shared.search.client import sync_client

    client = sync_client(settings)
    try:
        yield client
    except OpenSearchConnectionError:
        console.print(f"[red]OpenSearch is not reachable at {settings.url}[/red] (is the stack up? `make up`)")
        raise typer.Exit(code=2) from None
    except NotFoundError:
        console.print(f"[red]no index behind the alias {settings.alias!r} yet[/red]: ingest something first")
        raise typer.Exit(code=2) from None
    finally:
        client.close()


def _with_searcher(call: Callable[[Searcher], T]) -> T:
    settings = OpenSearchSettings()
    with _opensearch(settings) as client:
        try:
            return call(Searcher(client, settings.alias, settings.stories_alias))
        except LookupError as error:
            console.print(f"[red]{error}[/red]")
            raise typer.Exit(code=1) from None
