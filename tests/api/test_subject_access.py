"""Subject access: one export of everything held about a child, across their cases, for
admins only, logged per case; after erasure it shows the erasure and no personal data."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select

from tests.api.conftest import Env
from tests.api.scenario import ACK, CASES, CHILD, DOB, NOTE, REASON, run_scenario
from tests.support import as_operator, run_cli
from tests.web.conftest import sign_in
from tracker.db.access_log_table import access_log

EXPORT = f"/api/children/{CHILD}/export"


def _export_rows(env: Env) -> list[tuple[str, str, str]]:
    with env.app.engine.connect() as conn:
        return [(r.user_id, r.case_id, r.outcome) for r in conn.execute(
            select(access_log).where(access_log.c.action == "subject_access_export")
            .order_by(access_log.c.id))]


def test_the_export_holds_both_cases_with_their_notes_and_is_logged_per_case(env: Env
                                                                           ) -> None:
    run_scenario(env)
    resp = env.client.get(EXPORT, headers=env["admin"].headers)
    assert resp.status_code == 200, resp.text
    doc = resp.json()
    assert [c["case_id"] for c in doc["cases"]] == list(CASES)
    assert doc["erased"] is False and doc["generated_by"] == "AD-TEST01"
    text = json.dumps(doc)
    for marker in (DOB, NOTE, REASON, ACK):
        assert marker in text  # an authorised reader asked: the data is there, opened
    assert _export_rows(env) == [("AD-TEST01", c, "allowed") for c in CASES]


@pytest.mark.parametrize("who", ["prac_a", "manager_a", "auditor"])
def test_only_admins_may_export(env: Env, who: str) -> None:
    run_scenario(env)
    resp = env.client.get(EXPORT, headers=env[who].headers)
    assert resp.status_code == 403
    assert NOTE not in resp.text and _export_rows(env) == []


def test_an_unknown_child_is_a_404(env: Env) -> None:
    resp = env.client.get("/api/children/C-NOBODY01/export", headers=env["admin"].headers)
    assert resp.status_code == 404 and resp.json()["error"] == "child_not_found"


def test_the_readable_page_and_an_erased_childs_export(env: Env) -> None:
    run_scenario(env)
    sign_in(env.client, "admin")
    page = env.client.get(f"/admin/children/{CHILD}/export")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert NOTE in page.text and ACK in page.text and 'id="erased"' not in page.text
    env.client.cookies.clear()
    erased = env.client.post(f"/api/children/{CHILD}/erase", headers=env["admin"].headers,
                             json={"reason": "erasure_request", "reference": "DPR-2026-014"})
    assert erased.status_code == 200, erased.text
    doc = env.client.get(EXPORT, headers=env["admin"].headers).json()
    assert doc["erased"] is True
    assert [(e["case_id"], e["reason"], e["reference"]) for e in doc["erasures"]] == [
        (c, "erasure_request", "DPR-2026-014") for c in CASES]
    text = json.dumps(doc)
    assert all(m not in text for m in (DOB, NOTE, REASON, ACK)) and "[erased]" in text
    sign_in(env.client, "admin")
    page = env.client.get(f"/admin/children/{CHILD}/export")
    assert 'id="erased"' in page.text and "DPR-2026-014" in page.text and NOTE not in page.text


def test_the_command_line_export_for_admins_only(
    env: Env, monkeypatch: pytest.MonkeyPatch, capsys: Any, tmp_path: Any
) -> None:
    run_scenario(env)
    as_operator(monkeypatch, env.app)
    out = tmp_path / "sar.html"
    code, said, _ = run_cli(monkeypatch, capsys, "child", "export", CHILD, "--out", str(out))
    assert code == 0 and str(out) in said
    html = out.read_text(encoding="utf-8")
    assert html.startswith("<!doctype html>") and NOTE in html and "Case CS-MARK2" in html
    code, said, _ = run_cli(monkeypatch, capsys, "child", "export", CHILD, "--format", "json")
    assert code == 0 and json.loads(said)["child_id"] == CHILD
    assert [row[:2] for row in _export_rows(env)] == [("AD-CLI01", c) for c in CASES] * 2
    as_operator(monkeypatch, env.app, role="practitioner")
    code, said, err = run_cli(monkeypatch, capsys, "child", "export", CHILD)
    assert code == 2 and NOTE not in said + err
    code, _, err = run_cli(monkeypatch, capsys, "child", "export", CHILD, "--format", "pdf")
    assert code == 2 and "--format" in err
