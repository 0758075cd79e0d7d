"""``tracker policy show``: the rules in force with their sources and the policy version;
and a service's policy file followed by both sides on a real store (SQLite, PostgreSQL)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from projections import queries
from projections.projector import Projector
from tests.support import at, open_case, record
from tracker.bootstrap import App
from tracker.domain.policy import load_policy
from tracker.kernel.errors import RuleViolation

Cli = Callable[..., tuple[int, str, str]]
POLICY_KEY = "tracker.domain.policy"  # where policy_for keeps the app's loaded policy


def test_show_json_lists_every_rule_with_its_source(cli: Cli) -> None:
    code, out, _err = cli("policy", "show", "--json")
    assert code == 0
    shown = json.loads(out)
    assert shown["version"] == "tracker-default-2026.2"
    rules = {r["rule"]: r for r in shown["rules"]}
    assert all(r["source"] for r in shown["rules"])
    assert rules["disposals.remand.enforcement"]["value"] == "none"
    assert rules["enforcement.warned_period_months"]["value"] == 12


def test_show_one_disposal(cli: Cli) -> None:
    code, out, _err = cli("policy", "show", "--disposal", "youth_caution", "--json")
    assert code == 0
    names = {r["rule"] for r in json.loads(out)["rules"]}
    assert "disposals.youth_caution.contact_levels" in names
    assert not any(n.startswith("disposals.yro.") for n in names)
    code, out, _err = cli("policy", "show", "--disposal", "youth_caution")
    assert code == 0 and out.startswith("policy tracker-default-2026.2")
    assert "disposals.youth_caution.contact_levels = false\n    source: " in out


def test_an_unknown_disposal_is_one_line_exit_2(cli: Cli) -> None:
    code, _out, err = cli("policy", "show", "--disposal", "probation")
    assert code == 2
    assert "--disposal: unknown disposal 'probation'" in err
    assert "Traceback" not in err


def _community_resolution(app: App) -> str:
    open_case(app, "CS-CR1", disposal_type="community_resolution", route="out_of_court",
              intervention_level="standard")
    record(app, "CS-CR1", "case_manager_allocated", {
        "practitioner_id": "P-TEST01", "agency": "yot", "role": "case_manager",
        "team": "TEAM-A", "manager_id": "M-TEST01"}, at("2026-01-05", 11))
    missed = record(app, "CS-CR1", "contact_missed", {
        "kind": "office", "acceptable": False, "reason": "no_reason_given"}, at("2026-01-13"))
    return str(missed[0].event_id)


def _open_rules(app: App) -> set[str]:
    Projector(app).catch_up()
    return {a["rule"] for a in queries.list_alerts(app) if a["case_id"] == "CS-CR1"}


def test_the_default_profile_on_a_real_store(app: App) -> None:
    failure = _community_resolution(app)
    with pytest.raises(RuleViolation, match=r"community resolution \(community_resolution\)"):
        record(app, "CS-CR1", "warning_issued", {"failure_event_id": failure},
               at("2026-01-14"))
    rules = _open_rules(app)
    assert not rules & {"contact_shortfall", "first_appointment_overdue", "review_overdue",
                        "missed_appointment_not_followed_up", "breach_due"}


def test_a_service_policy_file_is_followed_by_both_sides(app: App, tmp_path: Path) -> None:
    path = tmp_path / "service.toml"
    path.write_text('[disposals.community_resolution]\ncontact_levels = true\n'
                    'first_appointment = true\nenforcement = "sch7_warnings"\n')
    app.extras[POLICY_KEY] = load_policy(path)
    failure = _community_resolution(app)
    record(app, "CS-CR1", "warning_issued", {"failure_event_id": failure}, at("2026-01-14"))
    assert {"contact_shortfall", "first_appointment_overdue"} <= _open_rules(app)
