"""The KPI data on both back ends (issue 13 §1): recorded through ``CaseService``, sealed
where personal, read back per case, destroyed by erasure; the board's meetings; the seed."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import select

from events.catalogue import EVENT_TYPES
from events.envelope import Actor
from projections.projector import Projector
from projections.queries.outcomes import case_outcomes
from tests.support import at, open_case, record
from tracker.bootstrap import App
from tracker.db.tables import metadata
from tracker.domain.access import Principal
from tracker.kernel.errors import AccessDenied, InvalidInput, RuleViolation
from tracker.services.board import list_meetings, record_meeting
from tracker.services.erasure import erase_child
from tracker.services.seed import seed_caseload

ETHNICITY = "white_roma"  # a value nothing else in the database holds
CHILD = "C-KPI00001"


def scenario(app: App) -> None:
    open_case(app, "CS-KPI1", child_id=CHILD)  # born 2010-05-17, starts 2026-01-05
    record(app, "CS-KPI1", "diversity_recorded", {"ethnicity": ETHNICITY, "sex": "female"},
           at("2026-01-06"))
    record(app, "CS-KPI1", "offence_recorded", {
        "offence_id": "OF-1", "category": "violence_against_the_person", "gravity_score": 5,
        "offence_date": "2025-12-01", "first_offence": True}, at("2026-01-06"))
    record(app, "CS-KPI1", "accommodation_recorded", {
        "point": "start", "suitable": True, "accommodation_type": "foster_care"},
        at("2026-01-07"))
    record(app, "CS-KPI1", "health_need_recorded", {
        "domain": "mental_health", "stage": "need_identified", "stage_date": "2026-01-08"},
        at("2026-01-08"))
    record(app, "CS-KPI1", "victim_identified", {"victim_id": "V-0007",
                                                 "victim_kind": "individual"},
           at("2026-01-08"))


def test_kpi_data_is_recorded_read_back_and_sealed_where_personal(app: App) -> None:
    scenario(app)
    Projector(app).catch_up()  # the read models take the new events in their stride
    [out] = case_outcomes(app)
    assert out["case_id"] == "CS-KPI1" and out["child_id"] == CHILD
    assert (out["ethnicity"], out["ethnic_group"], out["sex"]) == (ETHNICITY, "white", "female")
    assert out["age_at_disposal"] == 15
    assert out["offences"][0]["serious_violence"] and out["offences"][0]["age_at_offence"] == 15
    assert out["accommodation"]["start"] is not None
    assert out["health"]["mental_health"]["need_identified"] == "2026-01-08"
    assert list(out["victims"]) == ["V-0007"]
    with app.engine.connect() as conn:
        for table in metadata.sorted_tables:
            cells = " ".join(str(v) for row in conn.execute(select(table)) for v in row)
            assert ETHNICITY not in cells, table.name
            assert "female" not in cells, table.name
    assert case_outcomes(app, ["CS-NONE"]) == []


def test_erasure_destroys_the_diversity_data_like_the_date_of_birth(app: App) -> None:
    scenario(app)
    erase_child(app, CHILD, "erasure_request", actor=Actor("A-TEST01", "admin"),
                correlation_id="t")
    [out] = case_outcomes(app)
    assert (out["ethnicity"], out["ethnic_group"], out["sex"]) == (None, None, None)
    assert out["age_at_disposal"] is None and out["offences"][0]["age_at_offence"] is None
    # the facts that are not personal stay countable
    assert out["offences"][0]["serious_violence"] and list(out["victims"]) == ["V-0007"]
    diversity = app.store.read_stream("CS-KPI1")[1].event
    assert diversity.type == "diversity_recorded"
    assert (diversity.ethnicity, diversity.sex) == (None, None)  # type: ignore[attr-defined]
    Projector(app).catch_up()


def test_a_rule_refusal_names_the_field(app: App) -> None:
    open_case(app, "CS-KPI2", child_id="C-KPI00002")
    with pytest.raises(RuleViolation) as caught:
        record(app, "CS-KPI2", "health_need_recorded", {
            "domain": "substance_misuse", "stage": "attending", "stage_date": "2026-01-08"},
            at("2026-01-08"))
    assert caught.value.field == "data.stage"
    with pytest.raises(InvalidInput):
        record(app, "CS-KPI2", "victim_identified", {"victim_id": "Jane Smith",
                                                     "victim_kind": "individual"},
               at("2026-01-08"))
    assert app.store.stream_version("CS-KPI2") == 1


MANAGER = Principal("M-TEST01", "manager", frozenset({"TEAM-A"}))
MEETING: dict[str, Any] = {"service": "YJS-TEST", "held_on": "2026-09-15",
                           "agencies_invited": ["police", "health", "education"],
                           "agencies_attending": ["police", "education"]}


def test_board_meetings_are_recorded_by_managers_and_admins_only(app: App) -> None:
    row = record_meeting(app, MANAGER, MEETING)
    assert row["recorded_by"] == "M-TEST01" and row["agencies_attending"] == ["police",
                                                                              "education"]
    record_meeting(app, Principal("A-1", "admin", frozenset()),
                   {**MEETING, "held_on": "2026-06-10", "agencies_attending": []})
    with pytest.raises(AccessDenied):
        record_meeting(app, Principal("P-1", "practitioner", frozenset({"TEAM-A"})), MEETING)
    with pytest.raises(AccessDenied):
        list_meetings(app, Principal("P-1", "practitioner", frozenset({"TEAM-A"})))
    with pytest.raises(InvalidInput) as bad:
        record_meeting(app, MANAGER, {**MEETING, "agencies_attending": ["probation"]})
    assert "not invited" in bad.value.problems[0].reason
    with pytest.raises(RuleViolation) as future:
        record_meeting(app, MANAGER, {**MEETING, "held_on": "2026-12-01"})  # clock: 2 Nov
    assert future.value.field == "held_on"
    auditor = Principal("AU-1", "auditor", frozenset())
    assert [m["held_on"] for m in list_meetings(app, auditor)] == ["2026-06-10", "2026-09-15"]
    assert [m["held_on"] for m in list_meetings(app, since=date(2026, 7, 1))] == ["2026-09-15"]
    assert list_meetings(app, service="YJS-OTHER") == []


def test_the_seed_produces_every_kpi_event_type_and_board_meetings(app: App) -> None:
    seed_caseload(app, cases=40, seed=5, until=date(2026, 10, 30))
    seen = {rec.type for batch in app.store.iter_all() for rec in batch}
    kpi_types = {name for name, cls in EVENT_TYPES.items() if cls.family == "outcomes"}
    assert kpi_types <= seen, sorted(kpi_types - seen)
    meetings = list_meetings(app, service="YJS-DEMO")
    assert len(meetings) >= 4
    assert all(set(m["agencies_attending"]) <= set(m["agencies_invited"]) for m in meetings)
    outcomes = case_outcomes(app)
    assert len(outcomes) == 40
    assert len({o["ethnic_group"] for o in outcomes}) >= 3  # a spread to compare
    seed_caseload(app, cases=40, seed=5, until=date(2026, 10, 30))  # again: nothing new
    assert len(list_meetings(app, service="YJS-DEMO")) == len(meetings)
