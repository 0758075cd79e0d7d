"""What the case page shows of QA: the actions the audits of a case found, and whether each
is done, due or overdue (issue 11 §3). Pure, over the case's history."""

from __future__ import annotations

from datetime import date
from typing import Any, TypedDict


class ActionRow(TypedDict):
    action_id: str
    description: str
    owner_id: str
    due_date: str
    status: str  # "done" | "due" | "overdue"
    completed_at: str | None
    audit_event_id: str


def _current(ev: dict[str, Any]) -> bool:
    return not any(m.startswith(("retracted", "superseded")) for m in ev.get("marks", []))


def audit_actions(events: list[Any], today: date) -> list[ActionRow]:
    """Every action found by an audit still standing, oldest first: done (with when), due
    (by its date), or overdue (its due date has passed and it is not done)."""
    done: dict[str, str] = {}
    for ev in events:
        if ev.get("type") == "audit_action_completed" and _current(ev):
            done.setdefault(str(ev["data"]["action_id"]), str(ev["occurred_at"]))
    rows: list[ActionRow] = []
    for ev in events:
        if ev.get("type") != "case_audited" or not _current(ev):
            continue
        for a in ev["data"].get("actions") or []:
            action_id = str(a["action_id"])
            due = str(a["due_date"])
            status = ("done" if action_id in done
                      else "overdue" if date.fromisoformat(due) < today else "due")
            rows.append({"action_id": action_id, "description": str(a["description"]),
                         "owner_id": str(a["owner_id"]), "due_date": due, "status": status,
                         "completed_at": done.get(action_id),
                         "audit_event_id": str(ev["event_id"])})
    return rows


def slug(key_question: str) -> str:
    """``2.1.1`` as a form field part: ``2-1-1``."""
    return key_question.replace(".", "-")
