"""The projector: folds new events into the case records and refreshes the read models.

Checkpoints. Each read model (``tables.MODEL_NAMES``) has a row in
``projection_checkpoints`` (one per partition when the cases are partitioned, see below).
A transaction first locks every checkpoint row of its partition (PostgreSQL:
``SELECT ... FOR UPDATE`` in name order; SQLite: ``BEGIN IMMEDIATE``), reads the events
after the records' checkpoint, writes the changed rows and moves the checkpoints, then
commits: rows and checkpoint together or not at all. A second projector waits for the lock
and then starts from the new checkpoint, so two processes never apply the same events and
applying an event twice is impossible (the record also ignores positions it has seen).

Order of work. ``records`` (the per-case fold) follows the log. The four views, the audits
and the alerts are derived from the records; they are brought up to the records' position
when a transaction reaches the head of the log, for every case with events in between.
So a long catch-up or a rebuild evaluates each case once at the end, and never raises
alerts from half a history. A view model whose checkpoint carries another policy version
is recomputed for every case.

Partitions. ``Projector(app, partition=Partition(i, N))`` projects only the cases whose
stable hash (``source.partition_key``: the first 28 bits of the MD5 of the case id) is i
modulo N, with its own checkpoint rows, reading the one gap-safe global order and skipping
the other partitions' events in SQL. At the head it moves its checkpoints to the head, so
an idle partition does not re-read. Every read model is per case (records, the four views,
audits, alerts keyed by case, the quarantine), so the partitions never write the same row
and their union is what one projector gives; an aggregate over cases must be kept per
case and summed at read time (or owned by one partition). The store records N
(``checkpoints.LAYOUT``); a projector of another N refuses to work until a rebuild changes
it (``tracker project --rebuild --processes N``). ``Projector(app)`` without a partition
projects every partition of the stored layout in turn, so single-process callers work
under any layout.

Records kept between catch-ups. A projector keeps the records it folded or loaded (up
to ``loop.CACHE_MAX``) for its next catch-up, as long as the records' checkpoint of its
partition is still where it left it (the checkpoint is locked, so nobody else moved the
records in between); otherwise it loads them again. A case with a ``personal_data_erased``
event is restored from its stored row (its child's key may be gone); the keys themselves
are still forgotten after every catch-up.

Time. Views and alerts are evaluated as at ``app.clock.now()``; ``sweep(as_at)``
re-evaluates the time-based rules of every open case with no new event.
"""

from projections.projector.checkpoints import Lag
from projections.projector.loop import (
    ProgressCallback,
    Projector,
    SweepResult,
    rebuild_txn_events,
)
from projections.projector.rows import audit_rows, current_case_manager, restore, view_rows
from projections.record import gc_paused
from projections.sealer import KeyringDob
from projections.source import Partition

__all__ = [
    "KeyringDob", "Lag", "Partition", "ProgressCallback", "Projector", "SweepResult",
    "audit_rows", "current_case_manager", "gc_paused", "rebuild_txn_events", "restore",
    "view_rows",
]
