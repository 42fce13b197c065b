"""``newsflow new-service NAME``: a new enrichment service, copied from ``services/_template``.

The copy is the template's folder and its unit tests with the template's identifiers renamed (stage
name, settings prefix, class names, import paths); the command then prints the one line of topology
and the deploy snippets that put the new stage into the pipeline. docs/new-service.md is the guide.
"""

from __future__ import annotations

import keyword
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer

from services._template.app import STAGE as TEMPLATE_STAGE
from services._template.app import STAGE_SPEC as TEMPLATE_SPEC
from shared.nats_users import stage_permissions
from shared.topology import PIPELINE, StageSpec, Topology

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE_PACKAGE = "services/_template"
TEMPLATE_TESTS = "tests/unit/template"
# This command's own test lives with the template's tests but is not part of the template.
NOT_COPIED = {"__pycache__", "test_new_service.py"}
# The stage the template reads from: a new service starts right after it.
INSERT_AFTER = "enrich"
MAX_NAME_CHARS = 30  # the template's comments leave room for this much

# Lower snake case: it becomes a package, a stage (subjects, durables), a settings prefix and a class name.
_SNAKE_CASE = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*")


class NewServiceError(Exception):
    """A name or a place the command refuses; the message says why and what to do."""


@dataclass(frozen=True)
class ServiceName:
    snake: str  # sentiment_v2: the package, the stage and the enrichments key

    @classmethod
    def parse(cls, raw: str) -> ServiceName:
        if len(raw) <= MAX_NAME_CHARS and _SNAKE_CASE.fullmatch(raw) and not keyword.iskeyword(raw):
            return cls(raw)
        problem = f"{raw!r} is not a valid service name: use lower snake case (a-z, 0-9, _), at most {MAX_NAME_CHARS}"
        suggestion = re.sub(r"[^a-z0-9]+", "_", raw.lower()).strip("_")
        if suggestion != raw and _SNAKE_CASE.fullmatch(suggestion) and not keyword.iskeyword(suggestion):
            problem += f"; try {suggestion!r}"
        raise NewServiceError(problem)

    @property
    def camel(self) -> str:  # SentimentV2: class names
        return "".join(part.capitalize() for part in self.snake.split("_"))

    @property
    def upper(self) -> str:  # SENTIMENT_V2: the settings' env prefix
        return self.snake.upper()


def _replacements(name: ServiceName) -> dict[str, str]:
    return {
        "services._template": f"services.{name.snake}",
        TEMPLATE_STAGE.upper(): name.upper,
        ServiceName(TEMPLATE_STAGE).camel: name.camel,
        TEMPLATE_STAGE: name.snake,
    }


def rename(text: str, name: ServiceName) -> str:
    """The template's identifiers replaced by the new name's, in one pass (so a new name that
    contains the template's is not renamed twice)."""
    replacements = _replacements(name)
    pattern = re.compile("|".join(map(re.escape, replacements)))
    return pattern.sub(lambda match: replacements[match.group()], text)


def create_service(name: ServiceName, target_root: Path, template_root: Path = ROOT) -> list[Path]:
    """Copy the template's package and tests under ``target_root`` with ``name``; return the files written."""
    if name.snake in {spec.name for spec in PIPELINE}:
        raise NewServiceError(f"{name.snake!r} is already a stage of the pipeline (shared/topology.py)")
    if not (target_root / "services").is_dir():
        raise NewServiceError(f"no services/ folder under {target_root}: run it in the repository or pass --root")
    copies = {
        template_root / TEMPLATE_PACKAGE: target_root / "services" / name.snake,
        template_root / TEMPLATE_TESTS: target_root / "tests" / "unit" / name.snake,
    }
    taken = [target for target in copies.values() if target.exists()]
    if taken:
        raise NewServiceError(f"{', '.join(map(str, taken))} already exists: choose another name")
    written: list[Path] = []
    for source_dir, target_dir in copies.items():
        for source in sorted(source_dir.rglob("*")):
            relative = source.relative_to(source_dir)
            if source.is_dir() or NOT_COPIED.intersection(relative.parts):
                continue
            target = target_dir / rename(str(relative), name)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(rename(source.read_text(encoding="utf-8"), name), encoding="utf-8")
            written.append(target)
    return written


def format_code(paths: list[Path], root: Path) -> bool:
    """Sort imports and reformat with the repository's ruff settings: a name longer than the template's
    makes some lines too long for `make lint`. False when ruff (a dev dependency) is not installed."""
    files = [str(path) for path in paths if path.suffix == ".py"]
    commands = (["check", "--fix", "--select", "I", "--quiet", *files], ["format", "--quiet", *files])
    try:
        for command in commands:
            subprocess.run([sys.executable, "-m", "ruff", *command], cwd=root, check=True, capture_output=True)
    except (subprocess.CalledProcessError, FileNotFoundError):
        return False
    return True


def pipeline_with(spec: StageSpec, after: str, pipeline: tuple[StageSpec, ...] = PIPELINE) -> tuple[StageSpec, ...]:
    """``pipeline`` with ``spec`` right after the stage ``after``: what the one added line of topology does."""
    position = [stage.name for stage in pipeline].index(after) + 1
    return (*pipeline[:position], spec, *pipeline[position:])


def stage_spec(name: ServiceName) -> StageSpec:
    return StageSpec(name.snake, TEMPLATE_SPEC.consumes, TEMPLATE_SPEC.produces)


def topology_line(name: ServiceName) -> str:
    spec = stage_spec(name)
    produces = spec.produces.__name__ if spec.produces else "None"
    return f'    StageSpec("{spec.name}", {spec.consumes.__name__}, {produces}),'


def compose_block(name: ServiceName) -> str:
    password = f"NATS_{name.upper}_PASSWORD"
    return (
        f"  {name.snake}:\n"
        "    <<: *service\n"
        f'    command: ["python", "-m", "services.{name.snake}"]\n'
        "    environment:\n"
        "      <<: *service-env\n"
        f"      NEWSFLOW_{name.upper}_NATS_USER: {name.snake}\n"
        f"      NEWSFLOW_{name.upper}_NATS_PASSWORD: ${{{password}:?set {password} in .env}}\n"
    )


def nats_user_entry(name: ServiceName) -> str:
    """The new stage's NATS user and permissions (shared/nats_users.py), as `newsflow nats-users --write` writes it."""
    topology = Topology(pipeline=pipeline_with(stage_spec(name), INSERT_AFTER))
    return stage_permissions(topology, name.snake).conf_entry()


def next_steps(name: ServiceName) -> str:
    topology = Topology(pipeline=pipeline_with(stage_spec(name), INSERT_AFTER))
    after = topology.stage_names[topology.stage_names.index(name.snake) + 1]
    password = f"NATS_{name.upper}_PASSWORD"
    return "\n".join(
        [
            f"1. Write your pure function in services/{name.snake}/enrichment.py and its tests in "
            f"tests/unit/{name.snake}/; run: .venv/bin/pytest tests/unit/{name.snake} -q",
            f"2. Add this line to PIPELINE in shared/topology.py, between {INSERT_AFTER!r} and {after!r}:",
            "",
            topology_line(name),
            "",
            "3. Add this service block to docker-compose.yml, under services:",
            "",
            compose_block(name),
            "4. After step 2, run `newsflow nats-users --write`: deploy/nats/users.conf gets this user, and the "
            f'{INSERT_AFTER} user publishes to "{topology.inbox(name.snake)}" instead of "{topology.inbox(after)}". '
            f"Pass {password} to the nats service's environment in docker-compose.yml (and to each nats-N in "
            f"deploy/cluster/docker-compose.yml), and add {password}= to deploy/compose.env.example:",
            "",
            nats_user_entry(name),
            "",
            f'5. For `make up`, add "{name.snake}" to SERVICES (in pipeline order) and to METRICS_PORTS in '
            "deploy/local/stack.py.",
            "6. Run: make test",
        ]
    )


def register_new_service_command(app: typer.Typer) -> None:
    @app.command("new-service")
    def new_service(
        name: Annotated[str, typer.Argument(help="The new stage's name in lower snake case, e.g. sentiment_v2")],
        root: Annotated[Path, typer.Option(help="The repository to create it in")] = ROOT,
    ) -> None:
        """Create a new enrichment service from services/_template, and print how to plug it in."""
        try:
            service = ServiceName.parse(name)
            written = create_service(service, root)
        except NewServiceError as error:
            typer.echo(f"error: {error}", err=True)
            raise typer.Exit(code=1) from None
        for path in written:
            typer.echo(f"created {path.relative_to(root)}")
        if not format_code(written, root):
            typer.echo("ruff did not run (is the dev environment installed?): run `make lint` before committing")
        typer.echo("")
        typer.echo(next_steps(service))
