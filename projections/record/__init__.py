"""The case record: one pure fold of a case's events into the facts every read model reads.

ASPIRE, engagement, continuity and enforcement read overlapping facts (a missed contact is
delivery, engagement and enforcement at once), so the fold keeps each fact once, keyed by
the event that recorded it, and each read model is a pure function of
``(record, as_at, policy)`` (see ``projections.views``). That makes three things simple:

* **Corrections.** A retraction removes the fact its target recorded; a supersession
  replaces it in place (same position, the replacement's occurred-at if it gives one).
  Folding the raw log therefore equals folding ``tracker.domain.corrections.apply_corrections`` of
  it, and a correction arriving long after its target needs no re-read of the stream.
* **Back-dated entries.** Facts keep when they happened (``t``, UTC microseconds, and
  ``d``, the London calendar day); the views sort and filter by those, so the order in
  which entries were recorded never changes the answer.
* **Idempotence.** A record remembers the last position it applied; an event at or
  before it is ignored, so applying an event twice changes nothing.

The record holds no free text: notes, reasons and objective descriptions are never read
(the projector's reader leaves them sealed). The one personal field it needs, the date of
birth (for the 17½ rule), is sealed again with the child's key when the record is stored.
"""

from projections.record.codec import (
    FORMAT,
    DobSealer,
    StaleRecord,
    current_label,
    dumps,
    loads,
    sealed_child,
)
from projections.record.facts import (
    LIST_KINDS,
    Alloc,
    AllocEnd,
    Assess,
    Attend,
    Audit,
    AuditDone,
    Breach,
    BreachDecision,
    CaseRecord,
    Change,
    Closed,
    Cond,
    CondEnd,
    Contract,
    Corr,
    Decision,
    Excuse,
    FollowUp,
    Level,
    LevelAgreed,
    Miss,
    Opened,
    Oversight,
    OversightDone,
    Panel,
    Plan,
    Prosecution,
    Referral,
    ReqFail,
    Review,
    Sched,
    SignOff,
    TDone,
    TPlan,
    Warn,
    Xfer,
)
from projections.record.fold import (
    Builder,
    DobOpener,
    RawEvent,
    evolve,
    evolve_many,
    evolve_raw,
    fold,
    fold_raw,
    folding,
    gc_paused,
    raw,
    refold,
)
from projections.record.moments import EPOCH, day_of_us, from_us, local_ordinal, to_us

__all__ = [
    "EPOCH",
    "FORMAT",
    "LIST_KINDS",
    "Alloc",
    "AllocEnd",
    "Assess",
    "Attend",
    "Audit",
    "AuditDone",
    "Breach",
    "BreachDecision",
    "Builder",
    "CaseRecord",
    "Change",
    "Closed",
    "Cond",
    "CondEnd",
    "Contract",
    "Corr",
    "Decision",
    "DobOpener",
    "DobSealer",
    "Excuse",
    "FollowUp",
    "Level",
    "LevelAgreed",
    "Miss",
    "Opened",
    "Oversight",
    "OversightDone",
    "Panel",
    "Plan",
    "Prosecution",
    "RawEvent",
    "Referral",
    "ReqFail",
    "Review",
    "Sched",
    "SignOff",
    "StaleRecord",
    "TDone",
    "TPlan",
    "Warn",
    "Xfer",
    "current_label",
    "day_of_us",
    "dumps",
    "evolve",
    "evolve_many",
    "evolve_raw",
    "fold",
    "fold_raw",
    "folding",
    "from_us",
    "gc_paused",
    "loads",
    "local_ordinal",
    "raw",
    "refold",
    "sealed_child",
    "to_us",
]
