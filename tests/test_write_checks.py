"""Every write check outside ``authorise`` agrees with it (issue 11 review): what a page
offers (``may_record``) and what a command-line operator may record
(``authorise_operator``) never exceed what ``authorise`` lets the same role record.
Pure: the role matrix against case states built through ``decide``."""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from uuid import UUID

import pytest

from events.envelope import Actor
from tests.support import at
from tests.test_decide import NOW, History
from tracker.domain.access import (
    MANAGER_ACTS,
    Principal,
    authorise,
    authorise_operator,
    may_record,
)
from tracker.domain.case import CaseState
from tracker.domain.commands import RecordEvent
from tracker.kernel.errors import AccessDenied

PRACTITIONER = Principal("P-A1", "practitioner", frozenset({"TEAM-A"}))
MANAGER = Principal("M-A1", "manager", frozenset({"TEAM-A"}))
AUDIT = UUID(int=41)
ERASURE = UUID(int=42)


def command(event_type: str, data: dict[str, Any] | None = None) -> RecordEvent:
    return RecordEvent(case_id="CS-1", event_type=event_type, data=data or {},
                       occurred_at=NOW)


def custody_case() -> CaseState:
    """A TEAM-A case in custody with keyworker K-1 allocated, an audit and an erasure on it."""
    h = History(setting="custody", disposal_type="dto")
    h.add("case_manager_allocated", {"practitioner_id": "K-1", "agency": "secure_establishment",
                                     "role": "secure_keyworker"}, at("2026-01-06"))
    state = h.state
    return replace(state, event_types={**state.event_types, AUDIT: "case_audited",
                                       ERASURE: "personal_data_erased"})


def refused(check: Any, *args: Any) -> bool:
    try:
        check(*args)
    except AccessDenied:
        return True
    return False


def test_the_case_team_cannot_retract_or_supersede_an_audit_or_an_erasure() -> None:
    state = custody_case()
    for target in (AUDIT, ERASURE):
        for kind in ("event_retracted", "event_superseded"):
            wrong = command(kind, {"target_event_id": str(target), "reason": "synthetic"})
            assert refused(authorise, PRACTITIONER, state, wrong), (target, kind)
            assert refused(authorise, MANAGER, state, wrong), (target, kind)
    # their own entries they still correct
    own = command("event_retracted", {"target_event_id": str(UUID(int=99)), "reason": "x"})
    authorise(PRACTITIONER, state, own)


def test_a_page_offers_the_case_team_no_audit_erasure_or_answer_of_its_own() -> None:
    teams = custody_case().teams
    for kind in ("case_audited", "personal_data_erased", "transfer_accepted",
                 "transfer_rejected"):
        assert not may_record(PRACTITIONER, teams, kind), kind
        assert not may_record(MANAGER, teams, kind), kind
    assert may_record(PRACTITIONER, teams, "review_completed")
    assert not may_record(MANAGER, teams, "review_completed")
    assert all(may_record(MANAGER, teams, k) for k in MANAGER_ACTS)


def test_may_record_never_exceeds_authorise_for_the_owning_team() -> None:
    """For each role of the owning team, every kind a page would offer is one ``authorise``
    lets through (data aside: the check is the door, not the rules)."""
    state = custody_case()
    from events.catalogue import EVENT_CLASSES

    for who in (PRACTITIONER, MANAGER):
        for cls in EVENT_CLASSES:
            if cls.type in ("case_opened", "event_retracted", "event_superseded"):
                continue
            if may_record(who, state.teams, cls.type):
                assert not refused(authorise, who, state, command(cls.type)), (who.role,
                                                                             cls.type)


@pytest.mark.parametrize(("role", "kind", "data", "allowed"), [
    ("qa", "case_audited", {}, True),
    ("qa", "contact_attended", {}, False),
    ("qa", "exceptional_circumstances_recorded", {}, False),
    ("auditor", "contact_attended", {}, False),
    ("auditor", "case_audited", {}, False),
    ("practitioner", "case_audited", {}, False),
    ("admin", "case_audited", {}, False),
    ("practitioner", "transfer_accepted", {"transfer_id": "T-1", "team": "TEAM-B"}, False),
    ("manager", "transfer_accepted", {"transfer_id": "T-1", "team": "TEAM-B"}, True),
    ("practitioner", "exceptional_circumstances_recorded", {}, False),
    ("manager", "exceptional_circumstances_recorded", {}, True),
    ("manager", "contact_attended", {}, False),
    ("practitioner", "contact_attended", {}, True),
    ("secure_keyworker", "contact_attended", {}, True),
    ("secure_keyworker", "review_completed", {}, False),
    ("secure_keyworker", "transition_planned", {"kind": "custody_to_community"}, True),
    ("secure_keyworker", "transition_planned", {"kind": "to_probation"}, False),
    ("system", "case_audited", {}, True),
])
def test_an_operator_records_only_what_the_role_may(
    role: str, kind: str, data: dict[str, Any], allowed: bool
) -> None:
    operator = Actor("K-1" if role == "secure_keyworker" else "OP-1", role)
    assert refused(authorise_operator, operator, custody_case(), command(kind, data)) is (
        not allowed)


def test_an_operator_keyworker_must_be_the_one_allocated() -> None:
    other = Actor("K-2", "secure_keyworker")
    assert refused(authorise_operator, other, custody_case(), command("contact_attended"))


def test_an_operator_cannot_correct_an_audit() -> None:
    state = custody_case()
    retract = command("event_retracted", {"target_event_id": str(AUDIT), "reason": "x"})
    for role in ("practitioner", "manager", "admin", "qa"):  # QA records audits, as signed in
        assert refused(authorise_operator, Actor("OP-1", role), state, retract), role


def test_the_timeline_offers_no_correction_of_an_audit_or_an_erasure() -> None:
    from tracker.edges.web.timeline import actions

    for kind in ("case_audited", "personal_data_erased", "breach_authorised"):
        item: dict[str, Any] = {"type": kind, "event_id": "e-1", "css": "", "data": {}}
        assert actions(item, "CS-1", set(), open_case=True) == [], kind
    item = {"type": "review_completed", "event_id": "e-2", "css": "", "data": {}}
    assert ("Retract", "/cases/CS-1/retract/e-2") in actions(item, "CS-1", set(),
                                                             open_case=True)


def test_an_offer_to_another_service_is_answered_only_on_that_services_instance() -> None:
    """A case offered to a service (no team) is answered by a manager signed in to that
    service's own instance (the setting ``service_id``), never by an unrelated team of the
    sending service, nor where no service is set."""
    h = History()  # a TEAM-A case offered to another service
    h.add("transfer_requested", {"transfer_id": "T-X", "kind": "full",
                                 "to_service": "YJS-OTHER", "reason": "moved"}, at("2026-02-01"))
    accept = command("transfer_accepted", {"transfer_id": "T-X", "team": "TEAM-C"})
    for here in (None, "YJS-HERE"):  # the sending instance, configured or not
        team_c = Principal("M-C1", "manager", frozenset({"TEAM-C"}), service=here)
        assert not may_record(team_c, h.state.teams, "transfer_accepted")
        assert refused(authorise, team_c, h.state, accept)
    there = Principal("M-C1", "manager", frozenset({"TEAM-C"}), service="YJS-OTHER")
    assert may_record(there, h.state.teams, "transfer_accepted")
    assert not refused(authorise, there, h.state, accept)
    practitioner_there = Principal("P-C1", "practitioner", frozenset({"TEAM-C"}),
                                   service="YJS-OTHER")
    assert refused(authorise, practitioner_there, h.state, accept)
