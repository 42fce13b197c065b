"""The read service: /v1 (JSON), the reader pages (HTML), /healthz and /metrics, in one FastAPI app.

Handlers are plain functions run in FastAPI's thread pool with the synchronous OpenSearch client,
so the API calls exactly the ``Searcher`` the CLI calls."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from opensearchpy.exceptions import ConnectionError as OpenSearchUnreachable
from opensearchpy.exceptions import NotFoundError, RequestError, TransportError
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from services.api import alerts, api, pages
from services.api.access import RateLimiter
from services.api.settings import ApiSettings
from services.api.snapshots import Snapshots
from shared.logging import get_logger
from shared.metrics import API_REQUESTS, API_SECONDS
from shared.search.alerts import AlertStore
from shared.search.client import sync_client
from shared.search.queries import Searcher

log = get_logger("api")
# Connections to OpenSearch: one per concurrently served request, up to FastAPI's 40 worker threads.
OPENSEARCH_CONNECTIONS = 40


# The major version is the /v1 in every route.
API_VERSION = "1.1"


def create_app(settings: ApiSettings | None = None) -> FastAPI:
    settings = settings or ApiSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        client = sync_client(settings.opensearch, pool_maxsize=OPENSEARCH_CONNECTIONS)
        app.state.searcher = Searcher(client, settings.opensearch.alias)
        app.state.alerts = AlertStore(client, settings.opensearch.alias, settings.opensearch.alerts_alias)
        app.state.snapshots = Snapshots(app.state.searcher, settings.snapshot_every_s, settings.cursor_keep_alive)
        try:
            yield
        finally:
            client.close()

    app = FastAPI(
        title="newsflow API",
        # The interface's version (its /v1 routes), not the code's: the checked-in document changes
        # only when the routes do.
        version=API_VERSION,
        description="Search, stories, entities, topics, trending and export over the newsflow index; saved searches"
        " (alerts) that fire as articles arrive.",
        lifespan=lifespan,
        # The interactive docs load scripts from a CDN; /openapi.json is served, and checked in.
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.rate_limiter = RateLimiter(settings.rate_per_minute, settings.rate_burst)
    app.include_router(api.router)
    app.include_router(alerts.router)
    app.include_router(pages.router)
    _add_operations(app)
    _add_error_handlers(app, settings)
    _add_limits_and_metrics(app, settings)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["X-API-Key", "Content-Type"],
        )
    return app


def _add_operations(app: FastAPI) -> None:
    @app.get("/healthz", include_in_schema=False)
    def healthz(request: Request) -> JSONResponse:
        """200 while OpenSearch answers, else 503."""
        searcher: Searcher = request.app.state.searcher
        ok = bool(searcher.client.ping())
        return JSONResponse({"status": "ok" if ok else "unavailable"}, status_code=200 if ok else 503)

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


def _add_error_handlers(app: FastAPI, settings: ApiSettings) -> None:
    def unavailable(request: Request, detail: str) -> Response:
        headers = {"Retry-After": str(settings.retry_after_s)}
        if request.url.path.startswith("/v1/"):
            return JSONResponse({"detail": detail}, status_code=503, headers=headers)
        return pages.problem_page(request, 503, detail, headers)

    async def opensearch_failed(request: Request, error: Exception) -> Response:
        if isinstance(error, RequestError):
            # A query OpenSearch refuses was built from the parameters (a tampered cursor, say).
            return JSONResponse({"detail": [{"loc": ["query"], "msg": "OpenSearch refused the query"}]}, 422)
        log.warning("opensearch_unavailable", path=request.url.path, error=type(error).__name__)
        if isinstance(error, NotFoundError):
            return unavailable(request, "no index yet: the pipeline has not indexed anything")
        return unavailable(request, "the search backend is unavailable; retry later")

    for error in (OpenSearchUnreachable, TransportError):
        app.add_exception_handler(error, opensearch_failed)


def _add_limits_and_metrics(app: FastAPI, settings: ApiSettings) -> None:
    @app.middleware("http")
    async def limits_and_metrics(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        started = time.perf_counter()
        if len(request.scope.get("query_string", b"")) > settings.max_query_bytes:
            response: Response = JSONResponse({"detail": "query string too long"}, status_code=414)
        elif int(request.headers.get("content-length") or 0) > settings.max_body_bytes:
            response = JSONResponse({"detail": "request body too large"}, status_code=413)
        else:
            response = await call_next(request)
        route = getattr(request.scope.get("route"), "path", "unmatched")
        API_REQUESTS.labels(route, str(response.status_code)).inc()
        API_SECONDS.labels(route).observe(time.perf_counter() - started)
        return response
