"""Erasure at once, across processes: ``tracker child erase`` (one process) against a
running ``tracker serve`` (another) that had just read the child's notes and date of birth.

Before, the server kept showing both (its key cache never looked at the database again)
and answered 201 to a note sealed under the destroyed key, lost for good.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from events.sealing import KEY_CHECK_SECONDS
from tests.api.conftest import PASSWORD, Env, fast_hasher
from tests.servers import _wait_port, env_for, free_port
from tests.support import at, open_case, record
from tracker.bootstrap import App
from tracker.services.accounts import Accounts
from tracker.services.verify import verify

TRACKER = str(Path(sys.executable).with_name("tracker"))
NOTE = "ZQX-LIVE-NOTE-MARKER"
DOB = "2010-05-17"


@pytest.fixture
def server(app: App) -> Iterator[str]:
    """``tracker serve`` in its own process on a free port, on the test's database."""
    port = free_port()
    proc = subprocess.Popen(
        [TRACKER, "serve", "--port", str(port), "--no-workers"], env=env_for(app.settings),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        _wait_port(port, 60, proc)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def noted_case(app: App, username: str, case_id: str, child_id: str) -> dict[str, str]:
    """A TEAM-A practitioner with an API token, and a case of theirs holding a note and a date
    of birth; returns the token's headers."""
    app.extras["password_hasher"] = fast_hasher()
    accounts = Accounts(app)
    user = accounts.create_user(username, PASSWORD, "practitioner", ["TEAM-A"],
                                user_id=f"P-{username.split('.')[-1].upper()}01")
    token, _ = accounts.create_token(user.user_id, "tests")
    open_case(app, case_id, child_id=child_id, date_of_birth=DOB)
    record(app, case_id, "contact_missed",
           {"kind": "office", "acceptable": False, "reason": "other", "note": NOTE},
           at("2026-02-01"))
    return {"Authorization": f"Bearer {token}"}


def test_erase_on_the_command_line_takes_effect_in_a_running_server(
    app: App, server: str
) -> None:
    headers = noted_case(app, "prac.live", "CS-LIVE1", "C-LIVE0001")
    with httpx.Client(base_url=server, headers=headers, timeout=30) as client:
        before = client.get("/api/cases/CS-LIVE1/history")
        assert before.status_code == 200 and NOTE in before.text and DOB in before.text
        erased = subprocess.run(
            [TRACKER, "child", "erase", "C-LIVE0001", "--reason", "erasure_request"],
            env={**env_for(app.settings), "TRACKER_USER": "AD-LIVE01", "TRACKER_ROLE": "admin"},
            capture_output=True, text=True, timeout=120,
        )
        assert erased.returncode == 0, erased.stderr
        # At once: the server refuses to seal under the destroyed key (no lost 201).
        late = client.post("/api/cases/CS-LIVE1/events", json={
            "event_type": "contact_missed", "occurred_at": "2026-02-02T10:00:00+00:00",
            "data": {"kind": "office", "acceptable": False, "reason": "other",
                     "note": "written after the erasure"},
        })
        assert late.status_code == 410 and late.json()["error"] == "key_destroyed"
        time.sleep(KEY_CHECK_SECONDS + 0.1)  # the documented bound, well under a second
        after = client.get("/api/cases/CS-LIVE1/history")
    assert after.status_code == 200
    assert NOTE not in after.text and DOB not in after.text
    assert "personal_data_erased" in after.text
    assert verify(app.engine).ok


def test_the_erase_route_is_for_admins_with_a_reason_code(env: Env) -> None:
    open_case(env.app, "CS-ROUTE1", child_id="C-ROUTE001")
    url = "/api/children/C-ROUTE001/erase"
    for who in ("prac_a", "manager_a", "auditor"):
        refused = env.client.post(url, json={"reason": "court_order"}, headers=env[who].headers)
        assert refused.status_code == 403
    bad = env.client.post(url, json={"reason": "the child's mother asked"},
                          headers=env["admin"].headers)
    assert bad.status_code == 422 and "reason" in bad.text
    missing = env.client.post("/api/children/C-NOBODY01/erase", json={"reason": "other"},
                              headers=env["admin"].headers)
    assert missing.status_code == 404
    done = env.client.post(url, json={"reason": "court_order", "reference": "DPR-2026-014"},
                           headers=env["admin"].headers)
    assert done.status_code == 200 and done.json() == {
        "child_id": "C-ROUTE001", "key_destroyed": True,
        "case_ids": ["CS-ROUTE1"], "recorded_on": ["CS-ROUTE1"],
    }
    last = env.app.store.read_stream("CS-ROUTE1")[-1]
    assert last.type == "personal_data_erased" and last.recorded_by == "AD-TEST01"


def test_a_reduction_on_the_command_line_refuses_notes_and_keeps_other_writes(
    app: App, server: str
) -> None:
    """``tracker child erase --scope detail`` against a running server: a note for the
    reduced child is refused (410), a write without one is kept (201); the history still
    shows the date of birth, not the note."""
    headers = noted_case(app, "prac.tier", "CS-TIER1", "C-TIER0001")
    with httpx.Client(base_url=server, headers=headers, timeout=30) as client:
        assert NOTE in client.get("/api/cases/CS-TIER1/history").text
        reduced = subprocess.run(
            [TRACKER, "child", "erase", "C-TIER0001", "--reason", "retention_expired",
             "--scope", "detail"],
            env={**env_for(app.settings), "TRACKER_USER": "AD-LIVE01", "TRACKER_ROLE": "admin"},
            capture_output=True, text=True, timeout=120,
        )
        assert reduced.returncode == 0, reduced.stderr
        missed = {"kind": "office", "acceptable": False, "reason": "other"}
        late = client.post("/api/cases/CS-TIER1/events", json={
            "event_type": "contact_missed", "occurred_at": "2026-02-02T10:00:00+00:00",
            "data": {**missed, "note": "written after the reduction"}})
        assert late.status_code == 410 and late.json()["error"] == "key_destroyed"
        kept = client.post("/api/cases/CS-TIER1/events", json={
            "event_type": "contact_missed", "occurred_at": "2026-02-03T10:00:00+00:00",
            "data": missed})
        assert kept.status_code == 201, kept.text
        time.sleep(KEY_CHECK_SECONDS + 0.1)  # the documented bound, well under a second
        after = client.get("/api/cases/CS-TIER1/history")
    assert after.status_code == 200
    assert NOTE not in after.text and DOB in after.text
    assert verify(app.engine).ok
