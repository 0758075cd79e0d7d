"""CLI for the management board's meetings (KPI 7): a manager or admin records them."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer

from tracker.domain.access import ROLES, Principal
from tracker.edges.cli import context as ctx
from tracker.kernel.errors import FieldProblem, InvalidInput
from tracker.services.board import list_meetings, record_meeting

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of lines.")]


def register(app: typer.Typer) -> None:
    board = ctx.group(app, "board", "The management board's meetings (KPI 7).")
    board.command("record")(record)
    board.command("list")(list_)


def _operator() -> Principal:
    actor = ctx.actor()  # its role is checked against ROLES
    role = next(r for r in ROLES if r == actor.role)
    return Principal(user_id=actor.user_id, role=role, teams=frozenset())


def _agencies(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def record(
    service: Annotated[str, typer.Option(help="The service's id, e.g. YJS-NORTH.")],
    held_on: Annotated[str, typer.Option(help="The meeting's date, e.g. 2026-09-15.")],
    invited: Annotated[str, typer.Option(help="Partner agencies invited, comma separated "
                                              "(police,probation,childrens_social_care,...).")],
    attending: Annotated[str, typer.Option(help="Agencies that attended, comma separated.")] = "",
    as_json: JsonFlag = False,
) -> None:
    """Record a management board meeting (TRACKER_ROLE=manager or admin)."""
    row = record_meeting(ctx.app(), _operator(), {
        "service": service, "held_on": held_on, "agencies_invited": _agencies(invited),
        "agencies_attending": _agencies(attending)})
    if as_json:
        ctx.emit_json(row)
        return
    ctx.console.print(f"recorded board meeting {row['meeting_id']} of {row['service']} on "
                      f"{row['held_on']}: {len(row['agencies_attending'])} of "
                      f"{len(row['agencies_invited'])} invited agencies attended",
                      highlight=False)


def list_(
    service: Annotated[str | None, typer.Option(help="Only this service.")] = None,
    since: Annotated[str | None, typer.Option(help="Held on or after this date.")] = None,
    until: Annotated[str | None, typer.Option(help="Held on or before this date.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """List the board's meetings (manager, auditor or admin)."""
    rows = list_meetings(ctx.app(), _operator(), service=service,
                         since=_day(since, "--since"), until=_day(until, "--until"))
    if as_json:
        ctx.emit_json(rows)
        return
    for row in rows:
        ctx.console.print(f"{row['held_on']} {row['service']}: attending "
                          f"{', '.join(row['agencies_attending']) or 'none'} "
                          f"(invited {', '.join(row['agencies_invited'])})", highlight=False)


def _day(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput([FieldProblem(option, "must be a date, e.g. 2026-09-30")]) from None
