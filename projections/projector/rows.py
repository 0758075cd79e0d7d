"""The rows the projector stores: a case record, its views, its audits; and restoring a
record from its row."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import orjson
import structlog
from sqlalchemy import Connection, select

from projections import source
from projections.asat import AsAt
from projections.aspire import STAGES, stage_of
from projections.continuity import stored as stored_continuity
from projections.due import awaiting_countersignature, due_items
from projections.projector.writes import Row, chunks
from projections.record import (
    Alloc,
    CaseRecord,
    StaleRecord,
    current_label,
    dumps,
    fold_raw,
    loads,
    sealed_child,
)
from projections.sealer import KeyringDob
from projections.views import CaseViews
from projections.visible import moves_of
from tracker.db.read_models import case_records
from tracker.domain.teams import CASE_MANAGER, Move, case_team, home_team, since_last_move
from tracker.domain.teams import current_case_manager as pick_case_manager

log = structlog.get_logger("projections.projector")


def _json(value: Any) -> str:
    return orjson.dumps(value, default=str).decode()


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _status(views: CaseViews, stage: str) -> str | None:
    found = stage_of(views.aspire, stage)
    return found["status"] if found else None


def caseload_summary(views: CaseViews) -> dict[str, Any]:
    """A case's line on the caseload, as at the views' moment (without its open-alert
    count, which the alerts table answers): stored on its ``rm_aspire`` row so the caseload,
    the compliance figures and their drill-downs read it instead of refolding the case.
    ``obligations`` counts the case's obligations by status (the on-time rate)."""
    h = views.header
    stages = {s: stage_of(views.aspire, s) for s in STAGES}
    awaiting = awaiting_countersignature(views)
    due = due_items(views)  # stages, oversight and audit actions: one list for every reader
    obligations: dict[str, int] = {}
    for found in stages.values():
        for o in found["obligations"] if found else []:
            obligations[o["status"]] = obligations.get(o["status"], 0) + 1
    return {
        "case_id": views.case_id,
        "child_id": h["child_id"],
        "child_label_token": h.get("child_label_token"),  # sealed; opened for the reader
        "team": h["team"],
        "practitioner": h["case_manager"],
        "manager": h["manager"],
        "disposal": h["disposal"],
        "intervention_level": h["intervention_level"],
        "setting": h["setting"],
        "start_date": h["start_date"],
        "stages": {
            s: {"status": found["status"] if found else None,
                "due": found["due"] if found else None}
            for s, found in stages.items()
        },
        "overdue": int(views.aspire.get("overdue", 0)),
        "next_due": views.aspire.get("next_due"),
        "due": due,
        "awaiting_countersignature": [d["document"] for d in awaiting],
        "countersign": awaiting,  # with each document's event: the countersign page
        "obligations": obligations,
    }


CALENDAR_FIELDS = ("attended", "missed_acceptable", "missed_unacceptable", "required",
                   "contacts", "participation_sum", "participation_n")
"""What ``engagement_calendar`` counts per calendar month, in this order."""


def engagement_calendar(views: CaseViews) -> dict[str, list[int]]:
    """A case's engagement per calendar month (``YYYY-MM`` -> counts in ``CALENDAR_FIELDS``
    order): stored on its ``rm_engagement`` row so a team's or a practitioner's monthly
    engagement is summed from the rows instead of refolding every case."""
    out: dict[str, list[int]] = {}

    def month(ordinal: int | date) -> list[int]:
        day = date.fromordinal(ordinal) if isinstance(ordinal, int) else ordinal
        key = f"{day.year:04d}-{day.month:02d}"
        found = out.get(key)
        if found is None:
            found = out[key] = [0] * len(CALENDAR_FIELDS)
        return found

    if not views.exists:
        return out
    v = views.visible
    for a in v.attended:
        m = month(a.d)
        m[0] += 1
        m[5] += a.participation
        m[6] += 1
    for miss in v.missed:
        month(miss.d)[1 if miss.acceptable else 2] += 1
    for sup in views.engagement.get("months", []):
        if sup["status"] in ("met", "short"):
            m = month(date.fromisoformat(sup["to"]))
            m[3] += sup["required"]
            m[4] += sup["contacts"]
    return out


def view_rows(views: CaseViews, record: CaseRecord, at: datetime) -> dict[str, Row]:
    """The row each per-case view table gets for this case."""
    h = views.header
    base = {
        "case_id": views.case_id, "service": h.get("service"), "team": h.get("team"),
        "practitioner": h.get("case_manager"), "is_open": bool(h.get("open")),
        "evaluated_at": at, "position": record.position,
        "policy_version": views.policy_version,
    }
    eng = views.engagement
    attendance = eng.get("attendance")
    participation = eng.get("participation")
    cont = views.continuity
    enf = views.enforcement
    custody = cont.get("custody_periods", [])
    return {
        "aspire": {
            **base, "view": _json(views.aspire),
            "assessment": _status(views, "assessment"),
            "planning": _status(views, "planning"),
            "delivery": _status(views, "delivery"),
            "review": _status(views, "review"),
            "overdue": int(views.aspire.get("overdue", 0)),
            "next_due": _day(views.aspire.get("next_due")),
            "summary": _json(caseload_summary(views)),
        },
        "engagement": {
            **base, "view": _json(eng),
            "attendance_rate": attendance["rate"] if attendance else None,
            "days_since_contact": eng.get("days_since_contact"),
            "trend": participation["trend"] if participation else None,
            "falling": bool(participation["falling"]) if participation else False,
            "calendar": _json(engagement_calendar(views)),
        },
        "continuity": {
            **base, "view": _json(stored_continuity(cont)),
            "setting": cont.get("setting"),
            "has_case_manager": cont.get("case_manager") is not None,
            "changes": int(cont.get("changes", 0)),
            "without_case_manager_since": _day(cont.get("without_case_manager_since")),
            "custody_first": _day(custody[0]["from"]) if custody else None,
            "custody_last_end": _day(custody[-1]["to"]) if custody else None,
            "ever_custody": bool(custody),
        },
        "enforcement": {
            **base, "view": _json(enf),
            "status": enf.get("status"),
            "warnings_in_period": int(enf.get("warnings_in_period", 0)),
            "breach_due": len(enf.get("breach_due", [])),
        },
    }


def audit_rows(views: CaseViews, record: CaseRecord, judged_levels: Sequence[str]) -> list[Row]:
    """One ``rm_audits`` row per audit of the case, with the risk levels it was judged at."""
    v = views.visible
    if not views.exists or not record.audits:
        return []
    out: list[Row] = []
    custody = v.custody_periods()
    for a in record.audits:
        earlier = [x for x in record.assessments if x.t <= a.t]
        latest = max(earlier, key=lambda x: (x.t, x.pos)) if earlier else None
        safety = a.safety or (latest.safety if latest else None)
        harm = a.harm or (latest.harm if latest else None)
        out.append({
            "audit_event_id": a.id, "case_id": record.case_id,
            "service": views.header.get("service"), "team": views.header.get("team"),
            "route": views.header.get("route"), "audited_on": date.fromordinal(a.d),
            "question_set": a.question_set,
            "answers": _json([list(x) for x in a.answers]),
            "safety_level": safety, "harm_level": harm,
            "custody_case": any(p.start.toordinal() <= a.d for p in custody),
            "position": a.pos,
        })
    return out


def record_row(record: CaseRecord, now: datetime, sealer: KeyringDob) -> Row:
    """The ``rm_case_records`` row of a record."""
    o = record.opened
    moves = moves_of(record.transfers)
    cm = current_case_manager(record, since=moves)
    closed = record.closed
    today = AsAt.at(now).day
    return {
        "case_id": record.case_id,
        "service": o.service if o else None,
        "team": case_team(home_team(o.team, moves), cm) if o else None,
        "practitioner": cm.practitioner if cm is not None else None,
        "route": o.route if o else None,
        "start_date": date.fromordinal(o.start) if o else None,
        "closed_on": date.fromordinal(closed.d) if closed else None,
        "is_open": bool(o and closed is None and o.start <= today.toordinal()),
        "record": dumps(record, sealer),
        "child_label": current_label(record),
        "position": record.position,
        "updated_at": now,
    }


def load(conn: Connection, case_ids: Sequence[str], sealer: KeyringDob) -> dict[str, CaseRecord]:
    """The stored records of these cases (those the projector has seen)."""
    texts: list[tuple[str, str]] = []
    for chunk in chunks(list(case_ids), 500):
        texts.extend(
            (case_id, text) for case_id, text in conn.execute(
                select(case_records.c.case_id, case_records.c.record)
                .where(case_records.c.case_id.in_(chunk))
            )
        )
    sealer.preload(c for _id, text in texts if (c := sealed_child(text)) is not None)
    return {case_id: restore(conn, case_id, text, sealer) for case_id, text in texts}


def restore(
    conn: Connection, case_id: str, text: str, sealer: KeyringDob, *, upto: int | None = None
) -> CaseRecord:
    """A stored record, or (if it was stored in another layout) the case refolded from its
    events up to the stored record's position."""
    try:
        return loads(text, sealer)
    except StaleRecord:
        position = int(orjson.loads(text).get("position", 0)) if upto is None else upto
        events = [e.event for e in source.read_case(conn, case_id)
                  if e.event.position <= position]
        log.info("record_refolded", case_id=case_id, events=len(events))
        return fold_raw(case_id, events, sealer.open)


def current_case_manager(record: CaseRecord, since: Sequence[Move] = ()) -> Alloc | None:
    """The latest case-manager allocation not yet ended (all facts, in time order); with
    ``since``, only one allocated after the last accepted full transfer of those moves."""
    ends: dict[str, int] = {}
    for e in sorted(record.alloc_ends, key=lambda f: (f.t, f.pos)):
        if e.role == CASE_MANAGER:
            ends[e.practitioner] = e.t
    active = sorted(
        (a for a in record.allocs if ends.get(a.practitioner, -1) < a.t or a.role != CASE_MANAGER),
        key=lambda a: (a.t, a.pos),
    )
    return pick_case_manager(since_last_move(active, since, lambda a: (a.t, a.pos)))
