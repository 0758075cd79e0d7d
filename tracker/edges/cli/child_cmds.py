"""CLI about a child across their cases (admins): erasure, subject access."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from events.erasure import ERASURE_REASONS, ErasureScope
from projections.subject_access import subject_access
from tracker.edges.cli import context as ctx
from tracker.edges.web.subject_access import render_html
from tracker.kernel.clock import local_date
from tracker.kernel.errors import AccessDenied, FieldProblem, InvalidInput
from tracker.kernel.logging import correlation
from tracker.services.erasure import erase_child
from tracker.services.retention import run_retention

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of a line.")]


def register(app: typer.Typer) -> None:
    child = ctx.group(app, "child", "A child across their cases: erasure, subject access.")
    child.command("erase")(erase)
    child.command("export")(export)
    app.command("retention")(retention)


def erase(
    child_id: Annotated[str, typer.Argument(help="Pseudonymous child id, e.g. C-7F3K2Q9A.")],
    reason: Annotated[str, typer.Option(help="Why (a code): " + ", ".join(ERASURE_REASONS))],
    reference: Annotated[
        str | None, typer.Option(help="A request or decision reference (an id, not a name).")
    ] = None,
    scope: Annotated[str, typer.Option(
        help="all: every personal value; detail: the narrative only (notes, reasons), "
             "reducing the records to basic information.")] = "all",
    as_json: JsonFlag = False,
) -> None:
    """Erase a child's personal data in every case, at once (admins; TRACKER_ROLE=admin).

    Destroys the child's key(s) and records the erasure on each case. Harmless to repeat.
    """
    scopes: dict[str, ErasureScope] = {"all": "all", "detail": "detail"}
    if scope not in scopes:
        raise InvalidInput([FieldProblem("--scope", "must be all or detail")])
    with correlation() as cid:
        done = erase_child(ctx.app(), child_id, reason, reference=reference,
                           actor=ctx.actor(), correlation_id=cid, scope=scopes[scope])
    if as_json:
        ctx.emit_json(done.to_dict())
        return
    ctx.console.print(
        f"child {child_id}: key {'destroyed' if done.key_destroyed else 'already destroyed'};"
        f" erasure recorded on {len(done.recorded_on)} of {len(done.case_ids)} case(s)",
        highlight=False,
    )


def export(
    child_id: Annotated[str, typer.Argument(help="Pseudonymous child id, e.g. C-7F3K2Q9A.")],
    fmt: Annotated[str, typer.Option("--format", help="html (readable) or json.")] = "html",
    out: Annotated[Path | None, typer.Option(
        help="Write to this file (default: standard output).")] = None,
) -> None:
    """Subject access: everything held about a child across their cases (admins;
    TRACKER_ROLE=admin). Each case is written to the access log."""
    if fmt not in ("html", "json"):
        raise InvalidInput([FieldProblem("--format", "must be html or json")])
    with correlation():
        doc = subject_access(ctx.app(), child_id, actor=ctx.actor())
    text = render_html(doc) if fmt == "html" else json.dumps(doc, ensure_ascii=False, indent=2)
    if out is None:
        sys.stdout.write(text + "\n")
    else:
        out.write_text(text, encoding="utf-8")
        ctx.console.print(f"subject access export of {child_id} written to {out}",
                          highlight=False, markup=False, soft_wrap=True)  # a path copies whole


def retention(
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Only list who would be erased, and why.")] = False,
    as_at: Annotated[str | None, typer.Option(
        help="Judge as at this day (YYYY-MM-DD; default today).")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Children whose retention ran out (policy [retention]): erase them, or raise an admin
    alert for approval, as the policy says; --dry-run lists them (admins; TRACKER_ROLE=admin).

    The list names child ids, case ids, the rule and the date: never names or dates of birth.
    """
    app = ctx.app()
    if ctx.actor().role != "admin":
        raise AccessDenied()
    day = ctx.parse_date(as_at, "--as-at") or local_date(app.clock.now())
    with correlation() as cid:
        run = run_retention(app, day, dry_run=dry_run, correlation_id=cid)
    if as_json:
        ctx.emit_json(run.to_dict())
        return
    for expiry in run.expired:
        for case in expiry.cases:
            ctx.console.print(
                f"{expiry.child_id}  {case.case_id}  {case.rule}  ran out {case.expires_on}",
                highlight=False, markup=False)
    for expiry in run.reducible:
        for case in expiry.cases:
            point = (f"basic only from {case.basic_only_from}" if case.basic_only_from
                     else f"ran out {case.expires_on}")
            ctx.console.print(f"{expiry.child_id}  {case.case_id}  {case.rule}  {point}",
                              highlight=False, markup=False)
    done = {"dry_run": "would be erased", "erase": "erased", "alert": "sent to admins"}
    alerted = set(run.alerted)
    count = len(run.erased) if run.action == "erase" else (
        len(alerted & {e.child_id for e in run.expired}) if run.action == "alert"
        else len(run.expired))
    ctx.console.print(f"{len(run.expired)} child(ren) past retention as at {day}; "
                      f"{count} {done[run.action]}", highlight=False, markup=False)
    if run.reducible:
        reduce = {"dry_run": "would be reduced", "erase": "reduced", "alert": "sent to admins"}
        count = len(run.reduced) if run.action == "erase" else (
            len(alerted & {e.child_id for e in run.reducible}) if run.action == "alert"
            else len(run.reducible))
        ctx.console.print(f"{len(run.reducible)} child(ren) past basic-only as at {day}; "
                          f"{count} {reduce[run.action]}", highlight=False, markup=False)
