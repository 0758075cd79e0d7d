"""Quarantine: a case whose events cannot be folded or evaluated is isolated, not a halt.

The projector records what failed (stage, error type, event id, type and position; never
the payload or the exception's text, which may quote personal data), raises an alert for
the admins, and keeps projecting every other case. While a case is quarantined its rows
are stale and reads of it answer ``CaseQuarantined``. A new event on the case (a
correction), an upcaster, or ``tracker project --retry-quarantined`` retries it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypedDict

import structlog
from sqlalchemy import Connection, delete, insert, select, update

from projections import alerts
from tracker.db.read_models import quarantine as Q  # noqa: N812 - the table, read like SQL
from tracker.domain.access import ADMINS
from tracker.kernel.errors import CaseQuarantined

log = structlog.get_logger("projections.projector")

RULE = "case_quarantined"
"""The admins' alert for a quarantined case (not a supervision rule: no policy severity)."""
OWNER = ADMINS
SEVERITY = "high"


@dataclass(frozen=True)
class Problem:
    """Why one case was quarantined (nothing in it comes from the payload)."""

    case_id: str
    stage: str
    error_type: str
    event_id: str | None = None
    event_type: str | None = None
    position: int | None = None

    @property
    def message(self) -> str:
        verb = {"fold": "folding", "evaluate": "evaluating"}.get(self.stage, self.stage)
        what = f" event {self.event_type}" if self.event_type else " the case"
        where = f" at position {self.position}" if self.position is not None else ""
        return f"{self.error_type} while {verb}{what}{where}"


def problem(case_id: str, stage: str, exc: BaseException, event: Any = None) -> Problem:
    """A ``Problem`` for ``exc`` raised at ``stage`` (fold or evaluate) on ``event``."""
    return Problem(
        case_id, stage, type(exc).__name__,
        getattr(event, "event_id", None), getattr(event, "type", None),
        getattr(event, "position", None),
    )


class QuarantineView(TypedDict):
    """A quarantined case as ``tracker status``, the metrics and the API list it."""

    case_id: str
    stage: str
    error_type: str
    event_id: str | None
    event_type: str | None
    position: int | None
    message: str
    quarantined_at: str
    attempts: int


def case_ids(conn: Connection) -> set[str]:
    return {r[0] for r in conn.execute(select(Q.c.case_id))}


def listing(conn: Connection) -> list[QuarantineView]:
    rows = conn.execute(select(Q).order_by(Q.c.quarantined_at, Q.c.case_id)).all()
    return [{
        "case_id": r.case_id, "stage": r.stage, "error_type": r.error_type,
        "event_id": r.event_id, "event_type": r.event_type, "position": r.position,
        "message": r.message, "quarantined_at": r.quarantined_at.isoformat(),
        "attempts": r.attempts,
    } for r in rows]


def ensure_readable(conn: Connection, case_id: str) -> None:
    """Raise ``CaseQuarantined`` if the case is quarantined (its rows are stale)."""
    row = conn.execute(select(Q.c.message).where(Q.c.case_id == case_id)).first()
    if row is not None:
        raise CaseQuarantined(
            f"case {case_id} cannot be shown: its read models are stale ({row.message}); "
            "an administrator has been alerted"
        )


def put(conn: Connection, problems: Iterable[Problem], now: datetime, policy_version: str
        ) -> None:
    """Record (or record again) these cases as quarantined and alert the admins."""
    found = {p.case_id: p for p in problems}
    if not found:
        return
    known = {r.case_id: r.attempts for r in conn.execute(
        select(Q.c.case_id, Q.c.attempts).where(Q.c.case_id.in_(sorted(found))))}
    for case_id, p in found.items():
        values = {"stage": p.stage, "error_type": p.error_type, "event_id": p.event_id,
                  "event_type": p.event_type, "position": p.position, "message": p.message}
        if case_id in known:
            conn.execute(update(Q).where(Q.c.case_id == case_id)
                         .values(attempts=known[case_id] + 1, **values))
        else:
            conn.execute(insert(Q).values(case_id=case_id, quarantined_at=now, attempts=1,
                                          **values))
        log.error("case_quarantined", case_id=case_id, stage=p.stage, error_type=p.error_type,
                  event_id=p.event_id, event_type=p.event_type, position=p.position)
    holding = {c: [alerts.Candidate(RULE, c, "projection", SEVERITY, OWNER, "",
                                    (p.event_id,) if p.event_id else (),
                                    {"stage": p.stage, "error_type": p.error_type})]
               for c, p in found.items()}
    alerts.reconcile(conn, sorted(found), holding, now, policy_version,
                     rules=frozenset({RULE}))


def release(conn: Connection, ids: Iterable[str], now: datetime, policy_version: str) -> None:
    """These cases project again: forget their quarantine and resolve the admins' alert."""
    ids = sorted(set(ids))
    if not ids:
        return
    conn.execute(delete(Q).where(Q.c.case_id.in_(ids)))
    alerts.reconcile(conn, ids, {}, now, policy_version, rules=frozenset({RULE}))
    log.info("case_released_from_quarantine", cases=len(ids))
