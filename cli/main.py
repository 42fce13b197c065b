"""``newsflow``: the command line of the pipeline (``newsflow --help``)."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from cli.alerts import alerts_app
from cli.dlq import dlq_app
from cli.files import KIND_BY_SUFFIX, FileProblem, read_path
from cli.inprocess import STAGE_ALIASES, InProcessPipeline, runnable_stages
from cli.kb import kb_app
from cli.new_service import register_new_service_command
from cli.search_commands import register_search_commands
from cli.status import collect_status
from cli.stories import stories_app
from shared.logging import configure_logging
from shared.messages import DocumentSubmitted
from shared.settings import OpenSearchSettings, ServiceSettings
from shared.topology import Topology

app = typer.Typer(help="newsflow: news in, clean enriched searchable knowledge out.", no_args_is_help=True)
console = Console(stderr=True)
register_search_commands(app)
app.add_typer(dlq_app, name="dlq")
app.add_typer(kb_app, name="kb")
app.add_typer(alerts_app, name="alerts")
app.add_typer(stories_app, name="stories")
register_new_service_command(app)

FILE_TYPES = " ".join([*KIND_BY_SUFFIX, ".jsonl"])
PathsArgument = Annotated[
    list[Path],
    typer.Argument(help=f"Files of these types: {FILE_TYPES} (.jsonl: one article per line)", show_default=False),
]
# Every stage before the index (a stage added to the topology included), by name or alias.
STAGE_CHOICES = ", ".join(
    [*runnable_stages(Topology()), *(f"{alias} (= {stage})" for alias, stage in STAGE_ALIASES.items())]
)
SourceOption = Annotated[
    str | None,
    typer.Option("--source", help="The outlet the files come from (a JSONL record's own 'source' wins)"),
]


def _hints(source: str | None) -> dict[str, str]:
    return {"source": source} if source else {}


@app.command()
def process(
    paths: PathsArgument,
    stage: Annotated[str, typer.Option(help=f"Run the stage code up to this stage: {STAGE_CHOICES}, or all")] = "all",
    source: SourceOption = None,
) -> None:
    """Run the stage code in-process, with no servers; print one JSON document per article (JSON Lines).

    Standard output carries only JSON lines: an article each, or a line with ``error`` (an input that
    failed) or ``dropped`` (a duplicate, with ``duplicate_of``; a feed entry that needs a fetch). Logs go
    to standard error.
    """
    configure_logging("WARNING")
    try:
        pipeline = InProcessPipeline(stage)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--stage") from error
    inputs = (item for path in paths for item in read_path(path, _hints(source)))
    asyncio.run(_print_lines(pipeline, inputs))


async def _print_lines(pipeline: InProcessPipeline, inputs: Iterable[DocumentSubmitted | FileProblem]) -> None:
    async with pipeline:
        async for document in pipeline.run(inputs):
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


@app.command("nats-users")
def nats_users(
    write: Annotated[bool, typer.Option("--write", help="Write deploy/nats/users.conf instead of printing")] = False,
) -> None:
    """The compose nats-servers' users: one per stage, allowed only its own subjects and JetStream API calls."""
    from shared.nats_users import USERS_FILE, users_conf

    conf = users_conf(ServiceSettings().topology)
    if write:
        USERS_FILE.write_text(conf)
        Console().print(f"wrote {USERS_FILE}")
    else:
        print(conf, end="")


@app.command()
def setup(
    dashboards_url: Annotated[str | None, typer.Option(help="Also import the saved objects into Dashboards")] = None,
    writer_user: Annotated[
        str | None, typer.Option(help="Create this user for the services, limited to the article indices")
    ] = None,
    writer_password: Annotated[
        str | None, typer.Option(envvar="NEWSFLOW_OPENSEARCH_WRITER_PASSWORD", help="Its password", show_default=False)
    ] = None,
) -> None:
    """Apply the index template and alias; optionally create the services' user (security plugin) and
    import the OpenSearch Dashboards saved objects."""
    from cli.setup import WRITER_ROLE, apply_index, apply_writer_user, import_dashboards

    settings = OpenSearchSettings()
    if writer_user:
        if not writer_password:
            raise typer.BadParameter("set NEWSFLOW_OPENSEARCH_WRITER_PASSWORD", param_hint="--writer-password")
        apply_writer_user(settings, writer_user, writer_password)
        Console().print(f"user {writer_user} has role {WRITER_ROLE}")
    index = asyncio.run(apply_index(settings))
    Console().print(f"alias {settings.alias} -> {index}")
    if dashboards_url:
        imported = import_dashboards(dashboards_url, settings)
        Console().print(f"imported {imported} saved objects into {dashboards_url}")
