"""OpenSearch clients from the shared settings: one place for hosts, timeouts, TLS and credentials."""

from __future__ import annotations

from typing import Any

from opensearchpy import AsyncOpenSearch, OpenSearch

from shared.settings import OpenSearchSettings


def _client_options(settings: OpenSearchSettings) -> dict[str, Any]:
    options: dict[str, Any] = {
        "hosts": settings.hosts,
        "timeout": settings.request_timeout_s,
        # A node that refuses connections is marked dead and skipped until it answers again.
        "retry_on_timeout": len(settings.hosts) > 1,
        "verify_certs": settings.verify_certs,
    }
    if settings.ca_certs:
        options["ca_certs"] = settings.ca_certs
    if settings.username:
        password = settings.password.get_secret_value() if settings.password else ""
        options["http_auth"] = (settings.username, password)
    return options


def async_client(settings: OpenSearchSettings) -> AsyncOpenSearch:
    return AsyncOpenSearch(**_client_options(settings))


def sync_client(settings: OpenSearchSettings, **options: Any) -> OpenSearch:
    """``options`` are the client's own (``pool_maxsize`` for a threaded server, say)."""
    return OpenSearch(**_client_options(settings), **options)
