"""The read functions and the CLI over real databases, and the personal data they keep."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from events.envelope import Actor
from projections import queries, source
from projections.projector import Projector
from projections.record import fold, fold_raw
from tests.projections.helpers import seed, without_labels
from tests.support import at, open_case, record
from tracker.bootstrap import App
from tracker.db.read_models import alerts, case_records, continuity
from tracker.kernel.errors import CaseNotFound, InvalidInput

Cli = Callable[..., tuple[int, str, str]]


def _allocated_case(app: App, case_id: str, start: str = "2026-10-05", **opened: str) -> None:
    open_case(app, case_id, start_date=start, **opened)
    record(app, case_id, "case_manager_allocated", {
        "practitioner_id": "P-1", "agency": "yot", "role": "case_manager", "team": "TEAM-A",
        "manager_id": "M-1"}, at(start))


def test_the_fast_reader_folds_to_the_same_record_as_the_full_store_read(app: App) -> None:
    accepted = seed(app, 4, 8)
    with app.engine.connect() as conn:
        for case_id in sorted({p.case_id for p in accepted}):
            full = fold(case_id, app.store.read_stream(case_id))
            raw = fold_raw(case_id, (e.event for e in source.read_case(conn, case_id)),
                           Projector(app).sealer.open)
            assert raw.opened is not None and raw.opened.dob_token is not None
            # the same facts; only the raw path keeps the sealed tokens it read
            plain = without_labels(replace(raw, opened=raw.opened._replace(dob_token=None)))
            assert plain == without_labels(full)
            tokens = [raw.opened.label, *(label.token for label in raw.labels)]
            assert all(t is None or t.startswith("sealed:v1:") for t in tokens)
            assert len(raw.labels) == len(full.labels)


def test_stored_records_keep_the_date_of_birth_sealed_and_shredding_erases_it(app: App
                                                                              ) -> None:
    _allocated_case(app, "CS-DOB", date_of_birth="2009-03-14", child_id="C-DOB1")
    projector = Projector(app)
    projector.catch_up()
    with app.engine.connect() as conn:
        text = conn.execute(select(case_records.c.record)).scalar_one()
    assert "2009-03-14" not in text and "sealed:v1:C-DOB1:" in text
    view = queries.case_view(app, "CS-DOB")
    assert view["continuity"]["probation"]["transition_date"] == "2026-09-14"
    assert app.keyring.destroy("C-DOB1")
    fresh = Projector(app).load_record("CS-DOB")
    assert fresh is not None and fresh.opened is not None and fresh.opened.dob is None
    assert queries.case_view(app, "CS-DOB")["continuity"]["probation"]["status"] == "unknown"


def test_no_date_derived_from_the_date_of_birth_is_stored_in_clear(app: App) -> None:
    """The 17½ date (date of birth + 17 years 6 months) gave the date of birth away from
    the alert's details and the stored continuity view; only the status is kept there."""
    _allocated_case(app, "CS-175", date_of_birth="2009-04-20", child_id="C-1751",
                    expected_end_date="2027-06-30")
    Projector(app).catch_up()
    with app.engine.connect() as conn:
        stored = " ".join(str(v) for row in conn.execute(select(continuity, alerts)
                                                         .where(continuity.c.case_id
                                                                == alerts.c.case_id))
                          for v in row)
        rules = set(conn.execute(select(alerts.c.rule)).scalars())
    assert "probation_transition_plan_missing" in rules
    assert '"status": "reached"' in stored
    assert "2026-10-20" not in stored and "2009-04-20" not in stored
    # an authorised reader still gets the date, opened from the sealed date of birth
    assert queries.case_view(app, "CS-175")["continuity"]["probation"]["transition_date"] \
        == "2026-10-20"


def test_case_view_as_at_a_date_or_a_moment_and_with_the_projector_behind(app: App) -> None:
    _allocated_case(app, "CS-V1")
    record(app, "CS-V1", "contact_missed", {"kind": "office", "acceptable": False,
                                            "reason": "no_reason_given"}, at("2026-10-07"))
    fresh = queries.case_view(app, "CS-V1")  # never projected: folded on the spot
    assert fresh["projection"]["caught_up"] is False
    assert fresh["engagement"]["attendance"]["missed_unacceptable"] == 1
    Projector(app).catch_up()
    now = queries.case_view(app, "CS-V1")
    assert now["projection"]["caught_up"] is True
    assert now["aspire"]["stages"]["assessment"]["status"] == "overdue"  # due 26 October
    early = queries.case_view(app, "CS-V1", as_at=date(2026, 10, 6))
    assert early["engagement"]["attendance"]["missed_unacceptable"] == 0
    moment = queries.case_view(app, "CS-V1", as_at=datetime(2026, 10, 7, 12, tzinfo=UTC))
    assert moment["engagement"]["attendance"]["missed_unacceptable"] == 1
    assert {a["rule"] for a in now["alerts"]} >= {"missed_appointment_not_followed_up"}
    with pytest.raises(CaseNotFound):
        queries.case_view(app, "CS-NOPE")
    with pytest.raises(InvalidInput, match="as_at: must include a time zone"):
        queries.case_view(app, "CS-V1", as_at=datetime(2026, 10, 7))


def test_caseload_filters_and_orders_by_what_is_overdue(app: App) -> None:
    _allocated_case(app, "CS-Q1", start="2026-09-01")  # assessment long overdue
    _allocated_case(app, "CS-Q2", start="2026-10-28")  # nothing overdue yet
    open_case(app, "CS-Q3", start_date="2026-10-28", team="TEAM-B")
    Projector(app).catch_up()
    rows = queries.caseload(app)
    assert rows[0]["case_id"] == "CS-Q1"
    assert rows[0]["overdue"] >= 1 and all(r["overdue"] == 0 for r in rows[1:])
    assert any(d["kind"] == "assessment" and d["status"] == "overdue" for d in rows[0]["due"])
    assert {r["case_id"] for r in queries.caseload(app, practitioner="P-1")} == {"CS-Q1", "CS-Q2"}
    assert {r["case_id"] for r in queries.caseload(app, team="TEAM-B")} == {"CS-Q3"}
    past = queries.caseload(app, as_at=date(2026, 9, 15))
    assert [r["case_id"] for r in past] == ["CS-Q1"]  # the others had not started
    by_person = {p["practitioner"]: p for p in queries.compliance_by_practitioner(app)}
    assert by_person["P-1"]["cases"] == 2 and by_person["(none)"]["cases"] == 1
    assert by_person["P-1"]["overdue_cases"] == 1


def test_engagement_series_for_a_case_and_for_a_team(app: App) -> None:
    _allocated_case(app, "CS-E1", start="2026-08-03")
    for day, score in (("2026-08-05", 4), ("2026-08-19", 2), ("2026-09-09", 3)):
        record(app, "CS-E1", "contact_attended", {"kind": "office", "participation": score},
               at(day))
    Projector(app).catch_up()
    months = queries.engagement_series(app, case_id="CS-E1")
    assert [(m["month"], m["attended"], m["required"]) for m in months[:2]] == [
        (1, 2, 4), (2, 1, 4)]  # enhanced: four a month at first
    team = {p["month"]: p for p in queries.engagement_series(app, team="TEAM-A")}
    assert team["2026-08"]["attended"] == 2 and team["2026-08"]["participation"] == 3.0


def test_ratings_from_audits_and_from_records(app: App) -> None:
    _allocated_case(app, "CS-R1", start="2026-09-01")
    record(app, "CS-R1", "assessment_completed", {
        "kind": "initial", "likelihood_of_reoffending": "high", "safety_and_wellbeing": "low",
        "risk_of_serious_harm": "high", "strengths_recorded": True, "child_involved": True,
        "parent_carer_involved": True, "victim_considered": True,
        "other_agencies_information_used": True}, at("2026-09-10"))
    record(app, "CS-R1", "case_audited", {"audit_type": "thematic", "theme": "high_risk",
                                          "prompts": [
        {"key_question": kq, "prompt": "a", "answer": "no" if kq == "2.1.3" else "yes"}
        for kq in ("2.1.1", "2.1.2", "2.1.3")]}, at("2026-10-20"))
    Projector(app).catch_up()
    result = queries.ratings(app, start=date(2026, 9, 1), end=date(2026, 10, 31))
    audited = result["audits"]["domains"]["court"]["assessment"]
    assert audited["questions"]["safety_wellbeing"]["judged"] == 0  # low on safety
    assert audited["questions"]["risk_of_harm"] == {"yes": 0, "judged": 1, "pct": 0.0,
                                                    "band": "inadequate"}
    assert (audited["rating"], audited["small_sample"]) == ("inadequate", True)
    from_records = result["records"]["domains"]["court"]["assessment"]
    assert from_records["questions"]["desistance"]["judged"] == 1
    assert result["comparison"]["court"]["assessment"]["audits"] == "inadequate"
    assert result["period"] == {"from": "2026-09-01", "to": "2026-10-31"}
    with pytest.raises(InvalidInput, match="start: must not be after end"):
        queries.ratings(app, start=date(2026, 10, 1), end=date(2026, 9, 1))


def test_replay_as_known_at_shows_later_corrections_and_back_dated_entries(app: App) -> None:
    _allocated_case(app, "CS-K1", start="2026-10-05")
    attended = record(app, "CS-K1", "contact_attended", {"kind": "office",
                                                         "participation": 2},
                      at("2026-10-07"))[0]
    app.clock.set(datetime(2026, 11, 2, 15, tzinfo=UTC))  # type: ignore[attr-defined]
    record(app, "CS-K1", "assessment_completed", {  # back-dated: happened 9 Oct
        "kind": "initial", "likelihood_of_reoffending": "low", "safety_and_wellbeing": "low",
        "risk_of_serious_harm": "low", "strengths_recorded": True, "child_involved": True,
        "parent_carer_involved": True, "victim_considered": True,
        "other_agencies_information_used": True}, at("2026-10-09"))
    record(app, "CS-K1", "event_superseded", {
        "target_event_id": str(attended.event_id), "reason": "Wrong rating.",
        "replacement_type": "contact_attended",
        "replacement": {"kind": "office", "participation": 5}}, at("2026-11-02", 14))
    before = queries.replay(app, "CS-K1", as_known_at=datetime(2026, 11, 2, 13, tzinfo=UTC))
    after = queries.replay(app, "CS-K1")
    assert before["aspire"]["stages"]["assessment"]["status"] == "overdue"
    assert after["aspire"]["stages"]["assessment"]["status"] == "done_on_time"
    assert before["engagement"]["participation"]["latest"] == 2
    assert after["engagement"]["participation"]["latest"] == 5
    by_type = {t["type"]: t for t in before["timeline"]}
    assert by_type["contact_attended"]["corrected_later"]["kind"] == "superseded"
    assert by_type["assessment_completed"]["recorded_later"] is True
    assert by_type["assessment_completed"]["back_dated"] is True
    assert before["summary"]["recorded_later"] == 1  # the back-dated assessment
    assert before["summary"]["corrected_later"] == 1
    now_attended = next(t for t in after["timeline"] if t["type"] == "contact_attended")
    assert now_attended["status"] == "superseded"


class TestCli:
    def test_project_show_caseload_alerts_ack_ratings(self, app: App, cli: Cli) -> None:
        _allocated_case(app, "CS-CLI", start="2026-09-01")
        code, out, _err = cli("project", "--json")
        assert code == 0 and json.loads(out)["events"] == 2
        code, out, _err = cli("case", "show", "CS-CLI", "--json")
        assert code == 0
        shown = json.loads(out)
        assert shown["aspire"]["stages"]["assessment"]["status"] == "overdue"
        code, out, _err = cli("case", "show", "CS-CLI")
        assert code == 0 and "ASPIRE" in out and "overdue" in out
        code, out, _err = cli("caseload", "--practitioner", "P-1", "--json")
        assert [r["case_id"] for r in json.loads(out)] == ["CS-CLI"]
        code, out, _err = cli("alerts", "--open", "--json")
        alerts = json.loads(out)
        target = next(a for a in alerts if a["rule"] == "assessment_overdue")
        code, out, _err = cli("alerts", "ack", target["alert_id"], "--note", "Booked.",
                              "--json")
        assert code == 0
        assert (json.loads(out)["acknowledged_by"], json.loads(out)["ack_note"]) == (
            "M-CLI01", "Booked.")
        code, out, _err = cli("ratings", "--from", "2026-09-01", "--to", "2026-10-31")
        assert code == 0 and "court" in out
        code, out, _err = cli("project", "--rebuild", "--only", "aspire", "--json")
        assert code == 0 and json.loads(out)["rebuilt"] is True

    @pytest.mark.parametrize(("args", "message"), [
        (("case", "show", "CS-NONE"), "case CS-NONE not found"),
        (("alerts", "ack", "nope", "--note", "x"), "alert nope not found"),
        (("alerts", "ack", "nope", "--note", " "), "note: must not be empty"),
        (("ratings", "--from", "2026-13-01"), "--from: '2026-13-01' is not a date"),
        (("project", "--only", "nonsense"), "unknown read model 'nonsense'"),
        (("caseload", "--as-at", "soon"), "--as-at"),
    ])
    def test_bad_input_is_one_clear_line(self, app: App, cli: Cli, args: tuple[str, ...],
                                         message: str) -> None:
        code, _out, err = cli(*args)
        assert code == 2
        assert message in err
        assert "Traceback" not in err


def test_acknowledgement_records_who_and_when(app: App) -> None:
    open_case(app, "CS-ACK", start_date="2026-10-01")
    Projector(app).catch_up()
    alert = queries.list_alerts(app, team="TEAM-A")[0]
    row = queries.acknowledge_alert(app, alert["alert_id"], note="Seen.",
                                    actor=Actor("M-9", "manager"))
    assert row["acknowledged_at"] == app.clock.now().isoformat()
    assert queries.list_alerts(app, team="TEAM-NONE") == []
