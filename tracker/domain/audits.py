"""How an audit's prompt answers roll up to its key-question answers (domain.md §12).

The rule, documented in ``policy.toml`` ``[qa]``: a key question is **yes** when at least
``key_question_yes_pct`` of its *applicable* prompts (answered yes or no) are yes, else
**no**; a key question whose answered prompts are all "not applicable" is not judged (no
answer). The auditor may override any key question's result with a reason; the override
wins. Pure: ``decide`` calls it with the service's policy and stores the result on the
event, so an audit reads the same after the rule changes.
"""

from __future__ import annotations

from collections.abc import Iterable
from fractions import Fraction

from events.audit import AuditAnswer, KeyQuestionOverride, PromptAnswer
from tracker.domain.inspection import KeyQuestion, QuestionSet, Standard


def key_questions(qs: QuestionSet, domain: str) -> dict[str, tuple[Standard, KeyQuestion]]:
    """The casework key questions a case in ``domain`` is audited on, by id (e.g. 2.1.1)."""
    return {kq.id: (s, kq) for s in qs.standards_of(domain) if s.casework
            for kq in s.key_questions if kq.lens is not None}


def rolled_up(prompts: Iterable[PromptAnswer], threshold_pct: float) -> dict[str, bool]:
    """Key question id -> yes/no from its prompts (left out: every prompt not applicable)."""
    yes: dict[str, int] = {}
    applicable: dict[str, int] = {}
    for p in prompts:
        yes.setdefault(p.key_question, 0)
        applicable.setdefault(p.key_question, 0)
        if p.answer == "not_applicable":
            continue
        applicable[p.key_question] += 1
        yes[p.key_question] += p.answer == "yes"
    threshold = Fraction(str(threshold_pct))
    return {kq: Fraction(100 * yes[kq], n) >= threshold
            for kq, n in applicable.items() if n}


def answers_for(
    qs: QuestionSet, domain: str, prompts: Iterable[PromptAnswer],
    overrides: Iterable[KeyQuestionOverride], threshold_pct: float,
) -> list[AuditAnswer]:
    """The audit's key-question answers: the roll-up, each override in its place, in the
    question set's order."""
    result = rolled_up(prompts, threshold_pct)
    result.update({o.key_question: o.answer for o in overrides})
    out = []
    for kq_id, (standard, kq) in key_questions(qs, domain).items():
        if kq_id in result and kq.lens is not None:
            out.append(AuditAnswer(standard=standard.name, lens=kq.lens,
                                   answer=result[kq_id]))
    return out


def prompt_ids(qs: QuestionSet, domain: str) -> list[tuple[str, str]]:
    """Every (key question, prompt) a full audit of a case in ``domain`` answers, in order."""
    return [(kq_id, p.id) for kq_id, (_, kq) in key_questions(qs, domain).items()
            for p in kq.prompts]
