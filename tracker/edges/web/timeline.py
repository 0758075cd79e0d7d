"""The case page's timeline for people who read it all day (issue 12 §3): each entry's
heading carries its key facts, the entries filter by family and come a page at a time
(query parameters, so it works without JavaScript), and each entry offers what can be done
with it (follow up, correct, retract).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from events.catalogue import EVENT_TYPES
from tracker.domain.access import MANAGER_ACTS, OPERATOR_ONLY, QA_ONLY
from tracker.edges.web.act_forms import correction_spec, followed_up
from tracker.edges.web.common import day, when
from tracker.edges.web.forms import words

PAGE_SIZE = 20

FAMILIES: dict[str, tuple[str, frozenset[str]]] = {
    "contacts": ("Contacts", frozenset({"delivery"})),
    "assessments": ("Assessments", frozenset({"assessment"})),
    "planning": ("Planning and reviews", frozenset({"planning", "review"})),
    "enforcement": ("Enforcement", frozenset({"enforcement"})),
    "allocation": ("Allocation and transitions", frozenset({"allocation", "transition"})),
    "case": ("Opening and closing", frozenset({"case"})),
    "corrections": ("Corrections", frozenset({"correction"})),
    "audits": ("Audits", frozenset({"audit"})),
    "countersignature": ("Countersignature", frozenset({"countersignature"})),
    "oversight": ("Management oversight", frozenset({"oversight"})),
    "outcomes": ("Outcomes and KPI data", frozenset({"outcomes"})),
}
"""Filter name -> (label, the event families it shows)."""

Names = Callable[[object], str]
Item = dict[str, Any]


def family_of(event_type: str) -> str:
    """The catalogue family of an event type (``other`` for one it does not know)."""
    cls = EVENT_TYPES.get(event_type)
    return cls.family if cls is not None else "other"


def _lower(value: object) -> str:
    return words(str(value)).lower()


def _contact(d: Mapping[str, Any], names: Names) -> str:
    text = f"{words(str(d.get('kind', 'contact')))} — participation {d.get('participation')}/5"
    return text + (", parent or carer present" if d.get("parent_carer_present") else "")


def _missed(d: Mapping[str, Any], names: Names) -> str:
    judged = "acceptable" if d.get("acceptable") else "unacceptable"
    return f"Missed {_lower(d.get('kind', ''))} appointment — {judged}, {_lower(d.get('reason'))}"


def _follow_up(d: Mapping[str, Any], names: Names) -> str:
    reached = "child reached" if d.get("child_reached") else "child not reached"
    return f"Missed appointment followed up by {_lower(d.get('method'))} — {reached}"


def _assessment(d: Mapping[str, Any], names: Names) -> str:
    return (f"{words(str(d.get('kind', '')))} assessment — reoffending "
            f"{_lower(d.get('likelihood_of_reoffending'))}, safety "
            f"{_lower(d.get('safety_and_wellbeing'))}, "
            f"harm {_lower(d.get('risk_of_serious_harm'))}")


def _plan(verb: str) -> Callable[[Mapping[str, Any], Names], str]:
    def heading(d: Mapping[str, Any], names: Names) -> str:
        n = len(d.get("objectives") or [])
        return f"Plan {verb} — {n} objective{'' if n == 1 else 's'}"
    return heading


HEADINGS: dict[str, Callable[[Mapping[str, Any], Names], str]] = {
    "case_opened": lambda d, n: f"Case opened — {_lower(d.get('disposal_type'))}, "
                                f"{_lower(d.get('intervention_level'))} level",
    "case_closed": lambda d, n: f"Case closed — {_lower(d.get('reason'))}",
    "case_manager_allocated": lambda d, n: f"{n(d.get('practitioner_id'))} allocated as "
                                           f"{_lower(d.get('role'))}",
    "case_manager_allocation_ended": lambda d, n: f"{n(d.get('practitioner_id'))} no longer "
                                                  f"{_lower(d.get('role'))} — "
                                                  f"{_lower(d.get('reason'))}",
    "contact_scheduled": lambda d, n: f"{words(str(d.get('kind', '')))} appointment booked for "
                                      f"{when(d.get('scheduled_for'))}",
    "contact_attended": _contact,
    "contact_missed": _missed,
    "missed_contact_followed_up": _follow_up,
    "assessment_completed": _assessment,
    "plan_agreed": _plan("agreed"),
    "plan_revised": _plan("revised"),
    "review_completed": lambda d, n: f"Review ({_lower(d.get('trigger'))}) — plan "
                                     f"{'adjusted' if d.get('plan_adjusted') else 'unchanged'}",
    "transition_planned": lambda d, n: f"Transition planned — {_lower(d.get('kind'))} on "
                                       f"{day(d.get('planned_date'))}",
    "transition_completed": lambda d, n: f"Transition completed — {_lower(d.get('kind'))}",
    "warning_issued": lambda d, n: "Warning issued",
    "breach_initiated": lambda d, n: "Breach proceedings started" + (
        " — serious failure" if d.get("serious_failure") else ""),
    "exceptional_circumstances_recorded": lambda d, n: "Exceptional circumstances recorded" + (
        f" (named {n(d.get('v1_manager_id'))})" if d.get("v1_manager_id") else ""),
    "case_audited": lambda d, n: "Case audited",
    "document_countersigned": lambda d, n: "Countersigned by the manager",
    "document_returned": lambda d, n: f"Returned for revision — {_lower(d.get('reason'))}",
    "breach_authorised": lambda d, n: "Breach authorised by a manager",
    "breach_declined": lambda d, n: "Breach declined by a manager",
    "intervention_level_change_agreed": lambda d, n: "Change of intervention level agreed",
    "management_oversight_recorded": lambda d, n: (
        f"Management oversight — {_lower(d.get('category'))}"
        + (f"; action due {day(d.get('action_due'))}" if d.get("action_due") else "")),
    "oversight_action_completed": lambda d, n: "Oversight action done",
    "child_label_changed": lambda d, n: "The child's label changed",
}


def heading(item: Mapping[str, Any], names: Names, versions: Mapping[str, int]) -> str:
    """An entry's heading: what it was and its key facts."""
    kind = str(item.get("type", ""))
    data: Mapping[str, Any] = item.get("data") or {}
    if kind in ("event_superseded", "event_retracted"):
        target = versions.get(str(data.get("target_event_id")), "?")
        verb = "superseded" if kind == "event_superseded" else "retracted"
        return f"Correction — entry v{target} {verb}"
    make = HEADINGS.get(kind)
    return make(data, names) if make is not None else words(kind)


@dataclass(frozen=True)
class TimelinePage:
    """One page of the timeline and the links around it."""

    items: list[Item]
    family: str
    page: int
    pages: int
    total: int


def actions(item: Item, case_id: str, done: set[str], *, open_case: bool) -> list[tuple[str, str]]:
    """What can be done with an entry: (label, link); a closed case takes corrections only."""
    kind = str(item.get("type", ""))
    if kind in ("event_superseded", "event_retracted") or "corrected" in item["css"]:
        return []
    if kind in MANAGER_ACTS or kind in QA_ONLY or kind in OPERATOR_ONLY:
        return []  # a manager's act, QA's audit, an erasure: not the practitioner's to correct
    eid = item["event_id"]
    out: list[tuple[str, str]] = []
    if kind == "contact_missed" and eid not in done and open_case:
        out.append(("Follow up", f"/cases/{case_id}/follow-up?missed={eid}"))
    if correction_spec(kind, item.get("data") or {}, []) is not None:
        out.append(("Correct", f"/cases/{case_id}/correct/{eid}"))
    if kind != "case_opened":
        out.append(("Retract", f"/cases/{case_id}/retract/{eid}"))
    return out


def page_of(
    items: list[Item], case_id: str, names: Names, *, family: str, page: int, can_write: bool,
    can_correct: bool,
) -> TimelinePage:
    """The page of (newest-first) ``items`` asked for, headed, filtered and with actions."""
    versions = {str(i["event_id"]): int(i["version"]) for i in items}
    done = followed_up(items)
    family = family if family in FAMILIES else ""
    shown = items
    if family:
        families = FAMILIES[family][1]
        shown = [i for i in items if family_of(str(i.get("type"))) in families
                 or (family == "corrections" and "corrected" in i["css"])]
    pages = max(1, -(-len(shown) // PAGE_SIZE))
    page = min(max(page, 1), pages)
    chunk = shown[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
    out = [{
        **i,
        "heading": heading(i, names, versions),
        "actions": actions(i, case_id, done, open_case=can_write) if can_correct else [],
    } for i in chunk]
    return TimelinePage(out, family, page, pages, len(shown))
