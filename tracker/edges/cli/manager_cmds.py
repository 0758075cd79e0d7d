"""CLI for a manager's decisions on a case (issue 11 §1) and the practitioner's "oversight
action done": each records one event through ``CaseService`` as the operator
(``TRACKER_USER``/``TRACKER_ROLE``). A manager's act needs ``TRACKER_ROLE=manager``; the
manager recorded is the operator, never a typed id."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import uuid4

import typer

from tracker.domain.commands import parse_command
from tracker.edges.cli import context as ctx
from tracker.kernel.logging import correlation
from tracker.services.cases import CaseService

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of a line.")]
CaseArg = Annotated[str, typer.Argument(help="The case.")]
When = Annotated[str | None, typer.Option(
    "--occurred-at", help="When it was decided (default now); back-dating is allowed.")]
Note = Annotated[str | None, typer.Option(help="A note (kept sealed).")]


def register(app: typer.Typer) -> None:
    case = ctx.group(app, "case", "Open and inspect cases.")
    case.command("exceptional-circumstances")(exceptional_circumstances)
    case.command("authorise-breach")(authorise_breach)
    case.command("decline-breach")(decline_breach)
    case.command("agree-level")(agree_level)
    case.command("oversight")(oversight)
    case.command("oversight-done")(oversight_done)


def _record(case_id: str, event_type: str, data: dict[str, Any], occurred_at: str | None,
            as_json: bool) -> None:
    app = ctx.app()
    when = ctx.parse_moment(occurred_at, "--occurred-at") or app.clock.now()
    command = parse_command({"case_id": case_id, "event_type": event_type,
                             "data": {k: v for k, v in data.items() if v is not None},
                             "occurred_at": when})
    with correlation() as cid:
        recorded = CaseService.of(app).record(command, actor=ctx.actor(), correlation_id=cid)
    rec = recorded[-1]
    row = {"case_id": rec.stream_id, "version": rec.stream_version, "type": rec.type,
           "event_id": str(rec.event_id)}
    if as_json:
        ctx.emit_json(row)
    else:
        ctx.console.print(f"recorded {rec.type} on case {rec.stream_id} "
                          f"(version {rec.stream_version}, event {rec.event_id})",
                          highlight=False)


def exceptional_circumstances(
    case_id: CaseArg,
    failure: Annotated[str, typer.Option(help="The failure's event id.")],
    note: Annotated[str, typer.Option(help="The circumstances (kept sealed).")],
    occurred_at: When = None, as_json: JsonFlag = False,
) -> None:
    """A manager records exceptional circumstances: the failure does not lead to breach."""
    _record(case_id, "exceptional_circumstances_recorded",
            {"failure_event_id": failure, "note": note}, occurred_at, as_json)


def authorise_breach(
    case_id: CaseArg,
    breach: Annotated[str, typer.Option(help="The breach_initiated event id.")],
    note: Note = None, occurred_at: When = None, as_json: JsonFlag = False,
) -> None:
    """A manager authorises breach proceedings a practitioner started."""
    _record(case_id, "breach_authorised", {"breach_event_id": breach, "note": note},
            occurred_at, as_json)


def decline_breach(
    case_id: CaseArg,
    breach: Annotated[str, typer.Option(help="The breach_initiated event id.")],
    reason: Annotated[str, typer.Option(help="Why (kept sealed).")],
    occurred_at: When = None, as_json: JsonFlag = False,
) -> None:
    """A manager declines breach proceedings, with the reason."""
    _record(case_id, "breach_declined", {"breach_event_id": breach, "reason": reason},
            occurred_at, as_json)


def agree_level(
    case_id: CaseArg,
    change: Annotated[str, typer.Option(help="The intervention_level_changed event id.")],
    note: Note = None, occurred_at: When = None, as_json: JsonFlag = False,
) -> None:
    """A manager agrees a practitioner's change of intervention level."""
    _record(case_id, "intervention_level_change_agreed",
            {"change_event_id": change, "note": note}, occurred_at, as_json)


def oversight(
    case_id: CaseArg,
    category: Annotated[str, typer.Option(help="An oversight category of the policy.")],
    note: Annotated[str, typer.Option(help="The oversight note (kept sealed).")],
    action: Annotated[str | None, typer.Option(
        help="An action for the practitioner (kept sealed); needs --due.")] = None,
    due: Annotated[str | None, typer.Option(help="The action's due date (YYYY-MM-DD).")] = None,
    from_alert: Annotated[str | None, typer.Option(help="The alert it follows, if any.")] = None,
    oversight_id: Annotated[str | None, typer.Option(help="Its id (default: new).")] = None,
    occurred_at: When = None, as_json: JsonFlag = False,
) -> None:
    """A manager records a management oversight entry, with an optional action."""
    _record(case_id, "management_oversight_recorded", {
        "oversight_id": oversight_id or f"OV-{uuid4().hex[:12]}", "category": category,
        "note": note, "action": action, "action_due": due, "from_alert": from_alert,
    }, occurred_at, as_json)


def oversight_done(
    case_id: CaseArg,
    oversight_id: Annotated[str, typer.Option("--oversight", help="The oversight entry's id.")],
    note: Note = None, occurred_at: When = None, as_json: JsonFlag = False,
) -> None:
    """The practitioner records that an oversight action is done."""
    _record(case_id, "oversight_action_completed", {"oversight_id": oversight_id, "note": note},
            occurred_at, as_json)
