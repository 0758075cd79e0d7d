"""structlog JSON logs with a correlation id; ids and types only, never personal data."""

from __future__ import annotations

import logging
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import structlog


def configure(level: str = "INFO", json: bool = True) -> None:
    """Set up structlog once per process (called by the bootstrap, not at import)."""
    processors: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
    ]
    processors.append(
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer()
    )
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
        ),
        logger_factory=_stderr_logger,
        cache_logger_on_first_use=False,
    )


class _StderrLogger:
    """Writes each line to whatever ``sys.stderr`` is *now* (it may be swapped, e.g. in tests)."""

    def msg(self, message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    log = debug = info = warn = warning = error = critical = exception = fatal = msg


def _stderr_logger(*_args: object) -> _StderrLogger:
    return _StderrLogger()


def new_correlation_id() -> str:
    """A fresh id for one request or command, carried into the workers."""
    return uuid.uuid4().hex


def current_correlation_id() -> str:
    """The bound correlation id, or a new one if nothing bound it."""
    value = structlog.contextvars.get_contextvars().get("correlation_id")
    return str(value) if value else new_correlation_id()


@contextmanager
def correlation(correlation_id: str | None = None, **extra: str) -> Iterator[str]:
    """Bind a correlation id (and other ids) to every log line inside the block."""
    cid = correlation_id or new_correlation_id()
    with structlog.contextvars.bound_contextvars(correlation_id=cid, **extra):
        yield cid
