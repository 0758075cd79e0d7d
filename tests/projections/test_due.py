"""What is due on a case (``projections.due``): an audit's actions beside the stages'
obligations and the oversight actions, open / overdue / done as at a day, kept through the
stored record and gone with a retracted audit."""

from __future__ import annotations

from datetime import date
from typing import Any

from projections.due import audit_actions, due_items
from projections.record import dumps, loads
from tests.projections.conftest import History
from tests.projections.plain import PlainDob

ACTIONS = [
    {"action_id": "AA-1", "description": "Chase the school report.", "owner_id": "P-1",
     "due_date": "2026-10-01"},
    {"action_id": "AA-2", "description": "Update the plan.", "owner_id": "M-1",
     "due_date": "2026-12-01"},
]


def audited(history: History) -> Any:
    history.allocate("2026-01-05")
    return history.add("case_audited", {
        "audit_type": "thematic", "theme": "education",
        "prompts": [{"key_question": "2.1.1", "prompt": "a", "answer": "no"}],
        "actions": ACTIONS}, "2026-09-20", by=("Q-1", "qa"))


def audit_due(history: History, on: str) -> list[tuple[str, str, str]]:
    return [(d["subject"], d["status"], d["due"]) for d in due_items(history.views(on))
            if d["stage"] == "audit"]


def test_an_audits_actions_are_due_then_overdue_then_done(history: History) -> None:
    audit = audited(history)
    assert audit_due(history, "2026-09-25") == [
        ("audit:AA-1", "due", "2026-10-01"), ("audit:AA-2", "due", "2026-12-01")]
    assert audit_due(history, "2026-10-02") == [  # overdue first
        ("audit:AA-1", "overdue", "2026-10-01"), ("audit:AA-2", "due", "2026-12-01")]
    history.add("audit_action_completed", {"action_id": "AA-1"}, "2026-10-05")
    assert audit_due(history, "2026-10-06") == [("audit:AA-2", "due", "2026-12-01")]
    found = {a["action_id"]: a for a in audit_actions(history.views("2026-10-06").visible)}
    assert (found["AA-1"]["status"], found["AA-1"]["done_on"]) == ("done", "2026-10-05")
    assert (found["AA-2"]["owner"], found["AA-2"]["event_id"]) == ("M-1", str(audit.event_id))
    # as at a day before it was completed, it was still overdue
    assert audit_due(history, "2026-10-04")[0] == ("audit:AA-1", "overdue", "2026-10-01")


def test_the_actions_survive_storage_and_go_with_a_retracted_audit(
        history: History) -> None:
    audit = audited(history)
    record = history.record()
    assert [a.actions for a in record.audits] == [(
        ("AA-1", "P-1", date(2026, 10, 1).toordinal()),
        ("AA-2", "M-1", date(2026, 12, 1).toordinal()))]  # no description: it stays sealed
    assert loads(dumps(record, PlainDob()), PlainDob()) == record
    history.add("event_retracted", {"target_event_id": str(audit.event_id),
                                    "reason": "Wrong case."}, "2026-09-22")
    assert audit_due(history, "2026-10-02") == []
