"""The inspection scope on a real store (SQLite, PostgreSQL): cases that commenced
supervision in the window, custody cases a year back, remands not counted as custodial
sentences, and a reproducible sample (seed 001 §3.14-3.16, §3.33; seed 002; seed 004)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from typing import Any

from projections import queries
from projections.projector import Projector
from tests.support import open_case
from tracker.bootstrap import App

END = date(2026, 10, 31)   # window: 30 April 2026 to 31 October 2026


def _caseload(app: App, dtos: int) -> None:
    cases: list[tuple[str, dict[str, Any]]] = [
        (f"CS-DTO{i}", {"disposal_type": "dto", "setting": "custody",
                        "start_date": "2026-01-05"}) for i in range(dtos)
    ] + [
        (f"CS-REM{i}", {"disposal_type": "remand", "setting": "custody",
                        "start_date": "2026-05-04"}) for i in range(2)
    ] + [
        ("CS-YRO1", {"start_date": "2026-06-01"}),
        ("CS-YRO0", {"start_date": "2026-02-02"}),   # before the window: not in scope
        ("CS-CR1", {"disposal_type": "community_resolution", "route": "out_of_court",
                    "start_date": "2026-07-06"}),
    ]
    for case_id, data in cases:
        open_case(app, case_id, child_id=f"C-{case_id}", expected_end_date="2027-06-30",
                  **data)
    Projector(app).catch_up()


def test_scope_and_resettlement_count_only_custodial_sentences(app: App) -> None:
    _caseload(app, dtos=4)
    report = queries.ratings(app, start=None, end=END)
    assert report["period"] == {"from": "2026-04-30", "to": "2026-10-31"}
    # in scope: the two remands, the YRO and the community resolution
    assert report["records"]["sample"] == {"cases": 4, "court": 3, "out_of_court": 1}
    resettlement = report["records"]["resettlement"]
    assert (resettlement["custody_cases"], resettlement["rated"]) == (4, False)
    assert "fewer than 5 children commenced a custodial sentence in the year (4)" in (
        report["records"]["domains"]["court"]["resettlement"]["not_rated"])
    assert "review" not in report["records"]["domains"]["out_of_court"]


def test_five_children_on_custodial_sentences_bring_resettlement_into_scope(app: App) -> None:
    _caseload(app, dtos=5)
    assert queries.ratings(app, start=None, end=END)["records"]["resettlement"]["rated"]


def test_the_sample_command_draws_the_same_sample_for_the_same_seed(
    app: App, cli: Callable[..., tuple[int, str, str]]
) -> None:
    _caseload(app, dtos=4)
    code, out, _err = cli("sample", "--seed", "11", "--to", "2026-10-31", "--json")
    assert code == 0
    drawn = json.loads(out)
    assert drawn["in_scope"] == {"cases": 4, "court": 3, "out_of_court": 1}
    assert drawn["case_ids"] == ["CS-CR1", "CS-REM0", "CS-REM1", "CS-YRO1"]  # all: under 20
    again = queries.inspection_sample(app, seed=11, end=END)
    assert again["case_ids"] == drawn["case_ids"]
    code, out, _err = cli("ratings", "--to", "2026-10-31", "--sample-seed", "11", "--json")
    assert code == 0 and json.loads(out)["sample_seed"] == 11
    code, _out, err = cli("sample", "--seed", "-1")
    assert code == 2 and "Traceback" not in err


def test_the_cli_records_each_sample_lists_them_and_rates_one(
    app: App, cli: Callable[..., tuple[int, str, str]]
) -> None:
    _caseload(app, dtos=4)
    code, out, _err = cli("sample", "--seed", "3", "--to", "2026-10-31", "--preset", "custom",
                          "--strata", "route", "--size", "2", "--json")
    assert code == 0, out
    drawn = json.loads(out)
    # 3 court : 1 out of court, 2 cases: exact shares 1.5 and 0.5, the tied remainder to
    # the first stratum by name (projections.sampling)
    assert drawn["drawn"] == {"cases": 2, "court": 2, "out_of_court": 0}
    assert drawn["drawn_by"] == "M-CLI01" and drawn["parameters"]["strata"] == ["route"]
    code, out, _err = cli("sample", "--seed", "3", "--to", "2026-10-31", "--preset", "custom",
                          "--strata", "route", "--size", "2", "--json")
    assert json.loads(out)["case_ids"] == drawn["case_ids"]
    code, out, _err = cli("samples", "--json")
    assert code == 0 and len(json.loads(out)) == 2
    code, out, _err = cli("samples", "--id", drawn["sample_id"])
    assert code == 0 and all(case_id in out for case_id in drawn["case_ids"])
    assert "not yet audited" in out
    code, out, _err = cli("ratings", "--sample", drawn["sample_id"], "--json")
    assert code == 0, out
    rated = json.loads(out)
    assert rated["sample_id"] == drawn["sample_id"] and rated["records"]["sample"]["cases"] == 2
    code, _out, err = cli("sample", "--seed", "3", "--preset", "weekly")
    assert code == 2 and "--preset" in err and "Traceback" not in err
    code, _out, err = cli("samples", "--id", "00000000-0000-0000-0000-000000000000")
    assert code == 2 and "no sample" in err
