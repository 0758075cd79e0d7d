"""A practitioner's diary: the appointments on their cases not yet logged as attended or
missed (issue 12 §1). Read from the case records, so a corrected or retracted booking is
shown as corrected, and an appointment drops out once it is logged either way."""

from __future__ import annotations

from datetime import datetime
from typing import TypedDict

from projections.queries.reading import read_records
from projections.record import current_label, from_us, to_us
from projections.sealer import open_labels
from tracker.services.app import App


class DiaryRow(TypedDict):
    """One booked appointment still to be logged (moments are ISO, UTC)."""

    case_id: str
    child_id: str
    child_label: str | None  # opened for the practitioner whose diary it is
    team: str
    contact_id: str
    kind: str
    scheduled_for: str
    booked_event_id: str


def diary(app: App, *, practitioner: str, until: datetime) -> list[DiaryRow]:
    """Appointments booked on ``practitioner``'s open cases, scheduled before ``until`` and
    not yet logged (past ones included: they still need logging), soonest first."""
    limit = to_us(until)
    with app.engine.connect() as conn:
        records = read_records(app, conn, practitioner=practitioner, open_only=True)
    rows: list[DiaryRow] = []
    tokens = {r.case_id: current_label(r) for r in records}
    labels = open_labels(app.keyring, tokens.values())
    for record in records:
        opened = record.opened
        if opened is None:
            continue
        logged = {a.contact_id for a in record.attended} | {m.contact_id for m in record.missed}
        for booked in record.scheduled:
            if booked.contact_id in logged or booked.for_t >= limit:
                continue
            rows.append({
                "case_id": record.case_id, "child_id": opened.child_id,
                "child_label": labels.get(tokens[record.case_id] or ""), "team": opened.team,
                "contact_id": booked.contact_id, "kind": booked.kind,
                "scheduled_for": from_us(booked.for_t).isoformat(),
                "booked_event_id": booked.id,
            })
    rows.sort(key=lambda r: (r["scheduled_for"], r["case_id"]))
    return rows
