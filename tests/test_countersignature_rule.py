"""The countersignature rule (``tracker.domain.countersignature``), pure: each criterion of
the policy's [countersignature] table on its own, any one sufficing, none by default for a
low-risk document."""

from __future__ import annotations

from typing import Any

import pytest

from tracker.domain.countersignature import (
    DocumentFacts,
    countersignature_reasons,
    needs_countersignature,
)
from tracker.domain.policy import CountersignaturePolicy, build_policy, default_policy

LOW = DocumentFacts(document="assessment", disposal="yro", case_manager="P-1",
                    risk_of_serious_harm="low", safety_and_wellbeing="low")


def rules(**changes: Any) -> CountersignaturePolicy:
    return build_policy({"countersignature": {"risk_of_serious_harm": [], **changes}}
                        ).countersignature


def test_by_default_only_high_and_very_high_risk_of_serious_harm() -> None:
    shipped = default_policy().countersignature
    assert not needs_countersignature(shipped, LOW)
    for level in ("high", "very_high"):
        high = DocumentFacts("plan", "yro", risk_of_serious_harm=level)
        assert countersignature_reasons(shipped, high) == ["risk_of_serious_harm"]
    assert not needs_countersignature(shipped, DocumentFacts("plan", "yro",
                                                             risk_of_serious_harm="medium"))
    assert shipped.source_of("risk_of_serious_harm").startswith("local practice")


@pytest.mark.parametrize(("changes", "facts", "reason"), [
    ({"all_documents": True}, LOW, "all_documents"),
    ({"case_managers": ["P-NQ01"]},
     DocumentFacts("assessment", "yro", case_manager="P-NQ01"), "case_manager"),
    ({"risk_of_serious_harm": ["medium"]},
     DocumentFacts("assessment", "yro", risk_of_serious_harm="medium"), "risk_of_serious_harm"),
    ({"safety_and_wellbeing": ["high"]},
     DocumentFacts("plan", "yro", safety_and_wellbeing="high"), "safety_and_wellbeing"),
    ({"disposals": ["dto"]}, DocumentFacts("plan", "dto"), "disposal"),
    ({"offence_categories": ["sexual_offences"]},
     DocumentFacts("assessment", "yro", offence_category="sexual_offences"),
     "offence_category"),
])
def test_each_criterion_alone_requires_it(changes: dict[str, Any], facts: DocumentFacts,
                                          reason: str) -> None:
    assert countersignature_reasons(rules(**changes), facts) == [reason]
    assert not needs_countersignature(rules(), facts)  # and without it, nothing does


def test_a_criterion_that_does_not_match_requires_nothing() -> None:
    assert not needs_countersignature(rules(case_managers=["P-NQ01"]), LOW)
    assert not needs_countersignature(rules(disposals=["dto"]), LOW)
    assert not needs_countersignature(rules(offence_categories=["robbery"]), LOW)  # none recorded


def test_only_the_document_kinds_the_policy_names() -> None:
    plans_only = rules(all_documents=True, documents=["plan"])
    assert not needs_countersignature(plans_only, LOW)
    assert needs_countersignature(plans_only, DocumentFacts("plan", "yro"))


def test_reasons_accumulate() -> None:
    both = rules(all_documents=True, disposals=["yro"])
    assert countersignature_reasons(both, LOW) == ["all_documents", "disposal"]
