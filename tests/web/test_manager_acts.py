"""A manager's acts through the real pages (no browser), on both back ends: offered only to
the case's team's manager, recorded in the signed-in manager's name, refused (403, nothing
recorded) to anyone else; an oversight entry started from an alert comes pre-filled."""

from __future__ import annotations

import re
from typing import Any

import pytest

from events.envelope import Actor
from projections.queries.alerts import acknowledge_alert, list_alerts
from tests.api.conftest import Env
from tests.support import at, open_case, record
from tests.web.conftest import sign_in
from tracker.domain.commands import RecordEvent
from tracker.kernel.errors import RuleViolation
from tracker.services.cases import CaseService

CASE = "/cases/CS-TEST1"
MANAGER = Actor("M-TEST01", "manager")


def post(env: Env, path: str, csrf: str, **data: Any) -> Any:
    return env.client.post(path, data={"csrf_token": csrf, **data}, follow_redirects=False)


def breach_due(env: Env) -> str:
    """The demo-style case of team A, allocated with its manager, breach due."""
    open_case(env.app)
    record(env.app, "CS-TEST1", "case_manager_allocated", {
        "practitioner_id": "P-TEST01", "agency": "yot", "role": "case_manager",
        "team": "TEAM-A", "manager_id": "M-TEST01"}, at("2026-01-05", 11))
    third = ""
    for day, warn in (("2026-09-01", True), ("2026-09-15", True), ("2026-10-01", False)):
        failure = str(record(env.app, "CS-TEST1", "contact_missed", {
            "kind": "office", "acceptable": False, "reason": "no_reason_given"},
            at(day))[0].event_id)
        if warn:
            record(env.app, "CS-TEST1", "warning_issued", {"failure_event_id": failure}, at(day))
        third = failure
    from projections.projector import Projector

    Projector(env.app).catch_up()
    return third


def test_manager_records_exceptional_circumstances_on_the_case_page(env: Env) -> None:
    third = breach_due(env)
    sign_in(env.client, "prac.a")
    page = env.client.get(CASE).text
    assert 'id="manager-acts"' not in page  # a practitioner is not offered manager acts
    assert env.client.get(f"{CASE}/exceptional-circumstances").status_code == 403
    sign_in(env.client, "manager.b")
    assert env.client.get(f"{CASE}/exceptional-circumstances").status_code == 403
    csrf = sign_in(env.client, "manager.a")
    page = env.client.get(CASE).text
    assert f'href="{CASE}/exceptional-circumstances"' in page
    assert f'href="{CASE}/oversight"' in page
    form = env.client.get(f"{CASE}/exceptional-circumstances")
    assert form.status_code == 200 and f'value="{third}"' in form.text
    before = env.app.store.stream_version("CS-TEST1")
    missing = post(env, f"{CASE}/exceptional-circumstances", csrf, failure_event_id=third)
    assert missing.status_code == 422
    assert env.app.store.stream_version("CS-TEST1") == before
    saved = post(env, f"{CASE}/exceptional-circumstances", csrf, failure_event_id=third,
                 note="Bereavement.", occurred_at="2026-10-02T10:00")
    assert saved.status_code == 303, saved.text
    stored = env.app.store.read_stream("CS-TEST1")[-1]
    assert (stored.type, stored.recorded_by) == ("exceptional_circumstances_recorded",
                                                 "M-TEST01")
    assert "Saved: Record exceptional circumstances." in env.client.get(
        saved.headers["location"]).text
    assert not [a for a in list_alerts(env.app) if a["rule"] == "breach_due"]


def test_a_practitioners_post_of_a_manager_act_is_refused_and_records_nothing(env: Env) -> None:
    third = breach_due(env)
    csrf = sign_in(env.client, "prac.a")
    before = env.app.store.stream_version("CS-TEST1")
    refused = post(env, f"{CASE}/exceptional-circumstances", csrf, failure_event_id=third,
                   note="n", occurred_at="2026-10-02T10:00")
    assert refused.status_code == 403
    assert env.app.store.stream_version("CS-TEST1") == before


def test_oversight_from_an_alert_comes_pre_filled_and_its_action_is_done_by_the_practitioner(
        env: Env) -> None:
    breach_due(env)
    (alert,) = [a for a in list_alerts(env.app) if a["rule"] == "breach_due"]
    acknowledge_alert(env.app, alert["alert_id"], note="Discussing with the team.",
                      actor=MANAGER)
    csrf = sign_in(env.client, "manager.a")
    board = env.client.get("/manager?team=TEAM-A").text
    assert f'{CASE}/oversight?alert=' in board
    form = env.client.get(f"{CASE}/oversight", params={"alert": alert["alert_id"]})
    assert form.status_code == 200
    assert '<option value="enforcement_decision" selected>' in form.text
    assert "Discussing with the team." in form.text
    assert f'value="{alert["alert_id"]}"' in form.text
    saved = post(env, f"{CASE}/oversight", csrf, category="enforcement_decision",
                 note="Alert discussed; warning reissued.", action="See the child this week.",
                 action_due="2026-11-06", from_alert=alert["alert_id"],
                 occurred_at="2026-11-02T09:00")
    assert saved.status_code == 303, saved.text
    entry = env.app.store.read_stream("CS-TEST1")[-1]
    assert entry.type == "management_oversight_recorded" and entry.recorded_by == "M-TEST01"
    assert entry.event.from_alert == alert["alert_id"]  # type: ignore[attr-defined]
    oversight_id = entry.event.oversight_id  # type: ignore[attr-defined]
    page = env.client.get(CASE).text
    assert f'id="oversight-{oversight_id}"' in page and "Enforcement decision" in page

    csrf = sign_in(env.client, "prac.a")
    page = env.client.get(CASE).text
    assert f'href="{CASE}/oversight/done"' in page  # the action is due: offered to do
    assert env.client.get(f"{CASE}/oversight").status_code == 403
    done = post(env, f"{CASE}/oversight/done", csrf, oversight_id=oversight_id,
                occurred_at="2026-11-02T11:00")
    assert done.status_code == 303, done.text
    page = env.client.get(CASE).text
    assert f'href="{CASE}/oversight/done"' not in page
    row = re.search(rf'id="oversight-{oversight_id}">(.*?)</tr>', page, re.S)
    assert row is not None and ">Done<" in row.group(1)


def test_manager_authorises_a_breach_on_the_page(env: Env) -> None:
    third = breach_due(env)
    breach = record(env.app, "CS-TEST1", "breach_initiated", {
        "failure_event_ids": [third]}, at("2026-10-03"))[0].event_id
    csrf = sign_in(env.client, "manager.a")
    assert f'href="{CASE}/breach/authorise"' in env.client.get(CASE).text
    saved = post(env, f"{CASE}/breach/authorise", csrf, breach_event_id=str(breach),
                 occurred_at="2026-10-04T10:00")
    assert saved.status_code == 303, saved.text
    assert f'href="{CASE}/breach/authorise"' not in env.client.get(CASE).text
    command = RecordEvent(case_id="CS-TEST1", event_type="breach_declined", data={
        "breach_event_id": str(breach), "reason": "r"}, occurred_at=at("2026-10-05"))
    with pytest.raises(RuleViolation, match="already authorised"):  # decided once
        CaseService.of(env.app).record(command, actor=MANAGER, correlation_id="t")
