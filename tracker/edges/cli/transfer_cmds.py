"""CLI for transfers (issue 11 §4): request, accept, reject, end caretaking; the bundle.

The acts go through ``CaseService.record`` as the operator (``TRACKER_USER`` /
``TRACKER_ROLE``), like ``tracker record``; the pages and the API judge signed-in users by
the role matrix. ``export-bundle`` and ``import-bundle`` move a case to another service's
database (``tracker.services.bundle`` says how personal data travels).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from events.envelope import RecordedEvent
from projections.projector import Projector
from tracker.domain.commands import RecordEvent, parse_command
from tracker.edges.cli import context as ctx
from tracker.kernel.errors import BundleRejected
from tracker.kernel.logging import correlation
from tracker.services.access_log import record_access
from tracker.services.bundle import dump, export_bundle, import_bundle, load, read_transfer_key
from tracker.services.cases import CaseService

KeyFile = Annotated[Path, typer.Option(
    "--key-file", help="The transfer key agreed with the other service (base64, 32 bytes).")]
Reason = Annotated[str, typer.Option("--reason", help="Why (kept sealed in the record).")]


def register(app: typer.Typer) -> None:
    transfer = ctx.group(app, "transfer", "Transfer a case to another team or service.")
    transfer.command("request")(request)
    transfer.command("accept")(accept)
    transfer.command("reject")(reject)
    transfer.command("end-caretaking")(end_caretaking)
    app.command("export-bundle")(export)
    app.command("import-bundle")(import_)


def request(
    case_id: Annotated[str, typer.Argument(help="The case.")],
    transfer_id: Annotated[str, typer.Argument(help="An id for this transfer, e.g. T-1.")],
    reason: Reason,
    to_team: Annotated[str | None, typer.Option(help="The receiving team.")] = None,
    to_service: Annotated[str | None, typer.Option(help="Or the receiving service.")] = None,
    caretaking: Annotated[bool, typer.Option(
        "--caretaking", help="The home team keeps the case; the other team hosts it.")] = False,
) -> None:
    """Ask another team (or service) to take the case over, or to host it (caretaking)."""
    data: dict[str, Any] = {"transfer_id": transfer_id, "reason": reason,
                            "kind": "caretaking" if caretaking else "full"}
    if to_team is not None:
        data["to_team"] = to_team
    if to_service is not None:
        data["to_service"] = to_service
    _record(case_id, "transfer_requested", data)


def accept(
    case_id: Annotated[str, typer.Argument(help="The case.")],
    transfer_id: Annotated[str, typer.Argument(help="The transfer requested.")],
    team: Annotated[str, typer.Option(help="The receiving team.")],
    note: Annotated[str | None, typer.Option(help="A note (kept sealed).")] = None,
) -> None:
    """Accept a transfer for the receiving team."""
    data: dict[str, Any] = {"transfer_id": transfer_id, "team": team}
    if note:
        data["note"] = note
    _record(case_id, "transfer_accepted", data)


def reject(
    case_id: Annotated[str, typer.Argument(help="The case.")],
    transfer_id: Annotated[str, typer.Argument(help="The transfer requested.")],
    reason: Reason,
) -> None:
    """Decline a transfer, with a reason; nothing else changes."""
    _record(case_id, "transfer_rejected", {"transfer_id": transfer_id, "reason": reason})


def end_caretaking(
    case_id: Annotated[str, typer.Argument(help="The case.")],
    transfer_id: Annotated[str, typer.Argument(help="The caretaking transfer.")],
) -> None:
    """End a caretaking arrangement: the host team's access ends."""
    _record(case_id, "caretaking_ended", {"transfer_id": transfer_id})


def export(
    case_id: Annotated[str, typer.Argument(help="The case.")],
    out: Annotated[Path, typer.Option("--out", help="The bundle file to write.")],
    key_file: KeyFile,
) -> None:
    """Write the case's verifiable transfer bundle (events, hash chain, manifest, digest)."""
    key = read_transfer_key(key_file)
    ctx.log_one_case_read(case_id, "export-bundle")
    bundle = export_bundle(ctx.app(), case_id, key, ctx.actor().user_id)
    out.write_text(dump(bundle), encoding="utf-8")
    manifest = bundle["manifest"]
    ctx.console.print(f"exported {manifest['count']} event(s) of case {case_id} to {out} "
                      f"(last hash {manifest['last_hash'][:16]}…)", highlight=False)


def import_(
    path: Annotated[Path, typer.Argument(help="The bundle file.")],
    key_file: KeyFile,
) -> None:
    """Verify a transfer bundle and continue its case here; a tampered bundle is refused."""
    key = read_transfer_key(key_file)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise BundleRejected(f"cannot read {path}: {exc.strerror}") from None
    app = ctx.app()
    recorded = import_bundle(app, load(text), key)
    who = ctx.actor()
    record_access(app, user_id=who.user_id, role=who.role, case_ids=[recorded[0].stream_id],
                  action="cli: import-bundle", outcome="allowed")
    Projector(app).catch_up()
    ctx.console.print(f"imported case {recorded[0].stream_id}: {len(recorded)} event(s), "
                      "chain verified", highlight=False)


def _record(case_id: str, event_type: str, data: dict[str, Any]) -> list[RecordedEvent]:
    app = ctx.app()
    command: RecordEvent = parse_command({"case_id": case_id, "event_type": event_type,
                                          "data": data, "occurred_at": app.clock.now()})
    with correlation() as cid:
        recorded = CaseService.of(app).record(command, actor=ctx.actor(), correlation_id=cid)
    ctx.console.print(f"recorded {event_type} on case {case_id} "
                      f"(version {recorded[-1].stream_version})", highlight=False)
    return recorded
