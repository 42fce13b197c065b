"""``newsflow new-service``, run into a temporary repository (not copied into new services)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import typer
import yaml
from typer.testing import CliRunner

from cli.new_service import (
    MAX_NAME_CHARS,
    ROOT,
    TEMPLATE_PACKAGE,
    NewServiceError,
    ServiceName,
    compose_block,
    create_service,
    format_code,
    nats_user_entry,
    register_new_service_command,
    rename,
    topology_line,
)
from services._template.app import STAGE as TEMPLATE_STAGE
from shared import messages
from shared.topology import PIPELINE, StageSpec

GUIDE = ROOT / "docs" / "new-service.md"
GUIDE_EXAMPLE = ServiceName("quotes")
TEMPLATE_TOKENS = ("services._template", TEMPLATE_STAGE, TEMPLATE_STAGE.upper(), TEMPLATE_STAGE.capitalize())


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    """A repository with this one's settings (pytest, ruff), its shared package and no services yet."""
    (tmp_path / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text())
    (tmp_path / "shared").symlink_to(ROOT / "shared", target_is_directory=True)
    (tmp_path / "services").mkdir()
    (tmp_path / "services" / "__init__.py").write_text("")
    return tmp_path


@pytest.fixture
def cli() -> typer.Typer:
    app = typer.Typer()
    register_new_service_command(app)

    @app.command()
    def unused() -> None:  # with a single command typer would drop the command name from the CLI
        pass

    return app


def test_the_copy_has_the_new_names_and_none_of_the_templates(repository: Path) -> None:
    written = create_service(ServiceName("sentiment_v2"), repository)
    package, tests = repository / "services/sentiment_v2", repository / "tests/unit/sentiment_v2"
    template_files = {path.name for path in (ROOT / TEMPLATE_PACKAGE).glob("*.py")}
    assert {path.name for path in written if path.parent == package} == template_files
    assert (tests / "test_worker.py").exists() and not (tests / "test_new_service.py").exists()
    for path in written:
        text = path.read_text()
        assert not [token for token in TEMPLATE_TOKENS if token in text], path
    app = (package / "app.py").read_text()
    assert 'STAGE = "sentiment_v2"' in app and "class SentimentV2Worker(PerItemWorker)" in app
    assert "from services.sentiment_v2.settings import SentimentV2Settings" in app
    assert 'env_prefix="NEWSFLOW_SENTIMENT_V2_"' in (package / "settings.py").read_text()


def test_new_services_pass_their_own_tests_and_lint(repository: Path) -> None:
    """Two services in one run: the longest name as generated, and the guide's example as the guide writes it."""
    longest = ServiceName("a" * 10 + "_" + "b" * (MAX_NAME_CHARS - 11))
    assert format_code(create_service(longest, repository), repository)
    create_service(GUIDE_EXAMPLE, repository)
    function, tests = re.findall(r"```python\n(.*?)```", GUIDE.read_text(), re.DOTALL)[:2]
    (repository / f"services/{GUIDE_EXAMPLE.snake}/enrichment.py").write_text(function)
    (repository / f"tests/unit/{GUIDE_EXAMPLE.snake}/test_enrichment.py").write_text(tests)
    # The temporary repository's services package, not this one's (installed in editable mode).
    env = {**os.environ, "PYTHONPATH": str(repository)}
    checks = {
        "tests": ["pytest", "-q", "tests/unit"],
        "lint": ["ruff", "check", "services", "tests"],
        "format": ["ruff", "format", "--check", "services", "tests"],
    }
    for check, command in checks.items():
        run = subprocess.run(
            [sys.executable, "-m", *command], cwd=repository, env=env, capture_output=True, text=True, timeout=120
        )
        assert run.returncode == 0, f"{check}: {run.stdout}{run.stderr}"


def test_the_guide_shows_what_the_command_prints() -> None:
    guide = GUIDE.read_text()
    assert topology_line(GUIDE_EXAMPLE).strip() in guide
    assert compose_block(GUIDE_EXAMPLE) in guide
    assert f"newsflow new-service {GUIDE_EXAMPLE.snake}" in guide


def test_a_name_containing_the_templates_is_renamed_once() -> None:
    name = ServiceName(f"{TEMPLATE_STAGE}_v2")
    assert rename(f"services._template.app {TEMPLATE_STAGE}", name) == f"services.{name.snake}.app {name.snake}"


@pytest.mark.parametrize(
    ("raw", "hint"),
    [
        ("Sentiment-V2", "try 'sentiment_v2'"),
        ("my service", "try 'my_service'"),
        ("2fast", "lower snake case"),
        ("class", "lower snake case"),
        ("double__underscore", "try 'double_underscore'"),
        ("x" * (MAX_NAME_CHARS + 1), f"at most {MAX_NAME_CHARS}"),
    ],
)
def test_invalid_names_are_refused_with_a_hint(raw: str, hint: str) -> None:
    with pytest.raises(NewServiceError, match=hint):
        ServiceName.parse(raw)


def test_existing_services_and_stages_are_refused_and_nothing_is_written(repository: Path) -> None:
    (repository / "services" / "taken").mkdir()
    with pytest.raises(NewServiceError, match="already exists"):
        create_service(ServiceName("taken"), repository)
    with pytest.raises(NewServiceError, match="already a stage"):
        create_service(ServiceName(PIPELINE[1].name), repository)
    assert not (repository / "tests").exists()


def test_the_printed_topology_line_is_the_stage_spec() -> None:
    line = topology_line(ServiceName("sentiment_v2")).strip().removesuffix(",")
    spec = eval(line, {"StageSpec": StageSpec, **vars(messages)})
    assert spec == StageSpec("sentiment_v2", messages.ArticleEnriched, messages.ArticleEnriched)


def test_the_nats_user_may_publish_to_the_next_stage_and_its_dead_letters() -> None:
    entry = nats_user_entry(ServiceName("sentiment_v2"))
    assert '"newsflow.in.entity_link", "newsflow.dlq.sentiment_v2"' in entry
    assert "$NATS_SENTIMENT_V2_PASSWORD" in entry
    assert '"$JS.API.CONSUMER.MSG.NEXT.NEWSFLOW.newsflow-sentiment_v2"' in entry
    assert '"$JS.API.>"' not in entry


def test_command_creates_the_service_and_prints_the_steps(repository: Path, cli: typer.Typer) -> None:
    result = CliRunner().invoke(cli, ["new-service", "sentiment_v2", "--root", str(repository)])
    assert result.exit_code == 0, result.output
    assert "created services/sentiment_v2/app.py" in result.output
    assert topology_line(ServiceName("sentiment_v2")) in result.output
    block = result.output.split("under services:\n\n", 1)[1].split("\n4. ", 1)[0]
    anchors = "x-service: &service {image: newsflow}\nx-service-env: &service-env {A: b}\nservices:\n"
    service = yaml.safe_load(anchors + block)["services"]["sentiment_v2"]
    assert service["command"] == ["python", "-m", "services.sentiment_v2"]
    assert service["image"] == "newsflow" and service["environment"]["A"] == "b"
    assert service["environment"]["NEWSFLOW_SENTIMENT_V2_NATS_USER"] == "sentiment_v2"


def test_command_refuses_with_a_clear_error_and_exit_code(repository: Path, cli: typer.Typer) -> None:
    result = CliRunner().invoke(cli, ["new-service", "Bad-Name", "--root", str(repository)])
    assert result.exit_code == 1
    assert "not a valid service name" in result.output
    assert list((repository / "services").iterdir()) == [repository / "services" / "__init__.py"]
