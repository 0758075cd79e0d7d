"""The case record fold: corrections, back-dated entries, idempotence, storage."""

from __future__ import annotations

from datetime import UTC, datetime

from projections.record import dumps, evolve, fold, loads
from tests.projections.conftest import History
from tests.projections.plain import PlainDob
from tracker.domain.corrections import apply_corrections


def test_a_retraction_removes_what_its_target_recorded(history: History) -> None:
    history.assess("2026-01-12")
    missed = history.miss("2026-01-14")
    assert len(history.record().missed) == 1
    history.add("event_retracted", {"target_event_id": str(missed.event_id),
                                    "reason": "Wrong case."}, "2026-02-01")
    record = history.record()
    assert record.missed == ()
    assert [c.kind for c in record.corrections] == ["retracted"]
    obligations = history.views("2026-02-02").aspire["stages"]["delivery"]["obligations"]
    assert all(o["kind"] != "follow_up" for o in obligations)


def test_a_supersession_replaces_in_place_and_may_move_the_date(history: History) -> None:
    attended = history.attend("2026-01-20", participation=2)
    history.add("event_superseded", {
        "target_event_id": str(attended.event_id), "reason": "Wrong day and rating.",
        "replacement_type": "contact_attended",
        "replacement": {"kind": "home_visit", "participation": 5},
        "replacement_occurred_at": "2026-01-08T10:00:00+00:00",
    }, "2026-02-01")
    (fact,) = history.record().attended
    assert (fact.kind, fact.participation) == ("home_visit", 5)
    assert fact.id == str(attended.event_id)
    assert fact.pos == attended.position
    first = next(o for o in history.stage("2026-02-02", "delivery")["obligations"]
             if o["kind"] == "first_appointment")
    assert (first["done"], first["status"]) == ("2026-01-08", "done_on_time")


def test_folding_the_raw_log_equals_folding_the_corrected_one(history: History) -> None:
    a = history.attend("2026-01-20", participation=2)
    m = history.miss("2026-01-22")
    history.add("event_superseded", {
        "target_event_id": str(a.event_id), "reason": "Typo.",
        "replacement_type": "contact_attended",
        "replacement": {"kind": "office", "participation": 4}}, "2026-01-25")
    history.add("event_retracted", {"target_event_id": str(m.event_id),
                                    "reason": "Never happened."}, "2026-01-26")
    raw = fold(history.case_id, history.events)
    corrected = fold(history.case_id, apply_corrections(history.events))
    assert raw == corrected


def test_a_back_dated_entry_counts_from_when_it_happened(history: History) -> None:
    history.attend("2026-01-26")
    history.add("assessment_completed", {
        "kind": "initial", "likelihood_of_reoffending": "low", "safety_and_wellbeing": "low",
        "risk_of_serious_harm": "low", "strengths_recorded": True, "child_involved": True,
        "parent_carer_involved": True, "victim_considered": True,
        "other_agencies_information_used": True,
    }, "2026-01-14", recorded=datetime(2026, 2, 3, 9, tzinfo=UTC))
    assert history.stage("2026-02-04", "assessment")["status"] == "done_on_time"


def test_applying_an_event_again_changes_nothing(history: History) -> None:
    history.assess("2026-01-12")
    missed = history.miss("2026-01-14")
    record = history.record()
    assert evolve(record, missed) == record
    assert evolve(record, history.events[0]) == record


def test_storage_round_trip_keeps_every_fact(history: History) -> None:
    history.allocate("2026-01-05")
    history.assess("2026-01-12", safety="high")
    history.plan("2026-01-20", domains=("desistance", "risk_of_harm"))
    history.attend("2026-01-21", barriers_noted=["travel"], barriers_addressed=["timing"])
    m = history.miss("2026-01-22")
    history.follow_up(m, "2026-01-23")
    history.add("case_audited", {"audit_type": "thematic", "theme": "education", "prompts": [
        {"key_question": "2.1.1", "prompt": "a", "answer": "yes"}],
        "safety_and_wellbeing": "medium"}, "2026-02-01")
    record = history.record()
    text = dumps(record, PlainDob())
    assert loads(text, PlainDob()) == record
    assert "2010-05-17" in text  # PlainDob keeps it readable; the projector seals it


def test_a_shredded_date_of_birth_comes_back_as_unknown(history: History) -> None:
    class Shredded(PlainDob):
        def open(self, token: str) -> None:
            return None

    record = loads(dumps(history.record(), PlainDob()), Shredded())
    assert record.opened is not None and record.opened.dob is None
    views = history.views("2026-01-06")
    assert views.continuity["probation"]["status"] == "not_yet"
