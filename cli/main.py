"""``newsflow``: the command line of the pipeline (``newsflow --help``)."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from cli.alerts import alerts_app
from cli.dlq import dlq_app
from cli.files import read_path
from cli.inprocess import InProcessPipeline
from cli.kb import kb_app
from cli.new_service import register_new_service_command
from cli.search_commands import register_search_commands
from cli.status import collect_status
from shared.settings import OpenSearchSettings, ServiceSettings

app = typer.Typer(help="newsflow: news in, clean enriched searchable knowledge out.", no_args_is_help=True)
console = Console(stderr=True)
register_search_commands(app)
app.add_typer(dlq_app, name="dlq")
app.add_typer(kb_app, name="kb")
app.add_typer(alerts_app, name="alerts")
register_new_service_command(app)

PathsArgument = Annotated[list[Path], typer.Argument(help="Files: .txt .md .html or .jsonl (one article per line)")]
SourceOption = Annotated[
    str | None,
    typer.Option("--source", help="The outlet the files come from (a JSONL record's own 'source' wins)"),
]


def _hints(source: str | None) -> dict[str, str]:
    return {"source": source} if source else {}


@app.command()
def process(
    paths: PathsArgument,
    stage: Annotated[
        str, typer.Option(help="Run the stage code up to this stage: ingest, enrich, link, a stage you added, or all")
    ] = "all",
    source: SourceOption = None,
) -> None:
    """Run the stage code in-process, with no servers; print one JSON document per article (JSON Lines)."""
    try:
        pipeline = InProcessPipeline(stage)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--stage") from error
    for document in pipeline.run(item for path in paths for item in read_path(path, _hints(source))):
        sys.stdout.write(json.dumps(document, ensure_ascii=False) + "\n")


@app.command()
def ingest(paths: PathsArgument, source: SourceOption = None) -> None:
    """Publish files into the running pipeline."""
    from cli.publish import publish_files

    problems = asyncio.run(publish_files(paths, ServiceSettings(), console, _hints(source)))
    for problem in problems:
        console.print(f"[red]skipped[/red] {problem.path}{f':{problem.line}' if problem.line else ''}: {problem.error}")
    if problems:
        raise typer.Exit(code=1)


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


@app.command()
def setup(
    dashboards_url: Annotated[str | None, typer.Option(help="Also import the saved objects into Dashboards")] = None,
) -> None:
    """Apply the index template and alias; optionally import the OpenSearch Dashboards saved objects."""
    from cli.setup import apply_index, import_dashboards

    settings = OpenSearchSettings()
    index = asyncio.run(apply_index(settings))
    Console().print(f"alias {settings.alias} -> {index}")
    if dashboards_url:
        imported = import_dashboards(dashboards_url, settings)
        Console().print(f"imported {imported} saved objects into {dashboards_url}")
