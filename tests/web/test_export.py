"""Exports: exactly the replayed view, flat CSV with UK-time columns, and a clear warning
before a file that holds personal data in clear."""

from __future__ import annotations

import csv
import io

from tests.api.conftest import Env
from tests.support import at, open_case, record
from tests.web.conftest import sign_in


def seeded(env: Env) -> None:
    open_case(env.app)
    record(env.app, "CS-TEST1", "contact_attended",
           {"kind": "office", "participation": 4, "note": "ZQX-NOTE-MARKER"},
           at("2026-07-10", 9))  # 10:00 in London (BST)
    record(env.app, "CS-TEST1", "contact_attended", {"kind": "phone", "participation": 3},
           at("2026-09-10", 9))


def test_the_export_page_warns_of_personal_data_in_clear(env: Env) -> None:
    seeded(env)
    sign_in(env.client, "auditor")
    page = env.client.get("/cases/CS-TEST1/export")
    assert page.status_code == 200
    assert 'id="personal-warning"' in page.text and "in clear" in page.text
    download = env.client.get("/cases/CS-TEST1/export.csv")
    assert download.headers["X-Contains-Personal-Data"] == "yes"
    assert "ZQX-NOTE-MARKER" in download.text


def test_the_replayed_view_exports_exactly_and_flat_in_uk_time(env: Env) -> None:
    seeded(env)
    sign_in(env.client, "auditor")
    replay = env.client.get("/cases/CS-TEST1/replay?as_of=2026-08-01")
    assert 'id="export-replay"' in replay.text and "as_of=2026-08-01" in replay.text
    resp = env.client.get("/cases/CS-TEST1/export.csv?as_of=2026-08-01")
    assert resp.status_code == 200
    rows = list(csv.DictReader(io.StringIO(resp.text)))
    assert [r["type"] for r in rows] == ["case_opened", "contact_attended"]  # not September's
    contact = rows[1]
    assert (contact["occurred_date"], contact["occurred_time"]) == ("2026-07-10", "10:00")
    assert contact["data.kind"] == "office" and contact["data.participation"] == "4"
    whole = env.client.get("/cases/CS-TEST1/export.json").json()
    assert len(whole["events"]) == 3 and whole["contains_personal_data"] is True
    api = env.client.get("/cases/CS-TEST1/export.json?as_of=2026-08-01").json()
    assert api["as_of"] == "2026-08-01" and len(api["events"]) == 2
    bad = env.client.get("/cases/CS-TEST1/export.csv?as_of=nonsense")
    assert bad.status_code == 422
