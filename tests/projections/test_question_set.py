"""Annexe A as data: the key questions and prompts in a versioned file, and audits held to it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from tests.projections.conftest import History, moment
from tracker.domain.case import fold
from tracker.domain.commands import RecordEvent
from tracker.domain.decide import decide
from tracker.domain.inspection import known_sets, question_set
from tracker.kernel.errors import ConfigurationError, RuleViolation

NOW = datetime(2026, 11, 2, 12, tzinfo=UTC)
LENSES = ("desistance", "safety_wellbeing", "risk_of_harm")


def test_the_shipped_set_has_every_standard_key_question_and_prompt() -> None:
    qs = question_set("hmip-youth-2021")
    assert known_sets() == ["hmip-youth-2021"]
    assert [s.id for s in qs.standards] == [
        "2.1", "2.2", "2.3", "2.4", "2.5", "3.1", "3.2", "3.3", "3.4"]
    assert qs.casework("court") == ("assessment", "planning", "implementation", "review")
    assert qs.casework("out_of_court") == ("assessment", "planning", "implementation")
    for standard in qs.standards:
        assert [k.id[-1] for k in standard.key_questions] == ["1", "2", "3"]
        for k in standard.key_questions:
            assert 2 <= len(k.prompts) <= 7
            assert k.lens == (LENSES[int(k.id[-1]) - 1] if standard.casework else None)
    victims = qs.standards[0].key_questions[0].prompts[5]
    assert (victims.id, "restorative justice" in victims.text) == ("f", True)   # 2.1.1f
    assert "enforcement" in qs.standards[2].key_questions[0].prompts[6].text.lower()  # 2.3.1g
    jdp = qs.standards[8].key_questions[1].prompts[0]
    assert "YOT, police and social care" in jdp.text                            # 3.4.2a


def test_an_unknown_set_is_a_clear_error() -> None:
    with pytest.raises(ConfigurationError, match="unknown question set 'hmip-2030'"):
        question_set("hmip-2030")


def _audit(h: History, kqs: tuple[str, ...] = ("2.1.1", "2.4.1"), **data: Any) -> None:
    prompts = [{"key_question": kq, "prompt": "a", "answer": "yes"} for kq in kqs]
    command = RecordEvent(case_id=h.case_id, event_type="case_audited",
                          data={"audit_type": "thematic", "theme": "education",
                                "prompts": prompts, **data},
                          occurred_at=moment("2026-03-02", 16))
    decide(fold(h.case_id, h.events), command, NOW, h.policy)


def test_an_out_of_court_audit_has_no_review_standard() -> None:
    _audit(History())  # a court case: assessment and review are both standards
    with pytest.raises(RuleViolation) as err:
        _audit(History(disposal_type="youth_caution", route="out_of_court"),
               ("3.1.1", "3.4.1"))  # 3.4 is joint working, rated from the organisation
    assert err.value.field == "data.prompts.1.key_question"
    assert "3.4.1 is not a key question for out-of-court work" in err.value.reason


def test_an_audit_names_a_known_set() -> None:
    with pytest.raises(RuleViolation) as err:
        _audit(History(), question_set="hmip-2030")
    assert err.value.field == "data.question_set"
