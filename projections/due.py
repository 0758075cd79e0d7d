"""What is due on a case, as the practitioner sees it (the case page, the caseload): the
ASPIRE obligations due or overdue, the actions a manager set in management oversight and the
actions a QA audit found (issue 11 §3), each with its date. Pure, over one case's views.

Oversight and audit actions are the practitioner's to do, though neither is an ASPIRE stage,
so they are listed beside the stages' obligations here rather than in ``aspire``.
"""

from __future__ import annotations

from datetime import date
from typing import TypedDict

from projections.aspire import STAGES, stage_of
from projections.oversight import oversight_actions
from projections.views import CaseViews
from projections.visible import Visible


class DueItem(TypedDict):
    """One thing due: its stage (or ``oversight`` / ``audit``), kind, subject (what it is
    about: ``missed:<event>``, ``oversight:<id>``, ``audit:<action id>``), date and status
    (``due`` or ``overdue``)."""

    stage: str
    kind: str
    subject: str
    due: str
    status: str


class AwaitingCountersignature(TypedDict):
    """A document awaiting a manager's countersignature: its kind (``assessment`` /
    ``plan``), the event that recorded it (the countersign page's address) and its date."""

    document: str
    event_id: str
    date: str


def awaiting_countersignature(views: CaseViews) -> list[AwaitingCountersignature]:
    """The case's documents awaiting countersignature, oldest first, each with its event id
    so a list can link to its countersign page without reading the case again."""
    if not views.exists:
        return []
    return [{"document": d["document"], "event_id": d["document_event_id"], "date": d["date"]}
            for d in views.aspire.get("countersignature", []) if d["status"] == "awaiting"]


class AuditActionView(TypedDict):
    """One action an audit found (its description stays in the log, sealed)."""

    event_id: str
    action_id: str
    owner: str
    due: str
    status: str  # open | overdue | done
    done_on: str | None


def audit_actions(v: Visible) -> list[AuditActionView]:
    """Every action found by an audit standing as at ``v.at``, oldest first: open, overdue
    (after its due date and not done) or done."""
    if not v.exists:
        return []
    done = {d.action_id: d for d in v.audit_done}
    today = v.last_day.toordinal()
    out: list[AuditActionView] = []
    for audit in v.audits:
        for action_id, owner, due in audit.actions:
            finished = done.get(action_id)
            status = ("done" if finished is not None
                      else "overdue" if today > due else "open")
            out.append({
                "event_id": audit.id, "action_id": action_id, "owner": owner,
                "due": date.fromordinal(due).isoformat(), "status": status,
                "done_on": date.fromordinal(finished.d).isoformat() if finished else None,
            })
    return out


def due_items(views: CaseViews) -> list[DueItem]:
    """Everything due or overdue on the case: overdue first, then soonest due."""
    if not views.exists:
        return []
    due: list[DueItem] = []
    for stage in STAGES:
        found = stage_of(views.aspire, stage)
        due += [{"stage": stage, "kind": o["kind"], "subject": o["subject"], "due": o["due"],
                 "status": o["status"]}
                for o in (found["obligations"] if found else [])
                if o["status"] in ("due", "overdue")]
    due += [  # a manager's oversight action is the practitioner's to do
        {"stage": "oversight", "kind": "oversight_action",
         "subject": f"oversight:{o['oversight_id']}", "due": o["due"] or "",
         "status": "overdue" if o["status"] == "overdue" else "due"}
        for o in oversight_actions(views.visible) if o["status"] in ("open", "overdue")
    ]
    due += [  # and so is an action a QA audit found
        {"stage": "audit", "kind": "audit_action", "subject": f"audit:{a['action_id']}",
         "due": a["due"], "status": "overdue" if a["status"] == "overdue" else "due"}
        for a in audit_actions(views.visible) if a["status"] != "done"
    ]
    due.sort(key=lambda d: (d["status"] != "overdue", d["due"]))
    return due
