"""The projector: folds new events into the case records and refreshes the read models.

Checkpoints. Each read model (``tables.MODEL_NAMES``) has a row in
``projection_checkpoints``. A transaction first locks every checkpoint row (PostgreSQL:
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

Time. Views and alerts are evaluated as at ``app.clock.now()``; ``sweep(as_at)``
re-evaluates the time-based rules of every open case with no new event.
"""

from projections.projector.checkpoints import Lag
from projections.projector.loop import ProgressCallback, Projector, SweepResult
from projections.projector.rows import audit_rows, current_case_manager, restore, view_rows
from projections.record import gc_paused
from projections.sealer import KeyringDob

__all__ = [
    "KeyringDob", "Lag", "ProgressCallback", "Projector", "SweepResult", "audit_rows",
    "current_case_manager", "gc_paused", "restore", "view_rows",
]
