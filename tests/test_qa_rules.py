"""QA's pure rules (issue 11 §3): the prompt roll-up, the v1 audit upcaster, the role matrix
of the qa role, the dip-sample draw, and the audit actions a case page shows."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from events.audit import CaseAudited, KeyQuestionOverride, PromptAnswer
from events.catalogue import parse_event, upcast
from projections.sampling import Candidate, draw
from tests.conftest import NOW
from tests.support import opened
from tracker.domain.access import (
    ROLES,
    Principal,
    authorise,
    can_audit_case,
    can_draw_samples,
    can_list_samples,
    can_read_case,
    can_see_management,
    can_see_team,
    can_write_case,
)
from tracker.domain.audits import answers_for, prompt_ids, rolled_up
from tracker.domain.case import CaseState
from tracker.domain.commands import RecordEvent
from tracker.domain.inspection import question_set
from tracker.domain.policy import default_policy
from tracker.edges.web.qa_view import audit_actions
from tracker.kernel.errors import AccessDenied


def p(kq: str, prompt: str, answer: str) -> PromptAnswer:
    return PromptAnswer.model_validate({"key_question": kq, "prompt": prompt, "answer": answer})


def test_a_key_question_is_yes_at_the_threshold_of_applicable_prompts() -> None:
    prompts = [p("2.1.2", "a", "yes"), p("2.1.2", "b", "yes"), p("2.1.2", "c", "no"),
               p("2.4.3", "a", "yes"), p("2.4.3", "b", "yes"), p("2.4.3", "c", "yes"),
               p("2.4.3", "d", "no"),
               p("2.1.3", "a", "not_applicable"), p("2.1.3", "b", "not_applicable"),
               p("2.2.1", "a", "yes"), p("2.2.1", "b", "not_applicable")]
    assert rolled_up(prompts, 75) == {"2.1.2": False,  # 2 of 3 = 66.7%
                                      "2.4.3": True,   # 3 of 4 = exactly 75%
                                      "2.2.1": True}   # 1 of 1 applicable; 2.1.3 not judged
    assert rolled_up(prompts, 60)["2.1.2"] is True      # the number is the policy's
    assert rolled_up(prompts, 100)["2.4.3"] is False


def test_an_override_replaces_the_roll_up_and_answers_follow_the_question_set() -> None:
    prompts = [p("2.1.2", "a", "no"), p("2.1.1", "a", "yes")]
    override = KeyQuestionOverride(key_question="2.1.2", answer=True, reason="Seen elsewhere.")
    answers = answers_for(question_set(), "court", prompts, [override], 75)
    assert [(a.standard, a.lens, a.answer) for a in answers] == [
        ("assessment", "desistance", True), ("assessment", "safety_wellbeing", True)]
    assert len(prompt_ids(question_set(), "court")) == 52
    assert len(prompt_ids(question_set(), "out_of_court")) == 34


def test_a_stored_v1_audit_reads_as_a_full_audit_with_its_answers_and_typed_auditor() -> None:
    v1 = {"auditor_id": "QA-OLD1", "question_set": "hmip-youth-2021",
          "answers": [{"standard": "assessment", "lens": "desistance", "answer": True}]}
    event = parse_event("case_audited", upcast("case_audited", 1, v1))
    assert isinstance(event, CaseAudited)
    assert (event.audit_type, event.prompts, event.legacy_auditor_id) == ("full", [], "QA-OLD1")
    assert [(a.standard, a.answer) for a in event.answers] == [("assessment", True)]
    assert CaseAudited.version == 2


# -- the role matrix --------------------------------------------------------------------------

QA_B = Principal("Q-1", "qa", frozenset({"TEAM-B"}))


def _state(team: str = "TEAM-A") -> CaseState:
    from events.case import CaseOpened

    return CaseState("CS-1", version=1, opened=CaseOpened.model_validate(opened(team=team)))


def _command(event_type: str, data: dict[str, Any] | None = None) -> RecordEvent:
    return RecordEvent(case_id="CS-1", event_type=event_type, data=data or {},
                       occurred_at=NOW)


def test_qa_reads_any_case_and_records_an_audit_and_nothing_else() -> None:
    assert "qa" in ROLES
    assert can_read_case(QA_B, "TEAM-A") and can_read_case(QA_B, "TEAM-B")
    assert not can_write_case(QA_B, "TEAM-A")
    authorise(QA_B, _state("TEAM-A"), _command("case_audited"))  # another team's case
    for other in ("contact_missed", "case_closed", "event_retracted", "audit_action_completed",
                  "personal_data_erased", "warning_issued"):
        with pytest.raises(AccessDenied):
            authorise(QA_B, _state("TEAM-A"), _command(other))
    with pytest.raises(AccessDenied):
        authorise(QA_B, _state("TEAM-A"), _command("case_opened", opened(team="TEAM-A")))
    with pytest.raises(AccessDenied):  # a case that does not exist
        authorise(QA_B, CaseState("CS-1"), _command("case_audited"))


def test_own_team_audits_need_the_peer_audit_policy_and_practitioners_no_longer_audit() -> None:
    with pytest.raises(AccessDenied):
        authorise(QA_B, _state("TEAM-B"), _command("case_audited"))
    authorise(QA_B, _state("TEAM-B"), _command("case_audited"), peer_audit=True)
    assert not can_audit_case(QA_B, "TEAM-B", False) and can_audit_case(QA_B, "TEAM-B", True)
    practitioner = Principal("P-1", "practitioner", frozenset({"TEAM-A"}))
    with pytest.raises(AccessDenied):
        authorise(practitioner, _state("TEAM-A"), _command("case_audited"))
    authorise(practitioner, _state("TEAM-A"), _command("audit_action_completed"))
    assert default_policy().qa.allow_peer_audit is False


@pytest.mark.parametrize("role", ROLES)
def test_only_qa_draws_samples_and_qa_and_auditors_list_them(role: str) -> None:
    who = Principal("U-1", role, frozenset({"TEAM-A"}))  # type: ignore[arg-type]
    assert can_draw_samples(who) is (role == "qa")
    assert can_list_samples(who) is (role in ("qa", "auditor"))
    assert can_audit_case(who, "TEAM-B", True) is (role == "qa")
    if role == "qa":
        assert can_see_team(who, None) and can_see_management(who, None)


# -- the draw ---------------------------------------------------------------------------------


def _candidates() -> list[Candidate]:
    return [Candidate(f"CS-{i:02d}", "court" if i < 12 else "out_of_court",
                      "TEAM-A" if i % 2 else "TEAM-B", f"P-{i % 3}",
                      ("low", "medium", "high")[i % 3]) for i in range(20)]


def test_the_same_seed_draws_the_same_sample_spread_over_the_strata() -> None:
    policy = default_policy()
    one = draw(_candidates(), preset="custom", seed=9, policy=policy,
               strata=["route"], size=5)
    two = draw(list(reversed(_candidates())), preset="custom", seed=9, policy=policy,
               strata=["route"], size=5)
    assert one == two
    # 12 court : 8 out of court, 5 cases: exact shares 3.0 and 2.0
    assert [d.stratum for d in one].count("court") == 3
    assert draw(_candidates(), preset="custom", seed=10, policy=policy, strata=["route"],
                size=5) != one
    by_team_and_risk = draw(_candidates(), preset="custom", seed=9, policy=policy,
                            strata=["team", "risk"], size=6)
    assert len({d.stratum for d in by_team_and_risk}) == 6  # six strata of 3-4: one each
    dip = draw(_candidates(), preset="monthly_dip", seed=1, policy=policy, per_practitioner=2)
    assert sorted(d.stratum for d in dip) == ["P-0", "P-0", "P-1", "P-1", "P-2", "P-2"]
    default = draw(_candidates(), preset="monthly_dip", seed=1, policy=policy)
    assert len(default) == 3 * policy.qa.monthly_dip_per_practitioner
    inspection = draw(_candidates(), preset="inspection", seed=1, policy=policy)
    assert len(inspection) == 20  # at least 20: all of them


def test_the_case_page_shows_each_audit_action_done_due_or_overdue() -> None:
    def ev(kind: str, data: dict[str, Any], marks: list[str] | None = None) -> dict[str, Any]:
        return {"type": kind, "data": data, "event_id": "E-1", "occurred_at":
                "2026-11-01T10:00:00+00:00", "marks": marks or []}

    actions = [{"action_id": f"AA-{i}", "description": f"do {i}", "owner_id": "P-1",
                "due_date": due} for i, due in ((1, "2026-10-01"), (2, "2026-10-01"),
                                                (3, "2026-12-01"))]
    events = [ev("case_audited", {"actions": actions}),
              ev("audit_action_completed", {"action_id": "AA-1"}),
              ev("audit_action_completed", {"action_id": "AA-3"}, ["retracted"])]
    rows = audit_actions(events, date(2026, 11, 2))
    assert [(r["action_id"], r["status"]) for r in rows] == [
        ("AA-1", "done"), ("AA-2", "overdue"), ("AA-3", "due")]
