"""What every CLI command shares: the lazily bootstrapped app, the actor, error reporting."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime

import typer
from rich.console import Console
from rich.table import Table

from events.envelope import Actor
from tracker.domain.access import ROLES
from tracker.kernel import display
from tracker.kernel import logging as tlog
from tracker.kernel.clock import LONDON, local_noon
from tracker.kernel.errors import (
    CaseNotFound,
    ConfigurationError,
    FieldProblem,
    InvalidInput,
    TrackerError,
)
from tracker.services.access_log import record_access
from tracker.services.app import App

_app: App | None = None
_factory: Callable[[], App] | None = None
console = Console()
err_console = Console(stderr=True)


def app() -> App:
    """The application, built on first use from the environment."""
    global _app
    if _app is None:
        if _factory is None:
            raise ConfigurationError("the CLI has no application factory: run it as 'tracker'")
        _app = _factory()
        configure_logging()  # after the bootstrap, which set up logging for servers
    return _app


def use_factory(factory: Callable[[], App]) -> None:
    """Set how the app is built on first use (the composition root, ``tracker.main``)."""
    global _factory
    _factory = factory


def set_app(value: App | None) -> None:
    """Install a prebuilt app (tests) or forget it."""
    global _app
    _app = value


_verbosity = 0
_LEVELS = ("WARNING", "INFO", "DEBUG")


def set_verbosity(count: int) -> None:
    """The global ``-v`` count: 0 logs only warnings, 1 info, 2 or more debug."""
    global _verbosity
    _verbosity = max(0, count)
    configure_logging()


def configure_logging() -> None:
    """Logs go to stderr, only warnings unless ``-v``: a person reading a table or a tool
    reading ``--json`` on stdout sees no log lines. Plain text for people; JSON records
    with ``--json`` (a tool reading stdout may collect stderr too)."""
    tlog.configure(_LEVELS[min(_verbosity, len(_LEVELS) - 1)], json="--json" in sys.argv)


def close() -> None:
    global _app
    if _app is not None:
        _app.close()
        _app = None


def actor() -> Actor:
    """Who is acting on the command line: ``TRACKER_USER`` and ``TRACKER_ROLE``, both required.

    Every event and access-log entry names a person in a role, so the operator says who
    they are; nothing is assumed (an OS login or a default role would misattribute).
    """
    user = os.environ.get("TRACKER_USER", "").strip()
    role = os.environ.get("TRACKER_ROLE", "").strip()
    missing = [name for name, value in (("TRACKER_USER", user), ("TRACKER_ROLE", role))
               if not value]
    if missing:
        raise ConfigurationError(
            f"set {' and '.join(missing)}: the command line records who acts, in which role "
            "(e.g. TRACKER_USER=P-0001 TRACKER_ROLE=practitioner)"
        )
    if role not in ROLES:
        raise ConfigurationError(f"TRACKER_ROLE must be one of {', '.join(ROLES)}")
    return Actor(user_id=user[:64], role=role)


def report(exc: TrackerError) -> int:
    """Print a deliberate error as one line (or JSON with ``--json`` in argv); exit code."""
    if "--json" in sys.argv:
        print(json.dumps(exc.to_dict()), file=sys.stderr)
    else:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
    return 2


def emit_json(value: object) -> None:
    """Print a JSON document on stdout."""
    print(json.dumps(value, indent=2, default=str, ensure_ascii=False))


_GROUPS = "_tracker_groups"


def group(parent: typer.Typer, name: str, help_text: str) -> typer.Typer:
    """The sub-command group ``name`` (e.g. ``case``), shared by every module that adds to it.

    The groups live on ``parent`` itself: keyed by ``id(parent)`` they outlived an app that
    was garbage-collected, and a new app given the same id found the old app's groups.
    """
    groups: dict[str, typer.Typer] = parent.__dict__.setdefault(_GROUPS, {})
    if name not in groups:
        sub = typer.Typer(help=help_text, no_args_is_help=True)
        parent.add_typer(sub, name=name)
        groups[name] = sub
    return groups[name]


DATE = "YYYY-MM-DD"
"""The metavar of every date option: its help says the format the parser takes."""


def parse_date(value: str | None, field: str) -> date | None:
    """An ISO date from the command line, or a clear error naming the option."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput([FieldProblem(
            field, f"'{value}' is not a date: use YYYY-MM-DD, e.g. 2026-11-28")]) from None


def parse_moment(value: str | None, field: str) -> datetime | None:
    """An ISO date-time (a bare date means noon in London; no zone means London time)."""
    if value is None:
        return None
    try:
        if len(value) == 10:
            return local_noon(date.fromisoformat(value))
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(
            [FieldProblem(field, f"'{value}' is not a date or date-time: use YYYY-MM-DD or "
                                 "YYYY-MM-DDTHH:MM (London time unless it ends in +00:00)")]
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=LONDON)
    return moment.astimezone(UTC)


def log_case_read(case_ids: list[str], action: str) -> None:
    """Write the access log for a read of cases on the command line, before anything is
    shown (a caseload or alert list logs every case it lists)."""
    who = actor()
    record_access(app(), user_id=who.user_id, role=who.role, case_ids=case_ids,
                  action=f"cli: {action}", outcome="allowed")


def log_one_case_read(case_id: str, action: str) -> None:
    """Log a read of one case; a case with no events is logged ``not_found`` and refused."""
    if app().store.stream_version(case_id) == 0:
        who = actor()
        record_access(app(), user_id=who.user_id, role=who.role, case_ids=[case_id],
                      action=f"cli: {action}", outcome="not_found")
        raise CaseNotFound(f"case {case_id[:64]} not found")
    log_case_read([case_id], action)


def table(title: str | None, columns: Sequence[str], *, keys: int = 1,
          caption: str | None = None, whole: Sequence[str] = (),
          fold: Sequence[str] = ()) -> Table:
    """A table that fits the terminal (80 columns included): the first ``keys`` columns (the
    ids a person copies into the next command) never wrap or shrink; the others wrap, and a
    word too long for its column ends in an ellipsis, unless the column is in ``fold`` (an
    id to copy is folded onto the next line, never cut). Columns in ``whole`` (dates) stay
    on one line while the table fits, like the keys."""
    out = Table(title=title, caption=caption)
    for index, name in enumerate(columns):
        if index < keys or name in whole:
            out.add_column(name, no_wrap=True, overflow="ellipsis")
        else:
            out.add_column(name, overflow="fold" if name in fold else "ellipsis")
    return out


def day(value: date | datetime | str | None) -> str:
    """A date for people: ``28 November 2026`` (London time)."""
    return display.day(value)


def when(value: datetime | str | None) -> str:
    """A moment for people: ``28 November 2026, 10:30`` in UK local time."""
    return display.when(value)
