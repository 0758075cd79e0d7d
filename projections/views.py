"""All four per-case read models of a record as at a moment, computed together (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypedDict

from projections import aspire, continuity, enforcement, engagement
from projections.asat import AsAt
from projections.aspire import AspireView
from projections.continuity import ContinuityView
from projections.enforcement import EnforcementView
from projections.engagement import EngagementView
from projections.record import CaseRecord
from projections.visible import CaseHeader, Visible
from tracker.domain.policy import Policy

MODELS = ("aspire", "engagement", "continuity", "enforcement")


class Views(TypedDict):
    """A case's header and four views (the part a case view and a replay share)."""

    case: CaseHeader
    aspire: AspireView
    engagement: EngagementView
    continuity: ContinuityView
    enforcement: EnforcementView


class CaseView(Views):
    """A case's header and four views as at a moment, as the queries return them."""

    case_id: str
    as_at: str
    policy_version: str


@dataclass(frozen=True)
class CaseViews:
    """The header and the four views of one case, as at ``at``, under ``policy_version``."""

    case_id: str
    header: CaseHeader
    aspire: AspireView
    engagement: EngagementView
    continuity: ContinuityView
    enforcement: EnforcementView
    as_at: str
    policy_version: str
    visible: Visible

    @property
    def exists(self) -> bool:
        return bool(self.header)

    def to_dict(self) -> CaseView:
        return {
            "case_id": self.case_id,
            "as_at": self.as_at,
            "policy_version": self.policy_version,
            "case": self.header,
            "aspire": self.aspire,
            "engagement": self.engagement,
            "continuity": self.continuity,
            "enforcement": self.enforcement,
        }


def evaluate_all(record: CaseRecord, at: AsAt, policy: Policy) -> CaseViews:
    """Every view of ``record`` as at ``at``. Pure: same inputs, same answer."""
    v = Visible(record, at, policy)
    if not v.exists:
        return CaseViews(record.case_id, {}, {"exists": False}, {"exists": False},
                         {"exists": False}, {"exists": False}, at.moment.isoformat(),
                         policy.version, v)
    return CaseViews(
        case_id=record.case_id,
        header=v.header(),
        aspire=aspire.from_visible(v),
        engagement=engagement.from_visible(v),
        continuity=continuity.from_visible(v),
        enforcement=enforcement.from_visible(v),
        as_at=at.moment.isoformat(),
        policy_version=policy.version,
        visible=v,
    )
