"""The forms of a manager's acts on a case (issue 11 §1): exceptional circumstances, breach
authorised or declined, agreeing a change of intervention level, management oversight; and
the practitioner's "oversight action done".

Each form records one event through the same act machinery as the practitioner's acts
(``tracker.edges.web.acts.Act``); the role matrix (``tracker.domain.access.MANAGER_ACTS``)
decides who may record it, and the page offers only what the matrix allows.
"""

from __future__ import annotations

from collections.abc import Mapping

from tracker.domain.case import CaseState
from tracker.edges.web.act_forms import ActLink, Options
from tracker.edges.web.forms import NOTE, Field, FormSpec

TITLES = {
    "exceptional-circumstances": "Record exceptional circumstances",
    "authorise-breach": "Authorise breach proceedings",
    "decline-breach": "Decline breach proceedings",
    "agree-level": "Agree a change of intervention level",
    "oversight": "Record management oversight",
    "oversight-done": "Mark an oversight action done",
}
"""Each act's title, also the success message's subject."""


def exceptional_circumstances(failures: Options) -> FormSpec:
    """The failure the manager excuses, and why (sealed)."""
    return FormSpec("exceptional-circumstances", TITLES["exceptional-circumstances"],
                    "exceptional_circumstances_recorded", [
        Field("failure_event_id", "For which failure to comply?", "select", list(failures),
              required=True),
        Field("note", "What are the exceptional circumstances?", "textarea", required=True,
              hint="Kept sealed with the child's own key. You are recorded as the manager "
                   "who decided."),
    ], intro="Exceptional circumstances mean this failure does not lead to breach.")


def authorise_breach(breaches: Options) -> FormSpec:
    """Which breach proceedings the manager authorises."""
    return FormSpec("authorise-breach", TITLES["authorise-breach"], "breach_authorised", [
        Field("breach_event_id", "Which breach proceedings?", "select", list(breaches),
              required=True),
        NOTE,
    ], intro="The service's policy asks a manager to authorise breach proceedings.")


def decline_breach(breaches: Options) -> FormSpec:
    """Which breach proceedings the manager declines, and the reason (required)."""
    return FormSpec("decline-breach", TITLES["decline-breach"], "breach_declined", [
        Field("breach_event_id", "Which breach proceedings?", "select", list(breaches),
              required=True),
        Field("reason", "Why are they declined?", "textarea", required=True,
              hint="Kept sealed with the child's own key."),
    ])


def agree_level(changes: Options) -> FormSpec:
    """Which change of intervention level the manager agrees."""
    return FormSpec("agree-level", TITLES["agree-level"], "intervention_level_change_agreed", [
        Field("change_event_id", "Which change of level?", "select", list(changes),
              required=True),
        NOTE,
    ])


def oversight(categories: Mapping[str, str]) -> FormSpec:
    """A management oversight entry: its category (the policy's), a note, and optionally
    an action for the practitioner with its due date."""
    return FormSpec("oversight", TITLES["oversight"], "management_oversight_recorded", [
        Field("category", "Oversight category", "select", list(categories.items()),
              required=True),
        Field("note", "Oversight note", "textarea", required=True,
              hint="Kept sealed with the child's own key."),
        Field("action", "Action for the practitioner (optional)", "textarea",
              hint="Give a due date with it; it shows as due on the case until done."),
        Field("action_due", "Action due by", "date"),
        Field("from_alert", "From alert", "text",
              hint="Filled in when you started from an alert; leave as it is."),
    ], intro="Recorded on the case in your name, in the policy's oversight category.")


def oversight_done(actions: Options) -> FormSpec:
    """Which oversight action the practitioner has done."""
    return FormSpec("oversight-done", TITLES["oversight-done"], "oversight_action_completed", [
        Field("oversight_id", "Which action?", "select", list(actions), required=True),
        NOTE,
    ])


def manager_act_links(case_id: str, state: CaseState) -> list[ActLink]:
    """The acts a manager of the case's team is offered on the case page."""
    base = f"/cases/{case_id}"
    open_breaches = any(s == "open" for s in state.breaches.values())
    unexcused = any(f.event_id not in state.excused and f.event_id not in state.warned
                    for f in state.failures)
    links = [
        ActLink(TITLES["authorise-breach"], f"{base}/breach/authorise", "", open_breaches),
        ActLink(TITLES["decline-breach"], f"{base}/breach/decline", "secondary", open_breaches),
        ActLink(TITLES["exceptional-circumstances"], f"{base}/exceptional-circumstances",
                "secondary", unexcused),
        ActLink(TITLES["agree-level"], f"{base}/level/agree", "secondary",
                any(not agreed for agreed in state.level_changes.values())),
        ActLink(TITLES["oversight"], f"{base}/oversight", "secondary", True),
    ]
    return [link for link in links if link.shown]


def oversight_done_link(case_id: str, state: CaseState) -> list[ActLink]:
    """The practitioner's link to mark an oversight action done, while one is open."""
    shown = any(s == "open" for s in state.oversight.values())
    return [ActLink(TITLES["oversight-done"], f"/cases/{case_id}/oversight/done", "", shown)
            ] if shown else []


def saved_notice(recorded: str) -> str:
    """The success banner's text after one of these acts (``?recorded=slug``), or ''."""
    title = TITLES.get(recorded)
    return f"Saved: {title}." if title else ""
