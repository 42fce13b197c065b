"""Fixtures of the alerts tests (test_alerts*.py, test_webhooks.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from shared.search.alerts import AlertStore
from shared.search.client import sync_client
from shared.settings import OpenSearchSettings


@pytest.fixture
def store(opensearch_settings: OpenSearchSettings, isolated: None) -> Iterator[AlertStore]:
    """The test's own saved searches (its namespace's alerts alias, removed by ``isolated``)."""
    client = sync_client(opensearch_settings)
    yield AlertStore(client, opensearch_settings.alias, opensearch_settings.alerts_alias)
    client.close()
