"""``tracker demo``: the README's main command on the embedded default.

Migrates, seeds a synthetic caseload (once: a second run reuses the database), brings the
read models up to date, makes one demo login per role (passwords kept between runs while
they still work, so a second run does not sign out a demo already running; printed),
prints a summary and serves the pages and the API with the in-process worker.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from sqlalchemy import func, make_url, select

from events.schema import events as events_table
from projections.projector import Projector
from tracker.db.migrations import upgrade
from tracker.edges.cli import context as ctx
from tracker.edges.cli.serve_cmds import run_server
from tracker.edges.web.common import STATIC_DIR
from tracker.kernel.errors import ConfigurationError
from tracker.services.accounts import Accounts
from tracker.services.seed import KEYWORKERS, TEAMS, seed_caseload
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
    """(role, username, user id, teams, display name): the practitioner and the managers
    are seeded teams' own ids, so their caseload and alerts are the seeded ones; a second
    team's manager answers transfers, and the keyworker is the one the seed allocates to
    custody cases, so each role has real work to see."""

    team, other = list(TEAMS)[:2]
    manager, practitioners = TEAMS[team]
    return [
        ("practitioner", "demo.practitioner", practitioners[0], [team],
         "Sam Example"),
        ("manager", "demo.manager", manager, [team], "Jo Example"),
        ("manager", "demo.manager_south", TEAMS[other][0], [other], "Ray Example"),
        ("secure_keyworker", "demo.keyworker", KEYWORKERS[0], [], "Val Example"),
        ("auditor", "demo.auditor", "A-DEMO", [], "Kit Example"),
        ("admin", "demo.admin", "AD-DEMO", [], "Lee Example"),
        ("qa", "demo.qa", "Q-DEMO", [], "Ari Example"),
    ]


def logins_file(app: App) -> Path:
    """Where the demo keeps its synthetic accounts' passwords between runs (owner-only):
    beside an SQLite database, else in the working folder."""
    url = make_url(app.settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        db = Path(url.database)
        return db.with_name(db.name + ".demo-logins.json")
    return Path(".tracker-demo-logins.json")


def _kept_passwords(app: App, accounts: Accounts) -> dict[str, str]:
    """The passwords of the last run, where they still sign in: a second ``demo`` against
    the same database keeps them, so a demo already running stays usable."""
    path = logins_file(app)
    try:
        saved = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(saved, dict):
        return {}
    return {u: p for u, p in saved.items() if isinstance(u, str) and isinstance(p, str)
            and accounts.authenticate(u, p) is not None}


def _keep_passwords(app: App, logins: list[DemoLogin]) -> None:
    path = logins_file(app)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump({login.username: login.password for login in logins}, handle)


def ensure_logins(app: App) -> list[DemoLogin]:
    """Create the demo accounts, or keep the passwords of the last run where they still
    work (else give a new one); every password is printed."""
    accounts = Accounts(app)
    kept = _kept_passwords(app, accounts)
    out: list[DemoLogin] = []
    for role, username, user_id, teams, name in demo_accounts():
        found: User | None = accounts.by_username(username)
        if found is not None and username in kept and found.role == role and found.active:
            out.append(DemoLogin(role, username, kept[username], found.user_id,
                                 tuple(sorted(found.teams)), found.display_name))
            continue
        password = secrets.token_urlsafe(12)
        if found is None:
            user = accounts.create_user(username, password, role, teams, user_id=user_id,
                                        display_name=name)
        else:
            user = accounts.update_user(found.user_id, password=password, role=role,
                                        teams=teams, active=True, display_name=name)
        out.append(DemoLogin(role, username, password, user.user_id, tuple(sorted(user.teams)),
                             user.display_name))
    _keep_passwords(app, out)
    return out


def check_port(host: str, port: int) -> None:
    """Refuse, in one line and before anything is changed, a port something else holds."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        try:
            probe.bind((host, port))
        except OSError:
            raise ConfigurationError(
                f"port {port} on {host} is in use: choose another with --port, for example "
                f"--port {port + 1}") from None


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
    if serve:
        check_port(host, port)
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
    logins_table = Table(title="demo logins (synthetic people)")
    # A login is copied from here: the username and password are never cut short; the
    # other columns fold onto a second line when the terminal is narrow.
    for column in ("role", "username", "password", "user id", "teams"):
        whole = column in ("username", "password")
        logins_table.add_column(
            column, no_wrap=whole, overflow="fold",
            min_width=max(len(getattr(x, column)) for x in logins) if whole else None)
    for login in logins:
        logins_table.add_row(login.role.replace("_", " "), login.username, login.password,
                             login.user_id,
                             ", ".join(login.teams) or "-")
    console.print(logins_table)
    if not (STATIC_DIR / "govuk" / "tracker.css").exists():
        console.print("pages use the plain fallback styles: install Node.js with npm and run "
                      "`python3 run.py demo` again for GOV.UK Frontend's styles")
    if not serve:
        return

    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104 - only a label
    console.print(f"serving on [bold]http://{shown}:{port}[/]  (Ctrl-C to stop)")
    run_server(app, host=host, port=port, start_workers=True)
