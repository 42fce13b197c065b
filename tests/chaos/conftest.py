"""The chaos suite runs only when asked for: ``pytest tests/chaos -m chaos`` (``make chaos``).

A plain ``pytest tests`` (``make test``) collects these tests and skips them, so the
suite stays opt-in even before the Makefile deselects the marker.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.chaos.faults import OpenSearchNode

CHAOS_OPENSEARCH_PORT = 9280


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "chaos: fault tests against real servers, minutes long (make chaos)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if "chaos" in (config.option.markexpr or ""):
        return
    skip = pytest.mark.skip(reason="chaos tests run with `pytest tests/chaos -m chaos` (make chaos)")
    for item in items:
        if item.get_closest_marker("chaos"):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def own_opensearch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OpenSearchNode]:
    """An OpenSearch node this suite may stop: never the shared one."""
    node = OpenSearchNode(Path(tmp_path_factory.mktemp("opensearch-node")), port=CHAOS_OPENSEARCH_PORT)
    node.start()
    yield node
    node.stop()
