"""What OpenSearch's own failures (not a document's) mean for the messages a stage holds: an index
that is gone or a server that is down, overloaded or not ready holds them (``DependencyUnavailable``:
no delivery attempt is spent); anything else is an ordinary transient failure, retried."""

from __future__ import annotations

from typing import Any

from opensearchpy.exceptions import ConnectionError as OpenSearchConnectionError
from opensearchpy.exceptions import TransportError

from shared.errors import DependencyUnavailable, TransientError

# Statuses of an OpenSearch that is overloaded or not ready (e.g. shards still recovering after a restart).
UNAVAILABLE_STATUSES = frozenset({429, 502, 503, 504})


class IndexMissing(DependencyUnavailable):
    """The alias (and the index behind it) is gone: the messages wait while the worker recreates it."""


def request_failure(error: Exception) -> TransientError:
    """A whole request failed: an OpenSearch that is down, starting or overloaded, or an index that is
    gone, holds the batch; anything else (a malformed answer too) is an ordinary transient failure."""
    if isinstance(error, TransientError):
        return error
    if isinstance(error, OpenSearchConnectionError):
        return DependencyUnavailable(f"OpenSearch is unavailable: {error}")
    if isinstance(error, TransportError):
        return server_failure(error.status_code, error.info, f"OpenSearch request failed: {error}")
    return TransientError(f"OpenSearch request failed: {error!r}")


def server_failure(status: Any, error: Any, detail: str) -> TransientError:
    if is_index_missing(error):
        return IndexMissing(detail)
    if status in UNAVAILABLE_STATUSES:
        return DependencyUnavailable(detail)
    return TransientError(detail)


def is_index_missing(error: Any) -> bool:
    """Whether an OpenSearch error body says the index or alias does not exist."""
    if isinstance(error, dict):
        if error.get("type") == "index_not_found_exception":
            return True
        return is_index_missing(error.get("error"))
    return False


def checked_searches(answer: Any, expected: int) -> list[dict[str, Any]]:
    """The responses of an ``_msearch`` of ``expected`` searches, or the TransientError that stops the batch."""
    responses = answer.get("responses") if isinstance(answer, dict) else None
    if not isinstance(responses, list) or len(responses) != expected:
        raise TransientError(f"unexpected _msearch answer from OpenSearch: {str(answer)[:300]}")
    for response in responses:
        if not isinstance(response, dict):
            raise TransientError(f"unexpected _msearch response from OpenSearch: {str(response)[:300]}")
        if "error" in response:
            status = response.get("status")
            detail = f"search failed ({status}): {str(response['error'])[:300]}"
            raise server_failure(status, response["error"], detail)
    return responses
