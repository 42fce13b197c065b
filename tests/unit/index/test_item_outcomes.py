"""How each ``_bulk`` item result settles its message."""

from __future__ import annotations

import pytest

from services.index.app import item_outcome
from shared.errors import DependencyUnavailable, PermanentError, TransientError


@pytest.mark.parametrize("status", [200, 201])
def test_written_is_acked(status: int) -> None:
    assert item_outcome({"status": status, "result": "created"}) == []


def test_an_already_indexed_version_is_a_duplicate_and_acked() -> None:
    assert item_outcome({"status": 409, "error": {"type": "version_conflict_engine_exception"}}) == []


def test_a_mapping_rejection_is_permanent_with_opensearchs_reason() -> None:
    outcome = item_outcome(
        {"status": 400, "error": {"type": "mapper_parsing_exception", "reason": "failed to parse [enrichments.x]"}}
    )
    assert isinstance(outcome, PermanentError)
    assert outcome.reason == "mapping_rejected"
    assert outcome.detail == "mapper_parsing_exception: failed to parse [enrichments.x]"


@pytest.mark.parametrize("status", [429, 500, 503])
def test_overload_and_server_errors_are_transient(status: int) -> None:
    outcome = item_outcome({"status": status, "error": {"type": "es_rejected_execution_exception", "reason": "busy"}})
    assert isinstance(outcome, TransientError)
    assert str(status) in str(outcome)
    # Overload and unready shards describe the server, so they must not spend the message's attempts.
    assert isinstance(outcome, DependencyUnavailable) == (status in (429, 503))


def test_other_client_errors_are_permanent_and_named_by_status() -> None:
    outcome = item_outcome({"status": 404, "error": "index_not_found_exception"})
    assert isinstance(outcome, PermanentError)
    assert outcome.reason == "http_404"
