"""The KPI data events (issue 13 §1), pure: each event's bounds, the rules ``decide``
keeps (funnel order, links, victims, out-of-court completion), and the read fold."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any
from uuid import uuid4

import pytest
from pydantic import ValidationError

from events.base import Event
from events.catalogue import EVENT_TYPES, parse_event
from events.envelope import RecordedEvent
from events.outcomes import ETHNIC_GROUP, DiversityRecorded
from events.sealing import plan
from projections.outcomes import age_on, fold_outcomes
from tracker.domain.case import CaseState, evolve
from tracker.domain.commands import RecordEvent
from tracker.domain.decide import decide
from tracker.domain.policy import default_policy
from tracker.kernel.errors import InvalidInput, RuleViolation

POLICY = default_policy()
NOW = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)

VALID: dict[str, dict[str, Any]] = {
    "accommodation_recorded": {"point": "start", "suitable": True,
                               "accommodation_type": "parent_or_guardian"},
    "ete_recorded": {"point": "review", "status": "school_full_time", "suitable": True,
                     "hours_offered": 25, "hours_attended": 20},
    "sen_recorded": {"identified": True, "formal_plan": "ehcp"},
    "health_need_recorded": {"domain": "mental_health", "stage": "need_identified",
                             "stage_date": "2026-02-01"},
    "wider_service_link_started": {"service": "child_in_need", "start_date": "2025-12-01"},
    "wider_service_link_ended": {"service": "child_in_need", "end_date": "2026-03-01"},
    "offence_recorded": {"offence_id": "OF-1", "category": "robbery", "gravity_score": 6,
                         "offence_date": "2025-12-20", "first_offence": True},
    "victim_identified": {"victim_id": "V-0001", "victim_kind": "individual"},
    "victim_contacted": {"victim_id": "V-0001", "method": "phone"},
    "victim_consent_recorded": {"victim_id": "V-0001", "consented": True},
    "victim_views_taken": {"victim_id": "V-0001", "method": "phone"},
    "restorative_justice_offered": {"victim_id": "V-0001"},
    "restorative_justice_taken_up": {"victim_id": "V-0001", "kind": "direct_meeting"},
    "restorative_justice_completed": {"victim_id": "V-0001"},
    "victim_satisfaction_recorded": {"victim_id": "V-0001", "satisfaction": "satisfied"},
    "out_of_court_intervention_completed": {},
    "diversity_recorded": {"ethnicity": "black_caribbean", "sex": "male"},
    "feedback_given": {"respondent": "child", "point": "end", "answers": [
        {"question": "i_was_listened_to", "score": 5}, {"question": "my_worker_helped_me",
                                                         "score": 4}]},
}

INVALID: list[tuple[str, dict[str, Any], str]] = [
    ("accommodation_recorded", {"suitable": True, "accommodation_type": "bed_and_breakfast"},
     "suitable"),
    ("accommodation_recorded", {"point": "middle"}, "point"),
    ("accommodation_recorded", {"accommodation_type": "castle"}, "accommodation_type"),
    ("ete_recorded", {"hours_offered": 61, "hours_attended": 0}, "hours_offered"),
    ("ete_recorded", {"hours_attended": -1}, "hours_attended"),
    ("ete_recorded", {"hours_offered": 10, "hours_attended": 12}, "hours_attended cannot"),
    ("ete_recorded", {"status": "not_in_ete", "hours_offered": 5, "hours_attended": 0},
     "not in ETE"),
    ("sen_recorded", {"identified": False, "formal_plan": "ehcp"}, "formal_plan"),
    ("health_need_recorded", {"domain": "housing"}, "domain"),
    ("health_need_recorded", {"stage": "cured"}, "stage"),
    ("health_need_recorded", {"stage_date": "0001-01-01"}, "stage_date"),
    ("wider_service_link_started", {"service": "youth_club"}, "service"),
    ("offence_recorded", {"gravity_score": 9}, "gravity_score"),
    ("offence_recorded", {"gravity_score": 0}, "gravity_score"),
    ("offence_recorded", {"category": "piracy"}, "category"),
    ("victim_identified", {"victim_id": "V-JohnSmith"}, "victim_id"),
    ("victim_identified", {"victim_id": "Jane Doe"}, "victim_id"),
    ("victim_identified", {"victim_id": "V-1"}, "victim_id"),
    ("victim_satisfaction_recorded", {"satisfaction": "ecstatic"}, "satisfaction"),
    ("diversity_recorded", {"ethnicity": "martian"}, "ethnicity"),
    ("diversity_recorded", {"sex": "x"}, "sex"),
    ("feedback_given", {"answers": []}, "answers"),
    ("feedback_given", {"answers": [{"question": "i_was_listened_to", "score": 6}]}, "score"),
    ("feedback_given", {"answers": [{"question": "i_was_listened_to", "score": 3},
                                    {"question": "i_was_listened_to", "score": 4}]}, "once"),
    ("feedback_given", {"respondent": "teacher"}, "respondent"),
    ("out_of_court_intervention_completed", {"extra": 1}, "extra"),
]


def test_every_kpi_event_is_registered_frozen_and_strict() -> None:
    for name, data in VALID.items():
        cls = EVENT_TYPES[name]
        assert cls.family == "outcomes" and cls.model_config.get("extra") == "forbid"
        event = parse_event(name, data)
        with pytest.raises(ValidationError):  # frozen: any attempt to change fails
            event.__setattr__(next(iter(data), "note"), None)


@pytest.mark.parametrize(("event_type", "change", "names"), INVALID)
def test_each_bound_is_enforced_and_named(event_type: str, change: dict[str, Any],
                                          names: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_event(event_type, {**VALID[event_type], **change}, context="data")
    text = "; ".join(f"{p.field}: {p.reason}" for p in caught.value.problems)
    assert names in text


def test_diversity_is_sealed_with_the_basic_key_like_the_date_of_birth() -> None:
    slots = {s.name: s for s in plan(DiversityRecorded)}
    assert set(slots) == {"ethnicity", "sex"}
    assert all(s.kind == "personal" and s.tier == "basic" for s in slots.values())


def test_ethnic_groups_follow_the_ons_2021_high_level_groups() -> None:
    assert len([e for e in ETHNIC_GROUP if e != "not_stated"]) == 19
    assert set(ETHNIC_GROUP.values()) == {"asian", "black", "mixed", "white", "other",
                                          "not_stated"}
    assert ETHNIC_GROUP["mixed_white_and_black_caribbean"] == "mixed"


# -- decide ------------------------------------------------------------------------------


def _rec(case_id: str, event: Event, when: datetime, version: int) -> RecordedEvent:
    return RecordedEvent(
        position=version, event_id=uuid4(), stream_id=case_id, stream_version=version,
        type=event.type, schema_version=type(event).version, occurred_at=when,
        recorded_at=when, recorded_by="P-1", recorded_role="practitioner",
        correlation_id="t", event=event, prev_hash="", hash="")


class Case:
    """A case built by deciding each command, as ``CaseService`` does."""

    def __init__(self, disposal: str = "yro", setting: str = "community") -> None:
        self.state = CaseState(case_id="CS-K1")
        self.records: list[RecordedEvent] = []
        route = "out_of_court" if disposal.startswith(("youth_", "community_")) else "court"
        self.do("case_opened", {
            "child_id": "C-K1", "date_of_birth": "2010-05-17", "disposal_type": disposal,
            "route": route, "start_date": "2026-01-05", "intervention_level": "standard",
            "setting": setting, "service": "YJS-T", "team": "TEAM-A"}, "2026-01-05")

    def do(self, event_type: str, data: dict[str, Any], day: str) -> None:
        when = datetime.fromisoformat(f"{day}T12:00:00+00:00")
        command = RecordEvent(case_id="CS-K1", event_type=event_type, data=data,
                              occurred_at=when)
        for draft in decide(self.state, command, NOW, POLICY):
            rec = _rec("CS-K1", draft.event, when, self.state.version + 1)
            self.records.append(rec)
            self.state = replace(evolve(self.state, rec), version=self.state.version + 1)

    def refused(self, event_type: str, data: dict[str, Any], day: str) -> RuleViolation:
        with pytest.raises(RuleViolation) as caught:
            self.do(event_type, data, day)
        return caught.value


def stage(domain: str, name: str, day: str) -> dict[str, Any]:
    return {"domain": domain, "stage": name, "stage_date": day}


def test_the_health_funnel_is_kept_in_order_with_dates_that_do_not_go_back() -> None:
    case = Case()
    assert case.refused("health_need_recorded", stage("mental_health", "attending",
                                                      "2026-02-01"), "2026-02-01"
                        ).field == "data.stage"
    case.do("health_need_recorded", stage("mental_health", "need_identified", "2026-02-01"),
            "2026-02-01")
    assert "recorded first" in case.refused(
        "health_need_recorded", stage("mental_health", "attending", "2026-02-10"),
        "2026-02-10").reason
    # the other funnel is separate
    assert case.refused("health_need_recorded", stage("substance_misuse",
                                                      "intervention_offered", "2026-02-03"),
                        "2026-02-03").field == "data.stage"
    assert case.refused("health_need_recorded", stage(
        "mental_health", "intervention_planned", "2026-01-20"), "2026-02-10"
    ).field == "data.stage_date"
    assert case.refused("health_need_recorded", stage(
        "mental_health", "intervention_planned", "2026-02-20"), "2026-02-10"
    ).reason == "is after the day it is recorded"
    case.do("health_need_recorded", stage("mental_health", "intervention_offered",
                                          "2026-02-10"), "2026-02-10")
    case.do("health_need_recorded", stage("mental_health", "attending", "2026-03-01"),
            "2026-03-01")
    assert "already at" in case.refused("health_need_recorded", stage(
        "mental_health", "need_identified", "2026-03-02"), "2026-03-02").reason


def test_wider_service_links_open_and_close_once() -> None:
    case = Case()
    assert case.refused("wider_service_link_ended", {"service": "early_help",
                                                     "end_date": "2026-02-01"},
                        "2026-02-01").field == "data.service"
    case.do("wider_service_link_started", {"service": "early_help",
                                           "start_date": "2025-11-01"}, "2026-01-10")
    assert case.refused("wider_service_link_started", {"service": "early_help",
                                                       "start_date": "2026-01-11"},
                        "2026-01-11").field == "data.service"
    assert case.refused("wider_service_link_ended", {"service": "early_help",
                                                     "end_date": "2025-10-01"},
                        "2026-02-01").field == "data.end_date"
    case.do("wider_service_link_ended", {"service": "early_help", "end_date": "2026-02-01"},
            "2026-02-01")
    case.do("wider_service_link_started", {"service": "early_help",
                                           "start_date": "2026-03-01"}, "2026-03-01")


def test_offences_are_unique_and_not_after_the_case_started() -> None:
    case = Case()
    data = VALID["offence_recorded"]
    assert case.refused("offence_recorded", {**data, "offence_date": "2026-02-01"},
                        "2026-02-02").field == "data.offence_date"
    case.do("offence_recorded", data, "2026-01-06")
    assert case.refused("offence_recorded", data, "2026-01-07").field == "data.offence_id"


def test_a_victims_steps_follow_each_other() -> None:
    case = Case()
    vid = {"victim_id": "V-0042"}
    assert case.refused("victim_contacted", {**vid, "method": "phone"},
                        "2026-01-06").reason == "was not identified on this case"
    case.do("victim_identified", {**vid, "victim_kind": "business"}, "2026-01-06")
    assert case.refused("victim_identified", {**vid, "victim_kind": "business"},
                        "2026-01-06").field == "data.victim_id"
    assert case.refused("restorative_justice_offered", vid, "2026-01-07").reason \
        == "has not been contacted yet"
    case.do("victim_contacted", {**vid, "method": "letter"}, "2026-01-07")
    case.do("victim_consent_recorded", {**vid, "consented": True}, "2026-01-08")
    assert "offered" in case.refused("restorative_justice_taken_up",
                                     {**vid, "kind": "direct_meeting"}, "2026-01-09").reason
    case.do("restorative_justice_offered", vid, "2026-01-09")
    assert "taken up" in case.refused("restorative_justice_completed", vid,
                                      "2026-01-10").reason
    case.do("restorative_justice_taken_up", {**vid, "kind": "direct_meeting"}, "2026-01-10")
    case.do("restorative_justice_completed", vid, "2026-02-10")
    case.do("case_closed", {"reason": "order_completed"}, "2026-03-01")
    # satisfaction and feedback may come after the end; other KPI data may not
    case.do("victim_satisfaction_recorded", {**vid, "satisfaction": "satisfied"},
            "2026-04-01")
    case.do("feedback_given", VALID["feedback_given"], "2026-04-01")
    assert case.refused("sen_recorded", VALID["sen_recorded"], "2026-04-01").field \
        == "event_type"


def test_out_of_court_completion_needs_an_out_of_court_case_and_its_conditions_done() -> None:
    court = Case("yro")
    assert "out-of-court case" in court.refused(
        "out_of_court_intervention_completed", {}, "2026-02-01").reason
    caution = Case("youth_conditional_caution")
    caution.do("condition_set", {"condition_id": "C1", "kind": "reparation",
                                 "deadline": "2026-03-01"}, "2026-01-05")
    assert "C1" in caution.refused("out_of_court_intervention_completed", {},
                                   "2026-02-01").reason
    caution.do("condition_completed", {"condition_id": "C1"}, "2026-02-20")
    caution.do("out_of_court_intervention_completed", {}, "2026-02-21")
    assert "already" in caution.refused("out_of_court_intervention_completed", {},
                                        "2026-02-22").reason


def test_release_needs_custody_and_diversity_needs_a_value() -> None:
    community = Case("yro")
    assert community.refused("accommodation_recorded", {
        **VALID["accommodation_recorded"], "point": "release"}, "2026-02-01"
    ).field == "data.point"
    assert community.refused("diversity_recorded", {}, "2026-02-01").field == "data.ethnicity"
    custody = Case("dto", setting="custody")
    custody.do("ete_recorded", {**VALID["ete_recorded"], "point": "release"}, "2026-02-01")


# -- the read fold ------------------------------------------------------------------------


def test_the_fold_gives_the_latest_values_and_computed_ages() -> None:
    case = Case("yro")
    case.do("offence_recorded", VALID["offence_recorded"], "2026-01-05")
    case.do("offence_recorded", {**VALID["offence_recorded"], "offence_id": "OF-2",
                                 "category": "drugs", "gravity_score": 4,
                                 "first_offence": False}, "2026-01-05")
    case.do("diversity_recorded", VALID["diversity_recorded"], "2026-01-06")
    case.do("accommodation_recorded", VALID["accommodation_recorded"], "2026-01-07")
    case.do("accommodation_recorded", {"point": "change", "suitable": False,
                                       "accommodation_type": "no_fixed_abode"}, "2026-02-07")
    case.do("accommodation_recorded", {"point": "end", "suitable": True,
                                       "accommodation_type": "foster_care"}, "2026-06-01")
    case.do("ete_recorded", VALID["ete_recorded"], "2026-01-07")
    case.do("sen_recorded", {"identified": True, "formal_plan": "none"}, "2026-01-08")
    case.do("sen_recorded", VALID["sen_recorded"], "2026-03-08")
    case.do("health_need_recorded", stage("substance_misuse", "need_identified",
                                          "2026-01-09"), "2026-01-09")
    case.do("health_need_recorded", stage("substance_misuse", "intervention_planned",
                                          "2026-01-20"), "2026-01-20")
    case.do("wider_service_link_started", VALID["wider_service_link_started"], "2026-01-09")
    case.do("wider_service_link_ended", VALID["wider_service_link_ended"], "2026-03-01")
    case.do("victim_identified", VALID["victim_identified"], "2026-01-10")
    case.do("victim_contacted", VALID["victim_contacted"], "2026-01-11")
    case.do("victim_consent_recorded", {"victim_id": "V-0001", "consented": False},
            "2026-01-12")
    case.do("feedback_given", VALID["feedback_given"], "2026-06-01")
    case.do("case_closed", {"reason": "order_completed"}, "2026-06-02")
    out = fold_outcomes(case.records, POLICY.kpi_data.serious_violence_min_gravity)
    assert out is not None
    acc = out["accommodation"]
    assert acc["start"] and acc["start"]["accommodation_type"] == "parent_or_guardian"
    assert acc["end"] and acc["end"]["suitable"] and acc["latest"] == acc["end"]
    assert len(acc["history"]) == 3 and acc["release"] is None
    assert out["ete"]["latest"] and out["ete"]["latest"]["hours_attended"] == 20
    assert out["sen"] == {"on": "2026-03-08", "identified": True, "formal_plan": "ehcp"}
    assert out["health"]["substance_misuse"] == {
        "need_identified": "2026-01-09", "intervention_planned": "2026-01-20",
        "intervention_offered": None, "attending": None}
    assert out["health"]["mental_health"]["need_identified"] is None
    assert out["wider_services"] == {"child_in_need": [{"start": "2025-12-01",
                                                        "end": "2026-03-01"}]}
    assert [(o["offence_id"], o["serious_violence"], o["age_at_offence"])
            for o in out["offences"]] == [("OF-1", True, 15), ("OF-2", False, 15)]
    assert out["first_offence"] is True
    victim = out["victims"]["V-0001"]
    assert victim["contacted"] == "2026-01-11" and victim["consented"] is False
    assert victim["rj_offered"] is None
    assert (out["ethnicity"], out["ethnic_group"], out["sex"]) == (
        "black_caribbean", "black", "male")
    assert out["age_at_disposal"] == 15
    assert out["closed_on"] == "2026-06-02" and out["close_reason"] == "order_completed"
    assert out["feedback"][0]["scores"] == {"i_was_listened_to": 5, "my_worker_helped_me": 4}


def test_serious_violence_threshold_comes_from_the_policy() -> None:
    case = Case()
    case.do("offence_recorded", {**VALID["offence_recorded"], "gravity_score": 5},
            "2026-01-05")
    strict = fold_outcomes(case.records, 6)
    usual = fold_outcomes(case.records, POLICY.kpi_data.serious_violence_min_gravity)
    assert strict and usual
    assert not strict["offences"][0]["serious_violence"]
    assert usual["offences"][0]["serious_violence"]


def test_age_is_whole_years_on_the_day() -> None:
    born = date(2010, 5, 17)
    assert age_on(born, date(2026, 5, 16)) == 15
    assert age_on(born, date(2026, 5, 17)) == 16
    assert age_on(None, date(2026, 5, 17)) is None
