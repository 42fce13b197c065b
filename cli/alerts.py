"""``newsflow alerts add|list|show|rm|test``: saved searches that fire as articles arrive.

An alert takes the options of ``newsflow search`` (text, --topic, --source, --entity, --sentiment,
--language, --more-on, --more-in) plus --verified-source, --min-story-size, --once-per-story and
--webhook. The alerts stage (services/alerts) matches each indexed article against them and
publishes ``AlertMatched`` on ``<namespace>.alerts.matched``; services/webhooks delivers them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape

from cli.search_commands import _opensearch
from shared.search.alerts import AlertExists, AlertRefused, AlertSpec, AlertStore, SavedSearch
from shared.settings import OpenSearchSettings

alerts_app = typer.Typer(help="Saved searches that fire as articles arrive (NATS and webhooks).", no_args_is_help=True)
console = Console(stderr=True)
out = Console()
T = TypeVar("T")
JsonOption = Annotated[bool, typer.Option("--json", help="Print as JSON")]


def _with_store(call: Callable[[AlertStore], T]) -> T:
    settings = OpenSearchSettings()
    with _opensearch(settings) as client:
        return call(AlertStore(client, settings.alias, settings.alerts_alias))


@alerts_app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="What the alert is called in its messages")],
    query: Annotated[str, typer.Option("--query", "-q", help="Full-text query, as `newsflow search`")] = "",
    topic: Annotated[list[str] | None, typer.Option(help="Topic key")] = None,
    source: Annotated[list[str] | None, typer.Option(help="Source name")] = None,
    entity: Annotated[list[str] | None, typer.Option(help="Entity id (QID)")] = None,
    sentiment: Annotated[list[str] | None, typer.Option(help="positive | neutral | negative")] = None,
    language: Annotated[list[str] | None, typer.Option(help="ISO 639-1 code")] = None,
    more_on: Annotated[str | None, typer.Option("--more-on", help="An entity: @handle or its id")] = None,
    more_in: Annotated[str | None, typer.Option("--more-in", help="A topic and its subtopics")] = None,
    verified_source: Annotated[bool, typer.Option("--verified-source", help="Only verified sources")] = False,
    min_story_size: Annotated[int, typer.Option(help="Fire once the story has this many articles")] = 1,
    once_per_story: Annotated[bool, typer.Option("--once-per-story", help="Only a story's first match")] = False,
    webhook: Annotated[str | None, typer.Option(help="POST each match to this http(s) URL, signed")] = None,
    webhook_secret: Annotated[str | None, typer.Option(help="HMAC key (default: a new random one)")] = None,
    alert_id: Annotated[str | None, typer.Option("--id", help="Choose the id (default: a new one)")] = None,
    as_json: JsonOption = False,
) -> None:
    """Save a search as an alert. Prints its id (and the webhook's signing secret, once)."""
    filters = {"topic": topic, "source": source, "entity": entity, "sentiment": sentiment, "language": language}
    fields: dict[str, Any] = {
        "name": name,
        "text": query,
        "filters": {key: values for key, values in filters.items() if values},
        "more_on": more_on,
        "more_in": more_in,
        "verified_source": verified_source,
        "min_story_size": min_story_size,
        "once_per_story": once_per_story,
        "webhook_url": webhook,
        "webhook_secret": webhook_secret,
    }
    try:
        spec = AlertSpec.model_validate({**fields, "alert_id": alert_id or None})
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
        console.print(f"[red]not saved[/red]: {escape(problems)}")
        raise typer.Exit(code=1) from None
    saved = _with_store(lambda store: _add(store, spec))
    if as_json:
        print(json.dumps(saved.model_dump(mode="json")))
        return
    out.print(f"saved alert [bold]{saved.alert_id}[/bold] ({escape(saved.name)})")
    if saved.webhook_url and not webhook_secret:
        out.print(f"webhook signing secret (shown once): {saved.webhook_secret}")


def _add(store: AlertStore, spec: AlertSpec) -> SavedSearch:
    try:
        return store.add(spec)
    except (AlertExists, AlertRefused) as error:
        console.print(f"[red]not saved[/red]: {escape(str(error))}")
    raise typer.Exit(code=1)


@alerts_app.command("list")
def list_alerts(as_json: JsonOption = False) -> None:
    """Every alert (secrets hidden)."""
    alerts = _with_store(lambda store: list(store.all()))
    if as_json:
        print(json.dumps([alert.public() for alert in alerts]))
        return
    out.print(f"[bold]{len(alerts)}[/bold] alerts")
    for alert in alerts:
        out.print(f"  {alert.alert_id}  {escape(alert.name)}  {escape(_describe(alert))}")


@alerts_app.command("show")
def show(alert_id: Annotated[str, typer.Argument(help="The alert's id")], as_json: JsonOption = False) -> None:
    """One alert in full, with the percolator query it is stored as (secret hidden)."""
    alert = _found(_with_store(lambda store: store.get(alert_id)), alert_id)
    shown = {**alert.public(), "query": alert.percolator_query()}
    print(json.dumps(shown, indent=None if as_json else 2))


@alerts_app.command("rm")
def remove(alert_id: Annotated[str, typer.Argument(help="The alert's id")]) -> None:
    """Delete an alert: it fires no more, and its pending webhook deliveries are dropped."""
    if not _with_store(lambda store: store.remove(alert_id)):
        _found(None, alert_id)
    out.print(f"removed alert {alert_id}")


@alerts_app.command("test")
def test(
    alert_id: Annotated[str, typer.Argument(help="The alert's id")],
    size: Annotated[int, typer.Option(help="How many of the newest matches to list")] = 10,
    as_json: JsonOption = False,
) -> None:
    """Which already indexed articles the alert matches (newest first; story size is not counted here)."""

    def run(store: AlertStore) -> tuple[SavedSearch, int, list[dict[str, Any]]]:
        alert = _found(store.get(alert_id), alert_id)
        return alert, *store.test(alert, size)

    alert, total, hits = _with_store(run)
    if as_json:
        print(json.dumps({"alert_id": alert.alert_id, "total": total, "articles": hits}, default=str))
        return
    out.print(f"[bold]{total}[/bold] indexed articles match {alert.alert_id} ({escape(alert.name)})")
    for hit in hits:
        out.print(f"  {hit.get('dated_at', '')[:10]}  {escape(str(hit.get('title')))}  [dim]{hit['article_id']}[/dim]")


def _found(alert: SavedSearch | None, alert_id: str) -> SavedSearch:
    if alert is None:
        console.print(f"[red]no alert {alert_id!r}[/red] (`newsflow alerts list`)")
        raise typer.Exit(code=1)
    return alert


def _describe(alert: SavedSearch) -> str:
    parts = [f'"{alert.text}"'] if alert.text else []
    parts += [f"{name}={','.join(values)}" for name, values in alert.filters.items()]
    parts += [f"more-on={alert.more_on}"] if alert.more_on else []
    parts += [f"more-in={alert.more_in}"] if alert.more_in else []
    parts += ["verified"] if alert.verified_source else []
    parts += [f"story>={alert.min_story_size}"] if alert.min_story_size > 1 else []
    parts += ["once-per-story"] if alert.once_per_story else []
    parts += [f"webhook {alert.webhook_url}"] if alert.webhook_url else []
    return " ".join(parts)
