"""Finding cases: the auditor's list holds closed cases too, references match in any letter
case, and a search shows only what the reader may read, each case shown logged."""

from __future__ import annotations

import re

from projections.projector import Projector
from tests.api.conftest import Env
from tests.support import at, open_case, record
from tests.web.conftest import sign_in
from tracker.services.access_log import search


def seeded(env: Env) -> None:
    open_case(env.app)  # CS-TEST1, TEAM-A
    open_case(env.app, "CS-SHUT", child_id="C-SHUT01")
    record(env.app, "CS-SHUT", "case_closed", {"reason": "order_completed"}, at("2026-06-01"))
    open_case(env.app, "CS-OTHER", team="TEAM-B", child_id="C-OTHER01")
    Projector(env.app).catch_up()


def listed(html: str) -> set[str]:
    table = html.split('id="case-index"')[1].split("</table>")[0]
    return set(re.findall(r'<a href="/cases/([^"/]+)">', table))


def test_auditor_lists_every_case_open_and_closed(env: Env) -> None:
    seeded(env)
    sign_in(env.client, "auditor")
    page = env.client.get("/audit")
    assert page.status_code == 200
    assert listed(page.text) == {"CS-TEST1", "CS-SHUT", "CS-OTHER"}
    assert "Closed 1 June 2026" in page.text
    closed = env.client.get("/audit?status=closed")
    assert listed(closed.text) == {"CS-SHUT"}
    logged = {e.case_id for e in search(env.app, user_id="A-TEST01").entries}
    assert {"CS-TEST1", "CS-SHUT", "CS-OTHER"} <= logged


def test_a_reference_matches_in_any_letter_case(env: Env) -> None:
    seeded(env)
    sign_in(env.client, "auditor")
    found = env.client.get("/audit?q=cs-sh")
    assert listed(found.text) == {"CS-SHUT"}
    go = env.client.get("/audit/replay?case_id=cs-test1", follow_redirects=False)
    assert go.status_code == 303
    assert go.headers["location"].startswith("/cases/CS-TEST1/replay")


def test_search_shows_only_the_readers_teams(env: Env) -> None:
    seeded(env)
    sign_in(env.client, "prac.a")
    page = env.client.get("/search?q=cs-")
    assert page.status_code == 200
    assert listed(page.text) == {"CS-TEST1", "CS-SHUT"}  # not TEAM-B's CS-OTHER
    assert listed(env.client.get("/search?q=OTHER").text) == set()
    sign_in(env.client, "admin")
    assert env.client.get("/search?q=cs").status_code == 403
