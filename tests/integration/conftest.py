"""Fixtures of the integration tests: a nats-server of a module's own, and the alerts tests' saved searches."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from shared.search.alerts import AlertStore
from shared.search.client import sync_client
from shared.settings import OpenSearchSettings
from tests.chaos.faults import NatsServer


@pytest.fixture(scope="module")
def own_nats(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NatsServer]:
    """A nats-server (the venv's binary) for one module, for inputs that may harm the shared one."""
    with NatsServer(tmp_path_factory.mktemp("nats-server")) as server:
        yield server


@pytest.fixture
def store(opensearch_settings: OpenSearchSettings, isolated: None) -> Iterator[AlertStore]:
    """The test's own saved searches (its namespace's alerts alias, removed by ``isolated``)."""
    client = sync_client(opensearch_settings)
    yield AlertStore(client, opensearch_settings.alias, opensearch_settings.alerts_alias)
    client.close()
