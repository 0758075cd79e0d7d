"""The forms of the practitioner's daily acts beyond logging (issue 12 §1): follow-up,
scheduling, allocation, closing, warnings, and the spec any entry is corrected with.

Several of these choose among things on the case (its missed appointments, its failures,
its current allocations, the team's practitioners), so each is built from those choices;
the fields themselves are data, like ``forms.FORMS``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, get_args

from events.allocation import CaseManagerAllocationEnded
from events.base import Agency, AllocationRole, ContactKind
from events.case import CaseClosed
from events.countersignature import DocumentReturned
from events.delivery import MissedContactFollowedUp
from tracker.domain.access import Principal, may_record
from tracker.domain.case import CaseState
from tracker.edges.web.forms import FORMS, NOTE, YES_NO, Field, FormSpec, choices, local_input

Options = Sequence[tuple[str, str]]

FOLLOW_UP_METHODS = choices(get_args(MissedContactFollowedUp.model_fields["method"].annotation))
CLOSE_REASONS = choices(get_args(CaseClosed.model_fields["reason"].annotation))
END_REASONS = choices(get_args(CaseManagerAllocationEnded.model_fields["reason"].annotation))
ROLES = choices(get_args(AllocationRole))
AGENCIES = choices(get_args(Agency), {"yot": "Youth justice service (YOT)"})

TITLES = {
    "follow-up": "Follow up a missed appointment",
    "schedule": "Schedule an appointment",
    "allocate": "Allocate a case manager",
    "end-allocation": "End a case manager's allocation",
    "close": "Close the case",
    "warning": "Record a warning",
    "breach": "Start breach proceedings",
    "retract": "Retract an entry",
    "correct": "Correct an entry",
    "transfer": "Request a transfer",
    "transfer-accept": "Accept a transfer",
    "transfer-reject": "Reject a transfer",
    "audit": "Audit the case",
    "audit-action": "Complete an audit action",
    "countersign": "Countersign",
    "return": "Return for revision",
}
"""Each act's title, also the success message's subject."""


def follow_up(missed: Options) -> FormSpec:
    """Which missed appointment, how it was followed up, whether the child was reached."""
    return FormSpec("follow-up", TITLES["follow-up"], "missed_contact_followed_up", [
        Field("missed_event_id", "Which missed appointment?", "select", list(missed),
              required=True),
        Field("method", "How did you follow it up?", "select", FOLLOW_UP_METHODS,
              required=True),
        Field("child_reached", "Did you reach the child?", "radio", YES_NO, required=True),
        NOTE,
    ], intro="Record how you followed up the missed appointment: this clears the "
             "follow-up that is due.")


SCHEDULE = FormSpec("schedule", TITLES["schedule"], "contact_scheduled", [
    Field("kind", "Kind of appointment", "select", choices(get_args(ContactKind)),
          required=True),
    Field("scheduled_for", "When is the appointment?", "datetime", required=True,
          hint="UK time. It appears in your diary until it is logged as attended or missed."),
])


def allocate(practitioners: Options, managers: Options) -> FormSpec:
    """Who takes the case on, in which role and agency, and their manager."""
    return FormSpec("allocate", TITLES["allocate"], "case_manager_allocated", [
        Field("practitioner_id", "Practitioner", "select", list(practitioners), required=True),
        Field("role", "Role", "select", ROLES, required=True),
        Field("agency", "Agency", "select", AGENCIES, required=True),
        Field("manager_id", "Their manager", "select", list(managers)),
    ])


def end_allocation(holders: Options) -> FormSpec:
    """Which current allocation ends, and why."""
    return FormSpec("end-allocation", TITLES["end-allocation"], "case_manager_allocation_ended", [
        Field("holding", "Whose allocation ends?", "select", list(holders), required=True),
        Field("reason", "Why?", "select", END_REASONS, required=True),
        NOTE,
    ])


CLOSE = FormSpec("close", TITLES["close"], "case_closed", [
    Field("reason", "Why is the case closing?", "select", CLOSE_REASONS, required=True),
    NOTE,
], intro="Closing ends supervision under this order. Afterwards only corrections can be "
         "recorded on the case.")


def warning(failures: Options) -> FormSpec:
    """A formal warning for one unacceptable failure to comply."""
    return FormSpec("warning", TITLES["warning"], "warning_issued", [
        Field("failure_event_id", "For which failure to comply?", "select", list(failures),
              required=True),
        NOTE,
    ], intro="A warning opens the warned period set by the policy.")


def breach(failures: Options) -> FormSpec:
    """Breach proceedings (a return to court) resting on one or more unacceptable failures."""
    return FormSpec("breach", TITLES["breach"], "breach_initiated", [
        Field("failure_event_ids", "Which failures to comply does the breach rest on?",
              "checkboxes", list(failures), required=True),
        Field("serious_failure", "This is a serious failure to comply", "checkbox",
              hint="A serious failure can go to breach without the warnings the order needs "
                   "first."),
        NOTE,
    ], intro="Breach proceedings return the case to court. Where the service's policy says so, "
             "a manager authorises them first.")


RETURN_REASONS = choices(get_args(DocumentReturned.model_fields["reason"].annotation))

COUNTERSIGN = FormSpec("countersign", TITLES["countersign"], "document_countersigned", [
    Field("note", "Note (optional)", "textarea",
          hint="Kept sealed with the child's own key. Your name is recorded as the signatory."),
], intro="Countersigning records that you, as the case's manager, have checked and agreed "
         "this document. It clears the document's wait for countersignature.")

RETURN = FormSpec("return", TITLES["return"], "document_returned", [
    Field("reason", "Why does it need revising?", "select", RETURN_REASONS, required=True),
    Field("note", "What needs to change", "textarea",
          hint="Kept sealed with the child's own key. The practitioner sees it on the case."),
], intro="The document goes back to the practitioner: a new one is due from them within "
         "the days the policy sets, and shows in what is due on their caseload.")

RETRACT = FormSpec("retract", TITLES["retract"], "event_retracted", [
    Field("reason", "Why should this entry not have been recorded?", "textarea",
          required=True, hint="Kept sealed with the child's own key. The entry stays in the "
                              "log, marked as retracted."),
])

CORRECTION_REASON = Field(
    "correction_reason", "Why is it being corrected?", "textarea", required=True,
    hint="Kept sealed. The original stays in the log, marked as superseded.",
)

LOGGED = {
    "contact_attended": "contact", "contact_missed": "missed",
    "assessment_completed": "assessment", "plan_agreed": "plan", "plan_revised": "plan",
    "review_completed": "review", "transition_planned": "transition",
    "transition_completed": "transition-done",
}
"""Entry types recorded with one of ``forms.FORMS`` (by its slug)."""


def correction_spec(event_type: str, data: dict[str, Any], options: Options) -> FormSpec | None:
    """The entry's own form, to correct it with (None: it has no form here).

    ``options`` are the case's choices for the forms that choose (the original's own value
    is always among them, so the pre-filled form is valid as it stands).
    """
    if event_type in LOGGED:
        return FORMS[LOGGED[event_type]]
    keep = list(options)
    static: dict[str, FormSpec] = {"contact_scheduled": SCHEDULE, "case_closed": CLOSE}
    if event_type in static:
        return static[event_type]
    if event_type == "missed_contact_followed_up":
        return follow_up(_with(keep, str(data.get("missed_event_id", ""))))
    if event_type == "warning_issued":
        return warning(_with(keep, str(data.get("failure_event_id", ""))))
    if event_type == "breach_initiated":
        for failure_id in data.get("failure_event_ids") or []:
            keep = _with(keep, str(failure_id))
        return breach(keep)
    return None


def _with(options: list[tuple[str, str]], value: str) -> list[tuple[str, str]]:
    if value and value not in {v for v, _label in options}:
        return [*options, (value, "the original's choice")]
    return options


def prefill(spec: FormSpec, data: dict[str, Any], occurred: str) -> dict[str, str | list[str]]:
    """A form's values from an entry's data: the replacement starts as the original."""
    values: dict[str, str | list[str]] = {"occurred_at": local_input(
        datetime.fromisoformat(occurred))}
    for f in spec.fields:
        raw = data.get(f.name)
        if raw is None:
            continue
        if f.kind == "checkbox":
            values[f.name] = "on" if raw else ""
        elif f.kind == "radio" and f.options == YES_NO:
            values[f.name] = "yes" if raw else "no"
        elif f.kind == "datetime":
            values[f.name] = local_input(datetime.fromisoformat(str(raw)))
        elif isinstance(raw, list):
            values[f.name] = [str(v) for v in raw]
        else:
            values[f.name] = str(raw)
    for i, objective in enumerate(data.get("objectives") or [], start=1):
        if i > spec.objectives:
            break
        for part in ("domain", "description", "target_date"):
            values[f"objective_{i}_{part}"] = str(objective.get(part) or "")
    return values


def case_manager_field(practitioners: Options) -> Field:
    """The open form's case manager: the case is allocated to them as it opens."""
    return Field("case_manager", "Case manager", "select", list(practitioners),
                 hint="You, unless you choose another practitioner of your team.")


def followed_up(items: list[dict[str, Any]]) -> set[str]:
    """The missed appointments already followed up (by an entry still standing)."""
    return {str(i["data"].get("missed_event_id")) for i in items
            if i.get("type") == "missed_contact_followed_up" and "corrected" not in i["css"]}


def act_links(case_id: str, state: CaseState, items: list[dict[str, Any]]) -> list[ActLink]:
    """The acts offered on the case page, the ones needing attention first."""
    done = followed_up(items)
    pending = [i for i in items if i.get("type") == "contact_missed"
               and "corrected" not in i["css"] and i["event_id"] not in done]
    unwarned = [f for f in state.failures
                if f.event_id not in state.warned and f.event_id not in state.excused]
    base = f"/cases/{case_id}"
    links = [
        ActLink(TITLES["follow-up"], f"{base}/follow-up", "", bool(pending)),
        ActLink(TITLES["schedule"], f"{base}/schedule", "secondary", True),
        ActLink(TITLES["allocate"], f"{base}/allocate", "secondary", True),
        ActLink(TITLES["end-allocation"], f"{base}/allocation/end", "secondary",
                bool(state.allocations)),
        ActLink(TITLES["warning"], f"{base}/warning", "secondary", bool(unwarned)),
        ActLink(TITLES["breach"], f"{base}/breach", "warning",
                any(f.event_id not in state.excused for f in state.failures)),
        ActLink(TITLES["close"], f"{base}/close", "warning", True),
        ActLink(TITLES["transfer"], f"{base}/transfer", "secondary",
                not any(r.status == "pending" for r in state.requests.values())),
    ]
    return [link for link in links if link.shown]


def answer_links(case_id: str, state: CaseState, who: Principal) -> list[ActLink]:
    """Accept and reject, for a manager of the team a pending transfer asks to take the case."""
    if state.closed or not may_record(who, state.teams, "transfer_accepted"):
        return []
    base = f"/cases/{case_id}/transfer"
    return [ActLink(TITLES["transfer-accept"], f"{base}/accept", "", True),
            ActLink(TITLES["transfer-reject"], f"{base}/reject", "warning", True)]


def saved_notice(recorded: str) -> str:
    """The success banner's text after an act (``?recorded=slug``), or ''."""
    if recorded == "open":
        return "Case opened and allocated to its case manager."
    title = FORMS[recorded].title if recorded in FORMS else TITLES.get(recorded)
    return f"Saved: {title}." if title else ""


@dataclass(frozen=True)
class ActLink:
    """A button on the case page that starts an act."""

    title: str
    href: str
    style: str
    shown: bool


def audit_action(open_actions: Options) -> FormSpec:
    """Mark one of the actions an audit found on this case as completed."""
    return FormSpec("audit-action", TITLES["audit-action"], "audit_action_completed", [
        Field("action_id", "Which action?", "select", list(open_actions), required=True),
        NOTE,
    ], intro="An audit of this case found these actions; record each one when it is done.")
