"""Prometheus metrics every stage exposes (listed in the README)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

MESSAGES_IN = Counter("newsflow_messages_in_total", "Messages received", ["stage"])
MESSAGES_OUT = Counter("newsflow_messages_out_total", "Messages published downstream or indexed", ["stage"])
ERRORS = Counter("newsflow_errors_total", "Failed message attempts", ["stage", "kind"])
DEAD_LETTERS = Counter("newsflow_dead_letters_total", "Messages dead-lettered", ["stage", "reason"])
HANDLER_SECONDS = Histogram(
    "newsflow_handler_seconds",
    "Time to process one pulled batch",
    ["stage"],
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
BATCH_SIZE = Histogram(
    "newsflow_batch_size", "Messages per pulled batch", ["stage"], buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256)
)

# The read API (services/api), labelled by route template, not by path, so ids add no series.
API_REQUESTS = Counter("newsflow_api_requests_total", "HTTP requests answered", ["route", "status"])
API_SECONDS = Histogram(
    "newsflow_api_request_seconds",
    "Time to answer one HTTP request",
    ["route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
