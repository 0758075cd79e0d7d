"""Countersignature on the read side: each assessment and plan of a case, whether the
policy wants it countersigned (``tracker.domain.countersignature``), and where it stands:

* ``awaiting`` — needs countersigning and no manager has acted on it yet; the manager is
  alerted once ``countersignature.alert_after_working_days`` have passed since it;
* ``countersigned`` / ``returned`` — a manager acted on it (a returned document is due again
  from the practitioner: ``resubmissions``);
* ``not_required`` — the policy does not ask for it, and no manager acted.

Pure: built from a ``Visible`` (so as at any moment, under any policy).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TypedDict

from projections.record import Assess, Plan, SignOff
from projections.visible import Visible
from tracker.domain.countersignature import DocumentFacts, countersignature_reasons
from tracker.domain.offence import RecordedOffence, offence_category


class CountersignView(TypedDict):
    """One assessment or plan and its countersignature."""

    document_event_id: str
    document: str  # assessment | plan
    date: str
    required: bool
    reasons: list[str]
    status: str  # awaiting | countersigned | returned | not_required
    acted_on: str | None
    acted_event_id: str | None
    return_reason: str | None
    alert_after: str | None


@dataclass(frozen=True)
class SignedDocument:
    """A document with what the policy asks of it and the manager's act, if any."""

    fact: Assess | Plan
    kind: str
    reasons: tuple[str, ...]
    act: SignOff | None
    alert_after: date | None

    @property
    def status(self) -> str:
        if self.act is not None:
            return self.act.outcome
        return "awaiting" if self.reasons else "not_required"

    def to_dict(self) -> CountersignView:
        act = self.act
        return {
            "document_event_id": self.fact.id,
            "document": self.kind,
            "date": date.fromordinal(self.fact.d).isoformat(),
            "required": bool(self.reasons),
            "reasons": list(self.reasons),
            "status": self.status,
            "acted_on": date.fromordinal(act.d).isoformat() if act else None,
            "acted_event_id": act.id if act else None,
            "return_reason": act.reason if act else None,
            "alert_after": self.alert_after.isoformat() if self.alert_after else None,
        }


def _case_manager_on(v: Visible, day: int) -> str | None:
    """The case manager holding the case on ``day`` (the latest to start, if two did)."""
    held = [a for a in v.case_managers()
            if a.start.toordinal() <= day and (a.end is None or a.end.toordinal() > day)]
    return held[-1].practitioner if held else None


def documents(v: Visible) -> list[SignedDocument]:
    """Every assessment and plan of the case as at ``v``, oldest first."""
    cached: list[SignedDocument] | None = v.cache.get("countersignature")
    if cached is not None:
        return cached
    assert v.opened is not None
    rules = v.policy.countersignature
    acts: dict[str, SignOff] = {}
    for s in v.signoffs:
        acts.setdefault(s.document_id, s)
    items: list[tuple[int, int, str, Assess | Plan]] = [
        *((a.t, a.pos, "assessment", a) for a in v.assessments),
        *((p.t, p.pos, "plan", p) for p in v.plans),
    ]
    items.sort(key=lambda x: (x[0], x[1]))
    out: list[SignedDocument] = []
    latest: Assess | None = None
    for _t, _pos, kind, fact in items:
        if isinstance(fact, Assess):
            latest = fact
        facts = DocumentFacts(
            document="assessment" if kind == "assessment" else "plan",
            disposal=v.opened.disposal,
            case_manager=_case_manager_on(v, fact.d),
            risk_of_serious_harm=latest.harm if latest else None,
            safety_and_wellbeing=latest.safety if latest else None,
            offence_category=offence_category(v.opened.offence, [
                RecordedOffence(o.category, o.gravity, o.first_offence) for o in v.offences
                if (o.t, o.pos) <= (fact.t, fact.pos)]),
        )
        reasons = tuple(countersignature_reasons(rules, facts))
        act = acts.get(fact.id)
        alert_after = (v.wd.add(date.fromordinal(fact.d), rules.alert_after_working_days)
                       if reasons and act is None else None)
        out.append(SignedDocument(fact, kind, reasons, act, alert_after))
    v.cache["countersignature"] = out
    return out


def awaiting(v: Visible, kind: str | None = None) -> list[SignedDocument]:
    """The documents (of ``kind``) waiting for a manager's countersignature."""
    return [d for d in documents(v) if d.status == "awaiting" and kind in (None, d.kind)]
