"""The architecture's import rules, read from the source: a service never imports
another service's modules (stages meet only through the contract in ``shared/``),
and ``shared/`` imports neither services nor the CLI."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
SERVICES = sorted(path.name for path in (ROOT / "services").iterdir() if (path / "__init__.py").exists())


def imported_modules(path: Path) -> set[str]:
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
    return modules


def owner(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "services" else None


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_imports_no_other_service(service: str) -> None:
    crossings = [
        f"{path.relative_to(ROOT)} imports {module}"
        for path in sorted((ROOT / "services" / service).rglob("*.py"))
        for module in imported_modules(path)
        if owner(module) not in (None, service)
    ]
    assert crossings == []


def test_shared_imports_neither_services_nor_the_cli() -> None:
    crossings = [
        f"{path.relative_to(ROOT)} imports {module}"
        for path in sorted((ROOT / "shared").rglob("*.py"))
        for module in imported_modules(path)
        if module.split(".")[0] in ("services", "cli")
    ]
    assert crossings == []


def test_the_rule_sees_a_crossing(tmp_path: Path) -> None:
    offender = tmp_path / "worker.py"
    offender.write_text("from services.enrich.text import Text\nimport services.index.app\n")
    assert {owner(module) for module in imported_modules(offender)} == {"enrich", "index"}
