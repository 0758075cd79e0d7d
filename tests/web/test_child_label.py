"""The child's service-controlled label (issue 12 §3): sealed like other personal data,
shown to a reader of the case (case header, caseload, search), found by search in any
letter case within what the reader may read, changed by an event, and erased with the
child's key. On SQLite and PostgreSQL through the ``app`` fixture."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from sqlalchemy import select

from events.envelope import Actor
from events.schema import events as events_table
from projections.projector import Projector
from tests.api.conftest import PASSWORD, Env
from tests.support import at, cli_runner, open_case, record
from tests.web.conftest import errors_beside, sign_in
from tracker.bootstrap import App
from tracker.db.read_models import case_records
from tracker.services.erasure import erase_child

LABEL = "Child Quill-7"


def labelled(env: Env) -> None:
    open_case(env.app, child_label=LABEL)  # CS-TEST1, TEAM-A, child C-TEST0001
    open_case(env.app, "CS-OTHER", team="TEAM-B", child_id="C-OTHER01",
              child_label="Child Quill-9")
    open_case(env.app, "CS-PLAIN", child_id="C-PLAIN01")  # no label
    Projector(env.app).catch_up()


def listed(html: str) -> set[str]:
    table = html.split('id="case-index"')[1].split("</table>")[0]
    return set(re.findall(r'<a href="/cases/([^"/]+)">', table))


def test_the_label_is_never_in_clear_in_the_log_or_the_read_models(env: Env) -> None:
    labelled(env)
    with env.app.engine.connect() as conn:
        payloads = [str(p) for p in conn.execute(select(events_table.c.payload)).scalars()]
        rows = conn.execute(select(case_records.c.record, case_records.c.child_label)).all()
    assert payloads and not any("Quill" in p for p in payloads)
    assert rows and not any("Quill" in r.record or "Quill" in (r.child_label or "") for r in rows)
    tokens = {r.child_label for r in rows}
    assert None in tokens  # the case opened without a label
    assert all(t.startswith("sealed:v1:C-") for t in tokens if t is not None)
    opened = env.app.store.read_stream("CS-TEST1")[0].event
    assert opened.child_label == LABEL  # type: ignore[attr-defined]  # unsealed for a reader


def test_a_reader_sees_the_label_in_the_header_caseload_and_search(env: Env) -> None:
    labelled(env)
    sign_in(env.client, "prac.a")
    case = env.client.get("/cases/CS-TEST1")
    assert case.status_code == 200
    header = case.text.split('id="case-header"')[1].split("</dl>")[0]
    assert LABEL in header and "C-TEST0001" in header
    caseload = env.client.get("/caseload?scope=team")
    assert LABEL in caseload.text.split('id="caseload"')[1]
    found = env.client.get("/search?q=qUILL")  # any letter case, any part
    assert listed(found.text) == {"CS-TEST1"}  # not TEAM-B's CS-OTHER, whose label matches too
    assert LABEL in found.text and "Child Quill-9" not in found.text
    assert listed(env.client.get("/search?q=quill-9").text) == set()
    assert listed(env.client.get("/search?q=cs-plain").text) == {"CS-PLAIN"}  # references still
    sign_in(env.client, "auditor")
    assert listed(env.client.get("/search?q=quill").text) == {"CS-TEST1", "CS-OTHER"}
    sign_in(env.client, "prac.b")
    assert env.client.get("/cases/CS-TEST1").status_code == 403


def test_the_practitioners_diary_shows_the_label(env: Env) -> None:
    labelled(env)
    record(env.app, "CS-TEST1", "case_manager_allocated", {
        "practitioner_id": "P-TEST01", "agency": "yot", "role": "case_manager",
        "team": "TEAM-A"}, at("2026-01-05"))
    record(env.app, "CS-TEST1", "contact_scheduled", {
        "contact_id": "c-1", "kind": "home_visit", "scheduled_for": "2026-11-04T15:30:00Z"},
        at("2026-11-01"))
    Projector(env.app).catch_up()
    sign_in(env.client, "prac.a")
    diary = env.client.get("/diary")
    assert diary.status_code == 200
    row = diary.text.split('id="diary-week"')[1].split("</tr>")[1]
    assert "CS-TEST1" in row and LABEL in row and "C-TEST0001" in row


def test_the_keyworkers_cases_show_the_label(env: Env) -> None:
    labelled(env)
    env.accounts.create_user("keyworker.k", PASSWORD, "secure_keyworker", [],
                             user_id="K-TEST01")
    record(env.app, "CS-TEST1", "case_manager_allocated", {
        "practitioner_id": "K-TEST01", "agency": "secure_establishment",
        "role": "secure_keyworker"}, at("2026-01-06"))
    Projector(env.app).catch_up()
    sign_in(env.client, "keyworker.k")
    cases = env.client.get("/custody")
    assert cases.status_code == 200
    assert "CS-TEST1" in cases.text and LABEL in cases.text
    assert "CS-OTHER" not in cases.text and "Child Quill-9" not in cases.text


def test_the_label_changes_through_the_form_and_the_api(env: Env) -> None:
    labelled(env)
    csrf = sign_in(env.client, "prac.a")
    form = env.client.get("/cases/CS-TEST1/log/label")
    assert form.status_code == 200 and "Change the child&#39;s label" in form.text
    too_long = env.client.post("/cases/CS-TEST1/log/label", data={
        "csrf_token": csrf, "occurred_at": "2026-10-30T10:00", "child_label": "x" * 41})
    assert too_long.status_code == 422
    assert "40 characters" in errors_beside(too_long.text, "child_label")
    done = env.client.post("/cases/CS-TEST1/log/label", data={
        "csrf_token": csrf, "occurred_at": "2026-10-30T10:00", "child_label": "Child Wren-2",
        "expected_version": "1"}, follow_redirects=False)
    assert done.status_code == 303, done.text
    Projector(env.app).catch_up()
    page = env.client.get("/cases/CS-TEST1").text
    assert "Child Wren-2" in page.split('id="case-header"')[1].split("</dl>")[0]
    assert listed(env.client.get("/search?q=wren").text) == {"CS-TEST1"}
    assert listed(env.client.get("/search?q=quill").text) == set()  # the old one is gone
    person = env["prac_a"]
    resp = env.client.post(
        "/api/cases", headers={"Authorization": f"Bearer {person.token}"},
        json={"case_id": "CS-API1", "data": {
            "child_id": "C-API0001", "disposal_type": "yro", "route": "court",
            "start_date": "2026-01-05", "intervention_level": "standard",
            "service": "YJS-TEST", "team": "TEAM-A", "child_label": "y" * 41}})
    assert resp.status_code == 422
    assert "data.child_label" in resp.text


def test_erasing_the_child_erases_the_label_everywhere(env: Env) -> None:
    labelled(env)
    erase_child(env.app, "C-TEST0001", "erasure_request", actor=Actor("AD-TEST01", "admin"),
                correlation_id="t-label")
    Projector(env.app).catch_up()
    sign_in(env.client, "auditor")
    page = env.client.get("/cases/CS-TEST1").text
    header = page.split('id="case-header"')[1].split("</dl>")[0]
    assert "Quill" not in page and "[erased]" in header
    assert listed(env.client.get("/search?q=quill").text) == {"CS-OTHER"}
    assert listed(env.client.get("/search?q=erased").text) == set()  # never matches


@pytest.fixture
def cli(app: App, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str, str]]:
    """``tracker ARGS`` against the test database (``tests.support.cli_runner``)."""
    return cli_runner(app, monkeypatch, capsys)


def test_the_cli_opens_a_case_with_a_label(cli, app: App) -> None:  # type: ignore[no-untyped-def]
    base = ["case", "open", "--case-id", "CS-CLI1", "--child-id", "C-CLI00001", "--disposal",
            "yro", "--start", "2026-01-05", "--level", "enhanced", "--service", "YJS-TEST",
            "--team", "T-A"]
    code, out, err = cli(*base, "--label", "z" * 41)
    assert code == 2 and "data.child_label" in err and "Traceback" not in out + err
    assert cli(*base, "--label", "Child Tern-4")[0] == 0
    assert app.store.read_stream("CS-CLI1")[0].event.child_label == "Child Tern-4"  # type: ignore[attr-defined]
    record(app, "CS-CLI1", "child_label_changed", {"child_label": "Child Tern-5"},
           at("2026-02-01"))
    assert [r.type for r in app.store.read_stream("CS-CLI1")] == [
        "case_opened", "child_label_changed"]


def test_a_retracted_label_change_gives_back_the_earlier_label(env: Env) -> None:
    labelled(env)
    [changed] = record(env.app, "CS-TEST1", "child_label_changed",
                       {"child_label": "Child Wren-2"}, at("2026-03-01"))
    Projector(env.app).catch_up()
    sign_in(env.client, "prac.a")
    assert "Child Wren-2" in env.client.get("/cases/CS-TEST1").text
    record(env.app, "CS-TEST1", "event_retracted",
           {"target_event_id": str(changed.event_id), "reason": "wrong case"},
           at("2026-03-02"))
    Projector(env.app).catch_up()
    header = env.client.get("/cases/CS-TEST1").text.split('id="case-header"')[1]
    assert LABEL in header.split("</dl>")[0] and "Wren" not in header.split("</dl>")[0]
    assert listed(env.client.get("/search?q=wren").text) == set()
