"""The two kinds of failure every stage tells apart.

A ``PermanentError`` is dead-lettered at once (retrying cannot help: bad
input, a mapping rejection). Any other exception is transient: the message
is nacked with back-off and dead-lettered only once ``max_deliver`` is spent.
"""

from __future__ import annotations


class PermanentError(Exception):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class TransientError(Exception):
    """Raised where a failure is known to be temporary (a 429, a timeout)."""


class DependencyUnavailable(TransientError):
    """A server the stage writes to is down (OpenSearch unreachable).

    It says nothing about the messages, so the runtime holds the batch (telling
    JetStream the work is in progress) and retries it with back-off instead of
    spending the messages' delivery attempts: an outage of any length drains by
    itself once the server is back.
    """
