"""Inspection-style ratings against hand-computed examples (seed 001 §3.23-3.33)."""

from __future__ import annotations

import pytest

from projections.ratings import CaseJudgement, band, compare, draw_sample, rate, sample_size
from tracker.domain.policy import default_policy

POLICY = default_policy()
LENSES = ("desistance", "safety_wellbeing", "risk_of_harm")


def case(n: int, *args: str, safety: bool = True, harm: bool = True,
         **answers: bool) -> CaseJudgement:
    """A judged case; answers like assessment_desistance=True."""
    route = args[0] if args else "court"
    parsed = {tuple(k.split("_", 1)): v for k, v in answers.items()}
    return CaseJudgement(f"CS-{n}", route, parsed, safety, harm)  # type: ignore[arg-type]


def test_bands_at_their_boundaries() -> None:
    assert band(80.0, POLICY) == "outstanding"
    assert band(79.9, POLICY) == "good"
    assert band(65.0, POLICY) == "good"
    assert band(64.9, POLICY) == "requires_improvement"
    assert band(50.0, POLICY) == "requires_improvement"
    assert band(49.9, POLICY) == "inadequate"
    assert band(None, POLICY) is None


def test_the_lowest_of_the_three_key_questions_drives_the_standard() -> None:
    # 10 court cases: desistance 9/10 yes (90%), safety 7/10 (70%), harm 6/10 (60%).
    cases = [
        case(i, assessment_desistance=i < 9, **{"assessment_safety_wellbeing": i < 7,
                                                 "assessment_risk_of_harm": i < 6})
        for i in range(10)
    ]
    table = rate(cases, POLICY, custody_cases=0)
    std = table["domains"]["court"]["assessment"]
    assert [std["questions"][lens]["pct"] for lens in LENSES] == [90.0, 70.0, 60.0]
    assert [std["questions"][lens]["band"] for lens in LENSES] == [
        "outstanding", "good", "requires_improvement"]
    assert (std["rating"], std["lowest"], std["lowest_pct"]) == (
        "requires_improvement", "risk_of_harm", 60.0)
    assert std["small_sample"] is False


def test_safety_and_harm_count_only_medium_or_high_cases() -> None:
    # 8 cases answer desistance; only 4 are medium/high on safety (3 yes) and
    # 2 on harm (0 yes); the low-risk cases' "no" answers must not count.
    cases = []
    for i in range(8):
        judged_safety, judged_harm = i < 4, i < 2
        cases.append(case(
            i, safety=judged_safety, harm=judged_harm,
            planning_desistance=True,
            **{"planning_safety_wellbeing": i < 3, "planning_risk_of_harm": False},
        ))
    std = rate(cases, POLICY, custody_cases=0)["domains"]["court"]["planning"]
    assert std["questions"]["desistance"] == {"yes": 8, "judged": 8, "pct": 100.0,
                                              "band": "outstanding"}
    assert std["questions"]["safety_wellbeing"] == {"yes": 3, "judged": 4, "pct": 75.0,
                                                    "band": "good"}
    assert std["questions"]["risk_of_harm"]["judged"] == 2
    assert (std["rating"], std["lowest"]) == ("inadequate", "risk_of_harm")
    assert std["small_sample"] is True  # the lowest question rests on 2 cases


def test_court_and_out_of_court_are_rated_apart() -> None:
    cases = [case(1, assessment_desistance=True), case(2, assessment_desistance=True),
             case(3, "out_of_court", assessment_desistance=False)]
    table = rate(cases, POLICY, custody_cases=0)
    assert table["sample"] == {"cases": 3, "court": 2, "out_of_court": 1}
    assert table["domains"]["court"]["assessment"]["questions"]["desistance"]["pct"] == 100.0
    assert table["domains"]["out_of_court"]["assessment"]["questions"]["desistance"][
        "pct"] == 0.0
    assert "resettlement" not in table["domains"]["out_of_court"]


def test_resettlement_needs_five_custody_cases_in_the_year() -> None:
    cases = [case(i, resettlement_desistance=True) for i in range(6)]
    four = rate(cases, POLICY, custody_cases=4)["domains"]["court"]["resettlement"]
    assert four["rating"] is None
    assert "fewer than 5 children commenced a custodial sentence" in four["not_rated"]
    five = rate(cases, POLICY, custody_cases=5)["domains"]["court"]["resettlement"]
    assert five["rating"] == "outstanding"


def test_a_standard_nobody_answered_is_not_rated() -> None:
    table = rate([case(1, assessment_desistance=True)], POLICY, custody_cases=0)
    review = table["domains"]["court"]["review"]
    assert (review["rating"], review["not_rated"]) == (None, "no case judged")


def test_records_and_audits_compare_question_by_question() -> None:
    audits = rate([case(1, assessment_desistance=True), case(2, assessment_desistance=False)],
                  POLICY, custody_cases=0)
    records = rate([case(1, assessment_desistance=True), case(2, assessment_desistance=True)],
                   POLICY, custody_cases=0)
    row = compare(audits, records)["court"]["assessment"]
    assert (row["audits"], row["records"]) == ("requires_improvement", "outstanding")
    assert row["gap_pct"]["desistance"] == 50.0


def test_out_of_court_work_has_no_review_standard() -> None:
    cases = [case(i, "out_of_court", assessment_desistance=True, review_desistance=False)
             for i in range(3)]
    table = rate(cases, POLICY, custody_cases=0)
    assert list(table["domains"]["out_of_court"]) == ["assessment", "planning",
                                                      "implementation"]
    assert "review" in table["domains"]["court"]


def test_banding_uses_exact_fractions_not_rounded_percentages() -> None:
    # 812 of 1250 is 64.96%: shown as 65.0 but "requires improvement", not "good".
    cases = [case(i, assessment_desistance=i < 812) for i in range(1250)]
    std = rate(cases, POLICY, custody_cases=0)["domains"]["court"]["assessment"]
    question = std["questions"]["desistance"]
    assert (question["pct"], question["band"]) == (65.0, "requires_improvement")
    assert std["rating"] == "requires_improvement"


def test_the_small_sample_flag_looks_at_every_question_tied_lowest() -> None:
    # desistance 5/10 and safety 2/4 are tied at 50%: the tie rests on 4 cases, so flagged.
    cases = [case(i, safety=i < 4, harm=False, planning_desistance=i < 5,
                  planning_safety_wellbeing=i < 2) for i in range(10)]
    std = rate(cases, POLICY, custody_cases=0)["domains"]["court"]["planning"]
    assert std["lowest_pct"] == 50.0
    assert std["small_sample"] is True


@pytest.mark.parametrize(("court", "ooc", "drawn"), [
    (100, 50, (18, 12)),   # 20% of 150 = 30, 60:40
    (60, 20, (12, 8)),     # 20% of 80 = 16, at least 20
    (10, 5, (10, 5)),      # fewer than 20 in scope: all of them
    (40, 2, (18, 2)),      # out of court short of its 8: made up from court
])
def test_the_sample_is_stratified_sized_and_reproducible(court: int, ooc: int,
                                                         drawn: tuple[int, int]) -> None:
    court_ids = [f"C{i:03d}" for i in range(court)]
    ooc_ids = [f"O{i:03d}" for i in range(ooc)]
    sample = draw_sample(court_ids, ooc_ids, 7, POLICY)
    assert len(sample) == sample_size(court + ooc, POLICY) == sum(drawn)
    assert (sum(1 for c in sample if c.startswith("C")),
            sum(1 for c in sample if c.startswith("O"))) == drawn
    assert draw_sample(list(reversed(court_ids)), ooc_ids, 7, POLICY) == sample
    assert draw_sample(court_ids, ooc_ids, 8, POLICY) != sample or court + ooc <= 20
