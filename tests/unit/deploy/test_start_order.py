"""Both compose stacks start in an order that can be followed: every dependency waits on a health
check (or a one-shot job's success) that the dependency defines, and no cycle blocks start-up."""

from __future__ import annotations

from graphlib import TopologicalSorter
from pathlib import Path
from typing import Any

import pytest
import yaml

from shared.topology import Topology

ROOT = Path(__file__).resolve().parents[3]
STACKS = {"single": ROOT / "docker-compose.yml", "cluster": ROOT / "deploy" / "cluster" / "docker-compose.yml"}


def _services(stack: str) -> dict[str, Any]:
    services: dict[str, Any] = yaml.safe_load(STACKS[stack].read_text())["services"]
    return services


def waits_for(services: dict[str, Any]) -> dict[str, set[str]]:
    """Everything each service waits for, directly or through another; raises on a cycle."""
    graph = {name: set(spec.get("depends_on", {})) for name, spec in services.items()}
    found: dict[str, set[str]] = {}
    for name in TopologicalSorter(graph).static_order():
        found[name] = set(graph[name]).union(*(found[dependency] for dependency in graph[name]))
    return found


@pytest.mark.parametrize("stack", sorted(STACKS))
def test_every_dependency_is_waited_on_through_its_health_or_completion(stack: str) -> None:
    services = _services(stack)
    for name, spec in services.items():
        for dependency, condition in spec.get("depends_on", {}).items():
            wanted = condition["condition"]
            if wanted == "service_healthy":
                check = services[dependency].get("healthcheck", {})
                assert check.get("test") and not check.get("disable"), f"{name} waits on {dependency}'s health"
            else:
                assert wanted == "service_completed_successfully" and services[dependency]["restart"] == "no"


@pytest.mark.parametrize("stack", sorted(STACKS))
def test_opensearch_then_dashboards_then_setup_then_the_stages_after_every_server(stack: str) -> None:
    services = _services(stack)
    before = waits_for(services)
    nats = {name for name in services if name.startswith("nats")}
    opensearch = {name for name in services if name.startswith("opensearch")}
    assert opensearch <= before["dashboards"]
    assert {"dashboards", *opensearch} <= before["setup"]
    for stage in Topology().stage_names:
        assert {"setup", *nats, *opensearch} <= before[stage], f"{stage} starts before what it needs"
