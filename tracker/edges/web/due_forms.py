"""Where each thing due is done: the one map from a due item to the form that records it.

The caseload and the case page both list what is due (``projections.due``); each item links
to this form when the reader may record its event, so "overdue" always comes with the way
to do it, and the two pages cannot drift apart.
"""

from __future__ import annotations

from typing import NamedTuple
from urllib.parse import urlencode

from projections.due import DueItem


class DueForm(NamedTuple):
    """The form under ``/cases/<id>/``, the event it records, and the link's words."""

    path: str
    event_type: str
    text: str


PANEL = DueForm("act/panel", "panel_held", "Record the panel")
ASSESSMENT = DueForm("log/assessment", "assessment_completed", "Record the assessment")
PLAN = DueForm("log/plan", "plan_agreed", "Record the plan")
REVIEW = DueForm("log/review", "review_completed", "Record the review")
CONTACT = DueForm("log/contact", "contact_attended", "Record the contact")

DUE_FORMS: dict[str, DueForm] = {
    "assessment": ASSESSMENT,
    "assessment_resubmission": ASSESSMENT,
    "plan": PLAN,
    "plan_resubmission": PLAN,
    "review": REVIEW,
    "review_after_change": REVIEW,
    "contacts": CONTACT,
    "home_visit": CONTACT,
    "first_appointment": CONTACT,
    "follow_up": DueForm("follow-up", "missed_contact_followed_up", "Record the follow-up"),
    "initial_panel": PANEL, "progress_panel": PANEL, "panel_after_failure": PANEL,
    "final_panel": PANEL,
    "oversight_action": DueForm("oversight/done", "oversight_action_completed", "Mark it done"),
    "audit_action": DueForm("audit-action", "audit_action_completed", "Mark it done"),
}
"""The form that does each kind of thing due (whether the reader may record its event
decides whether the item links there). The contract has none here: it can be recorded only
after a panel (``decide``), which this map cannot see; the panel item beside it links to
the panel form, and the case page offers the contract form once a panel is held."""


def due_href(case_id: str, item: DueItem) -> tuple[str, DueForm] | None:
    """The address of the form that does ``item`` (a follow-up names its missed
    appointment), with the form; None for a kind no form does."""
    form = DUE_FORMS.get(item["kind"])
    if form is None:
        return None
    href = f"/cases/{case_id}/{form.path}"
    subject = item["subject"] or ""
    if item["kind"] == "follow_up" and subject.startswith("missed:"):
        href += "?" + urlencode({"missed": subject.removeprefix("missed:")})
    return href, form
