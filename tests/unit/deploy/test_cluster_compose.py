"""The clustered compose stack (deploy/cluster/docker-compose.yml), checked by parsing it: three NATS
servers routed into one JetStream cluster, three OpenSearch nodes in one secured cluster, two replicas
of every stage pointed at all of them, least privilege, and a start order that can be followed."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from shared.nats_users import USERS_FILE, users_conf
from shared.settings import OpenSearchSettings, ServiceSettings, split_urls
from shared.topology import Topology
from tests.unit.deploy.test_compose import SETTINGS, _known_variables, _nats_version, _opensearch_version

ROOT = Path(__file__).resolve().parents[3]
CLUSTER_DIR = ROOT / "deploy" / "cluster"
COMPOSE: dict[str, Any] = yaml.safe_load((CLUSTER_DIR / "docker-compose.yml").read_text())
SERVICES: dict[str, Any] = COMPOSE["services"]
NATS = [name for name in SERVICES if name.startswith("nats-")]
OPENSEARCH = [name for name in SERVICES if name.startswith("opensearch-")]
STAGES = Topology().stage_names


def test_three_nats_servers_and_three_opensearch_nodes() -> None:
    assert NATS == ["nats-1", "nats-2", "nats-3"]
    assert OPENSEARCH == ["opensearch-1", "opensearch-2", "opensearch-3"]
    assert {"dashboards", "setup", *STAGES} <= set(SERVICES)


def test_images_are_pinned_to_the_local_stack_versions() -> None:
    for name in NATS:
        assert SERVICES[name]["image"].startswith(f"nats:{_nats_version()}")
    for name in OPENSEARCH:
        assert SERVICES[name]["image"] == f"opensearchproject/opensearch:{_opensearch_version()}"
    assert SERVICES["dashboards"]["image"] == f"opensearchproject/opensearch-dashboards:{_opensearch_version()}"


def test_the_nats_servers_route_to_each_other_with_jetstream_and_the_generated_users() -> None:
    conf = (CLUSTER_DIR / "nats.conf").read_text()
    assert sorted(re.findall(r"nats-route://([\w-]+):6222", conf)) == NATS
    assert "jetstream" in conf and "include users.conf" in conf
    names = {SERVICES[name]["environment"]["NATS_SERVER_NAME"] for name in NATS}
    assert names == set(NATS), "every server has its own name in the cluster"
    for name in NATS:
        mounts = SERVICES[name]["volumes"]
        assert "../nats/users.conf:/etc/nats/users.conf:ro" in mounts
        assert any(mount.startswith(f"{name}-data:") for mount in mounts), "each server keeps its own store"


def test_users_conf_is_the_one_generated_from_the_topology() -> None:
    assert USERS_FILE.read_text() == users_conf(Topology()), "run `newsflow nats-users --write`"
    assert "$JS.API.>" not in USERS_FILE.read_text()


def test_the_opensearch_nodes_form_one_secured_cluster() -> None:
    nodes = [SERVICES[name]["environment"] for name in OPENSEARCH]
    assert {env["cluster.name"] for env in nodes} == {"newsflow"}
    assert [env["node.name"] for env in nodes] == OPENSEARCH
    for env in nodes:
        assert env["discovery.seed_hosts"].split(",") == OPENSEARCH
        assert env["cluster.initial_cluster_manager_nodes"].split(",") == OPENSEARCH
        assert "DISABLE_SECURITY_PLUGIN" not in env and "plugins.security.disabled" not in env
        assert env["plugins.security.ssl.http.pemcert_filepath"] == f"certs/{env['node.name']}.pem"


@pytest.mark.parametrize("stage", STAGES)
def test_every_stage_runs_twice_against_every_server_and_node(stage: str) -> None:
    service = SERVICES[stage]
    env = service["environment"]
    assert service["deploy"]["replicas"] >= 2
    assert [urlsplit_host(url) for url in split_urls(env["NEWSFLOW_NATS_URL"])] == NATS
    assert [urlsplit_host(url) for url in split_urls(env["NEWSFLOW_OPENSEARCH_URL"])] == OPENSEARCH
    assert int(env["NEWSFLOW_STREAM_REPLICAS"]) == 3
    assert int(env["NEWSFLOW_OPENSEARCH_REPLICAS"]) >= 1


def urlsplit_host(url: str) -> str:
    return url.split("://", 1)[1].split(":", 1)[0]


@pytest.mark.parametrize("stage", STAGES)
def test_stages_are_least_privileged_and_verify_tls(stage: str) -> None:
    env = SERVICES[stage]["environment"]
    own = str(SETTINGS[stage].model_config.get("env_prefix"))
    assert env[f"{own}NATS_USER"] == stage
    assert env["NEWSFLOW_OPENSEARCH_USERNAME"] != "admin"
    assert env["NEWSFLOW_OPENSEARCH_URL"].startswith("https://")
    assert env.get("NEWSFLOW_OPENSEARCH_VERIFY_CERTS", "true") == "true" and env["NEWSFLOW_OPENSEARCH_CA_CERTS"]
    known = (
        _known_variables(SETTINGS[stage], own)
        | _known_variables(ServiceSettings, "NEWSFLOW_")
        | _known_variables(OpenSearchSettings, "NEWSFLOW_OPENSEARCH_")
    )
    assert set(env) - known == set(), f"{stage} sets variables no setting reads"


def test_the_setup_job_creates_the_services_user_as_admin() -> None:
    setup = SERVICES["setup"]
    assert "--writer-user" in setup["command"]
    assert (
        setup["command"][setup["command"].index("--writer-user") + 1]
        == SERVICES["index"]["environment"]["NEWSFLOW_OPENSEARCH_USERNAME"]
    )
    assert setup["environment"]["NEWSFLOW_OPENSEARCH_USERNAME"] == "admin"


def test_secrets_are_guarded_environment_variables() -> None:
    text = (CLUSTER_DIR / "docker-compose.yml").read_text()
    for value in re.findall(r"PASSWORD\w*: (.+)", text):
        assert value.strip().startswith("${") and ":?" in value, f"unguarded secret {value}"
