"""``tracker demo``: the README's main command on the embedded default.

Migrates, seeds a synthetic caseload (once: a second run reuses the database), brings the
read models up to date, makes one demo login per role (a fresh password each run, printed),
prints a summary and serves the pages and the API with the in-process worker.
"""

from __future__ import annotations

import secrets
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from sqlalchemy import func, select

from events.schema import events as events_table
from projections.projector import Projector
from tracker.db.migrations import upgrade
from tracker.edges.cli import context as ctx
from tracker.edges.cli.serve_cmds import run_server
from tracker.kernel.errors import ConfigurationError
from tracker.services.accounts import Accounts
from tracker.services.seed import TEAMS, seed_caseload
from tracker.services.verify import verify

if TYPE_CHECKING:
    from tracker.services.accounts import User
    from tracker.services.app import App


@dataclass(frozen=True)
class DemoLogin:
    """A demo account and the password it was given on this run."""
    role: str
    username: str
    password: str
    user_id: str
    teams: tuple[str, ...]
    display_name: str


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)


def demo_accounts() -> list[tuple[str, str, str, list[str], str]]:
    """(role, username, user id, teams, display name): the practitioner and the manager
    are a seeded team's own ids, so their caseload and alerts are the seeded ones."""

    team = next(iter(TEAMS))
    manager, practitioners = TEAMS[team]
    return [
        ("practitioner", "demo.practitioner", practitioners[0], [team],
         "Sam Example"),
        ("manager", "demo.manager", manager, [team], "Jo Example"),
        ("auditor", "demo.auditor", "A-DEMO", [], "Kit Example"),
        ("admin", "demo.admin", "AD-DEMO", [], "Lee Example"),
        ("qa", "demo.qa", "Q-DEMO", [], "Ari Example"),
    ]


def ensure_logins(app: App) -> list[DemoLogin]:
    """Create the demo accounts, or give the existing ones a new password (printed once)."""
    accounts = Accounts(app)
    out: list[DemoLogin] = []
    for role, username, user_id, teams, name in demo_accounts():
        password = secrets.token_urlsafe(12)
        found: User | None = accounts.by_username(username)
        if found is None:
            user = accounts.create_user(username, password, role, teams, user_id=user_id,
                                        display_name=name)
        else:
            user = accounts.update_user(found.user_id, password=password, role=role,
                                        teams=teams, active=True, display_name=name)
        out.append(DemoLogin(role, username, password, user.user_id, tuple(sorted(user.teams)),
                             user.display_name))
    return out


def prepare(app: App, *, cases: int, seed: int) -> tuple[dict[str, int], list[DemoLogin]]:
    """Migrate, seed (idempotently), catch the read models up, and set the demo logins."""
    if app.settings.environment == "production":
        raise ConfigurationError("the demo seeds synthetic data: not in production")
    upgrade(app.engine)
    summary = seed_caseload(app, cases=cases, seed=seed)
    Projector(app).catch_up()
    return summary, ensure_logins(app)


def demo(
    cases: Annotated[int, typer.Option(min=1, max=5000, help="Cases to seed.")] = 60,
    seed_value: Annotated[int, typer.Option("--seed", help="Random seed.")] = 1,
    host: Annotated[str, typer.Option(help="Address to serve on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to serve on.")] = 8000,
    serve: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Serve the pages after seeding.")
    ] = True,
) -> None:
    """Seed a synthetic caseload (once), print one login per role, and serve the pages."""
    app = ctx.app()
    summary, logins = prepare(app, cases=cases, seed=seed_value)
    with app.engine.connect() as conn:
        by_type: Counter[str] = Counter(dict(conn.execute(
            select(events_table.c.event_type, func.count()).group_by(events_table.c.event_type)
        ).all()))
    report = verify(app.engine)
    console = ctx.console
    console.rule("[bold]the tracker — demo on the embedded default (SQLite)")
    console.print(f"database: {app.settings.database_url}")
    console.print(f"seeded now: {summary['cases']} cases; already there: "
                  f"{summary['skipped_existing']}")
    table = Table(title=f"{sum(by_type.values())} events on {report.streams} cases")
    table.add_column("event type")
    table.add_column("count", justify="right")
    for name, count in sorted(by_type.items()):
        table.add_row(name, str(count))
    console.print(table)
    status = "[green]intact[/]" if report.ok else f"[red]broken in {len(report.breaks)} cases[/]"
    console.print(f"hash chain: {status} ({report.events} events verified)")
    logins_table = Table(title="demo logins (synthetic people; new passwords on every run)")
    for column in ("role", "username", "password", "user id", "teams"):
        logins_table.add_column(column)
    for login in logins:
        logins_table.add_row(login.role, login.username, login.password, login.user_id,
                             ", ".join(login.teams) or "-")
    console.print(logins_table)
    if not serve:
        return

    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104 - only a label
    console.print(f"serving on [bold]http://{shown}:{port}[/]  (Ctrl-C to stop)")
    run_server(app, host=host, port=port, start_workers=True)
