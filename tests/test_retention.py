"""Retention by disposal type (policy ``[retention]``, domain.md §10), with a fixed clock:
the rule, the dry run, the scheduled job erasing or asking admins to approve."""

from __future__ import annotations

from datetime import date
from typing import Any, get_args

import pytest
from sqlalchemy import select

from events.case import COURT_DISPOSALS, DisposalType
from tests.support import as_operator, at, open_case, record, run_cli
from tracker.bootstrap import App
from tracker.db.read_models import alerts
from tracker.domain.policy import default_policy
from tracker.domain.retention import CaseFacts, case_expiry, child_expiry
from tracker.services.app import policy_for
from tracker.services.retention import run_retention
from workers import jobs
from workers.runtime import Workers

TODAY = date(2026, 11, 2)  # the fixed clock's day (tests.conftest.NOW)
RETENTION = default_policy().retention


def facts(disposal: str, last: str, *, closed: bool = True, dob: str | None = None,
          case_id: str = "CS-1") -> CaseFacts:
    return CaseFacts(case_id, disposal, date.fromisoformat(last), closed,
                     date.fromisoformat(dob) if dob else None)


class TestRule:
    def test_out_of_court_three_years_after_the_last_action_or_at_eighteen_if_later(
        self,
    ) -> None:
        adult = case_expiry(facts("youth_caution", "2022-06-01", dob="2004-01-01"), RETENTION)
        assert (adult.rule, adult.expires_on) == ("out_of_court_and_referral", date(2025, 6, 1))
        young = case_expiry(facts("referral_order", "2022-06-01", dob="2010-03-01"), RETENTION)
        assert young.expires_on == date(2028, 3, 1)  # at 18, later than 3 years

    def test_other_court_orders_five_years_with_basic_information_after_three(self) -> None:
        found = case_expiry(facts("yro", "2021-05-01", dob="2004-01-01"), RETENTION)
        assert (found.rule, found.expires_on, found.basic_only_from) == (
            "other_court_orders", date(2026, 5, 1), date(2024, 5, 1))

    def test_an_open_case_never_runs_out_and_holds_the_child(self) -> None:
        assert case_expiry(facts("yro", "2015-01-01", closed=False), RETENTION).expires_on \
            is None
        old = facts("yro", "2015-01-01")
        open_one = facts("dto", "2015-01-01", closed=False, case_id="CS-2")
        assert child_expiry("C-1", [old, open_one], RETENTION, TODAY) is None
        assert child_expiry("C-1", [old], RETENTION, TODAY) is not None

    def test_every_disposal_has_one_period(self) -> None:
        covered = [d for p in RETENTION.periods.values() for d in p.disposals]
        assert sorted(covered) == sorted(get_args(DisposalType))


def _closed_case(app: App, case_id: str, child: str, disposal: str, start: str, end: str,
                 dob: str) -> None:
    open_case(app, case_id, child_id=child, disposal_type=disposal, date_of_birth=dob,
              route="court" if disposal in COURT_DISPOSALS else "out_of_court",
              start_date=start, expected_end_date=end)
    record(app, case_id, "case_closed", {"reason": "order_completed"}, at(end))


@pytest.fixture
def cases(app: App) -> App:
    _closed_case(app, "CS-OLD1", "C-OLD00001", "youth_caution", "2022-01-10", "2022-06-01",
                 "2004-01-01")  # out of court, 18 long ago: ran out 2025-06-01
    _closed_case(app, "CS-OLD2", "C-OLD00002", "yro", "2020-05-01", "2021-05-01",
                 "2003-07-07")  # court order: ran out 2026-05-01
    _closed_case(app, "CS-YNG1", "C-YNG00001", "referral_order", "2022-01-10", "2022-06-01",
                 "2010-03-01")  # at 18 in 2028: kept
    _closed_case(app, "CS-NEW1", "C-NEW00001", "yro", "2022-05-01", "2022-11-01",
                 "2004-02-02")  # 5 years: kept
    open_case(app, "CS-OPEN", child_id="C-OLD00002")  # the same child, a case still open...
    return app


def test_the_dry_run_lists_ids_rules_and_dates_but_never_a_date_of_birth(
    cases: App, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    as_operator(monkeypatch, cases)
    code, out, _ = run_cli(monkeypatch, capsys, "retention", "--dry-run", "--as-at",
                           "2026-11-02")
    assert code == 0, out
    assert "C-OLD00001  CS-OLD1  out_of_court_and_referral  ran out 2025-06-01" in out
    assert "C-OLD00002" not in out  # ...holds the child: CS-OPEN is open
    assert "C-YNG00001" not in out
    assert "1 child(ren) past retention as at 2026-11-02; 1 would be erased" in out
    assert "C-NEW00001  CS-NEW1  other_court_orders  basic only from 2025-11-01" in out
    assert "1 child(ren) past basic-only as at 2026-11-02; 1 would be reduced" in out
    assert "2004-02-02" not in out
    assert "2004-01-01" not in out
    assert cases.store.read_stream("CS-OLD1")[-1].type == "case_closed"  # nothing erased
    as_operator(monkeypatch, cases, role="manager")
    assert run_cli(monkeypatch, capsys, "retention", "--dry-run")[0] == 2


def test_by_default_the_job_asks_admins_to_approve_once(cases: App) -> None:
    assert policy_for(cases).retention.on_expiry == "alert"
    first = run_retention(cases, TODAY)
    again = run_retention(cases, TODAY)
    assert (first.alerted, again.alerted) == (["C-NEW00001", "C-OLD00001"], [])
    with cases.engine.connect() as conn:
        rows = conn.execute(select(alerts.c.case_id, alerts.c.rule, alerts.c.owner,
                                   alerts.c.details).where(alerts.c.status == "open")).all()
    [(_case, _rule, owner, details)] = [
        r for r in rows if r.rule == "retention_expired" and r.case_id == "child:C-OLD00001"]
    assert owner == "role:admin" and '"action": "erase"' in details
    assert "CS-OLD1" in details and "2004-01-01" not in details
    [reduce] = [r.details for r in rows if r.case_id == "child:C-NEW00001"]
    assert '"action": "reduce"' in reduce and "2004-02-02" not in reduce
    assert cases.store.read_stream("CS-OLD1")[0].event.date_of_birth is not None  # type: ignore[attr-defined]


def test_when_the_policy_says_erase_the_scheduled_job_erases(cases: App) -> None:
    policy = policy_for(cases)
    cases.extras["tracker.domain.policy"] = policy.model_copy(update={
        "retention": policy.retention.model_copy(update={"on_expiry": "erase"})})
    w = cases.workers
    assert isinstance(w, Workers)
    assert jobs.retention(w, TODAY) == 2  # C-OLD00001 erased, C-NEW00001 reduced
    last = cases.store.read_stream("CS-OLD1")[-1]
    assert (last.type, last.event.reason, last.recorded_by) == (  # type: ignore[attr-defined]
        "personal_data_erased", "retention_expired", "system:retention")
    assert cases.store.read_stream("CS-OLD1")[0].event.date_of_birth is None  # type: ignore[attr-defined]
    assert cases.store.read_stream("CS-YNG1")[0].event.date_of_birth is not None  # type: ignore[attr-defined]
    assert jobs.retention(w, TODAY) == 0  # erased or reduced children are not found again


class TestBasicOnly:
    """Other court orders: basic information only after 3 years, erased after 5."""

    def test_a_child_past_every_basic_only_point_is_reduced_not_erased(self) -> None:
        yro = facts("yro", "2022-11-01", dob="2004-02-02")
        found = child_expiry("C-1", [yro], RETENTION, TODAY)
        assert found is not None and (found.action, found.expires_on) == (
            "reduce", date(2025, 11, 1))
        assert child_expiry("C-1", [yro], RETENTION, TODAY, reduced=True) is None
        assert child_expiry("C-1", [yro], RETENTION, date(2025, 10, 31)) is None
        late = child_expiry("C-1", [yro], RETENTION, date(2027, 11, 1))
        assert late is not None and late.action == "erase"

    def test_a_case_without_a_basic_only_point_holds_the_reduction_until_it_expires(
        self,
    ) -> None:
        yro = facts("yro", "2022-11-01")
        caution = facts("youth_caution", "2024-06-01", dob="2004-01-01", case_id="CS-2")
        assert child_expiry("C-1", [yro, caution], RETENTION, TODAY) is None
        found = child_expiry("C-1", [yro, caution], RETENTION, date(2027, 6, 1))
        assert found is not None and (found.action, found.expires_on) == (
            "reduce", date(2027, 6, 1))
        assert found.to_dict()["cases"] == [
            {"case_id": "CS-1", "rule": "other_court_orders", "expires_on": "2027-11-01",
             "basic_only_from": "2025-11-01"},
            {"case_id": "CS-2", "rule": "out_of_court_and_referral",
             "expires_on": "2027-06-01", "basic_only_from": None}]


def test_the_job_reduces_then_later_erases(app: App) -> None:
    open_case(app, "CS-RED1", child_id="C-RED00001", disposal_type="yro", route="court",
              date_of_birth="2004-02-02", start_date="2022-05-01",
              expected_end_date="2022-11-01")
    record(app, "CS-RED1", "contact_missed",
           {"kind": "office", "acceptable": False, "reason": "other", "note": "ZQX-RET"},
           at("2022-10-01"))
    record(app, "CS-RED1", "case_closed", {"reason": "order_completed"}, at("2022-11-01"))
    policy = policy_for(app)
    app.extras["tracker.domain.policy"] = policy.model_copy(update={
        "retention": policy.retention.model_copy(update={"on_expiry": "erase"})})
    dry = run_retention(app, TODAY, dry_run=True)
    assert [e.child_id for e in dry.reducible] == ["C-RED00001"] and dry.reduced == []
    run = run_retention(app, TODAY)
    assert (run.erased, run.reduced) == ([], ["C-RED00001"])
    opened, missed, _closed, reduced = [e.event for e in app.store.read_stream("CS-RED1")]
    assert str(opened.date_of_birth) == "2004-02-02"  # type: ignore[attr-defined]
    assert missed.note is None  # type: ignore[attr-defined]
    assert (reduced.reason, reduced.scope) == (  # type: ignore[attr-defined]
        "retention_expired", "detail")
    assert run_retention(app, TODAY).reduced == []
    later = run_retention(app, date(2027, 11, 2))
    assert later.erased == ["C-RED00001"]
    assert app.store.read_stream("CS-RED1")[0].event.date_of_birth is None  # type: ignore[attr-defined]
