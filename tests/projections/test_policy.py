"""The policy file: defaults from domain.md, service overrides, versions, clear errors."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from projections import alert_rules
from tracker.domain.policy import build_policy, default_policy, load_policy
from tracker.domain.workdays import WorkingDays
from tracker.kernel.errors import ConfigurationError


def test_defaults_are_the_domain_timescales() -> None:
    p = default_policy()
    assert p.assessment_days("yro") == 15
    assert p.assessment_days("referral_order") == 20
    assert p.first_appointment.working_days == 5
    assert p.panels.initial_working_days == 20
    assert p.panels.progress_interval_months == 3
    assert p.planning.working_days_after_assessment == 10
    assert p.review.interval_months == 3
    assert p.missed_appointments.follow_up_working_days == 1
    assert [p.contacts_per_month(level, True) for level in ("standard", "enhanced", "intensive")
            ] == [2, 4, 8]
    assert [p.contacts_per_month(level, False) for level in ("standard", "enhanced", "intensive")
            ] == [1, 2, 4]
    assert p.contacts.initial_period_weeks == 12
    assert p.continuity.probation_transition_age_months == 210
    assert p.enforcement.warnings_before_breach == 2
    assert set(p.alerts) == set(alert_rules.NAMES)


def test_a_service_file_overrides_only_what_it_names(tmp_path: Path) -> None:
    path = tmp_path / "north.toml"
    path.write_text('version = "north-2026-03"\n[disposals.yro]\nassessment_working_days = 10\n'
                    '[contacts.per_month]\nintensive = [12, 4]\n')
    p = load_policy(path)
    assert p.version == "north-2026-03"
    assert p.assessment_days("yro") == 10
    assert p.assessment_days("referral_order") == 20  # untouched default
    assert p.contacts_per_month("intensive", True) == 12
    assert p.contacts_per_month("standard", True) == 2


def test_an_override_without_a_version_gets_a_derived_one() -> None:
    a = build_policy({"review": {"interval_months": 2}})
    b = build_policy({"review": {"interval_months": 2}})
    c = build_policy({"review": {"interval_months": 1}})
    base = default_policy().version
    assert a.version == b.version
    assert a.version.startswith(base + "+local.")
    assert a.version != c.version


@pytest.mark.parametrize(("content", "expected"), [
    ("[planning]\nworking_dayz = 3\n", "planning.working_dayz"),
    ("[disposals.yro]\nenforcement = 'sometimes'\n", "disposals.yro.enforcement"),
    ("[disposals.yro]\nroute = 'out_of_court'\n", "yro: route must be 'court'"),
    ("[disposals.caution]\nlabel = 'x'\n", "disposals.caution"),
    ("[review]\nsources = { interval = 'x' }\n", "sources name no rule"),
    ("[review]\ninterval_months = 0\n", "review.interval_months"),
    ("[alerts]\nno_such_rule = { severity = 'high' }\n", "unknown alert rule"),
    ("[alerts.breach_due]\nseverity = 'urgent'\n", "alerts.breach_due.severity"),
    ("[contacts.per_month]\nstandard = [2, -1]\n", "cannot be negative"),
    ("version = \n", "not valid TOML"),
])
def test_a_bad_policy_file_names_the_field_and_reason(tmp_path: Path, content: str,
                                                       expected: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(content)
    with pytest.raises(ConfigurationError) as err:
        alert_rules.check(load_policy(path))  # the alert table's rules: checked by the read side
    assert expected in str(err.value)
    assert str(path) in str(err.value)


def test_the_read_side_refuses_an_alert_table_missing_a_rule() -> None:
    p = default_policy()
    alerts = {k: v for k, v in p.alerts.items() if k != "breach_due"}
    with pytest.raises(ConfigurationError, match=r"missing alert rule\(s\) \['breach_due'\]"):
        alert_rules.check(p.model_copy(update={"alerts": alerts}))


def test_a_missing_policy_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="does not exist"):
        load_policy(tmp_path / "nope.toml")


class TestWorkingDays:
    cal = WorkingDays(default_policy().calendar)

    def test_weekends_and_bank_holidays_are_not_working_days(self) -> None:
        assert not self.cal.is_working_day(date(2026, 1, 3))  # Saturday
        assert not self.cal.is_working_day(date(2026, 4, 3))  # Good Friday
        assert not self.cal.is_working_day(date(2026, 4, 6))  # Easter Monday
        assert not self.cal.is_working_day(date(2026, 8, 31))  # summer bank holiday
        assert not self.cal.is_working_day(date(2026, 12, 28))  # Boxing Day (substitute)
        assert self.cal.is_working_day(date(2026, 12, 29))

    def test_the_start_day_is_day_zero(self) -> None:
        assert self.cal.add(date(2026, 1, 5), 0) == date(2026, 1, 5)
        assert self.cal.add(date(2026, 1, 5), 1) == date(2026, 1, 6)
        assert self.cal.add(date(2026, 1, 9), 1) == date(2026, 1, 12)  # Friday -> Monday
        assert self.cal.add(date(2026, 1, 5), 15) == date(2026, 1, 26)

    def test_adding_across_easter_skips_both_bank_holidays(self) -> None:
        assert self.cal.add(date(2026, 3, 30), 15) == date(2026, 4, 22)

    def test_between_counts_working_days_after_the_first(self) -> None:
        assert self.cal.between(date(2026, 8, 28), date(2026, 9, 1)) == 1
        assert self.cal.between(date(2026, 1, 5), date(2026, 1, 26)) == 15
        assert self.cal.between(date(2026, 1, 26), date(2026, 1, 5)) == 0

    def test_service_closures_from_the_policy_count_as_holidays(self) -> None:
        p = build_policy({"calendar": {"extra_closed_days": ["2026-12-29"]}})
        cal = WorkingDays(p.calendar)
        assert not cal.is_working_day(date(2026, 12, 29))
        assert cal.add(date(2026, 12, 24), 1) == date(2026, 12, 30)
