"""The dashboard renders each alert's acknowledge and resolve fields once per page and
stamps the alert's anchor into them (rendering them per alert was most of the page's time).
A stamped alert's forms are exactly what rendering them for that alert gives: the page
shown again for a rejected note renders that alert's forms in full, and they match."""

from __future__ import annotations

import re

from projections.projector import Projector
from tests.api.conftest import Env
from tests.support import at, open_case, record
from tests.web.conftest import sign_in
from tracker.edges.web.common import anchor


def forms_of(page: str, alert_id: str) -> list[str]:
    """The alert's two forms (CSRF token blanked: each page has its own)."""
    found = re.findall(rf'<form method="post" action="/alerts/{re.escape(alert_id)}/'
                       r'(?:acknowledge|resolve)".*?</form>', page, re.S)
    return [re.sub(r'name="csrf_token" value="[^"]*"', 'name="csrf_token" value=""', f)
            for f in found]


def test_each_alerts_stamped_fields_are_its_own_and_match_a_full_render(env: Env) -> None:
    open_case(env.app)  # TEAM-A, started January: several alerts on it
    record(env.app, "CS-TEST1", "case_manager_allocated", {
        "practitioner_id": "P-TEST01", "agency": "yot", "role": "case_manager",
        "team": "TEAM-A", "manager_id": "M-TEST01"}, at("2026-01-05", 11))
    Projector(env.app).catch_up()
    csrf = sign_in(env.client, "manager.a")
    page = env.client.get("/manager").text
    alerts = re.findall(r'action="/alerts/([^"]+)/acknowledge"', page)
    assert len(alerts) >= 2, "expected several alerts to acknowledge"
    assert "__ALERT_ANCHOR__" not in page
    for alert_id in alerts:
        aid = anchor(alert_id)
        ack, resolve = forms_of(page, alert_id)
        assert f'id="ack-{aid}-note"' in ack and f'for="ack-{aid}-note"' in ack
        assert f'id="res-{aid}-note"' in resolve and f'for="res-{aid}-note"' in resolve
        assert f'id="res-{aid}-review_on"' in resolve
        assert 'name="review_on-day"' in resolve
    assert len(set(re.findall(r'id="((?:ack|res)-[^"]+)"', page))) == \
        len(re.findall(r'id="((?:ack|res)-[^"]+)"', page))  # no id twice
    last = alerts[-1]
    rejected = env.client.post(f"/alerts/{last}/acknowledge",
                               data={"csrf_token": csrf, "note": "  "})
    assert rejected.status_code == 422 and "Note must not be empty" in rejected.text
    assert forms_of(rejected.text, last) == forms_of(page, last)  # rendered in full there
    for alert_id in alerts[:-1]:  # and the others stamped as before
        assert forms_of(rejected.text, alert_id) == forms_of(page, alert_id)
