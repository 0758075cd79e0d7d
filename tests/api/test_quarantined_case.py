"""Issue 9 §1 through the edges: a case the read side cannot fold answers a clear 503
naming the problem on every read (API and page), never a 500; every other case answers
normally, and later writes still succeed.

The bad event is stored as an older build accepted it (``tests.support.store_unfoldable``);
the fixture's app has no worker, so each write catches the projector up in the request:
the ``tracker serve --no-workers`` mode, where every later write used to answer 500 while
being stored.
"""

from __future__ import annotations

import pytest

from tests.api.conftest import Env
from tests.api.test_roles import missed, open_case
from tests.support import store_unfoldable
from tests.web.conftest import sign_in

READS = ("", "/history", "/replay", "/engagement", "/export", "/export?format=csv")


@pytest.fixture
def broken(env: Env) -> Env:
    """CS-BAD holds a year-1 appointment; CS-GOOD is an ordinary case of the same team."""
    assert open_case(env, case_id="CS-BAD", child_id="C-BAD").status_code == 201
    store_unfoldable(env.app, "CS-BAD", 1)
    assert open_case(env, case_id="CS-GOOD", child_id="C-GOOD").status_code == 201
    return env


def test_writes_after_a_bad_event_succeed_and_other_cases_project(broken: Env) -> None:
    env = broken
    before = env.client.get("/api/cases/CS-GOOD", headers=env["prac_a"].headers).json()
    resp = missed(env, "prac_a", "CS-GOOD")  # used to answer 500, though stored
    assert resp.status_code == 201, resp.text
    good = env.client.get("/api/cases/CS-GOOD", headers=env["prac_a"].headers)
    assert good.status_code == 200
    projection = good.json()["projection"]
    assert projection["caught_up"] and projection["position"] > before["projection"]["position"]
    # A write to the broken case itself is stored and answered too.
    assert missed(env, "prac_a", "CS-BAD").status_code == 201
    # The team's lists leave the stale case out (tracker status lists it) and answer.
    for path in ("/api/caseload", "/api/compliance", "/api/engagement?team=TEAM-A"):
        listed = env.client.get(path, headers=env["manager_a"].headers)
        assert listed.status_code == 200, (path, listed.text)
        assert "CS-BAD" not in listed.text


@pytest.mark.parametrize("path", READS)
def test_every_read_of_the_broken_case_answers_503_naming_the_problem(
    broken: Env, path: str
) -> None:
    env = broken
    assert missed(env, "prac_a", "CS-GOOD").status_code == 201  # the projector has run
    resp = env.client.get(f"/api/cases/CS-BAD{path}", headers=env["prac_a"].headers)
    assert resp.status_code == 503, resp.text
    body = resp.json()
    assert body["error"] == "case_quarantined"
    assert "CS-BAD" in body["message"] and "0001" not in body["message"]
    other = env.client.get(f"/api/cases/CS-GOOD{path}", headers=env["prac_a"].headers)
    assert other.status_code == 200, other.text


PAGES = ("", "/replay", "/export.json", "/export.csv")


@pytest.mark.parametrize("path", PAGES)
def test_the_pages_of_the_broken_case_say_so(broken: Env, path: str) -> None:
    env = broken
    assert missed(env, "prac_a", "CS-GOOD").status_code == 201
    sign_in(env.client, "prac.a")
    page = env.client.get(f"/cases/CS-BAD{path}")
    assert page.status_code == 503, page.text
    assert "CS-BAD" in page.text and "administrator" in page.text
    assert "Something went wrong" not in page.text
    assert env.client.get(f"/cases/CS-GOOD{path}").status_code == 200
