"""The forms of the events each disposal's route has (issue 10; domain.md §11): a
referral order's panels, contract and referral back to court; an out-of-court case's joint
decision; a conditional caution's conditions and the prosecution decision after a failed
one; a failed requirement; a change of intervention level.

Each form is offered only where the case's disposal profile has a place for its event, so
a practitioner is not shown a form the rules would refuse; a form opened anyway says why
the case has no place for it (the profile's own words), as the warning form does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import get_args

from events.case import InterventionLevelChanged, OutOfCourtDisposal
from events.enforcement import ConditionKind, ProsecutionDecided, Requirement
from events.panels import Agency, AttendeeRole, PanelHeld, ReferredBackToCourt
from tracker.domain.case import CaseState
from tracker.domain.policy import DisposalProfile
from tracker.edges.web.act_forms import ActLink, Options
from tracker.edges.web.forms import NOTE, YES_NO, Field, FormSpec, choices

TITLES = {
    "panel": "Record a panel meeting",
    "contract": "Record the contract agreed",
    "refer-back": "Record a referral back to court",
    "joint-decision": "Record the joint decision",
    "condition": "Set a caution condition",
    "condition-completed": "Record a condition completed",
    "condition-failed": "Record a condition failed",
    "prosecution": "Record the prosecution decision",
    "requirement-failed": "Record a failed requirement",
    "level": "Change the intervention level",
}
"""Each form's title (also the success banner's subject), by its slug."""

PANELS = frozenset({"panel", "contract", "refer-back"})
CONDITIONS = frozenset({"condition", "condition-completed", "condition-failed", "prosecution"})

PANEL = FormSpec("panel", TITLES["panel"], "panel_held", [
    Field("kind", "Which meeting?", "select", choices(
        get_args(PanelHeld.model_fields["kind"].annotation),
        {"initial": "Initial panel (agrees the contract)", "progress": "Progress meeting",
         "final": "Final panel"}), required=True),
    Field("attendee_roles", "Who attended?", "checkboxes", choices(get_args(AttendeeRole)),
          hint="Give at least one."),
    Field("victim_views_presented", "Were the victim's views presented?", "radio", YES_NO,
          required=True),
    NOTE,
], intro="A progress meeting after a failure to comply clears the panel it made due.")

CONTRACT = FormSpec("contract", TITLES["contract"], "contract_agreed", [], objectives=3,
                    intro="The youth offender contract agreed at the panel. Give at least "
                          "one objective; the order's supervision runs from this day.")

REFER_BACK = FormSpec("refer-back", TITLES["refer-back"], "referred_back_to_court", [
    Field("reason", "Why did the panel refer the child back?", "select",
          choices(get_args(ReferredBackToCourt.model_fields["reason"].annotation)),
          required=True),
    NOTE,
])

JOINT_DECISION = FormSpec("joint-decision", TITLES["joint-decision"], "joint_decision_made", [
    Field("outcome", "What did the panel decide?", "select",
          choices(get_args(OutOfCourtDisposal)), required=True,
          hint="The case's own disposal: another outcome is another case."),
    Field("agencies_present", "Which agencies were present?", "checkboxes",
          choices(get_args(Agency), {"yot": "Youth justice service (YOT)"}),
          hint="YOT, police and social care as a minimum (Annexe A 3.4.2a)."),
    Field("proportionate_assessment", "Did a proportionate assessment inform it?", "radio",
          YES_NO, required=True),
    NOTE,
])

CONDITION = FormSpec("condition", TITLES["condition"], "condition_set", [
    Field("condition_id", "Condition reference", required=True,
          hint="A short reference, e.g. C1, used again when it is completed or failed."),
    Field("kind", "Kind of condition", "select", choices(get_args(ConditionKind)),
          required=True),
    Field("deadline", "To be completed by", "date", required=True),
    Field("description", "What the condition asks", "textarea",
          hint="Kept sealed with the child's own key."),
])


def condition_completed(open_conditions: Options) -> FormSpec:
    """Which open condition was completed."""
    return FormSpec("condition-completed", TITLES["condition-completed"],
                    "condition_completed", [
        Field("condition_id", "Which condition?", "select", list(open_conditions),
              required=True),
    ])


def condition_failed(open_conditions: Options) -> FormSpec:
    """Which open condition failed, and whether the child had a reasonable excuse."""
    return FormSpec("condition-failed", TITLES["condition-failed"], "condition_failed", [
        Field("condition_id", "Which condition?", "select", list(open_conditions),
              required=True),
        Field("reasonable_excuse", "Did the child have a reasonable excuse?", "radio", YES_NO,
              required=True, hint="Without one, a decision on prosecution is due."),
        NOTE,
    ])


def prosecution(failures: Options) -> FormSpec:
    """The decision on prosecution after a condition failed without reasonable excuse."""
    return FormSpec("prosecution", TITLES["prosecution"], "prosecution_decided", [
        Field("failure_event_id", "After which failed condition?", "select", list(failures),
              required=True),
        Field("decision", "Decision", "select",
              choices(get_args(ProsecutionDecided.model_fields["decision"].annotation)),
              required=True),
        Field("decided_by", "Decided by", "select",
              choices(get_args(ProsecutionDecided.model_fields["decided_by"].annotation),
                      {"cps": "Crown Prosecution Service", "police": "Police"}),
              required=True),
        NOTE,
    ])


REQUIREMENT = FormSpec("requirement-failed", TITLES["requirement-failed"],
                       "requirement_failed", [
    Field("requirement", "Which requirement?", "select", choices(get_args(Requirement)),
          required=True),
    NOTE,
], intro="A failure to comply with a requirement other than an appointment (e.g. a curfew), "
         "without reasonable excuse. It counts as an unacceptable failure.")


def level(managers: Options) -> FormSpec:
    """The practitioner's record of a level change; a manager of the team agrees it as
    their own act (``intervention_level_change_agreed``), so no manager is typed here.
    ``managers`` is kept for the builders' one signature."""
    del managers
    return FormSpec("level", TITLES["level"], "intervention_level_changed", [
        Field("intervention_level", "New intervention level", "select",
              choices(["standard", "enhanced", "intensive"]), required=True),
        Field("reason", "Why?", "select",
              choices(get_args(InterventionLevelChanged.model_fields["reason"].annotation)),
              required=True),
        NOTE,
    ], intro="Contacts required each month follow the level in force on its first day. "
             "The change awaits a manager's agreement, which they record themselves.")


Builder = Callable[["Choices"], FormSpec]


class Choices:
    """What on the case the forms that choose offer: its open conditions, its condition
    failures awaiting a decision, its team's managers."""

    def __init__(self, open_conditions: Options, failures: Options, managers: Options) -> None:
        self.open_conditions = open_conditions
        self.failures = failures
        self.managers = managers


SPECS: dict[str, Builder] = {
    "panel": lambda c: PANEL,
    "contract": lambda c: CONTRACT,
    "refer-back": lambda c: REFER_BACK,
    "joint-decision": lambda c: JOINT_DECISION,
    "condition": lambda c: CONDITION,
    "condition-completed": lambda c: condition_completed(c.open_conditions),
    "condition-failed": lambda c: condition_failed(c.open_conditions),
    "prosecution": lambda c: prosecution(c.failures),
    "requirement-failed": lambda c: REQUIREMENT,
    "level": lambda c: level(c.managers),
}
"""Every form here, by slug."""


def refusal(slug: str, state: CaseState, profile: DisposalProfile) -> str | None:
    """Why the case's disposal has no place for this form's event (None: it has)."""
    if state.closed:
        return "The case is closed."
    name = profile.label.lower()
    if slug in PANELS and not profile.panels:
        return f"A {name} has no referral-order panels: {profile.enforcement_note}."
    if slug == "joint-decision" and profile.route != "out_of_court":
        return (f"A joint decision-making panel decides out-of-court disposals, not a "
                f"{name}.")
    if slug in CONDITIONS and profile.enforcement != "caution_conditions":
        return f"A {name} has no caution conditions: {profile.enforcement_note}."
    if slug == "requirement-failed" and not profile.failures:
        return f"Nothing can be enforced on a {name}: {profile.enforcement_note}."
    if slug == "level" and not profile.contact_levels:
        return f"A {name} has no contact levels, so no intervention level to change."
    return None


def offered(state: CaseState, profile: DisposalProfile) -> list[str]:
    """The forms worth a button on the case page now, in the order shown."""
    open_ = [c for c, status in state.conditions.items() if status == "set"]
    awaiting = state.condition_failures - state.decided
    wanted = {
        "panel": "final" not in state.panels and not state.referred_back,
        "contract": bool(state.panels) and not state.contract,
        "refer-back": bool(state.panels) and not state.referred_back,
        "joint-decision": not state.decided_out_of_court,
        "condition": True,
        "condition-completed": bool(open_),
        "condition-failed": bool(open_),
        "prosecution": bool(awaiting),
        "requirement-failed": True,
        "level": True,
    }
    return [slug for slug in SPECS
            if wanted[slug] and refusal(slug, state, profile) is None]


def route_links(case_id: str, state: CaseState, profile: DisposalProfile) -> list[ActLink]:
    """The buttons for this disposal's own events (a decision due first)."""
    slugs = offered(state, profile)
    urgent = [s for s in slugs if s == "prosecution"]
    return [ActLink(TITLES[s], f"/cases/{case_id}/act/{s}", "" if s in urgent else "secondary",
                    True) for s in urgent + [s for s in slugs if s not in urgent]]


def saved_notice(recorded: str) -> str:
    """The success banner's text after one of these forms (``?recorded=slug``), or ''."""
    title = TITLES.get(recorded)
    return f"Saved: {title}." if title else ""
