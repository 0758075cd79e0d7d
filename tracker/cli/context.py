"""What every CLI command shares: the lazily bootstrapped app, the actor, error reporting."""

from __future__ import annotations

import json
import os
import sys

from rich.console import Console

from events.envelope import Actor
from tracker.bootstrap import App, bootstrap
from tracker.errors import TrackerError

_app: App | None = None
console = Console()
err_console = Console(stderr=True)


def app() -> App:
    """The application, built on first use from the environment."""
    global _app
    if _app is None:
        _app = bootstrap()
    return _app


def set_app(value: App | None) -> None:
    """Install a prebuilt app (tests) or forget it."""
    global _app
    _app = value


def close() -> None:
    global _app
    if _app is not None:
        _app.close()
        _app = None


def actor() -> Actor:
    """Who is acting on the command line: ``TRACKER_USER`` / ``TRACKER_ROLE`` or the OS user."""
    user = os.environ.get("TRACKER_USER") or os.environ.get("USER") or "cli"
    role = os.environ.get("TRACKER_ROLE", "admin")
    return Actor(user_id=user[:64], role=role[:32])


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
