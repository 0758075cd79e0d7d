"""Page fixtures: the API fixtures' users, and signing in through the real sign-in form."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.api.conftest import PASSWORD, Env, env

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
LOGIN_CSRF_RE = re.compile(r'name="login_csrf" value="([^"]+)"')


def sign_in(client: TestClient, username: str, password: str = PASSWORD,
            next_: str = "") -> str:
    """Sign in through /login; returns the session's CSRF token (from the next page)."""
    client.cookies.clear()
    page = client.get("/login")
    token = LOGIN_CSRF_RE.search(page.text)
    assert token is not None
    resp = client.post("/login", data={"username": username, "password": password,
                                       "login_csrf": token.group(1), "next": next_},
                       follow_redirects=False)
    assert resp.status_code == 303, resp.text
    landing = client.get(resp.headers["location"])
    found = CSRF_RE.search(landing.text)
    assert found is not None, landing.text
    return found.group(1)


def errors_beside(html: str, field: str) -> str:
    """The error message GOV.UK's markup shows beside a field (``<field>-error``), or ''."""
    match = re.search(
        rf'<p id="{re.escape(field)}-error" class="govuk-error-message">\s*'
        r'<span class="govuk-visually-hidden">Error:</span>\s*(.*?)\s*</p>', html, re.S
    )
    return match.group(1) if match else ""


__all__ = ["Env", "env", "errors_beside", "sign_in"]
