"""structlog JSON logs with a correlation id; ids and types only, never personal data."""

from __future__ import annotations

import logging
import sys
import threading
import traceback
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import structlog


def configure(level: str = "INFO", json: bool = True) -> None:
    """Set up structlog once per process (called by the bootstrap, not at import)."""
    processors: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        safe_exc_info,
    ]
    processors.append(
        structlog.processors.JSONRenderer() if json
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
        ),
        logger_factory=_stderr_logger,
        cache_logger_on_first_use=False,
    )


def describe_exception(exc: BaseException) -> str:
    """An exception as a log field: its type and where it was raised (file, line,
    function; innermost first), along its chain of causes, on one line. Never its message
    or its values: a validation error quotes the input, a driver error the SQL parameters,
    and either can be a child's note or date of birth."""
    parts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen and len(parts) < 8:
        seen.add(id(current))
        frames = traceback.extract_tb(current.__traceback__)[-12:]
        where = " < ".join(f"{Path(f.filename).name}:{f.lineno} {f.name}"
                           for f in reversed(frames))
        name = type(current)
        parts.append(f"{name.__module__}.{name.__qualname__}" + (f" at {where}" if where else ""))
        current = current.__cause__ or current.__context__
    return " | from ".join(parts)


def safe_exc_info(
    _logger: object, _method: str, event_dict: structlog.types.EventDict
) -> structlog.types.EventDict:
    """A structlog processor in place of ``format_exc_info``: the traceback becomes the
    ``exception`` field, without messages (``describe_exception``)."""
    exc_info = event_dict.pop("exc_info", None)
    exc: BaseException | None = None
    if exc_info is True:
        exc = sys.exc_info()[1]
    elif isinstance(exc_info, BaseException):
        exc = exc_info
    elif isinstance(exc_info, tuple) and len(exc_info) == 3:
        exc = exc_info[1]
    if exc is not None:
        event_dict["exception"] = describe_exception(exc)
    return event_dict


_WRITE = threading.Lock()


def write_line(record: str) -> None:
    """Write one log record as one line to whatever ``sys.stderr`` is *now* (tests swap it).

    Text and newline go in one ``write`` under one process-wide lock shared by structlog
    and the standard library's handler (``JsonLineHandler``): ``print`` writes them
    separately, and records from concurrent threads came out glued on one line.
    """
    line = record.replace("\n", "\\n") + "\n"  # a renderer's stray newline stays inside
    with _WRITE:
        sys.stderr.write(line)
        sys.stderr.flush()


class JsonLineHandler(logging.Handler):
    """A stdlib handler whose formatted records go out through ``write_line``."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            write_line(self.format(record))
        except Exception:
            self.handleError(record)


def log_uncaught(kind: str) -> None:
    """Report exceptions that escape a thread or the main program as one JSON record each,
    not as Python's raw multi-line traceback on stderr."""
    crash = logging.getLogger("tracker.uncaught")

    def thread_hook(args: threading.ExceptHookArgs) -> None:
        if args.exc_type is SystemExit:
            return
        crash.error("uncaught_exception in %s thread %s", kind,
                    args.thread.name if args.thread else "?",
                    exc_info=(args.exc_type, args.exc_value, args.exc_traceback))  # type: ignore[arg-type]

    threading.excepthook = thread_hook


class _StderrLogger:
    """structlog's output: each record through ``write_line``."""

    def msg(self, message: str) -> None:
        write_line(message)

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
