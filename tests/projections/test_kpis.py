"""Each KPI against a hand-computed scenario (docs/kpis.md), and the quarter arithmetic."""

from __future__ import annotations

from datetime import date

import pytest

from projections import kpis as K  # noqa: N812
from projections.kpis import (
    Accommodation,
    BoardMeeting,
    Ete,
    FunnelStep,
    KpiCase,
    Offence,
    Quarter,
    Send,
    Victim,
    WiderService,
)
from tracker.kernel.errors import InvalidInput

Q3 = Quarter(2026, 3)  # 1 July - 30 September 2026
BEFORE, IN_Q, AFTER = date(2026, 5, 1), date(2026, 8, 10), date(2026, 10, 2)


def case(case_id: str, **kw: object) -> KpiCase:
    base: dict[str, object] = {"team": "T", "child_id": "CH-" + case_id, "disposal": "yro",
                               "route": "court", "start": date(2026, 1, 5)}
    base.update(kw)
    return KpiCase(case_id=case_id, **base)  # type: ignore[arg-type]


def test_quarter_parsing_and_bounds() -> None:
    q = Quarter.parse("2026q3")
    assert (q.first, q.last, str(q), q.yjb) == (
        date(2026, 7, 1), date(2026, 9, 30), "2026Q3", "2026/27 Q2")
    assert Quarter.parse("2027Q1").yjb == "2026/27 Q4"
    assert [str(x) for x in Quarter(2026, 2).trend(4)] == ["2025Q3", "2025Q4", "2026Q1",
                                                         "2026Q2"]
    with pytest.raises(InvalidInput) as err:
        Quarter.parse("2026-3")
    assert err.value.problems[0].field == "quarter"


def test_kpi1_accommodation_at_end_and_on_release() -> None:
    cases = [
        # ended in Q3, suitable at the end (latest status before the end wins)
        case("A", closed=IN_Q, accommodation=(Accommodation(BEFORE, False, "custody"),
                                              Accommodation(date(2026, 8, 1), True, "family"))),
        # ended in Q3, unsuitable at the end (the later suitable one came after)
        case("B", closed=IN_Q, accommodation=(Accommodation(BEFORE, False, "sofa_surfing"),
                                              Accommodation(AFTER, True, "family"))),
        # released in Q3 (not ended): a step only (release is a sub-measure), suitable
        case("C", releases=(date(2026, 7, 20),),
             accommodation=(Accommodation(date(2026, 7, 19), True, "supported"),)),
        # ended in Q3 with nothing recorded: counted, not suitable
        case("D", closed=date(2026, 9, 30)),
        # ended before the quarter: not counted
        case("E", closed=BEFORE, accommodation=(Accommodation(BEFORE, True, "family"),)),
    ]
    r = K.accommodation(cases, Q3)
    # main measure (gov.uk): suitable at the end of the order, of the orders ended: A of A,B,D
    assert (r["numerator"], r["denominator"], r["percent"]) == (1, 3, 33.3)
    assert (r["steps"][0]["numerator"], r["steps"][0]["denominator"]) == (1, 1)  # C
    assert r["case_ids"] == ["A", "B", "C", "D"]


def test_kpi2_ete_suitable_and_attending() -> None:
    cases = [
        case("A", closed=IN_Q, ete=(Ete(BEFORE, "school", True, 25, 20),)),
        case("B", closed=IN_Q, ete=(Ete(BEFORE, "college", True, 16, 0),)),  # not attending
        case("C", closed=IN_Q, ete=(Ete(BEFORE, "neet", False, 0, 0),)),
    ]
    r = K.ete(cases, Q3)
    # main measure: in suitable ETE at the end (A, B); attending is a step (A of A, B)
    assert (r["numerator"], r["denominator"]) == (2, 3)
    assert [(s["numerator"], s["denominator"]) for s in r["steps"]] == [(1, 2), (20, 41),
                                                                       (0, 0)]


def test_kpi3_send_formal_plan() -> None:
    cases = [
        case("A", closed=IN_Q, send=(Send(BEFORE, True, True),),
             ete=(Ete(BEFORE, "school", True, 25, 25),)),
        case("B", closed=IN_Q, send=(Send(BEFORE, True, False),),
             ete=(Ete(BEFORE, "school", True, 25, 25),)),  # no plan
        case("C", closed=IN_Q, send=(Send(BEFORE, True, True),)),  # no ETE
        case("D", closed=IN_Q, send=(Send(BEFORE, False, False),)),  # no need: not counted
    ]
    r = K.send(cases, Q3)
    # main measure: a formal plan (A, C) of those with a need (A, B, C); plan and ETE: A
    assert (r["numerator"], r["denominator"], r["case_ids"]) == (2, 3, ["A", "B", "C"])
    assert (r["steps"][0]["numerator"], r["steps"][0]["denominator"]) == (1, 3)


def test_kpi4_and_5_funnels() -> None:
    steps_full = (FunnelStep(BEFORE, "identified"), FunnelStep(BEFORE, "planned"),
                  FunnelStep(date(2026, 7, 2), "attending"))
    cases = [
        case("A", closed=IN_Q, mental_health=steps_full, substance_misuse=steps_full),
        case("B", closed=IN_Q, mental_health=(FunnelStep(BEFORE, "identified"),
                                              FunnelStep(BEFORE, "planned"))),
        case("C", closed=IN_Q, mental_health=(FunnelStep(BEFORE, "identified"),
                                              FunnelStep(AFTER, "planned"))),
        case("D", closed=IN_Q),
    ]
    mh = K.mental_health(cases, Q3)
    assert [(s["numerator"], s["denominator"]) for s in mh["steps"]] == [(3, 4), (2, 3),
                                                                        (1, 2)]
    # main measure: a need identified at the end (A, B, C) of the orders ended (A-D)
    assert (mh["numerator"], mh["denominator"], mh["case_ids"]) == (3, 4,
                                                                   ["A", "B", "C", "D"])
    sm = K.substance_misuse(cases, Q3)
    assert (sm["numerator"], sm["denominator"]) == (1, 4)
    assert [(s["numerator"], s["denominator"]) for s in sm["steps"]] == [(1, 4), (1, 1),
                                                                        (1, 1)]


def test_kpi6_out_of_court_completion() -> None:
    cases = [
        case("A", route="out_of_court", disposal="youth_caution", closed=IN_Q,
             ooc_completed=True),
        case("B", route="out_of_court", disposal="youth_conditional_caution", closed=IN_Q,
             ooc_completed=False),
        case("C", route="out_of_court", disposal="community_resolution", closed=IN_Q),
        case("D", route="out_of_court", disposal="youth_caution", closed=AFTER,
             ooc_completed=True),
        case("E", closed=IN_Q),  # court: not counted
    ]
    r = K.out_of_court(cases, Q3)
    assert (r["numerator"], r["denominator"], r["case_ids"]) == (1, 3, ["A", "B", "C"])


def test_kpi7_board_attendance() -> None:
    meetings = [
        BoardMeeting(date(2026, 7, 14), ("police", "health", "education"),
                     ("police", "education", "visitor")),
        BoardMeeting(date(2026, 9, 8), ("police", "health"), ("police", "health")),
        BoardMeeting(date(2026, 4, 8), ("police",), ()),  # previous quarter
    ]
    r = K.board_attendance(meetings, Q3)
    assert (r["numerator"], r["denominator"], r["case_ids"]) == (4, 5, [])
    by = {s["label"].split()[0]: (s["numerator"], s["denominator"]) for s in r["steps"]}
    assert by == {"education": (1, 1), "health": (1, 2), "police": (2, 2)}


def test_kpi8_wider_services() -> None:
    cases = [
        case("A", closed=IN_Q, wider_services=(WiderService("looked_after", BEFORE, None),
                                               WiderService("early_help", BEFORE, None))),
        case("B", closed=IN_Q,
             wider_services=(WiderService("child_in_need", date(2025, 1, 1),
                                          date(2025, 6, 1)),)),  # ended before the order
        case("C", closed=IN_Q),
    ]
    r = K.wider_services(cases, Q3)
    assert (r["numerator"], r["denominator"], r["case_ids"]) == (1, 3, ["A"])
    by = {s["label"]: s["numerator"] for s in r["steps"]}
    assert by["looked after"] == 1 and by["early help"] == 1 and by["child in need"] == 0


def test_kpi9_serious_violence() -> None:
    cases = [
        case("A", start=IN_Q, offences=(Offence("robbery", 5, True),)),
        case("B", start=IN_Q, offences=(Offence("violence_against_the_person", 4, False),)),
        case("C", start=IN_Q, offences=(Offence("theft", 6, False),)),
        case("D", start=IN_Q),
        case("E", start=BEFORE, offences=(Offence("drugs", 6, False),)),
        # the offence rule (tracker.domain.offence): case_opened's category alone has no
        # gravity score, so it never qualifies ...
        case("F", start=IN_Q, opened_offence="robbery"),
        # ... the latest offence_recorded wins over case_opened's category ...
        case("G", start=IN_Q, opened_offence="theft_and_handling",
             offences=(Offence("robbery", 6, False),)),
        # ... and over an earlier offence_recorded
        case("H", start=IN_Q, offences=(Offence("robbery", 6, False),
                                        Offence("theft_and_handling", 2, False))),
    ]
    r = K.serious_violence(cases, Q3, ("violence_against_the_person", "robbery", "drugs"), 5)
    assert (r["numerator"], r["denominator"], r["case_ids"]) == (2, 7, ["A", "G"])


def test_kpi10_victims() -> None:
    d = date(2026, 7, 10)
    cases = [
        case("A", victims=(
            Victim("V1", contacted=d, consented=d, views_taken=d, rj_offered=d,
                   rj_taken_up=d, rj_completed=d, satisfied=True),
            Victim("V2", contacted=d, consented=d, views_taken=d, rj_offered=d),
            Victim("V3", contacted=d),  # no consent: not counted
        )),
        case("B", victims=(Victim("V4", contacted=d, consented=d, rj_offered=d,
                                  rj_taken_up=d, satisfied=False),
                           Victim("V5", contacted=BEFORE, consented=BEFORE,
                                  rj_taken_up=BEFORE))),
    ]
    r = K.victims(cases, Q3)
    assert (r["numerator"], r["denominator"], r["case_ids"]) == (2, 3, ["A", "B"])
    steps = {s["label"].split(" (")[0]: (s["numerator"], s["denominator"]) for s in r["steps"]}
    assert steps["views taken"] == (2, 3)
    assert steps["restorative justice completed"] == (1, 2)
    assert steps["satisfied"] == (1, 2)


def test_all_ten_in_order() -> None:
    result = K.all_kpis([], [], Q3, K.KpiRules())
    assert [r["number"] for r in result] == list(range(1, 11))
    assert all(r["percent"] is None and r["denominator"] == 0 for r in result)
