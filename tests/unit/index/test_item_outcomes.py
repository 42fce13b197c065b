"""How each ``_bulk`` item result, and an answer of an unexpected shape, settles its message."""

from __future__ import annotations

import pytest
from opensearchpy.exceptions import ConnectionError as OpenSearchConnectionError
from opensearchpy.exceptions import NotFoundError, SerializationError, TransportError

from services.index.app import bulk_outcomes, item_outcome
from shared.errors import DependencyUnavailable, PermanentError, TransientError
from shared.search.failures import IndexMissing, checked_searches, request_failure


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
    outcome = item_outcome({"status": 413, "error": {"type": "content_too_long", "reason": "too large"}})
    assert isinstance(outcome, PermanentError)
    assert outcome.reason == "http_413"


def test_a_missing_index_holds_the_message_instead_of_dead_lettering_it() -> None:
    missing = {"type": "index_not_found_exception", "reason": "no such index [articles]", "index": "articles"}
    outcome = item_outcome({"status": 404, "error": missing})
    assert isinstance(outcome, IndexMissing) and isinstance(outcome, DependencyUnavailable)


@pytest.mark.parametrize("item", [{"result": "created"}, {"status": "201"}, None, "created"])
def test_an_item_without_a_status_is_transient(item: object) -> None:
    outcome = item_outcome(item)
    assert isinstance(outcome, TransientError) and not isinstance(outcome, DependencyUnavailable)


def test_bulk_outcomes_follow_the_items_in_order() -> None:
    answer = {
        "errors": True,
        "items": [
            {"index": {"status": 201}},
            {"index": {"status": 400, "error": {"type": "mapper_parsing_exception", "reason": "bad"}}},
            {"index": {"_id": "no-status"}},
        ],
    }
    written, rejected, unknown = bulk_outcomes(answer, 3)
    assert written == []
    assert isinstance(rejected, PermanentError)
    assert isinstance(unknown, TransientError)


@pytest.mark.parametrize(
    "answer",
    [
        {"took": 3, "errors": False},  # no items
        {"items": [{"index": {"status": 201}}]},  # one item for two documents
        {"items": "nothing"},
        "<html>502 Bad Gateway</html>",
        None,
    ],
)
def test_an_answer_of_another_shape_makes_every_document_transient(answer: object) -> None:
    outcomes = bulk_outcomes(answer, 2)
    assert len(outcomes) == 2
    assert all(isinstance(outcome, TransientError) for outcome in outcomes)


def test_msearch_responses_are_returned_when_every_search_answered() -> None:
    responses = [{"hits": {"hits": []}}, {"hits": {"hits": []}}]
    assert checked_searches({"responses": responses}, 2) == responses


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ({"responses": [{"status": 404, "error": {"type": "index_not_found_exception"}}]}, IndexMissing),
        ({"responses": [{"status": 429, "error": {"type": "es_rejected_execution_exception"}}]}, DependencyUnavailable),
        ({"responses": [{"status": 400, "error": {"type": "search_phase_execution_exception"}}]}, TransientError),
        ({"responses": [{"status": "?", "error": "odd"}]}, TransientError),
        ({"responses": ["not an object"]}, TransientError),
        ({"responses": []}, TransientError),  # fewer responses than searches
        ({"took": 1}, TransientError),
        ("<html>", TransientError),
    ],
)
def test_a_failed_or_malformed_msearch_stops_the_batch_with_a_transient_error(answer: object, expected: type) -> None:
    with pytest.raises(TransientError) as raised:
        checked_searches(answer, 1)
    assert type(raised.value) is expected


def test_a_whole_request_failure_is_classified_by_what_it_says_about_the_server() -> None:
    missing = NotFoundError(404, "index_not_found_exception", {"error": {"type": "index_not_found_exception"}})
    assert isinstance(request_failure(missing), IndexMissing)
    assert type(request_failure(OpenSearchConnectionError("N/A", "refused", OSError()))) is DependencyUnavailable
    assert type(request_failure(TransportError(503, "unavailable", {}))) is DependencyUnavailable
    assert type(request_failure(SerializationError("not JSON"))) is TransientError
    already = TransientError("kept")
    assert request_failure(already) is already
