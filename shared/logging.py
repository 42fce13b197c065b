"""One structlog configuration for every process: JSON when not on a TTY,
console otherwise, and the standard library's loggers routed through it.

Our own lines (one per message per stage: the hottest path after the stage's work)
go straight from structlog to standard error, not through the standard library's
``logging`` machinery, which costs ~50 µs a line against ~10 µs this way. Lines
of libraries (FastStream, nats-py, opensearch-py) still come through ``logging``
and are rendered by the same processors, so every line has the same shape.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog
from pydantic_core import to_json
from structlog.typing import FilteringBoundLogger


class _StandardError:
    """Writes each rendered line to the current ``sys.stderr`` (looked up per line, so a test's capture sees it)."""

    def __init__(self, name: str = "") -> None:
        self.name = name  # what ``add_logger_name`` writes as "logger"

    def msg(self, message: str) -> None:
        sys.stderr.write(message + "\n")

    debug = info = warning = warn = error = critical = exception = fatal = log = msg


def _json(event: Any, **_: Any) -> str:
    return to_json(event, fallback=str).decode()


def configure_logging(level: str = "INFO", json: bool | None = None) -> None:
    render_json = (not sys.stderr.isatty()) if json is None else json
    renderer: Any = (
        structlog.processors.JSONRenderer(_json) if render_json else structlog.dev.ConsoleRenderer(colors=False)
    )
    timestamper = structlog.processors.TimeStamper(fmt="iso", utc=True)
    numeric_level = logging.getLevelName(level.upper())
    # Not cached on first use: a process that configures again (a test raising the level) is obeyed.
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.stdlib.add_logger_name,
            timestamper,
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric_level),
        logger_factory=_StandardError,
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[structlog.stdlib.add_log_level, structlog.stdlib.add_logger_name, timestamper],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            renderer,
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(numeric_level)
    # FastStream logs a line per message on its own; our canonical line replaces it.
    logging.getLogger("faststream").setLevel(logging.WARNING)
    logging.getLogger("opensearch").setLevel(logging.WARNING)


def get_logger(name: str) -> FilteringBoundLogger:
    logger: FilteringBoundLogger = structlog.get_logger(name)
    return logger
