"""Which assessments and plans need a manager's countersignature (seed 004: "levels of
countersignature"), pure and in one place: the write side and every read model ask it.

A document needs countersigning when any of the policy's criteria holds. The answer is the
list of reasons (empty: it does not), so a page can say why a document is waiting.
"""

from __future__ import annotations

from dataclasses import dataclass

from tracker.domain.policy import CountersignaturePolicy, Document


@dataclass(frozen=True)
class DocumentFacts:
    """What the criteria look at, as they stood when the document was recorded.

    ``case_manager`` is whoever held the case as case manager then (the practitioner the
    document is theirs to prepare); the risk levels are the assessment's own, or for a plan
    the latest assessment's before it (None: no assessment yet); ``offence_category`` is
    the case's, where the service records it.
    """

    document: Document
    disposal: str
    case_manager: str | None = None
    risk_of_serious_harm: str | None = None
    safety_and_wellbeing: str | None = None
    offence_category: str | None = None


def countersignature_reasons(rules: CountersignaturePolicy, facts: DocumentFacts) -> list[str]:
    """Why this document needs countersigning under ``rules`` (empty list: it does not)."""
    if facts.document not in rules.documents:
        return []
    reasons: list[str] = []
    if rules.all_documents:
        reasons.append("all_documents")
    if facts.case_manager is not None and facts.case_manager in rules.case_managers:
        reasons.append("case_manager")
    if facts.risk_of_serious_harm in rules.risk_of_serious_harm:
        reasons.append("risk_of_serious_harm")
    if facts.safety_and_wellbeing in rules.safety_and_wellbeing:
        reasons.append("safety_and_wellbeing")
    if facts.disposal in rules.disposals:
        reasons.append("disposal")
    if facts.offence_category is not None and facts.offence_category in rules.offence_categories:
        reasons.append("offence_category")
    return reasons


def needs_countersignature(rules: CountersignaturePolicy, facts: DocumentFacts) -> bool:
    """Whether this document needs a manager's countersignature under ``rules``."""
    return bool(countersignature_reasons(rules, facts))
