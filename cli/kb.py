"""``newsflow kb ...``: build the knowledge base and look names up in it.

Mounted by the main CLI (``app.add_typer(kb_app, name="kb")``); also runs on
its own: ``python -m cli.kb lookup Washington``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from services.entity_link.kb.build import BUNDLED_KB, DEFAULT_SHARED_DATA, build_from_dump, build_from_lists
from services.entity_link.kb.wikidata_dump import DumpOptions
from services.entity_link.linker import load_knowledge_base
from services.entity_link.settings import DEFAULT_OVERLAY

kb_app = typer.Typer(help="The entity-linking knowledge base: build it, look names up.", no_args_is_help=True)


@kb_app.command()
def build(
    wikidata_dump: Annotated[
        Path | None,
        typer.Option(help="a Wikidata JSON dump (.json, .json.gz or .json.bz2) to stream instead of the shared lists"),
    ] = None,
    data: Annotated[Path, typer.Option(help="the data folder with wikidata-entities/, kb-extra/, kb-more/")] = (
        DEFAULT_SHARED_DATA
    ),
    out: Annotated[Path, typer.Option(help="where to write the artifact (.tsv.xz or .tsv.gz)")] = BUNDLED_KB,
    min_sitelinks: Annotated[int, typer.Option(help="dump only: keep items with at least this many sitelinks")] = 5,
) -> None:
    """Build the knowledge-base artifact and print what was built (entities, size, entities/s)."""
    if wikidata_dump is not None:
        report = build_from_dump(wikidata_dump, out, DumpOptions(min_sitelinks=min_sitelinks))
    else:
        report = build_from_lists(data, out)
    typer.echo(json.dumps(report.as_dict(), indent=2))


@kb_app.command()
def lookup(
    name: Annotated[str, typer.Argument(help="a name as written in an article")],
    kb: Annotated[Path, typer.Option(help="the artifact to read")] = BUNDLED_KB,
    overlay: Annotated[Path | None, typer.Option(help="the operators' overlay applied on top")] = DEFAULT_OVERLAY,
    limit: Annotated[int, typer.Option(help="how many candidates to show")] = 10,
) -> None:
    """Show the entities a name may stand for, strongest first, with ids, types and scores."""
    knowledge_base = load_knowledge_base(kb, overlay)
    candidates = knowledge_base.lookup(name)[:limit]
    rows = [
        {
            "id": c.entity.id,
            "name": c.entity.name,
            "type": c.entity.type,
            "kind": c.entity.kind,
            "country": c.entity.country,
            "prior": c.entity.prior,
            "alias_weight": c.weight,
            "score": round(c.entity.prior * c.weight, 3),
            "description": c.entity.description,
        }
        for c in candidates
    ]
    typer.echo(json.dumps({"name": name, "candidates": rows}, ensure_ascii=False, indent=2))
    if not rows:
        raise typer.Exit(code=1)


if __name__ == "__main__":
    kb_app()
