"""CLI for the store: schema, cases and events, import, seed, history, verify."""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Annotated, Any
from uuid import UUID

import typer

from events.case import COURT_DISPOSALS
from events.envelope import RecordedEvent
from projections.history import CaseHistory, case_history
from projections.queries.alerts import notes_in_clear, seal_notes_in_clear
from tracker.db import tx
from tracker.db.check import differences
from tracker.db.migrations import current_revision
from tracker.db.migrations import upgrade as run_upgrade
from tracker.domain.commands import RecordEvent, parse_command
from tracker.edges.cli import context as ctx
from tracker.kernel.clock import local_noon
from tracker.kernel.errors import CaseNotFound, FieldProblem, InvalidInput
from tracker.kernel.logging import correlation
from tracker.services.cases import CaseService, parse_jsonl
from tracker.services.seed import seed_caseload
from tracker.services.verify import verify as run_verify

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def register(app: typer.Typer) -> None:
    db = ctx.group(app, "db", "Database schema.")
    db.command("upgrade")(upgrade)
    db.command("check")(check)
    db.command("seal-notes")(seal_notes)
    case = ctx.group(app, "case", "Open and inspect cases.")
    case.command("open")(open_case)
    app.command("record")(record)
    app.command("import")(import_file)
    app.command("seed")(seed)
    app.command("history")(history)
    app.command("verify")(verify)


def upgrade() -> None:
    """Create or migrate the schema to the newest revision."""
    app = ctx.app()
    run_upgrade(app.engine)
    ctx.console.print(f"schema at revision {current_revision(app.engine)}")


def check() -> None:
    """Compare the table definitions with the database (at head); exit 2 on a difference."""
    # Here, like ``upgrade``'s: Alembic would add a tenth of a second to every CLI start.

    app = ctx.app()
    with tx.read(app.engine, tables="migrated schema") as conn:
        found = differences(conn)
    clear = notes_in_clear(app)
    if clear:
        found.append(f"{clear} alert(s) with a manager's note in clear: run 'tracker db "
                     "seal-notes'")
    for difference in found:
        ctx.console.print(difference, markup=False, highlight=False, soft_wrap=True)
    if found:
        raise typer.Exit(2)
    ctx.console.print("the tables match the migrations")


def seal_notes() -> None:
    """Seal managers' alert notes written in clear before notes were sealed (once, after
    upgrading; harmless to repeat). A note of a child already erased becomes [erased]."""
    sealed, erased = seal_notes_in_clear(ctx.app())
    ctx.console.print(f"{sealed} note(s) sealed, {erased} of erased children removed")


def open_case(
    child_id: Annotated[str, typer.Option(help="Pseudonymous child id, e.g. C-7F3K2Q9A.")],
    disposal: Annotated[str, typer.Option(help="referral_order, yro, yro_iss, dto, remand, "
                                          "community_resolution, youth_caution, "
                                          "youth_conditional_caution")],
    start: Annotated[str, typer.Option(metavar=ctx.DATE, help="Start date of the order.")],
    level: Annotated[str, typer.Option(help="standard, enhanced or intensive.")],
    service: Annotated[str, typer.Option(help="Service (YOT) code.")],
    team: Annotated[str, typer.Option(help="Team code.")],
    case_id: Annotated[str | None, typer.Option(help="Case id; generated if absent.")] = None,
    end: Annotated[str | None, typer.Option(metavar=ctx.DATE, help="Expected end date.")
                   ] = None,
    dob: Annotated[str | None, typer.Option(
        metavar=ctx.DATE, help="Date of birth (sealed in storage).")] = None,
    setting: Annotated[str, typer.Option(help="community or custody.")] = "community",
    label: Annotated[str | None, typer.Option(
        help="The label the service shows the child by, up to 40 characters (sealed in "
             "storage).")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Open a case: record ``case_opened``."""
    start_day = ctx.parse_date(start, "--start")
    assert start_day is not None
    ctx.parse_date(end, "--end")  # each date is checked here, so the error names the option
    ctx.parse_date(dob, "--dob")
    data: dict[str, Any] = {
        "child_id": child_id, "disposal_type": disposal,
        "route": "court" if disposal in COURT_DISPOSALS else "out_of_court",
        "start_date": start, "expected_end_date": end, "date_of_birth": dob,
        "setting": setting, "intervention_level": level, "service": service, "team": team,
    }
    if label is not None:
        data["child_label"] = label
    new_id = case_id or f"CS-{secrets.token_hex(4).upper()}"

    recorded = _record(parse_command({"case_id": new_id, "event_type": "case_opened",
                                      "data": data, "occurred_at": local_noon(start_day)}))
    _print_recorded(recorded, as_json)


def record(
    case_id: Annotated[str, typer.Argument(help="The case.")],
    event_type: Annotated[str, typer.Argument(
        help="Catalogued type, e.g. contact_missed ('tracker events list').")],
    data: Annotated[str, typer.Option("--data", help="The event's fields as a JSON object "
                                      "(see 'tracker events show TYPE').")],
    expected_version: Annotated[int | None, typer.Option(
        help="Fail with a conflict unless the case is at this version.")] = None,
    occurred_at: Annotated[str | None, typer.Option(
        help="When it happened: YYYY-MM-DD or YYYY-MM-DDTHH:MM (default now); back-dating "
             "is allowed.")] = None,
    event_id: Annotated[str | None, typer.Option(
        help="UUID that makes a retry safe (default: new).")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Record any catalogued event on a case.

    Which types exist and what each one's fields take: 'tracker events list' and
    'tracker events show TYPE'.
    """
    try:
        payload = json.loads(data)
    except json.JSONDecodeError as exc:
        raise InvalidInput([FieldProblem("--data", f"not valid JSON: {exc.msg}")]) from None
    if not isinstance(payload, dict):
        raise InvalidInput([FieldProblem("--data", "must be a JSON object")])
    when = ctx.parse_moment(occurred_at, "--occurred-at") or ctx.app().clock.now()
    fields: dict[str, Any] = {"case_id": case_id, "event_type": event_type, "data": payload,
                              "occurred_at": when, "expected_version": expected_version}
    if event_id is not None:
        try:
            fields["event_id"] = UUID(event_id)
        except ValueError:
            raise InvalidInput([FieldProblem("--event-id", "not a UUID")]) from None
    _print_recorded(_record(parse_command(fields)), as_json)


def import_file(
    path: Annotated[Path, typer.Argument(help="JSON Lines: one command object per line.")],
    as_json: JsonFlag = False,
) -> None:
    """Append a file of events, all or nothing; a bad line is named with its number.

    Each line: {"case_id", "event_type", "data", "occurred_at", "event_id"?, "expected_version"?}.
    """

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidInput([FieldProblem("FILE", f"cannot read {path}: {exc.strerror}")]) from None
    except UnicodeDecodeError:
        raise InvalidInput([FieldProblem("FILE", f"{path} is not UTF-8 text")]) from None
    lines = parse_jsonl(text.splitlines())
    app = ctx.app()
    service = CaseService.of(app)
    with correlation() as cid:
        recorded = service.record_many(
            [line.command for line in lines], actor=ctx.actor(), correlation_id=cid,
            labels=[f"line {line.number}" for line in lines],
        )
    summary = {"lines": len(lines), "events_appended": len(recorded),
               "cases": len({r.stream_id for r in recorded})}
    if as_json:
        ctx.emit_json(summary)
    else:
        ctx.console.print(f"imported {summary['events_appended']} events on "
                          f"{summary['cases']} cases from {summary['lines']} lines")


def seed(
    cases: Annotated[int, typer.Option(min=0, max=100_000, help="How many cases.")] = 60,
    seed_value: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same data).")
                          ] = 1,
    until: Annotated[str | None, typer.Option(
        metavar=ctx.DATE, help="Last day of the history (default today).")
                     ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Record a deterministic synthetic caseload (no real person's data)."""
    app = ctx.app()
    summary = seed_caseload(app, cases=cases, seed=seed_value,
                            until=ctx.parse_date(until, "--until"))
    if as_json:
        ctx.emit_json(summary)
    else:
        ctx.console.print(
            f"seeded {summary['cases']} cases, {summary['events']} events"
            + (f" ({summary['skipped_existing']} already there)"
               if summary["skipped_existing"] else "")
        )


def history(
    case_id: Annotated[str, typer.Argument(help="The case.")],
    as_of: Annotated[str | None, typer.Option(
        metavar=ctx.DATE, help="Show the case as it stood on this date.")
                     ] = None,
    as_known_at: Annotated[str | None, typer.Option(
        help="Use only what had been recorded by then (YYYY-MM-DD or YYYY-MM-DDTHH:MM).")
        ] = None,
    as_json: JsonFlag = False,
) -> None:
    """A case's history: every event with when it happened and when it was recorded."""
    app = ctx.app()
    when = ctx.parse_date(as_of, "--as-of")
    known = ctx.parse_moment(as_known_at, "--as-known-at")
    with correlation():
        ctx.log_one_case_read(case_id, "tracker history")  # before anything is shown
        result = case_history(app, case_id, as_of=when, as_known_at=known)
    if as_json:
        ctx.emit_json(result)
        return
    _print_history(result)


def verify(
    as_json: JsonFlag = False,
    anchor: Annotated[Path | None, typer.Option(
        help="JSON of an earlier 'verify --json': also detect truncated or rewritten streams."
    )] = None,
    case_id: Annotated[str | None, typer.Option("--case", help="Only this case.")] = None,
) -> None:
    """Walk every case's hash chain; exit 1 and name the first broken link if any."""
    anchor_data = None
    if anchor is not None:
        try:
            anchor_data = json.loads(anchor.read_text())
        except (OSError, ValueError) as exc:
            raise InvalidInput([FieldProblem("--anchor", f"cannot read JSON: {exc}")]) from None
    report = run_verify(ctx.app().engine, anchor=anchor_data, case_id=case_id)
    if as_json:
        ctx.emit_json(report.to_dict())
    else:
        if report.ok:
            ctx.console.print(f"[green]chain intact[/]: {report.streams} cases, "
                              f"{report.events} events verified")
        else:
            ctx.console.print(f"[bold red]chain broken[/] in {len(report.breaks)} case(s) "
                              f"({report.streams} cases, {report.events} events checked)")
            for b in report.breaks:
                ctx.console.print(f"  case {b.case_id} version {b.version}: {b.problem}: "
                                  f"{b.detail}", highlight=False)
    if not report.ok:
        raise typer.Exit(1)


# -- helpers ---------------------------------------------------------------------------


def _record(command: RecordEvent) -> list[RecordedEvent]:
    app = ctx.app()
    with correlation() as cid:
        return CaseService.of(app).record(command, actor=ctx.actor(), correlation_id=cid)


def _print_recorded(recorded: list[RecordedEvent], as_json: bool) -> None:
    rows = [{"case_id": r.stream_id, "version": r.stream_version, "type": r.type,
             "event_id": str(r.event_id), "position": r.position} for r in recorded]
    if as_json:
        ctx.emit_json(rows if len(rows) != 1 else rows[0])
        return
    for row in rows:
        ctx.console.print(f"recorded {row['type']} on case {row['case_id']} "
                          f"(version {row['version']}, event {row['event_id']})", highlight=False)


def _print_history(result: CaseHistory) -> None:
    if not result["events"]:
        raise CaseNotFound(f"case {result['case_id']} has no events in that view")
    title = f"case {result['case_id']}"
    if result.get("as_of"):
        title += f" as of {ctx.day(result['as_of'])}"
    if result.get("as_known_at"):
        title += f", as known at {ctx.when(result['as_known_at'])}"
    table = ctx.table(title, ("v", "type", "occurred, recorded (UK)", "by, marks"), keys=2,
                      whole=("occurred, recorded (UK)",))
    for ev in result["events"]:
        by = f"{ev['recorded_by']} ({ev['recorded_role']})"
        table.add_row(
            str(ev["version"]), ev["type"],
            f"{ctx.when(ev['occurred_at'])}\n[dim]{ctx.when(ev['recorded_at'])}[/]",
            "\n".join([by, *ev["marks"]]),
        )
    ctx.console.print(table)
    state = result.get("state")
    if state:
        summary = ", ".join(f"{count} {name.replace('_', ' ')}"
                            for name, count in state.get("summary", {}).items())
        ctx.console.print(
            f"replayed as at {ctx.when(state['evaluated_as_at'])} under policy "
            f"{state['policy_version']}" + (f": {summary}" if summary else "")
            + ". The replayed state is in 'tracker history --json'.", highlight=False)
