"""CLI: ``tracker serve`` (the API and the pages) and ``tracker users add/list/token/log``."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Annotated

import structlog
import typer
import uvicorn
from rich.table import Table

from projections.queries.alerts import notes_in_clear
from tracker.db.migrations import upgrade
from tracker.edges.cli import context as ctx
from tracker.edges.http import create_app
from tracker.kernel.errors import AccessDenied, FieldProblem, InvalidInput
from tracker.services.accounts import Accounts
from tracker.services.accounts.account_log import read_account_log
from tracker.services.accounts.users import OPERATOR
from workers.runtime import InProcessWorkers

if TYPE_CHECKING:
    from tracker.services.app import App

log = structlog.get_logger("tracker.serve")


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    users = typer.Typer(help="Accounts: users, roles, teams and API tokens.", no_args_is_help=True)
    users.command("add")(add_user)
    users.command("list")(list_users)
    users.command("token")(issue_token)
    users.command("log")(account_log)
    app.add_typer(users, name="users")


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    workers: Annotated[
        bool, typer.Option(help="Run the in-process worker (when there is no Redis).")
    ] = True,
) -> None:
    """Serve the JSON API (/api, /openapi.json) and the web pages with uvicorn."""
    the_app = ctx.app()
    upgrade(the_app.engine)
    if clear := notes_in_clear(the_app):  # left by a version before notes were sealed
        log.warning("alert_notes_in_clear", count=clear, fix="tracker db seal-notes")
    run_server(the_app, host=host, port=port, start_workers=workers)


def run_server(the_app: App, *, host: str, port: int, start_workers: bool) -> None:
    """Start the in-process worker (embedded default) and serve until interrupted."""
    running = None
    if start_workers and the_app.workers is not None and the_app.workers.in_process:
        running = InProcessWorkers(the_app).start()
    try:
        config = uvicorn.Config(
            create_app(the_app), host=host, port=port, log_config=None, access_log=False,
            proxy_headers=False,
        )
        uvicorn.Server(config).run()
    finally:
        if running is not None:
            running.stop()


def add_user(
    username: Annotated[str, typer.Argument(help="Sign-in name, lower case (e.g. sam.jones).")],
    role: Annotated[str, typer.Option(help="practitioner, manager, auditor or admin.")],
    team: Annotated[
        list[str] | None, typer.Option(help="A team id (repeat for several).")
    ] = None,
    user_id: Annotated[
        str | None, typer.Option(help="Pseudonymous id, e.g. the practitioner id P-0001.")
    ] = None,
    display_name: Annotated[str | None, typer.Option(help="Name shown on the pages.")] = None,
    password: Annotated[
        str | None,
        typer.Option(help="Omit to be asked (not echoed); '-' reads one line from stdin."),
    ] = None,
) -> None:
    """Add a user with a role and teams."""
    if password is None:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    elif password == "-":  # noqa: S105 - "read it from stdin", not a password
        password = sys.stdin.readline().rstrip("\n")
    the_app = ctx.app()
    upgrade(the_app.engine)
    operator = os.environ.get("TRACKER_USER", "").strip()[:64] or OPERATOR
    user = Accounts(the_app).create_user(
        username.strip().lower(), password, role, team or [], user_id=user_id,
        display_name=display_name, by=operator,
    )
    ctx.console.print(f"added {user.username}: {user.user_id}, {user.role}, teams "
                      f"{', '.join(sorted(user.teams)) or '-'}", highlight=False)


def list_users(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List users with their roles and teams."""
    users = Accounts(ctx.app()).list_users()
    if as_json:
        ctx.emit_json([u.to_dict() for u in users])
        return
    table = Table()
    for column in ("username", "user id", "role", "teams", "active"):
        table.add_column(column)
    for u in users:
        table.add_row(u.username, u.user_id, u.role, ", ".join(sorted(u.teams)),
                      "yes" if u.active else "no")
    ctx.console.print(table)


def issue_token(
    username: Annotated[str, typer.Argument(help="Whose token.")],
    name: Annotated[str, typer.Option(help="A label, e.g. the machine it is for.")] = "api",
) -> None:
    """Issue an API token; it is printed once and only its hash is kept."""
    acc = Accounts(ctx.app())
    user = acc.by_username(username.strip().lower())
    if user is None:
        raise InvalidInput([FieldProblem("username", f"no user '{username[:64]}'")])
    secret, info = acc.create_token(user.user_id, name)
    ctx.err_console.print(f"token {info.token_id} for {user.username} ({user.role}); "
                          "shown once:", highlight=False)
    print(secret)


def account_log(
    user_id: Annotated[str | None, typer.Option(help="Only this user's account.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=500, help="Newest this many.")] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Changes to accounts, newest first: who changed what, when (TRACKER_ROLE=admin)."""
    if ctx.actor().role != "admin":
        raise AccessDenied()
    page = read_account_log(ctx.app().engine, user_id=user_id, limit=limit)
    if as_json:
        ctx.emit_json(page.to_dict())
        return
    table = Table(title=f"account changes ({len(page.entries)} of {page.total})")
    for column in ("when", "by", "user", "change", "detail"):
        table.add_column(column)
    for c in page.entries:
        table.add_row(c.at.isoformat(timespec="seconds"), c.actor_id, c.user_id, c.change,
                      c.detail)
    ctx.console.print(table)
