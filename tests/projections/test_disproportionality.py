"""The relative rate index against a hand-computed table, small-number suppression, and
the population file's format."""

from __future__ import annotations

from datetime import date

import pytest

from projections import disproportionality as D  # noqa: N812
from projections.kpis import KpiCase, Offence
from tracker.kernel.errors import InvalidInput

POP = {"asian": 1000, "black": 500, "mixed": 400, "white": 8000, "other": 100}


def test_rri_hand_computed_table() -> None:
    # white 40 of 8,000 = 5.0 per 1,000; black 10 of 500 = 20.0 -> RRI 4.0;
    # asian 6 of 1,000 = 6.0 -> 1.2; mixed 0 -> 0.0; other 5 of 100 = 50.0 -> 10.0
    t = D.stage_table("court_orders", {"white": 40, "black": 10, "asian": 6, "mixed": 0,
                                       "other": 5}, POP, "white", 5)
    by = {r["group"]: r for r in t["rows"]}
    assert by["white"]["rate_per_1000"] == 5.0 and by["white"]["rri"] == 1.0
    assert by["black"]["rate_per_1000"] == 20.0 and by["black"]["rri"] == 4.0
    assert by["asian"]["rri"] == 1.2
    assert by["mixed"]["rri"] == 0.0 and by["mixed"]["count"] == 0
    assert by["other"]["rri"] == 10.0
    assert t["total"] == 61 and t["note"] == ""


def test_other_comparison_group() -> None:
    t = D.stage_table("custody", {"white": 40, "black": 10}, POP, "black", 5)
    by = {r["group"]: r["rri"] for r in t["rows"]}
    assert by["black"] == 1.0 and by["white"] == 0.25


def test_small_numbers_suppressed() -> None:
    t = D.stage_table("custody", {"white": 40, "black": 3, "not_stated": 1}, POP, "white", 5)
    by = {r["group"]: r for r in t["rows"]}
    assert by["black"]["suppressed"] and by["black"]["count"] is None
    assert by["black"]["shown"] == "<5"
    assert by["black"]["rate_per_1000"] is None and by["black"]["rri"] is None
    assert by["not_stated"]["shown"] == "<5"
    assert t["total"] is None  # else 44 - 40 would reveal the hidden cells
    assert "suppressed" in t["note"]
    # the comparison group itself hidden: no RRI at all
    t2 = D.stage_table("custody", {"white": 2, "black": 30}, POP, "white", 5)
    assert all(r["rri"] is None for r in t2["rows"]) and "comparison" in t2["note"]
    # a threshold of 3 shows 3
    t3 = D.stage_table("custody", {"white": 40, "black": 3}, POP, "white", 3)
    assert {r["group"]: r["shown"] for r in t3["rows"]}["black"] == "3"


def test_report_counts_children_once_per_stage() -> None:
    y = (date(2026, 1, 1), date(2026, 12, 31))

    def c(cid: str, child: str, **kw: object) -> KpiCase:
        base: dict[str, object] = {"team": "T", "child_id": child, "disposal": "yro",
                                   "route": "court", "start": date(2026, 3, 1),
                                   "ethnic_group": "black"}
        base.update(kw)
        return KpiCase(case_id=cid, **base)  # type: ignore[arg-type]

    cases = [
        c("1", "A", offences=(Offence("theft", 3, True),), disposal="referral_order"),
        c("2", "A", start=date(2026, 6, 1)),  # same child, second court order
        c("3", "B", disposal="dto", custodial_sentence=True, breaches=(date(2026, 5, 1),)),
        c("4", "C", route="out_of_court", disposal="community_resolution",
          offences=(Offence("theft", 1, True),), ethnic_group=None),  # not an FTE
        c("5", "D", disposal="remand", start=date(2025, 3, 1)),
    ]
    found = D.entries(cases, *y)
    rep = D.report(found, POP, first=y[0], last=y[1], comparison="white", threshold=1)
    counts = {s["stage"]: {r["group"]: r["count"] for r in s["rows"] if r["count"]}
              for s in rep["stages"]}
    assert counts == {
        "first_time_entrants": {"black": 1},
        "out_of_court": {"not_stated": 1},
        "court_orders": {"black": 2},
        "custody": {"black": 1},
        "breach": {"black": 1},
    }
    with pytest.raises(InvalidInput):
        D.report(found, POP, first=y[0], last=y[1], comparison="martian", threshold=5)


def test_population_file() -> None:
    text = ("# synthetic\nethnic_group,age,population\nwhite,10,500\nwhite,11,700\n"
            "black_african,10,30\nasian,10,40\n")
    assert D.read_population(text) == {"white": 1200, "black": 30, "asian": 40}
    with pytest.raises(InvalidInput) as err:
        D.read_population("ethnic_group,population\nmartian,4\nwhite,-3\n")
    fields = [p.field for p in err.value.problems]
    assert fields == ["line 2 ethnic_group", "line 3 population"]
    with pytest.raises(InvalidInput):
        D.read_population("group,count\nwhite,3\n")


def test_high_level_mapping() -> None:
    assert D.high_level("mixed_white_and_black_caribbean") == "mixed"
    assert D.high_level("White") == "white"
    assert D.high_level(None) is None and D.high_level("[erased]") is None
