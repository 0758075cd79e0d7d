"""Database helpers for the read-model integration tests."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from datetime import date
from typing import Any

from sqlalchemy import select

from projections.record import CaseRecord, loads
from projections.sealer import KeyringDob
from tracker.bootstrap import App
from tracker.db.read_models import VIEW_TABLES, alerts, audits, case_records, checkpoints
from tracker.services import synthetic


def seed(app: App, cases: int, seed: int, *, prefix: str = "CS-SYN",
         start: date = date(2025, 9, 1), until: date = date(2026, 10, 30)
         ) -> list[synthetic.Proposal]:
    """Record a small synthetic caseload (accepted by the write side's rules)."""
    accepted = synthetic.accept(synthetic.caseload(
        random.Random(seed), cases, start=start, until=until, prefix=prefix))
    synthetic.write(app, accepted)
    return accepted


def snapshot(app: App) -> dict[str, Any]:
    """Everything the projector wrote, in a form two runs can be compared by."""
    sealer = KeyringDob(app.keyring)
    out: dict[str, Any] = {}
    with app.engine.connect() as conn:
        out["records"] = {
            r.case_id: (loads(r.record, sealer), r.team, r.practitioner, r.is_open,
                        r.closed_on, r.position)
            for r in conn.execute(select(case_records))
        }
        for name, table in VIEW_TABLES.items():
            out[name] = {
                r.case_id: {k: v for k, v in r._mapping.items() if k != "evaluated_at"}
                for r in conn.execute(select(table))
            }
        out["audits"] = sorted(tuple(r) for r in conn.execute(select(audits)))
        out["open_alerts"] = sorted(
            (r.rule, r.case_id, r.subject, r.severity, r.owner, r.team,
             tuple(json.loads(r.caused_by)))
            for r in conn.execute(select(alerts).where(alerts.c.status == "open"))
        )
        out["checkpoints"] = {r.name: r.position for r in conn.execute(select(checkpoints))}
    return out


def alert_rows(app: App) -> list[dict[str, Any]]:
    with app.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(alerts).order_by(alerts.c.alert_id))]


def without_labels(record: CaseRecord) -> CaseRecord:
    """The record with the child's label left out: a fold of events read unsealed holds the
    label in clear, while a stored record (or a fold of sealed payloads) holds only its
    sealed token, so the two are compared on everything else."""
    opened = record.opened._replace(label=None) if record.opened is not None else None
    return replace(record, opened=opened, labels=())
