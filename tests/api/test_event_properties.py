"""Issue 9 §1, the property: whatever the catalogue and the API accept can be processed.

For every event type in the catalogue, hypothesis generates its data from the pydantic
model's own JSON schema (``hypothesis_jsonschema``: every enum, pattern, length and
number bound), with its dates and moments drawn between the policy's bounds for the
case (boundaries, a day past them, years 1 and 9999 and extreme offsets included) and its
references drawn from a case that holds something to refer to. Each one is posted to the
real API, which goes through the case service, on SQLite and on PostgreSQL. An answer
is a 201 or a clean 4xx refusal, never a 5xx; after every 201 the projector quarantines
nothing, and the case, its replay, its JSON export and its page all answer 200.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any
from uuid import UUID

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema

from events.base import Event
from events.case import COURT_DISPOSALS, CaseOpened
from events.catalogue import EVENT_CLASSES, EVENT_TYPES
from events.envelope import Actor
from projections.projector import Projector
from tests.api.conftest import Env, add_qa
from tests.conftest import NOW
from tests.support import at, open_case, record
from tests.web.conftest import sign_in
from tracker.domain.access import MANAGER_ACTS, OPERATOR_ONLY, QA_ONLY
from tracker.domain.audits import prompt_ids
from tracker.domain.commands import RecordEvent
from tracker.domain.inspection import question_set
from tracker.domain.policy import default_policy
from tracker.services.cases import CaseService

EXAMPLES_PER_TYPE = 12
"""Per event type and back end (every catalogued type, both back ends), derandomized."""

CASE = "CS-PROP"
START = date(2026, 1, 5)
ZONES = [UTC, timezone(timedelta(hours=14)), timezone(timedelta(hours=-12)),
         timezone(timedelta(hours=5, minutes=45))]
CONTACTS = [f"c{i}" for i in range(1, 31)]
"""Appointments scheduled on the case, so attended / missed have something to refer to."""


def _uuid(n: int) -> UUID:
    return UUID(int=n)


MISSED = [_uuid(100 + i) for i in range(4)]
"""Unacceptable misses on the case (failures a warning, breach or follow-up can name)."""
ATTENDED = _uuid(200)
TARGETS: dict[UUID, str] = {**dict.fromkeys(MISSED, "contact_missed"),
                            ATTENDED: "contact_attended", _uuid(300): "plan_agreed",
                            _uuid(400): "case_manager_allocated"}
"""The events a correction can target, with their types."""
CONDITIONS = [f"k{i}" for i in range(1, 5)]
"""Conditions set on a conditional-caution case (the first two failed without excuse)."""
CONDITION_FAILURES = [_uuid(500 + i) for i in range(2)]
"""Failed conditions a prosecution decision can name."""
BREACH = _uuid(600)
"""Breach proceedings awaiting a manager's authorisation (on the YRO case)."""
LEVEL_CHANGE = _uuid(700)
"""A practitioner's change of level awaiting a manager's agreement."""
MANAGER = Actor("M-TEST01", "manager")
VICTIMS = ["V-0001", "V-0002", "V-0003", "V-0004"]
"""Victims on the case, each one step further on (identified; contacted; offered
restorative justice; taken it up), so that every victim step has one it may follow."""
OPEN_LINKS = ["looked_after", "child_protection_plan", "child_in_need"]
"""Links to wider services open on the case since the earliest date the policy allows (so
an end date drawn between the bounds is mostly after it); ``early_help`` is left to start."""
DISPOSAL_FOR = {
    **dict.fromkeys(("condition_set", "condition_completed", "condition_failed",
                     "prosecution_decided"), "youth_conditional_caution"),
    **dict.fromkeys(("panel_held", "contract_agreed", "referred_back_to_court"),
                    "referral_order"),
    "joint_decision_made": "youth_caution",
    "out_of_court_intervention_completed": "youth_caution",
}
"""The disposal whose profile has a place for a route-specific event (domain.md §11); the
rest are recorded on a YRO."""
AUTHORS = {"transfer_accepted": "manager_b", "transfer_rejected": "manager_b"}
"""Who records a type, where not the case's practitioner: a transfer is answered by a
manager of the receiving team (issue 11 §4)."""


def _bounds() -> tuple[date, date]:
    rules = default_policy().dates
    return (START.replace(year=START.year - rules.oldest_child_years),
            START.replace(year=START.year + rules.horizon_years))


def _dates() -> st.SearchStrategy[date]:
    low, high = _bounds()
    day = timedelta(days=1)
    edges = [low, high, START, NOW.date(), low - day, high + day, date.min, date.max]
    return st.one_of(st.sampled_from(edges), st.dates(min_value=low, max_value=high))


def _moments() -> st.SearchStrategy[datetime]:
    low, high = _bounds()
    edge = [datetime(low.year, low.month, low.day, tzinfo=UTC),
            datetime(high.year, high.month, high.day, 23, 59, 59, tzinfo=UTC),
            datetime.min.replace(tzinfo=UTC),
            datetime.max.replace(tzinfo=timezone(timedelta(hours=-12)))]
    drawn = st.datetimes(min_value=datetime(low.year, low.month, low.day),
                         max_value=datetime(high.year, high.month, high.day, 23, 59, 59),
                         timezones=st.sampled_from(ZONES))
    return st.one_of(st.sampled_from(edge), drawn)


FORMATS: dict[str, st.SearchStrategy[str]] = {
    "t-date": _dates().map(date.isoformat),
    "t-moment": _moments().map(datetime.isoformat),
    "t-uuid": st.sampled_from([*MISSED, *TARGETS, *CONDITION_FAILURES, _uuid(999)]).map(str),
    "t-oversight": st.sampled_from(["ov1", "ov-new"]),
    "t-breach": st.sampled_from([BREACH, _uuid(999)]).map(str),
    "t-change": st.sampled_from([LEVEL_CHANGE, _uuid(999)]).map(str),
    "t-category": st.sampled_from([*default_policy().manager_decisions.oversight_categories,
                                   "not_a_category"]),
    "t-condition": st.sampled_from([*CONDITIONS, "k-new"]),
    "t-contact": st.sampled_from([*CONTACTS, "c-new"]),
    "t-transition": st.sampled_from(["t1", "t-new"]),
    "t-transfer": st.sampled_from(["x1", "x-new"]),
    "t-practitioner": st.sampled_from(["P-TEST01", "P-OTHER"]),
    "t-team": st.sampled_from(["TEAM-A"]),
    "t-action": st.sampled_from(["AA-1", "AA-2", "AA-NEW"]),
    "t-failure": st.sampled_from(MISSED).map(str),
    "t-document": st.sampled_from([_uuid(300), _uuid(999)]).map(str),
    "t-victim": st.sampled_from(VICTIMS),
    "t-start": st.one_of(
        st.sampled_from([NOW.date().replace(year=NOW.year - 10), NOW.date(), START]),
        st.dates(min_value=NOW.date().replace(year=NOW.year - 10), max_value=NOW.date()),
    ).map(date.isoformat),
}
BY_NAME = {"contact_id": "t-contact", "transition_id": "t-transition",
           "practitioner_id": "t-practitioner", "team": "t-team", "start_date": "t-start",
           "failure_event_ids": "t-failure", "condition_id": "t-condition",
           "transfer_id": "t-transfer", "action_id": "t-action",
           "document_event_id": "t-document",
           "oversight_id": "t-oversight", "category": "t-category",
           "breach_event_id": "t-breach", "change_event_id": "t-change",
           "victim_id": "t-victim"}
BY_FORMAT = {"date": "t-date", "date-time": "t-moment", "uuid": "t-uuid"}
NEW_IDS = {"contact_scheduled": "contact_id", "transition_planned": "transition_id",
           "condition_set": "condition_id", "transfer_requested": "transfer_id",
           "management_oversight_recorded": "oversight_id", "victim_identified": "victim_id"}
"""Where an id names something new (left to the model's own pattern)."""


def _rewrite(schema: Any, new: str, name: str = "") -> Any:
    """The model's schema with its dates, moments and references drawn from the case
    (except the ``new`` id, which names something new)."""
    if isinstance(schema, list):
        return [_rewrite(s, new, name) for s in schema]
    if not isinstance(schema, dict):
        return schema
    if (schema.get("type") == "string" and name in BY_NAME and name != new
            and "enum" not in schema):  # an enum (an offence category) keeps its values
        return {"type": "string", "format": BY_NAME[name]}
    if schema.get("format") in BY_FORMAT:
        return {"type": "string", "format": BY_FORMAT[schema["format"]]}
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "properties":
            out[key] = {k: _rewrite(v, new, k) for k, v in value.items()}
        else:
            out[key] = _rewrite(value, new, name)
    return out


def data_of(cls: type[Event]) -> st.SearchStrategy[dict[str, Any]]:
    """Generated data for ``cls`` (a correction's replacement from its target's type)."""
    if cls.type == "event_superseded":
        return st.sampled_from(sorted(TARGETS.items())).flatmap(
            lambda target: st.fixed_dictionaries({
                "target_event_id": st.just(str(target[0])),
                "reason": st.text(min_size=1, max_size=40),
                "replacement_type": st.just(target[1]),
                "replacement": data_of(EVENT_TYPES[target[1]]),
            }, optional={"replacement_occurred_at": FORMATS["t-moment"]}))
    if cls.type == "case_audited":
        return _audits()
    drawn = from_schema(_rewrite(cls.model_json_schema(), NEW_IDS.get(cls.type, "")),
                        custom_formats=FORMATS)
    if cls.type == "transfer_accepted":  # into the team the case was offered to
        return drawn.map(lambda d: {**_as_object(d), "team": "TEAM-B"})
    return drawn.map(_as_object)


def _audits() -> st.SearchStrategy[dict[str, Any]]:
    """Thematic audits of the court case: a few real prompts (their ids are data, which a
    schema cannot draw), actions with new or clashing ids and dates at the bounds."""
    prompts = st.lists(st.sampled_from(prompt_ids(question_set(), "court")), min_size=1,
                       max_size=6, unique=True).flatmap(lambda ids: st.tuples(*[
                           st.fixed_dictionaries(
                               {"key_question": st.just(k), "prompt": st.just(p),
                                "answer": st.sampled_from(["yes", "no", "not_applicable"])},
                               optional={"comment": st.text(max_size=30)})
                           for k, p in ids]).map(list))
    action = st.fixed_dictionaries({
        "action_id": st.sampled_from(["AA-1", "AA-3", "AA-4"]),
        "description": st.text(min_size=1, max_size=30), "owner_id": st.just("P-TEST01"),
        "due_date": FORMATS["t-date"]})
    override = st.fixed_dictionaries({
        "key_question": st.sampled_from(["2.1.1", "2.4.3", "3.1.1"]),
        "answer": st.booleans(), "reason": st.text(max_size=30)})
    return st.fixed_dictionaries(
        {"audit_type": st.just("thematic"),
         "theme": st.sampled_from([*default_policy().qa.themes, "fishing"]),
         "prompts": prompts},
        optional={"actions": st.lists(action, max_size=2), "overrides": st.lists(
            override, max_size=2), "safety_and_wellbeing": st.sampled_from(
            ["low", "high"]), "note": st.text(max_size=30)})


def _as_object(value: Any) -> dict[str, Any]:
    assert isinstance(value, dict)  # an event's schema is an object
    return value


def occurred() -> st.SearchStrategy[datetime]:
    """When it happened: from the case's start to the fixed clock's now, any offset."""
    return st.datetimes(min_value=datetime(2026, 1, 5, 12), max_value=datetime(2026, 11, 1),
                        timezones=st.sampled_from(ZONES))


def _history(env: Env, disposal: str, kind: str = "") -> None:
    """The case every example is recorded on, holding what an event may refer to."""
    app = env.app
    route = "court" if disposal in COURT_DISPOSALS else "out_of_court"
    open_case(app, CASE, child_id="C-PROP", disposal_type=disposal, route=route)
    record(app, CASE, "case_manager_allocated",
           {"practitioner_id": "P-TEST01", "agency": "yot", "role": "case_manager"},
           at("2026-01-05"), event_id=_uuid(400))
    record(app, CASE, "plan_agreed", {"objectives": [{"domain": "desistance", "description": "x",
                                     "target_date": "2026-06-01"}],
                     "contingency_for_safety": True, "contingency_for_risk": True,
                     "child_involved": True, "parent_carer_involved": False},
           at("2026-01-06"), event_id=_uuid(300))
    for i, contact in enumerate(CONTACTS):
        record(app, CASE, "contact_scheduled",
               {"contact_id": contact, "kind": "office",
                "scheduled_for": f"2026-02-{1 + i % 27:02d}T10:00:00+00:00"}, at("2026-01-07"))
    for i, missed in enumerate(MISSED):
        record(app, CASE, "contact_missed",
               {"kind": "office", "acceptable": False,
                "reason": "no_reason_given"}, at(f"2026-02-{10 + i}"), event_id=missed)
    if disposal == "yro":
        for i, warned in enumerate(MISSED[:2]):  # a later failure may lead to breach
            record(app, CASE, "warning_issued", {"failure_event_id": str(warned)},
                   at(f"2026-02-{15 + i}"))
    if disposal == "youth_conditional_caution":
        for condition in CONDITIONS:
            record(app, CASE, "condition_set", {"condition_id": condition, "kind": "reparation",
                                                "deadline": "2026-03-01"}, at("2026-01-05", 11))
        for condition, failed in zip(CONDITIONS, CONDITION_FAILURES, strict=False):
            record(app, CASE, "condition_failed", {"condition_id": condition,
                                                   "reasonable_excuse": False},
                   at("2026-03-02"), event_id=failed)
    if disposal == "referral_order":
        record(app, CASE, "panel_held", {"kind": "initial", "attendee_roles": ["child"],
                                         "victim_views_presented": False}, at("2026-01-20"))
    record(app, CASE, "contact_attended", {"kind": "phone", "participation": 3},
           at("2026-02-20"), event_id=ATTENDED)
    record(app, CASE, "case_audited", {  # by the operator: audit actions to complete
        "audit_type": "thematic", "theme": "education",
        "prompts": [{"key_question": "2.1.1" if route == "court" else "3.1.1", "prompt": "a",
                     "answer": "yes"}],
        "actions": [{"action_id": f"AA-{i}", "description": "x", "owner_id": "P-TEST01",
                     "due_date": "2026-04-01"} for i in (1, 2)]}, at("2026-02-21"))
    if disposal == "yro":
        record(app, CASE, "breach_initiated", {"failure_event_ids": [str(MISSED[2])],
                                               "serious_failure": True},
               at("2026-02-21"), event_id=BREACH)
    record(app, CASE, "intervention_level_changed",
           {"intervention_level": "intensive", "reason": "other"}, at("2026-02-22"),
           event_id=LEVEL_CHANGE)
    CaseService.of(app).record(RecordEvent(
        case_id=CASE, event_type="management_oversight_recorded", occurred_at=at("2026-02-23"),
        data={"oversight_id": "ov1", "category": "allocation", "note": "n", "action": "a",
              "action_due": "2026-03-01"}), actor=MANAGER, correlation_id="test")
    steps = [("victim_contacted", {"method": "phone"}),
             ("restorative_justice_offered", {}),
             ("restorative_justice_taken_up", {"kind": "direct_meeting"})]
    for n, victim in enumerate(VICTIMS):
        record(app, CASE, "victim_identified", {"victim_id": victim,
                                                "victim_kind": "individual"}, at("2026-01-08"))
        for event_type, extra in steps[:n]:
            record(app, CASE, event_type, {"victim_id": victim, **extra}, at("2026-01-09"))
    low, _high = _bounds()
    for service in OPEN_LINKS:
        record(app, CASE, "wider_service_link_started",
               {"service": service, "start_date": (low + timedelta(days=1)).isoformat()},
               at("2026-01-08"))
    record(app, CASE, "transition_planned",
           {"transition_id": "t1", "kind": "between_services", "planned_date": "2026-12-01"},
           at("2026-03-01"))
    if kind in ("transfer_accepted", "transfer_rejected", "caretaking_ended"):
        record(app, CASE, "transfer_requested", {"transfer_id": "x1", "kind": "caretaking",
                                                 "to_team": "TEAM-B", "reason": "r"},
               at("2026-03-02"))
    if kind == "caretaking_ended":
        record(app, CASE, "transfer_accepted", {"transfer_id": "x1", "team": "TEAM-B"},
               at("2026-03-03"))


def _reads_succeed(env: Env, case_id: str) -> None:
    Projector(env.app).catch_up()
    assert Projector(env.app).quarantined() == []
    headers = env["prac_a"].headers
    for path in ("", "/replay", "/history", "/export"):
        resp = env.client.get(f"/api/cases/{case_id}{path}", headers=headers)
        assert resp.status_code == 200, (path, resp.text)
    page = env.client.get(f"/cases/{case_id}")
    assert page.status_code == 200, page.text


@pytest.mark.parametrize("cls", EVENT_CLASSES, ids=lambda c: c.type)
def test_whatever_the_api_accepts_the_read_side_processes(env: Env, cls: type[Event]) -> None:
    if cls is not CaseOpened:
        _history(env, DISPOSAL_FOR.get(cls.type, "yro"), cls.type)
    sign_in(env.client, "prac.a")
    headers = env[AUTHORS.get(cls.type, "manager_a" if cls.type in MANAGER_ACTS
                              else "prac_a")].headers
    if cls.type in QA_ONLY:  # audits are QA's, from outside the audited team
        headers = add_qa(env, "qa.prop", ["TEAM-Q"], "Q-PROP01").headers
    fresh: Iterator[int] = itertools.count(1)
    outcomes: dict[int, int] = {}

    @settings(max_examples=EXAMPLES_PER_TYPE, derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(data=data_of(cls), when=occurred())
    def one(data: dict[str, Any], when: datetime) -> None:
        if cls is CaseOpened:
            case_id = f"CS-NEW{next(fresh)}"
            resp = env.client.post("/api/cases", json={"case_id": case_id, "data": data},
                                   headers=headers)
        else:
            case_id = CASE
            resp = env.client.post(f"/api/cases/{CASE}/events/{cls.type}",
                                   json={"data": data, "occurred_at": when.isoformat()},
                                   headers=headers)
        outcomes[resp.status_code] = outcomes.get(resp.status_code, 0) + 1
        assert resp.status_code < 500, resp.text
        if resp.status_code == 201:
            _reads_succeed(env, case_id)

    one()
    print(f"{cls.type}: {dict(sorted(outcomes.items()))}")
    if cls.type in OPERATOR_ONLY:  # recorded by the erasure service, never as a case entry
        assert set(outcomes) == {403}, outcomes
        return
    assert outcomes.get(201), f"no generated {cls.type} was accepted: {outcomes}"
