"""The management information reports end to end, on SQLite and PostgreSQL: events recorded
through the one door, then the KPIs, the quarterly return, disproportionality and the board
pack read back (CLI and queries), erasure, and a scan that no report holds a sealed value."""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from events.envelope import Actor
from projections.kpis import Quarter
from projections.quarterly_return import LAYOUT, MANIFEST, PERSONAL_LAYOUT
from projections.queries.board_pack import board_pack
from projections.queries.kpi_reports import kpi_report, published_kpis, read_cohort
from tests.support import at, cli_runner, open_case, record
from tracker.bootstrap import App
from tracker.db.report_tables import published_figures
from tracker.domain.access import Principal
from tracker.edges.web.mi_pages import board_pack_document
from tracker.services.board import record_meeting
from tracker.services.erasure import erase_child

Q3 = Quarter(2026, 3)
DOCS = Path(__file__).parents[1] / "docs"


@pytest.fixture
def cli(app: App, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str, str]]:
    """``tracker ARGS`` against the test database (``tests.support.cli_runner``)."""
    return cli_runner(app, monkeypatch, capsys, "M-CLI01", "manager")


def ev(app: App, case_id: str, event_type: str, day: str, **data: Any) -> None:
    record(app, case_id, event_type, data, at(day))


def scenario(app: App) -> None:
    """Three cases, hand-counted in the assertions below.

    CS-A (YRO, child C-A, Black Caribbean): offence robbery gravity 6 (first offence),
      suitable accommodation and ETE 20/25 at the end (closed 2026-08-20), mental health
      identified -> planned -> attending, looked after, one victim consenting and taking
      up RJ, satisfied; the child's feedback at the end.
    CS-B (YRO, child C-B, White British): unsuitable accommodation at the end (closed
      2026-09-10), not in ETE, SEN identified with an EHCP, mental health need only.
    Board: 14 July (police, health, education invited; health absent) and 8 September
    (police, health, both there): 4 of 5 partner places (the YJS itself is no partner).
    CS-C (youth caution, child C-C, no diversity recorded): out-of-court, suitable
      accommodation and college 12/16 hours, closed 2026-07-30 without completion.
    """
    open_case(app, "CS-A", child_id="C-A0000001", start_date="2026-02-02",
              expected_end_date="2026-08-20")
    ev(app, "CS-A", "offence_recorded", "2026-02-02", offence_id="O-1", category="robbery",
       gravity_score=6, offence_date="2026-01-10", first_offence=True)
    ev(app, "CS-A", "diversity_recorded", "2026-02-03", ethnicity="black_caribbean",
       sex="male")
    ev(app, "CS-A", "accommodation_recorded", "2026-08-01", point="change", suitable=True,
       accommodation_type="parent_or_guardian")
    ev(app, "CS-A", "ete_recorded", "2026-08-01", point="review", status="school_full_time",
       suitable=True, hours_offered=25, hours_attended=20)
    ev(app, "CS-A", "health_need_recorded", "2026-03-01", domain="mental_health",
       stage="need_identified", stage_date="2026-03-01")
    ev(app, "CS-A", "health_need_recorded", "2026-03-10", domain="mental_health",
       stage="intervention_planned", stage_date="2026-03-10")
    ev(app, "CS-A", "health_need_recorded", "2026-04-01", domain="mental_health",
       stage="attending", stage_date="2026-04-01")
    ev(app, "CS-A", "wider_service_link_started", "2026-02-05", service="looked_after",
       start_date="2026-02-05")
    ev(app, "CS-A", "victim_identified", "2026-07-01", victim_id="V-1001",
       victim_kind="individual")
    ev(app, "CS-A", "victim_contacted", "2026-07-02", victim_id="V-1001", method="phone")
    ev(app, "CS-A", "victim_consent_recorded", "2026-07-02", victim_id="V-1001",
       consented=True)
    ev(app, "CS-A", "restorative_justice_offered", "2026-07-03", victim_id="V-1001")
    ev(app, "CS-A", "restorative_justice_taken_up", "2026-07-20", victim_id="V-1001",
       kind="direct_meeting")
    ev(app, "CS-A", "victim_satisfaction_recorded", "2026-08-01", victim_id="V-1001",
       satisfaction="satisfied")
    ev(app, "CS-A", "feedback_given", "2026-08-15", respondent="child", point="end",
       answers=[{"question": "i_was_listened_to", "score": 5},
                {"question": "my_worker_helped_me", "score": 4}])
    ev(app, "CS-A", "case_closed", "2026-08-20", reason="order_completed")

    open_case(app, "CS-B", child_id="C-B0000001", start_date="2026-03-02")
    ev(app, "CS-B", "offence_recorded", "2026-03-02", offence_id="O-2",
       category="theft_and_handling", gravity_score=3, offence_date="2026-02-01",
       first_offence=False)
    ev(app, "CS-B", "diversity_recorded", "2026-03-03", ethnicity="white_british",
       sex="female")
    ev(app, "CS-B", "accommodation_recorded", "2026-09-01", point="change", suitable=False,
       accommodation_type="temporary_or_emergency")
    ev(app, "CS-B", "ete_recorded", "2026-09-01", point="review", status="not_in_ete",
       suitable=False, hours_offered=0, hours_attended=0)
    ev(app, "CS-B", "sen_recorded", "2026-03-05", identified=True, formal_plan="ehcp")
    ev(app, "CS-B", "health_need_recorded", "2026-04-01", domain="mental_health",
       stage="need_identified", stage_date="2026-04-01")
    ev(app, "CS-B", "case_closed", "2026-09-10", reason="order_completed")

    open_case(app, "CS-C", child_id="C-C0000001", disposal_type="youth_caution",
              route="out_of_court", start_date="2026-06-01", expected_end_date=None,
              intervention_level="standard")
    ev(app, "CS-C", "accommodation_recorded", "2026-06-02", point="start", suitable=True,
       accommodation_type="parent_or_guardian")
    ev(app, "CS-C", "ete_recorded", "2026-06-02", point="start", status="college",
       suitable=True, hours_offered=16, hours_attended=12)
    ev(app, "CS-C", "case_closed", "2026-07-30", reason="order_completed")

    manager = Principal("M-0001", "manager", frozenset({"TEAM-A"}))
    record_meeting(app, manager, {"service": "YJS-TEST", "held_on": "2026-07-14",
                                  "agencies_invited": ["yjs", "police", "health", "education"],
                                  "agencies_attending": ["yjs", "police", "education"]})
    record_meeting(app, manager, {"service": "YJS-TEST", "held_on": "2026-09-08",
                                  "agencies_invited": ["police", "health"],
                                  "agencies_attending": ["police", "health"]})


def by_key(report: Any) -> dict[str, Any]:
    return {k["key"]: k for k in report["kpis"]}


def test_kpis_from_recorded_events(app: App) -> None:
    scenario(app)
    k = by_key(kpi_report(app, Q3))
    nd = {key: (v["numerator"], v["denominator"]) for key, v in k.items()}
    assert nd == {
        # KPI 3: CS-B's plan counts (the main measure asks no ETE); KPIs 4, 5: a need
        # identified at the end, of the three orders ended (gov.uk main measures)
        "accommodation": (2, 3), "ete": (2, 3), "send": (1, 1), "mental_health": (2, 3),
        "substance_misuse": (0, 3), "out_of_court": (0, 1), "board_attendance": (4, 5),
        "wider_services": (1, 3), "serious_violence": (0, 0), "victims": (1, 1),
    }
    assert k["accommodation"]["case_ids"] == ["CS-A", "CS-B", "CS-C"]
    assert [(s["numerator"], s["denominator"]) for s in k["mental_health"]["steps"]] == [
        (2, 3), (1, 2), (1, 1)]
    # serious violence counts cases *opened* in the quarter: CS-A opened in Q1
    q1 = by_key(kpi_report(app, Quarter(2026, 1)))
    assert (q1["serious_violence"]["numerator"], q1["serious_violence"]["denominator"]) == (
        1, 2)
    assert q1["serious_violence"]["case_ids"] == ["CS-A"]
    # a team filter leaves the others out
    assert by_key(kpi_report(app, Q3, {"OTHER"}))["accommodation"]["denominator"] == 0


def test_cli_kpis_logs_the_cases_it_lists(cli, app: App) -> None:  # type: ignore[no-untyped-def]
    scenario(app)
    code, out, err = cli("kpis", "--quarter", "2026Q3", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert [k["number"] for k in data["kpis"]] == list(range(1, 11))
    from tracker.services.access_log import search

    logged = {e.case_id for e in search(app, action="cli: tracker kpis").entries}
    assert logged == {"CS-A", "CS-B", "CS-C"}
    code, _, err = cli("kpis", "--quarter", "2026-3")
    assert code == 2 and "quarter" in err


def _documented_layout() -> dict[str, tuple[str, ...]]:
    """The files and their columns, as docs/quarterly-return.md lists them."""
    text = (DOCS / "quarterly-return.md").read_text(encoding="utf-8")
    out: dict[str, tuple[str, ...]] = {}
    for section in re.split(r"^### ", text, flags=re.M)[1:]:
        name = section.splitlines()[0].strip()
        rows = re.findall(r"^\| ([a-z_]+) \|", section, flags=re.M)
        out[name] = tuple(r for r in rows if r != "column")
    return out


def test_return_matches_its_documented_layout(cli, app: App, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert _documented_layout() == {**LAYOUT, **PERSONAL_LAYOUT}
    scenario(app)
    out = tmp_path / "ret"
    code, printed, err = cli("return", "--quarter", "2026Q3", "--out", str(out))
    assert code == 0, err
    assert "cases.csv 3" in printed and "WARNING" not in printed
    assert sorted(p.name for p in out.iterdir()) == sorted([*LAYOUT, MANIFEST])
    manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["contains_personal_data"] is False and manifest["personal_fields"] == []
    assert manifest["files"]["cases.csv"] == 3 and "personal.csv" not in manifest["files"]
    files: dict[str, list[dict[str, str]]] = {}
    for name, columns in LAYOUT.items():
        with (out / name).open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            assert tuple(reader.fieldnames or ()) == columns
            files[name] = list(reader)
    assert [r["case_ref"] for r in files["cases.csv"]] == ["CS-A", "CS-B", "CS-C"]
    a = files["cases.csv"][0]
    assert (a["offence_category"], a["gravity_score"], a["serious_violence"],
            a["end_date"]) == ("robbery", "6", "Y", "2026-08-20")
    assert [(r["case_ref"], r["suitable"]) for r in files["accommodation.csv"]] == [
        ("CS-A", "Y"), ("CS-B", "N"), ("CS-C", "Y")]
    assert files["victims.csv"][0]["victim_ref"] == "V-1001"
    assert files["out_of_court.csv"] == [{"case_ref": "CS-C", "disposal": "youth_caution",
                                          "end_date": "2026-07-30", "completed": "N"}]
    for row in files["cases.csv"]:
        for value in row.values():
            assert value == "" or re.fullmatch(r"[A-Za-z0-9_.:-]+", value), value
    # the same directory again: refused, nothing changed
    code, _, err = cli("return", "--quarter", "2026Q3", "--out", str(out))
    assert code == 2 and "--out" in err


def test_return_validation_lists_case_and_field_and_writes_nothing(  # type: ignore[no-untyped-def]
        cli, app: App, tmp_path: Path) -> None:
    open_case(app, "CS-D", child_id="C-D0000001", start_date="2026-07-06")
    ev(app, "CS-D", "case_closed", "2026-09-01", reason="order_completed")
    out = tmp_path / "ret"
    code, _, err = cli("return", "--quarter", "2026Q3", "--out", str(out))
    assert code == 2
    assert "case CS-D: offence" in err and "case CS-D: accommodation" in err
    assert "case CS-D: ete_status" in err
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if "ret" in p.name] == []  # no temp left


def test_disproportionality_cli(cli, app: App) -> None:  # type: ignore[no-untyped-def]
    scenario(app)
    code, out, err = cli("disproportionality", "--year", "2026", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert "SYNTHETIC" in data["population"]
    stages = {s["stage"]: s for s in data["report"]["stages"]}
    court = {r["group"]: r for r in stages["court_orders"]["rows"]}
    # one black and one white child, each below the threshold of 5: suppressed
    assert court["black"]["shown"] == "<5" and court["black"]["rri"] is None
    assert stages["court_orders"]["total"] is None
    ooc = {r["group"]: r for r in stages["out_of_court"]["rows"]}
    assert ooc["not_stated"]["shown"] == "<5"
    code, _, err = cli("disproportionality", "--year", "2026", "--comparison", "martian")
    assert code == 2 and "comparison" in err


def test_erased_child_is_not_computed_again(app: App) -> None:
    scenario(app)
    before = by_key(kpi_report(app, Q3))
    assert before["victims"]["denominator"] == 1
    erase_child(app, "C-A0000001", "erasure_request", actor=Actor("AD-1", "admin"),
                correlation_id="t")
    after = by_key(kpi_report(app, Q3))
    assert after["victims"]["denominator"] == 0
    assert after["accommodation"]["case_ids"] == ["CS-B", "CS-C"]
    assert all(c.case_id != "CS-A" for c in read_cohort(app)["cases"])


SEALED_VALUES = ("black_caribbean", "white_british", "2010-05-17")
"""Values the scenario recorded in sealed fields (ethnicity, date of birth; sex below)."""


def test_no_report_holds_a_sealed_value(cli, app: App, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    scenario(app)
    outputs: list[str] = []
    for args in (["kpis", "--quarter", "2026Q3", "--json"], ["kpis", "--quarter", "2026Q3"],
                 ["disproportionality", "--year", "2026", "--json"],
                 ["disproportionality", "--year", "2026"]):
        code, out, err = cli(*args)
        assert code == 0, err
        outputs.append(out)
    code, _, err = cli("return", "--quarter", "2026Q3", "--out", str(tmp_path / "r"))
    assert code == 0, err
    outputs.extend(p.read_text(encoding="utf-8") for p in (tmp_path / "r").iterdir())
    code, _, err = cli("board-pack", "--quarter", "2026Q3", "--out", str(tmp_path / "b"),
                       "--no-pdf")
    assert code == 0, err
    outputs.extend(p.read_text(encoding="utf-8") for p in (tmp_path / "b").iterdir())
    assert len(outputs) == 4 + len(LAYOUT) + 1 + 1  # the return's manifest
    for text in outputs:
        assert "sealed:v1:" not in text
        for value in SEALED_VALUES:
            assert value not in text
        assert not re.search(r"\b(fe)?male\b", text)


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_return_with_personal_data_only_when_asked(cli, app: App, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """``--include-personal``: personal.csv holds the unsealed diversity values, the CLI
    warns and the manifest says so; every other file stays free of them; a child whose key
    is gone reads blank (``erased``), never recomputed."""
    scenario(app)
    app.keyring.destroy("C-B0000001")  # the key gone before the erasure event was stored
    out = tmp_path / "ret"
    code, printed, err = cli("return", "--quarter", "2026Q3", "--out", str(out),
                             "--include-personal")
    assert code == 0, err
    assert printed.startswith("WARNING: this return contains PERSONAL DATA")
    assert "ethnicity, sex, age_at_offence, age_at_disposal" in printed
    manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["contains_personal_data"] is True
    assert manifest["personal_fields"] == ["ethnicity", "sex", "age_at_offence",
                                           "age_at_disposal"]
    assert sorted(p.name for p in out.iterdir()) == sorted([*LAYOUT, *PERSONAL_LAYOUT,
                                                            MANIFEST])
    rows = read_csv(out / "personal.csv")
    assert tuple(rows[0]) == PERSONAL_LAYOUT["personal.csv"]
    assert {r["case_ref"]: (r["ethnicity"], r["sex"], r["age_at_offence"],
                            r["age_at_disposal"], r["status"]) for r in rows} == {
        "CS-A": ("black_caribbean", "male", "15", "15", "recorded"),
        "CS-B": ("", "", "", "", "erased"),
        "CS-C": ("", "", "", "16", "recorded"),
    }
    for path in out.iterdir():
        if path.name != "personal.csv":
            text = path.read_text(encoding="utf-8")
            assert "black_caribbean" not in text and "sealed:v1:" not in text
            assert not re.search(r"\b(fe)?male\b", text)
    assert "sealed:v1:" not in (out / "personal.csv").read_text(encoding="utf-8")


def test_return_with_personal_data_validates_the_ages(cli, app: App, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    scenario(app)
    open_case(app, "CS-E", child_id="C-E0000001", start_date="2026-07-06",
              date_of_birth="2005-01-01")
    ev(app, "CS-E", "offence_recorded", "2026-07-06", offence_id="O-9", category="other",
       gravity_score=2, offence_date="2026-06-01", first_offence=False)
    out = tmp_path / "ret"
    code, _, err = cli("return", "--quarter", "2026Q3", "--out", str(out),
                       "--include-personal")
    assert code == 2 and "case CS-E: age_at_offence" in err and "outside 10 to 17" in err
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if "ret" in p.name] == []
    # without the personal fields the ages are not read, so not checked
    code, _, err = cli("return", "--quarter", "2026Q3", "--out", str(out))
    assert code == 0, err


SECTIONS = ("bp-kpis", "bp-compliance", "bp-engagement", "bp-ratings", "bp-disproportionality",
            "bp-feedback", "bp-attendance")


def test_board_pack_html_has_its_sections(app: App) -> None:
    scenario(app)
    pack = board_pack(app, Q3)
    assert pack["trend"]["quarters"] == ["2025Q4", "2026Q1", "2026Q2", "2026Q3"]
    assert all(k["case_ids"] == [] for k in pack["kpis"])  # no case-level data
    assert pack["children_feedback"] == {
        "responses": 1, "questions": {"i_was_listened_to": 5.0, "my_worker_helped_me": 4.0}}
    html = board_pack_document(pack)
    for section in SECTIONS:
        assert f'id="{section}"' in html
    charts = html.count('role="img"')  # one trend chart per KPI (or "no data yet")
    assert charts >= 5 and charts + html.count("no data yet") == 10
    assert "CS-A" not in html and "C-A0000001" not in html


def test_board_pack_pdf(cli, app: App, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    weasyprint = pytest.importorskip("weasyprint")
    assert weasyprint is not None
    scenario(app)
    out = tmp_path / "pack"
    code, printed, err = cli("board-pack", "--quarter", "2026Q3", "--out", str(out))
    assert code == 0, err
    assert "HTML and PDF" in printed
    pdf = (out / "board-pack-2026Q3.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and len(pdf) > 5000
    html = (out / "board-pack-2026Q3.html").read_text(encoding="utf-8")
    assert all(f'id="{s}"' in html for s in SECTIONS)


def test_published_figures_stay_after_an_erasure(app: App) -> None:
    """Nothing about an erased child is computed again, and the aggregate a board saw
    stays as a figure: an ended quarter's KPIs are kept as first produced."""
    scenario(app)
    first = by_key(board_pack(app, Q3))  # Q3 ended before the test clock's 2 November
    assert (first["victims"]["numerator"], first["victims"]["denominator"]) == (1, 1)
    erase_child(app, "C-A0000001", "erasure_request", actor=Actor("AD-1", "admin"),
                correlation_id="t")
    again = board_pack(app, Q3)
    assert by_key(again) == first  # the published figures
    live = by_key(kpi_report(app, Q3))  # the live report no longer counts the child
    assert live["victims"]["denominator"] == 0
    # a quarter not yet ended is never published: computed each time
    q4 = published_kpis(app, Quarter(2026, 4))
    with app.engine.connect() as conn:
        periods = {r.period for r in conn.execute(select(published_figures))}
    assert "2026Q4" not in periods and "2026Q3" in periods
    assert q4["period"] == "2026Q4"
