"""Data protection: the child's personal data in this case was erased (crypto-shredded).

With ``scope="detail"`` it records a reduction to basic information instead: the
narrative is gone, the identity (the date of birth) and every non-personal fact stay.

The event records who erased (the envelope's ``recorded_by``), when (``occurred_at``,
``recorded_at``) and why, as a bounded reason code and an optional reference, never as free
text: a note could only be sealed with the key being destroyed (unreadable at once) or
kept in clear (personal data outliving the erasure), so the record keeps none.
"""

from __future__ import annotations

from typing import Literal

from events.base import Event, Identifier

ErasureReason = Literal[
    "retention_expired", "erasure_request", "court_order", "recorded_in_error", "other",
]
"""Why the data was erased: the end of its retention period (domain.md §10), the child's
request for erasure (UK GDPR art. 17 / DPA 2018 s.47), a court's order, a record made
about the wrong child, or another reason documented under ``reference``."""

ERASURE_REASONS: tuple[str, ...] = ErasureReason.__args__  # type: ignore[attr-defined]


ErasureScope = Literal["detail", "all"]
"""What was erased: ``detail``, the narrative (notes, reasons, descriptions: the detail key
destroyed, the records reduced to basic information, domain.md §10), or ``all``, every
personal value (both keys). Events stored before scopes existed read as ``all``."""


class PersonalDataErased(Event):
    """The child's key(s) were destroyed: the personal values of ``scope`` are unreadable."""

    type = "personal_data_erased"
    family = "erasure"

    child_id: Identifier
    reason: ErasureReason
    reference: Identifier | None = None
    """A pseudonymous reference (a request or decision number, e.g. ``DPR-2026-014``)."""
    scope: ErasureScope = "all"
