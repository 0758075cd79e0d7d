"""CLI for a manager's countersignature: countersign an assessment or plan, or return it
for revision (TRACKER_ROLE=manager). Both go through ``CaseService.record`` like any write."""

from __future__ import annotations

from typing import Annotated, Any, get_args

import typer

from events.countersignature import ReturnReason
from tracker.domain.commands import parse_command
from tracker.edges.cli import context as ctx
from tracker.edges.cli.store_cmds import JsonFlag, _print_recorded, _record
from tracker.kernel.errors import AccessDenied

CaseArg = Annotated[str, typer.Argument(help="The case.")]
DocumentArg = Annotated[str, typer.Argument(
    help="The event id of the assessment or plan (from 'tracker history CASE --json').")]
NoteOpt = Annotated[str | None, typer.Option(help="A note (kept sealed).")]
WhenOpt = Annotated[str | None, typer.Option(help="When it happened (default now).")]


def register(app: typer.Typer) -> None:
    app.command("countersign")(countersign)
    app.command("return-document")(return_document)


def _sign_off(case_id: str, event_type: str, data: dict[str, Any], occurred_at: str | None,
              as_json: bool) -> None:
    """A manager's act only: the operator says they act as a manager (TRACKER_ROLE)."""
    if ctx.actor().role != "manager":
        raise AccessDenied()
    when = ctx.parse_moment(occurred_at, "--occurred-at") or ctx.app().clock.now()
    command = parse_command({"case_id": case_id, "event_type": event_type,
                             "data": {k: v for k, v in data.items() if v is not None},
                             "occurred_at": when})
    _print_recorded(_record(command), as_json)


def countersign(case_id: CaseArg, document: DocumentArg, note: NoteOpt = None,
                occurred_at: WhenOpt = None, as_json: JsonFlag = False) -> None:
    """Countersign an assessment or plan of a case (managers; TRACKER_ROLE=manager)."""
    _sign_off(case_id, "document_countersigned",
              {"document_event_id": document, "note": note}, occurred_at, as_json)


def return_document(
    case_id: CaseArg, document: DocumentArg,
    reason: Annotated[str, typer.Option(help="Why (a code): " + ", ".join(
        get_args(ReturnReason)))],
    note: NoteOpt = None, occurred_at: WhenOpt = None, as_json: JsonFlag = False,
) -> None:
    """Return an assessment or plan for revision: a new one is due from the practitioner
    (managers; TRACKER_ROLE=manager)."""
    _sign_off(case_id, "document_returned",
              {"document_event_id": document, "reason": reason, "note": note}, occurred_at,
              as_json)
