"""No input makes a page answer 500: generated query strings and form posts (any text,
including control characters and odd Unicode) against every page, on SQLite and
PostgreSQL. The JSON API has the same guarantee from schemathesis."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.api.conftest import Env
from tests.support import open_case
from tests.web.conftest import sign_in
from tracker.edges.web.forms import FORMS, OPEN_CASE

TEXT = st.text(max_size=40) | st.sampled_from(["", "\x00", "2026-02-30", "9" * 30, "-1",
                                               "on", "yes", "no", "office", "TEAM-A"])
FUZZ = settings(max_examples=25, deadline=None, derandomize=True, database=None,
                suppress_health_check=list(HealthCheck))
OK = {200, 303, 403, 409, 422}

GET_PAGES = {
    "/caseload": ["team", "scope"],
    "/manager": ["team", "acknowledged"],
    "/manager/ratings": ["start", "end", "team"],
    "/audit": ["case_id"],
    "/audit/replay": ["case_id", "as_of", "as_known_at"],
    "/audit/access-log": ["user_id", "case_id", "outcome", "since", "until"],
    "/cases/CS-TEST1/replay": ["as_of", "as_known_at"],
    "/login": ["next"],
    "/reports/kpis": ["quarter", "team"],
    "/reports/disproportionality": ["year", "comparison"],
    "/reports/board-pack": ["quarter"],
}


@pytest.mark.parametrize("who", ["auditor", "manager.a"])
def test_query_strings_never_break_a_page(env: Env, who: str) -> None:
    open_case(env.app)
    sign_in(env.client, who)
    for path, names in GET_PAGES.items():  # the values PostgreSQL itself would refuse
        for name in names:
            for bad in ("\x00", "a\x00b", "\ud7ff\U0010ffff", "x" * 5000):
                resp = env.client.get(path, params={name: bad}, follow_redirects=False)
                assert resp.status_code in OK, (path, name, repr(bad), resp.status_code)

    @FUZZ
    @given(path=st.sampled_from(sorted(GET_PAGES)), values=st.lists(TEXT, min_size=5,
                                                                     max_size=5))
    def check(path: str, values: list[str]) -> None:
        params = dict(zip(GET_PAGES[path], values, strict=False))
        resp = env.client.get(path, params=params, follow_redirects=False)
        assert resp.status_code in OK, (path, params, resp.status_code)

    check()


def test_form_posts_never_break_a_page(env: Env) -> None:
    open_case(env.app)
    page_csrf = sign_in(env.client, "prac.a")
    specs = [*FORMS.values(), OPEN_CASE]
    for spec in specs:  # every field at once holding what PostgreSQL would refuse
        path = "/cases/new" if spec is OPEN_CASE else f"/cases/CS-TEST1/log/{spec.slug}"
        data = dict.fromkeys(spec.field_names(), "a\x00b")
        resp = env.client.post(path, data={**data, "csrf_token": page_csrf})
        assert resp.status_code in OK, (path, resp.status_code)

    @FUZZ
    @given(index=st.integers(0, len(specs) - 1), values=st.lists(TEXT, min_size=30,
                                                                  max_size=30))
    def check(index: int, values: list[str]) -> None:
        spec = specs[index]
        names = sorted(spec.field_names())
        data = dict(zip(names, values, strict=False))
        data["csrf_token"] = page_csrf
        path = "/cases/new" if spec is OPEN_CASE else f"/cases/CS-TEST1/log/{spec.slug}"
        resp = env.client.post(path, data=data, follow_redirects=False)
        assert resp.status_code in OK, (path, data, resp.status_code)
        assert "Traceback" not in resp.text

    check()


def test_acknowledge_and_admin_posts_never_break(env: Env) -> None:
    csrf = sign_in(env.client, "admin")

    @FUZZ
    @given(values=st.lists(TEXT, min_size=6, max_size=6))
    def admin(values: list[str]) -> None:
        names = ["username", "password", "role", "teams", "user_id", "display_name"]
        resp = env.client.post("/admin/users", data={"csrf_token": csrf,
                                                     **dict(zip(names, values, strict=True))})
        assert resp.status_code in OK, (values, resp.status_code)

    admin()
    csrf = sign_in(env.client, "manager.a")

    @FUZZ
    @given(alert=TEXT, note=TEXT)
    def acknowledge(alert: str, note: str) -> None:
        safe = re.sub(r"[^A-Za-z0-9_.:-]", "", alert) or "x"
        resp = env.client.post(f"/alerts/{safe}/acknowledge",
                               data={"csrf_token": csrf, "note": note})
        assert resp.status_code in OK, (safe, note, resp.status_code)

    acknowledge()
