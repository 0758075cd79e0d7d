"""The management information pages and API routes, through the real application: who may
see them, links to the cases counted only for those who may open them, the access log,
clear errors beside the field, and the board pack's sections (HTML and PDF)."""

from __future__ import annotations

import pytest

from tests.api.conftest import Env
from tests.test_reports import SEALED_VALUES, SECTIONS, scenario
from tests.web.conftest import errors_beside, sign_in
from tracker.services.access_log import search


def test_api_kpis_by_role_and_team(env: Env) -> None:
    scenario(env.app)
    client = env.client
    resp = client.get("/api/kpis", params={"quarter": "2026Q3"},
                      headers=env["manager_a"].headers)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    kpis = {k["key"]: k for k in body["report"]["kpis"]}
    assert (kpis["accommodation"]["numerator"], kpis["accommodation"]["denominator"]) == (2, 3)
    assert body["cases"]["accommodation"] == [
        {"case_id": c, "readable": True} for c in ("CS-A", "CS-B", "CS-C")]
    logged = {e.case_id for e in search(env.app, user_id="M-TEST01").entries}
    assert logged == {"CS-A", "CS-B", "CS-C"}
    # another team's manager: none of TEAM-A's cases
    other = client.get("/api/kpis", params={"quarter": "2026Q3"},
                       headers=env["manager_b"].headers).json()
    assert all(k["case_ids"] == [] for k in other["report"]["kpis"])
    assert client.get("/api/kpis", params={"quarter": "2026Q3", "team": "TEAM-A"},
                      headers=env["manager_b"].headers).status_code == 403
    # auditors see every team; practitioners and admins no management figures
    assert client.get("/api/kpis", params={"quarter": "2026Q3"},
                      headers=env["auditor"].headers).status_code == 200
    for who in ("prac_a", "admin"):
        assert client.get("/api/kpis", params={"quarter": "2026Q3"},
                          headers=env[who].headers).status_code == 403
    bad = client.get("/api/kpis", params={"quarter": "2026-07"},
                     headers=env["manager_a"].headers)
    assert bad.status_code == 422 and "quarter" in bad.text


def test_api_disproportionality_and_board_pack(env: Env) -> None:
    scenario(env.app)
    headers = env["auditor"].headers
    resp = env.client.get("/api/disproportionality", params={"year": 2026}, headers=headers)
    assert resp.status_code == 200, resp.text
    assert [s["stage"] for s in resp.json()["report"]["stages"]] == [
        "first_time_entrants", "out_of_court", "court_orders", "custody", "breach"]
    assert env.client.get("/api/disproportionality",
                          params={"year": 2026, "comparison": "martian"},
                          headers=headers).status_code == 422
    pack = env.client.get("/api/board-pack", params={"quarter": "2026Q3"}, headers=headers)
    assert pack.status_code == 200, pack.text
    assert pack.json()["attendance"][0]["label"].startswith("education")


def test_kpi_page_links_the_cases(env: Env) -> None:
    scenario(env.app)
    sign_in(env.client, "manager.a")
    page = env.client.get("/reports/kpis", params={"quarter": "2026Q3"})
    assert page.status_code == 200, page.text
    assert 'href="/cases/CS-A"' in page.text and 'id="kpi-victims"' in page.text
    bad = env.client.get("/reports/kpis", params={"quarter": "Q3 2026"})
    assert bad.status_code == 422 and errors_beside(bad.text, "quarter")
    sign_in(env.client, "manager.b")
    page = env.client.get("/reports/kpis", params={"quarter": "2026Q3"})
    assert page.status_code == 200 and 'href="/cases/CS-A"' not in page.text
    sign_in(env.client, "prac.a")
    assert env.client.get("/reports/kpis").status_code == 403


def test_disproportionality_and_board_pack_pages(env: Env) -> None:
    scenario(env.app)
    sign_in(env.client, "auditor")
    page = env.client.get("/reports/disproportionality", params={"year": "2026"})
    assert page.status_code == 200, page.text
    assert 'id="rri-court_orders"' in page.text and "SYNTHETIC" in page.text
    bad = env.client.get("/reports/disproportionality", params={"year": "twenty"})
    assert bad.status_code == 422 and errors_beside(bad.text, "year")
    pack = env.client.get("/reports/board-pack", params={"quarter": "2026Q3"})
    assert pack.status_code == 200, pack.text
    for section in SECTIONS:
        assert f'id="{section}"' in pack.text
    assert "CS-A" not in pack.text


def test_board_pack_pdf_download(env: Env) -> None:
    pytest.importorskip("weasyprint")
    scenario(env.app)
    sign_in(env.client, "manager.a")
    resp = env.client.get("/reports/board-pack.pdf", params={"quarter": "2026Q3"})
    assert resp.status_code == 200
    assert resp.headers["content-type"] == "application/pdf"
    assert resp.content.startswith(b"%PDF")


def test_no_report_page_or_route_holds_a_sealed_value(env: Env) -> None:
    scenario(env.app)
    sign_in(env.client, "auditor")
    texts = [env.client.get(path, params=params).text for path, params in (
        ("/reports/kpis", {"quarter": "2026Q3"}),
        ("/reports/disproportionality", {"year": "2026"}),
        ("/reports/board-pack", {"quarter": "2026Q3"}),
    )]
    headers = env["auditor"].headers
    texts += [env.client.get(path, params=params, headers=headers).text
              for path, params in (("/api/kpis", {"quarter": "2026Q3"}),
                                   ("/api/disproportionality", {"year": 2026}),
                                   ("/api/board-pack", {"quarter": "2026Q3"}))]
    assert all(len(t) > 500 for t in texts)
    for text in texts:
        assert "sealed:v1:" not in text
        for value in SEALED_VALUES:
            assert value not in text
