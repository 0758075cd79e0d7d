"""Retention: find the children whose records have been kept long enough, and erase them
(or reduce them to basic information, where the period says so) or ask an admin to
approve (policy ``[retention] on_expiry``).

The facts come from the event store without reading personal data, except the date of
birth (for "or at 18"), opened with the child's key in memory and never shown: the dry
run and the logs name child ids, case ids, the rule and the date only. Children already
erased are skipped; children already reduced are only found again for erasure. The rule
itself is ``tracker.domain.retention``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime

import structlog
from sqlalchemy import func, select

from events.case import CaseOpened
from events.catalogue import event_class
from events.envelope import Actor
from events.erasure import ErasureScope
from events.schema import events as E  # noqa: N812
from events.sealing import unseal
from tracker.db import tx
from tracker.db.read_models import alerts
from tracker.domain.access import ADMINS
from tracker.domain.retention import CaseFacts, ChildExpiry, child_expiry
from tracker.kernel.clock import LONDON
from tracker.services.app import App, policy_for
from tracker.services.erasure import erase_child

log = structlog.get_logger("tracker.services.retention")

RETENTION_ACTOR = Actor("system:retention", "admin")
"""Who the scheduled job erases as: the system, with the policy's authority."""

ALERT_RULE = "retention_expired"
"""The admins' alert asking to approve an erasure (``on_expiry = "alert"``)."""


@dataclass(frozen=True)
class RetentionRun:
    """What a run found (children due for erasure, children due for reduction) and did."""

    expired: list[ChildExpiry]
    action: str
    reducible: list[ChildExpiry] = field(default_factory=list)
    erased: list[str] = field(default_factory=list)
    reduced: list[str] = field(default_factory=list)
    alerted: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return {"action": self.action, "expired": [e.to_dict() for e in self.expired],
                "reducible": [e.to_dict() for e in self.reducible],
                "erased": self.erased, "reduced": self.reduced, "alerted": self.alerted}


def _day(moment: datetime) -> date:
    return moment.astimezone(LONDON).date()


def case_facts(app: App) -> tuple[dict[str, list[CaseFacts]], set[str]]:
    """Child id -> the facts of each of their cases, children already erased left out;
    and the children already reduced to basic information."""
    with tx.read(app.engine, tables="event store") as conn:
        last = dict(conn.execute(  # a reduction is no action on the case: not counted
            select(E.c.stream_id, func.max(E.c.occurred_at))
            .where(E.c.event_type != "personal_data_erased").group_by(E.c.stream_id)).all())
        kinds: dict[str, set[str]] = {}
        for stream, kind in conn.execute(
            select(E.c.stream_id, E.c.event_type).where(E.c.event_type == "case_closed")):
            kinds.setdefault(stream, set()).add(kind)
        for stream, payload in conn.execute(  # no personal field: the payload is in clear
            select(E.c.stream_id, E.c.payload).where(E.c.event_type == "personal_data_erased")):
            scope = json.loads(payload).get("scope", "all")  # stored before scopes: all
            kinds.setdefault(stream, set()).add(f"erased:{scope}")
        opened = conn.execute(select(E.c.stream_id, E.c.payload)
                              .where(E.c.event_type == "case_opened")
                              .order_by(E.c.position)).all()
    out: dict[str, list[CaseFacts]] = {}
    erased: set[str] = set()
    reduced: set[str] = set()
    for stream, payload in opened:
        data = unseal(CaseOpened, json.loads(payload), app.keyring, event_class)
        child = str(data["child_id"])
        if "erased:all" in kinds.get(stream, set()):
            erased.add(child)
        if "erased:detail" in kinds.get(stream, set()):
            reduced.add(child)
        dob = data.get("date_of_birth")
        try:
            born = date.fromisoformat(dob) if isinstance(dob, str) else None
        except ValueError:  # "[erased]"
            born = None
        out.setdefault(child, []).append(CaseFacts(
            case_id=stream, disposal_type=str(data["disposal_type"]),
            last_action=_day(last[stream]), closed="case_closed" in kinds.get(stream, set()),
            date_of_birth=born,
        ))
    return ({child: cases for child, cases in out.items() if child not in erased},
            reduced - erased)


def find_expired(app: App, today: date) -> list[ChildExpiry]:
    """Every child due for erasure or for reduction by ``today``, by child id."""
    policy = policy_for(app).retention
    facts, reduced = case_facts(app)
    found = (child_expiry(child, cases, policy, today, reduced=child in reduced)
             for child, cases in sorted(facts.items()))
    return [e for e in found if e is not None]


def run_retention(app: App, today: date, *, dry_run: bool = False,
                  correlation_id: str = "retention") -> RetentionRun:
    """Erase or reduce (or raise an admin alert for) each child whose period ran out."""
    found = find_expired(app, today)
    action = "dry_run" if dry_run else policy_for(app).retention.on_expiry
    run = RetentionRun([e for e in found if e.action == "erase"], action,
                       [e for e in found if e.action == "reduce"])
    for expiry in found if not dry_run else ():
        if action == "erase":
            scope: ErasureScope = "all" if expiry.action == "erase" else "detail"
            erase_child(app, expiry.child_id, "retention_expired", actor=RETENTION_ACTOR,
                        correlation_id=correlation_id, scope=scope)
            (run.erased if scope == "all" else run.reduced).append(expiry.child_id)
        elif _raise_alert(app, expiry):
            run.alerted.append(expiry.child_id)
    log.info("retention_run", action=action, expired=len(run.expired),
             reducible=len(run.reducible), erased=len(run.erased), reduced=len(run.reduced),
             alerted=len(run.alerted))
    return run


def _raise_alert(app: App, expiry: ChildExpiry) -> bool:
    """An open admin alert asking to approve the erasure or reduction (its ``details``
    say which; once per child while it stays open)."""
    now = app.clock.now()
    policy = policy_for(app)
    case_id = f"child:{expiry.child_id}"
    with tx.write(app.engine, tables="read-model tables") as conn:
        if conn.execute(select(alerts.c.alert_id).where(
                alerts.c.rule == ALERT_RULE, alerts.c.case_id == case_id,
                alerts.c.status == "open")).first() is not None:
            return False
        conn.execute(alerts.insert().values(
            alert_id=f"{ALERT_RULE}:{case_id}:{now:%Y%m%dT%H%M%S}", rule=ALERT_RULE,
            case_id=case_id, subject="retention", severity=policy.retention.alert_severity,
            owner=ADMINS, team=None, status="open", raised_at=now, caused_by=json.dumps([]),
            details=json.dumps(expiry.to_dict(), sort_keys=True),
            policy_version=policy.version, raise_count=1, updated_at=now,
        ))
    return True
