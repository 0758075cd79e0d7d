"""What every query starts from: the moment asked about, and the case records as they are
now (a record behind the log has its newer events folded in on the spot)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Connection, func, or_, select

from projections import source
from projections.asat import AsAt
from projections.projector import quarantine, restore
from projections.record import CaseRecord, evolve_raw, folding, sealed_child
from projections.sealer import KeyringDob
from tracker.db.read_models import alerts as A  # noqa: N812
from tracker.db.read_models import case_records
from tracker.db.read_models import quarantine as Q  # noqa: N812
from tracker.kernel.errors import CaseNotFound, FieldProblem, InvalidInput
from tracker.services.app import App

SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}


def as_at_of(app: App, value: datetime | date | None) -> AsAt:
    """The moment asked about: now by default; a date means the end of that day."""
    if value is None:
        return AsAt.at(app.clock.now())
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise InvalidInput([FieldProblem("as_at", "must include a time zone")])
        return AsAt.at(value)
    return AsAt.end_of(value)


def current_record(app: App, conn: Connection, case_id: str) -> tuple[CaseRecord, bool]:
    """The case's record with any events newer than the stored one folded in (a
    quarantined case, or one whose newer events cannot be folded: ``CaseQuarantined``)."""
    quarantine.ensure_readable(conn, case_id)
    sealer = KeyringDob.for_app(app)
    row = conn.execute(
        select(case_records.c.record).where(case_records.c.case_id == case_id)
    ).first()
    record = restore(conn, case_id, row[0], sealer) if row is not None else CaseRecord(
        case_id=case_id)
    newer = [e.event for e in source.read_case(conn, case_id, after=record.position)]
    if newer:
        with folding(case_id):
            record = evolve_raw(record, newer, sealer.open)
    if not record.exists:
        raise CaseNotFound(f"case {case_id} not found")
    return record, row is not None and not newer


def read_records(
    app: App, conn: Connection, *, team: str | None = None, practitioner: str | None = None,
    open_only: bool = True, active_from: date | None = None, active_to: date | None = None,
) -> list[CaseRecord]:
    """The stored records of the cases asked for, leaving out the quarantined ones (their
    rows are stale; ``tracker status`` lists them)."""
    sealer = KeyringDob.for_app(app)
    query = select(case_records.c.case_id, case_records.c.record).where(
        case_records.c.case_id.not_in(select(Q.c.case_id)))
    if open_only:
        query = query.where(case_records.c.closed_on.is_(None))
    if team is not None:
        query = query.where(case_records.c.team == team)
    if practitioner is not None:
        query = query.where(case_records.c.practitioner == practitioner)
    if active_to is not None:
        query = query.where(case_records.c.start_date <= active_to)
    if active_from is not None:
        query = query.where(or_(case_records.c.closed_on.is_(None),
                                case_records.c.closed_on >= active_from))
    rows = [(case_id, text) for case_id, text in
            conn.execute(query.order_by(case_records.c.case_id))]
    sealer.preload(c for _id, text in rows if (c := sealed_child(text)) is not None)
    return [restore(conn, case_id, text, sealer) for case_id, text in rows]


def open_alert_counts(conn: Connection, case_ids: list[str] | None = None) -> dict[str, int]:
    """Open alerts per case: of the cases given (those on a page), or of every case."""
    query = select(A.c.case_id, func.count()).where(A.c.status == "open")
    if case_ids is None:
        return {c: int(n) for c, n in conn.execute(query.group_by(A.c.case_id))}
    out: dict[str, int] = {}
    for i in range(0, len(case_ids), 500):
        chunk = case_ids[i:i + 500]
        out.update((c, int(n)) for c, n in conn.execute(
            query.where(A.c.case_id.in_(chunk)).group_by(A.c.case_id)))
    return out
