"""The synthetic caseload: every planned command is one the rules accept, for any seed and
size, and a seed writes all of it or nothing."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from tests.conftest import NOW
from tracker.bootstrap import App
from tracker.kernel.errors import RuleViolation
from tracker.services import synthetic
from tracker.services.seed import seed_caseload
from tracker.services.synthetic.demo import plan_caseload
from tracker.services.verify import verify

UNTIL = NOW.date() - timedelta(days=1)


@pytest.mark.parametrize("until", [date(2026, 5, 1), UNTIL])
@pytest.mark.parametrize("cases", [1, 3, 7, 25])
def test_every_planned_command_is_accepted(until: date, cases: int) -> None:
    for seed in range(1, 31):
        synthetic.check(plan_caseload(cases, seed, until))


@pytest.mark.parametrize(("seed", "cases", "until"), [
    (302, 1000, date(2026, 11, 28)),  # a back-dated contact was entered after the closing
    (308, 1000, date(2026, 11, 28)),  # a reallocation after the closing ended the allocation
    (23, 200, date(2026, 5, 1)),  # a new case manager allocated after the order's last day
])
def test_plans_the_rules_once_refused_are_now_valid(seed: int, cases: int, until: date) -> None:
    synthetic.check(plan_caseload(cases, seed, until))


def test_a_seed_records_every_planned_event(sqlite_app: App) -> None:
    planned = plan_caseload(40, 23, UNTIL)
    summary = seed_caseload(sqlite_app, cases=40, seed=23, until=UNTIL)
    assert summary == {"cases": 40, "skipped_existing": 0, "events": len(planned)}
    assert sqlite_app.store.head_position() == len(planned)
    assert verify(sqlite_app.engine).ok


def test_a_refused_command_writes_nothing(app: App) -> None:
    planned = plan_caseload(5, 3, UNTIL)
    middle = len(planned) // 2
    bad = replace(planned[middle], event_type="contact_attended", data={
        "contact_id": "NEVER-SCHEDULED", "kind": "office", "participation": 3})
    with pytest.raises(RuleViolation, match="was not scheduled"):
        synthetic.write(app, [*planned[:middle], bad, *planned[middle + 1:]])
    assert app.store.head_position() == 0
    with pytest.raises(RuleViolation, match="was not scheduled"):
        synthetic.check([*planned[:middle], bad])
