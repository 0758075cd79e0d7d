"""The case's offence: one rule for every reader (KPIs, the countersignature rule by offence
category, the quarterly return, the demo seed).

A case can say its offence in two places: ``case_opened.offence_category`` (where a service
records the main offence at opening; the only place in streams from before the offence
event) and ``offence_recorded`` (category, gravity score, first offence). The rule: the
**latest** ``offence_recorded`` on the case (in stream order, corrections applied) wins;
a case with none falls back to ``case_opened``'s category, with no gravity score and no
first-offence flag. Pure, so the write side, the folds and the seed all ask it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class RecordedOffence:
    """One ``offence_recorded`` event's facts."""

    category: str
    gravity: int
    first_offence: bool


@dataclass(frozen=True)
class CaseOffence:
    """The case's offence by the rule, and where it came from."""

    category: str
    gravity: int | None
    first_offence: bool | None
    source: Literal["offence_recorded", "case_opened"]


def case_offence(opened_category: str | None, recorded: Sequence[RecordedOffence]
                 ) -> CaseOffence | None:
    """The latest recorded offence (``recorded`` in stream order), else the category the
    case was opened with; None when neither says."""
    if recorded:
        last = recorded[-1]
        return CaseOffence(last.category, last.gravity, last.first_offence, "offence_recorded")
    if opened_category:
        return CaseOffence(opened_category, None, None, "case_opened")
    return None


def offence_category(opened_category: str | None, recorded: Sequence[RecordedOffence]
                     ) -> str | None:
    """Only the category, by the same rule (what the countersignature rule looks at)."""
    found = case_offence(opened_category, recorded)
    return found.category if found is not None else None
