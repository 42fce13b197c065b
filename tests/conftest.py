"""Fixtures shared by every test.

Integration and e2e tests talk to a real nats-server and a real OpenSearch.
The session fixture ``servers`` reuses them when they already listen (a
developer's `make up`), otherwise starts them with the project's own script
(deploy/local/stack.py infra) and stops what it started at the end. Tests
isolate by unique names: each gets its own namespace, so its own stream,
subjects, durables and index alias.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import urllib.request
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import nats
import pytest
from nats.js.errors import NotFoundError

from shared.localhost import LOOPBACK, port_open
from shared.settings import OpenSearchSettings
from shared.topology import Topology
from tests.support import remove_indices

ROOT = Path(__file__).resolve().parents[1]
NATS_URL = os.environ.get("NEWSFLOW_TEST_NATS_URL", "nats://127.0.0.1:4222")
OPENSEARCH_URL = os.environ.get("NEWSFLOW_TEST_OPENSEARCH_URL", "http://127.0.0.1:9200")


@dataclass(frozen=True)
class Servers:
    nats_url: str
    opensearch_url: str


def _opensearch_healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_cluster/health?wait_for_status=yellow&timeout=5s", timeout=10):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def servers() -> Iterator[Servers]:
    started = False
    nats_address = urlsplit(NATS_URL)
    nats_port = nats_address.port or 4222
    if not (port_open(nats_port, nats_address.hostname or LOOPBACK) and _opensearch_healthy(OPENSEARCH_URL)):
        env = {
            **os.environ,
            "NATS_PORT": str(nats_port),
            "OPENSEARCH_PORT": str(urlsplit(OPENSEARCH_URL).port or 9200),
        }
        subprocess.run([sys.executable, str(ROOT / "deploy/local/stack.py"), "infra"], check=True, env=env)
        started = True
    yield Servers(NATS_URL, OPENSEARCH_URL)
    if started:
        subprocess.run([sys.executable, str(ROOT / "deploy/local/stack.py"), "infra-down"], check=False)


@pytest.fixture
def namespace() -> str:
    return f"t{uuid.uuid4().hex[:10]}"


@pytest.fixture
def service_env(servers: Servers, namespace: str) -> dict[str, str]:
    """Environment that points every service at the test servers and the test's namespace."""
    return {
        "NEWSFLOW_NATS_URL": servers.nats_url,
        "NEWSFLOW_NAMESPACE": namespace,
        "NEWSFLOW_OPENSEARCH_URL": servers.opensearch_url,
        "NEWSFLOW_OPENSEARCH_ALIAS": f"{namespace}-articles",
        "NEWSFLOW_OPENSEARCH_STORIES_ALIAS": f"{namespace}-stories",
        "NEWSFLOW_OPENSEARCH_ALERTS_ALIAS": f"{namespace}-alerts",
    }


@pytest.fixture
def opensearch_settings(servers: Servers, namespace: str) -> OpenSearchSettings:
    return OpenSearchSettings(
        url=servers.opensearch_url,
        alias=f"{namespace}-articles",
        stories_alias=f"{namespace}-stories",
        alerts_alias=f"{namespace}-alerts",
    )


@pytest.fixture
async def isolated(servers: Servers, namespace: str, opensearch_settings: OpenSearchSettings) -> AsyncIterator[None]:
    """Removes the test's own stream and indices afterwards (never anyone else's)."""
    yield
    client = await nats.connect(servers.nats_url)
    topology = Topology(namespace)
    with contextlib.suppress(NotFoundError):  # the test may not have created them
        await client.jetstream().delete_stream(topology.stream)
    for bucket in (topology.kv_bucket, topology.alerts_fired_bucket, topology.stories_turn_bucket):
        with contextlib.suppress(NotFoundError):
            await client.jetstream().delete_key_value(bucket)
    await client.close()
    settings = opensearch_settings
    await remove_indices(settings, settings.alias, settings.stories_alias, settings.alerts_alias)
