"""Subject access (UK GDPR art. 15, DPA 2018 s.45): everything held about one child,
across all of their cases, for an admin answering the child's request.

Each case's whole stored history (personal fields opened with the child's key, or
``[erased]`` once the child was erased), the alerts raised on it with the managers'
notes, and any erasure recorded. The export is itself a read of each case: one
access-log row per case is written *before* the data is returned, as for any read.
"""

from __future__ import annotations

from typing import Any, TypedDict

from sqlalchemy import select

from events.envelope import Actor
from projections.alerts import AlertView, row_to_dict
from projections.history import HistoryEvent, case_history
from projections.sealer import open_alert_notes
from tracker.db.read_models import alerts
from tracker.kernel.errors import AccessDenied, ChildNotFound
from tracker.services.access_log import record_access
from tracker.services.app import App

ACTION = "subject_access_export"
"""The access log's ``action`` for an export (one row per case)."""


class Erasure(TypedDict):
    case_id: str
    erased_at: str
    erased_by: str
    reason: str
    reference: str | None
    scope: str
    """``all``: every personal value erased; ``detail``: reduced to basic information."""


class SubjectAccessCase(TypedDict):
    case_id: str
    events: list[HistoryEvent]
    alerts: list[AlertView]


class SubjectAccessExport(TypedDict):
    child_id: str
    generated_at: str
    generated_by: str
    erased: bool
    erasures: list[Erasure]
    cases: list[SubjectAccessCase]


def subject_access(app: App, child_id: str, *, actor: Actor) -> SubjectAccessExport:
    """The export of everything held about ``child_id`` (admins only).

    Raises ``AccessDenied`` for any other role (before anything is read) and
    ``ChildNotFound`` when the child has no case.
    """
    if actor.role != "admin":
        raise AccessDenied()
    case_ids = app.store.streams_of_subject(child_id)
    if not case_ids:
        raise ChildNotFound(f"child {child_id} has no case")
    record_access(app, user_id=actor.user_id, role=actor.role, case_ids=case_ids,
                  action=ACTION, outcome="allowed")
    cases: list[SubjectAccessCase] = []
    erasures: list[Erasure] = []
    for case_id in case_ids:
        events: list[HistoryEvent] = case_history(app, case_id)["events"]
        erasures += [_erasure(case_id, e) for e in events if e["type"] == "personal_data_erased"]
        cases.append({"case_id": case_id, "events": events, "alerts": _alerts(app, case_id)})
    return {
        "child_id": child_id,
        "generated_at": app.clock.now().isoformat(),
        "generated_by": actor.user_id,
        "erased": any(e["scope"] == "all" for e in erasures),
        "erasures": erasures,
        "cases": cases,
    }


def _erasure(case_id: str, event: HistoryEvent) -> Erasure:
    data: dict[str, Any] = event["data"]
    return {"case_id": case_id, "erased_at": event["recorded_at"],
            "erased_by": event["recorded_by"], "reason": str(data.get("reason")),
            "reference": data.get("reference"), "scope": str(data.get("scope", "all"))}


def _alerts(app: App, case_id: str) -> list[AlertView]:
    with app.engine.connect() as conn:
        rows = [row_to_dict(r) for r in conn.execute(
            select(alerts).where(alerts.c.case_id == case_id).order_by(alerts.c.raised_at))]
    return open_alert_notes(app.keyring, rows)
