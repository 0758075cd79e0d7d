"""Countersignature on both back ends (issue 11 §2): which documents wait for a manager
under each policy setting, how the case, the caseload and ASPIRE show it, the manager's
alert after the policy's working days, returned documents due again, and who may act."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

import pytest

from projections import queries
from projections.projector import Projector
from tests.support import at, open_case, record
from tracker.bootstrap import App
from tracker.domain.access import Principal
from tracker.domain.commands import RecordEvent
from tracker.domain.policy import build_policy
from tracker.kernel.clock import FixedClock
from tracker.kernel.errors import AccessDenied, RuleViolation
from tracker.services.cases import CaseService

POLICY_KEY = "tracker.domain.policy"  # where policy_for keeps the app's loaded policy
MANAGER = Principal("M-TEST01", "manager", frozenset({"TEAM-A"}))
OTHER_MANAGER = Principal("M-TEST02", "manager", frozenset({"TEAM-B"}))
PRACTITIONER = Principal("P-TEST01", "practitioner", frozenset({"TEAM-A"}))


def case_with_assessment(app: App, case_id: str = "CS-CS1", *, harm: str = "low",
                         cm: str = "P-1", day: str = "2026-10-05", **opened: Any) -> str:
    """A case of TEAM-A held by ``cm`` (managed by M-TEST01) with one assessment; its id."""
    open_case(app, case_id, start_date="2026-10-01", **opened)
    record(app, case_id, "case_manager_allocated", {
        "practitioner_id": cm, "agency": "yot", "role": "case_manager", "team": "TEAM-A",
        "manager_id": "M-TEST01"}, at("2026-10-01", 11))
    return assess(app, case_id, harm=harm, day=day)


def assess(app: App, case_id: str, *, harm: str = "low", day: str = "2026-10-05") -> str:
    [rec] = record(app, case_id, "assessment_completed", {
        "kind": "initial", "likelihood_of_reoffending": "medium",
        "safety_and_wellbeing": "low", "risk_of_serious_harm": harm,
        "strengths_recorded": True, "child_involved": True, "parent_carer_involved": True,
        "victim_considered": True, "other_agencies_information_used": True}, at(day, 12))
    return str(rec.event_id)


def plan(app: App, case_id: str, day: str, event_type: str = "plan_agreed") -> str:
    [rec] = record(app, case_id, event_type, {
        "objectives": [{"domain": "desistance", "description": "Attend college weekly.",
                        "target_date": "2027-01-30"}],
        "contingency_for_safety": True, "contingency_for_risk": True,
        "child_involved": True, "parent_carer_involved": True}, at(day, 14))
    return str(rec.event_id)


def act(app: App, who: Principal, case_id: str, event_type: str, document: str, day: str,
        **data: Any) -> None:
    CaseService.of(app).record(
        RecordEvent(case_id=case_id, event_type=event_type,
                    data={"document_event_id": document, **data}, occurred_at=at(day, 16)),
        actor=who, correlation_id="test")


def stage(app: App, case_id: str, name: str = "assessment") -> dict[str, Any]:
    found: dict[str, Any] = dict(queries.case_view(app, case_id)["aspire"]["stages"][name])
    return found


def awaiting(app: App, case_id: str) -> list[str]:
    Projector(app).catch_up()
    [row] = [r for r in queries.caseload(app, team="TEAM-A") if r["case_id"] == case_id]
    return row["awaiting_countersignature"]


def use_policy(app: App, **countersignature: Any) -> None:
    app.extras[POLICY_KEY] = build_policy({"countersignature": countersignature})


SETTINGS: dict[str, tuple[dict[str, Any], dict[str, Any], dict[str, Any]]] = {
    # setting: (policy's [countersignature], a case that needs it, a case that does not)
    "all documents": ({"all_documents": True, "risk_of_serious_harm": []}, {}, {}),
    "named case manager": ({"case_managers": ["P-NQ01"], "risk_of_serious_harm": []},
                           {"cm": "P-NQ01"}, {"cm": "P-1"}),
    "risk of serious harm": ({}, {"harm": "high"}, {"harm": "medium"}),
    "disposal": ({"disposals": ["yro_iss"], "risk_of_serious_harm": []},
                 {"disposal_type": "yro_iss"}, {"disposal_type": "yro"}),
    "offence category": ({"offence_categories": ["sexual_offences"],
                          "risk_of_serious_harm": []},
                         {"offence_category": "sexual_offences"}, {"offence_category": "robbery"}),
    "none": ({"risk_of_serious_harm": []}, {}, {"harm": "very_high"}),
}


@pytest.mark.parametrize("setting", list(SETTINGS))
def test_which_documents_await_countersignature_per_policy_setting(app: App,
                                                                   setting: str) -> None:
    rules, needs, needs_not = SETTINGS[setting]
    use_policy(app, **rules)
    if setting != "none":
        doc = case_with_assessment(app, "CS-YES", **needs)
        assert stage(app, "CS-YES")["status"] == "done_not_countersigned"
        assert awaiting(app, "CS-YES") == ["assessment"]
        [view] = queries.case_view(app, "CS-YES")["aspire"]["countersignature"]
        assert (view["document_event_id"], view["status"]) == (doc, "awaiting")
        act(app, MANAGER, "CS-YES", "document_countersigned", doc, "2026-10-06")
        assert stage(app, "CS-YES")["status"] == "done_on_time"
        assert awaiting(app, "CS-YES") == []
    if setting != "all documents":
        case_with_assessment(app, "CS-NO", **needs_not)
        assert stage(app, "CS-NO")["status"] == "done_on_time"
        assert awaiting(app, "CS-NO") == []


def overdue_alerts(app: App) -> list[dict[str, Any]]:
    return [dict(a) for a in queries.list_alerts(app, open_only=True)
            if a["rule"] == "countersignature_overdue"]


def test_the_manager_is_alerted_after_the_policy_days_until_they_countersign(
        app: App, clock: FixedClock) -> None:
    projector = Projector(app)
    # Wednesday 28 October; five working days later is Wednesday 4 November.
    doc = case_with_assessment(app, harm="high", day="2026-10-28")
    projector.catch_up()
    assert overdue_alerts(app) == []  # Monday 2 November: within the five working days
    clock.set(at("2026-11-05", 17))
    projector.sweep(clock.now())
    [alert] = overdue_alerts(app)
    assert (alert["owner"], alert["subject"]) == ("M-TEST01", f"countersign:{doc}")
    assert alert["caused_by"] == [doc]
    act(app, MANAGER, "CS-CS1", "document_countersigned", doc, "2026-11-05")
    projector.catch_up()
    assert overdue_alerts(app) == []


def test_a_returned_assessment_is_due_again_until_a_new_one(app: App) -> None:
    doc = case_with_assessment(app, harm="high", day="2026-10-05")
    act(app, MANAGER, "CS-CS1", "document_returned", doc, "2026-10-07",
        reason="risk_not_addressed", note="The risk analysis needs the police information.")
    found = stage(app, "CS-CS1")
    [again] = [o for o in found["obligations"] if o["kind"] == "assessment_resubmission"]
    assert (again["subject"], again["due"], again["status"]) == (
        f"returned:{doc}", "2026-10-14", "overdue")  # five working days after the return
    Projector(app).catch_up()
    [row] = queries.caseload(app, team="TEAM-A")
    assert ("assessment", "assessment_resubmission") in {(d["stage"], d["kind"])
                                                         for d in row["due"]}
    new = assess(app, "CS-CS1", harm="high", day="2026-10-20")
    found = stage(app, "CS-CS1")
    [again] = [o for o in found["obligations"] if o["kind"] == "assessment_resubmission"]
    assert (again["done"], again["status"]) == ("2026-10-20", "done_late")
    assert found["status"] == "done_not_countersigned"  # the new one waits for the manager
    views = {v["document_event_id"]: v["status"]
             for v in queries.case_view(app, "CS-CS1")["aspire"]["countersignature"]}
    assert views == {doc: "returned", new: "awaiting"}


def test_a_returned_plan_is_due_again_until_it_is_revised(app: App) -> None:
    use_policy(app, all_documents=True)
    case_with_assessment(app)
    first = plan(app, "CS-CS1", "2026-10-08")
    assert stage(app, "CS-CS1", "planning")["status"] == "done_not_countersigned"
    act(app, MANAGER, "CS-CS1", "document_returned", first, "2026-10-09",
        reason="plan_not_congruent_with_assessment")
    assert stage(app, "CS-CS1", "planning")["status"] == "overdue"
    revised = plan(app, "CS-CS1", "2026-10-12", "plan_revised")
    found = stage(app, "CS-CS1", "planning")
    [again] = [o for o in found["obligations"] if o["kind"] == "plan_resubmission"]
    assert again["status"] == "done_on_time" and revised in again["caused_by"]
    act(app, MANAGER, "CS-CS1", "document_countersigned", revised, "2026-10-13")
    assert stage(app, "CS-CS1", "planning")["status"] == "done_on_time"


def test_only_a_manager_of_the_case_team_signs_off(app: App) -> None:
    doc = case_with_assessment(app, harm="high")
    for who in (PRACTITIONER, OTHER_MANAGER):
        for kind in ("document_countersigned", "document_returned"):
            with pytest.raises(AccessDenied):
                act(app, who, "CS-CS1", kind, doc, "2026-10-06", reason="other")
    with pytest.raises(AccessDenied):  # a manager's acts are these, not a practitioner's
        CaseService.of(app).record(RecordEvent(
            case_id="CS-CS1", event_type="contact_attended",
            data={"kind": "office", "participation": 3}, occurred_at=at("2026-10-06")),
            actor=MANAGER, correlation_id="test")
    assert stage(app, "CS-CS1")["status"] == "done_not_countersigned"
    act(app, MANAGER, "CS-CS1", "document_countersigned", doc, "2026-10-06")
    last = app.store.read_stream("CS-CS1")[-1]
    assert (last.recorded_by, last.recorded_role) == ("M-TEST01", "manager")
    with pytest.raises(AccessDenied):  # nor may a practitioner undo the manager's act
        CaseService.of(app).record(RecordEvent(
            case_id="CS-CS1", event_type="event_retracted",
            data={"target_event_id": str(last.event_id), "reason": "Not agreed."},
            occurred_at=at("2026-10-07")), actor=PRACTITIONER, correlation_id="test")
    assert app.store.read_stream("CS-CS1")[-1].event_id == last.event_id


def test_the_rules_of_signing_off(app: App) -> None:
    doc = case_with_assessment(app, harm="high")
    with pytest.raises(RuleViolation, match="not an assessment or plan"):
        act(app, MANAGER, "CS-CS1", "document_countersigned", str(UUID(int=7)), "2026-10-06")
    with pytest.raises(RuleViolation, match="happened after this"):
        act(app, MANAGER, "CS-CS1", "document_countersigned", doc, "2026-10-02")
    act(app, MANAGER, "CS-CS1", "document_countersigned", doc, "2026-10-06")
    with pytest.raises(RuleViolation, match="already countersigned"):
        act(app, MANAGER, "CS-CS1", "document_returned", doc, "2026-10-07", reason="other")


def test_the_cli_countersigns_and_returns_as_a_manager_only(
        app: App, cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    first = case_with_assessment(app, harm="high")
    second = assess(app, "CS-CS1", harm="high", day="2026-10-06")
    code, out, _err = cli("countersign", "CS-CS1", first, "--occurred-at",
                          "2026-10-07T10:00:00+00:00", "--json")
    assert code == 0, out
    assert json.loads(out)["type"] == "document_countersigned"
    code, out, err = cli("return-document", "CS-CS1", second, "--reason", "no_such_reason")
    assert code == 2 and "data.reason" in err
    code, out, _err = cli("return-document", "CS-CS1", second, "--reason",
                          "analysis_insufficient", "--note", "More on the family.")
    assert code == 0, out
    stream = app.store.read_stream("CS-CS1")
    assert [(r.type, r.recorded_by) for r in stream[-2:]] == [
        ("document_countersigned", "M-CLI01"), ("document_returned", "M-CLI01")]
    monkeypatch.setenv("TRACKER_ROLE", "practitioner")
    code, _out, err = cli("countersign", "CS-CS1", second)
    assert code == 2 and "do not have access" in err
    assert len(app.store.read_stream("CS-CS1")) == len(stream)


def test_offence_category_rule_with_both_sources(app: App) -> None:
    """A case opened as robbery whose ``offence_recorded`` later says sexual offences: the
    latest recorded offence wins (``tracker.domain.offence``), as it stood when each
    document was recorded; before it, case_opened's category is the fallback."""
    use_policy(app, offence_categories=["sexual_offences"], risk_of_serious_harm=[])
    before = case_with_assessment(app, "CS-BOTH", offence_category="robbery",
                                  day="2026-10-02")
    record(app, "CS-BOTH", "offence_recorded", {
        "offence_id": "OF-1", "category": "sexual_offences", "gravity_score": 5,
        "offence_date": "2026-09-01", "first_offence": False}, at("2026-10-03", 10))
    after = assess(app, "CS-BOTH", day="2026-10-05")
    views = {v["document_event_id"]: v for v in
             queries.case_view(app, "CS-BOTH")["aspire"]["countersignature"]}
    assert before not in views or views[before]["status"] != "awaiting"
    assert views[after]["status"] == "awaiting"
    assert awaiting(app, "CS-BOTH") == ["assessment"]
