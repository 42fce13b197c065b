"""``newsflow``: the command line of the pipeline (``newsflow --help``)."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from cli.inprocess import InProcessPipeline, StageName
from cli.status import collect_status
from services.ingest.files import read_path
from shared.search import SearchRequest, parse_response, search_body
from shared.settings import OpenSearchSettings, ServiceSettings

app = typer.Typer(help="newsflow: news in, clean enriched searchable knowledge out.", no_args_is_help=True)
console = Console(stderr=True)

PathsArgument = Annotated[list[Path], typer.Argument(help="Files: .txt .md .html or .jsonl (one article per line)")]


@app.command()
def process(
    paths: PathsArgument,
    stage: Annotated[StageName, typer.Option(help="Run the stage code up to this stage")] = "all",
) -> None:
    """Run the stage code in-process, with no servers; print one JSON document per article (JSON Lines)."""
    pipeline = InProcessPipeline(stage)
    for document in pipeline.run(item for path in paths for item in read_path(path)):
        sys.stdout.write(json.dumps(document, ensure_ascii=False) + "\n")


@app.command()
def ingest(paths: PathsArgument) -> None:
    """Publish files into the running pipeline."""
    from cli.publish import publish_files

    problems = asyncio.run(publish_files(paths, ServiceSettings(), console))
    for problem in problems:
        console.print(f"[red]skipped[/red] {problem.path}{f':{problem.line}' if problem.line else ''}: {problem.error}")
    if problems:
        raise typer.Exit(code=1)


@app.command()
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


@app.command()
def status(as_json: Annotated[bool, typer.Option("--json", help="Print as JSON")] = False) -> None:
    """Per-stage backlog, dead letters, throughput over the last minute and the index's document count."""
    report = asyncio.run(collect_status(ServiceSettings(), OpenSearchSettings()))
    if as_json:
        print(json.dumps(report, default=str))
        return
    table = Table("stage", "pending", "ack pending", "dead letters", "processed (1 min)")
    for stage in report["stages"]:
        table.add_row(
            stage["stage"],
            str(stage["pending"]),
            str(stage["ack_pending"]),
            str(stage["dead_letters"]),
            str(stage["processed_last_minute"]),
        )
    out = Console()
    out.print(table)
    out.print(f"index: {report['index']['documents']} documents ({report['index']['alias']})")
    for problem in report["problems"]:
        out.print(f"[red]{problem}[/red]")


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
