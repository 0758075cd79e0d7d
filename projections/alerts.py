"""Alerts: rules over the read models, raised when they start to hold, resolved when they stop.

``candidates(views, policy)`` is pure: the alerts that hold for one case as at the views'
moment, each with its rule, subject, severity, owner, team and the ids of the events that
caused it. ``reconcile`` makes the ``alerts`` table agree with them: a new (rule, case,
subject) is raised, one that still holds is kept (its causes refreshed), one that no longer
holds is resolved. At most one alert per (rule, case, subject) is open (a unique index says
so too). The id is ``rule:case:subject:n``, n counting how often that subject was raised,
so ids are stable across rebuilds and a re-raised alert is a new one to deliver.

Only open cases have alerts: closing a case resolves them. Acknowledging is a manager's
action on the read side (not a case event), idempotent, and survives rebuilds.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypedDict

from sqlalchemy import Connection, Row, bindparam, insert, select, update

from projections.alert_rules import ORDER, RULES, TEXT, Details
from projections.views import CaseViews
from tracker.db.read_models import alerts as A  # noqa: N812 - the table, read like SQL
from tracker.domain.policy import Policy
from tracker.kernel.clock import local_date


class AlertView(TypedDict):
    """An alert as the queries, the CLI and the API return it."""

    alert_id: str
    rule: str
    title: str
    case_id: str
    subject: str
    severity: str
    owner: str
    team: str
    status: str
    raised_at: str | None
    resolved_at: str | None
    acknowledged_at: str | None
    acknowledged_by: str | None
    ack_note: str | None
    caused_by: list[str]
    details: Details
    policy_version: str
    raise_count: int
    closed_at: str | None
    closed_by: str | None
    close_note: str | None
    review_on: str | None


@dataclass(frozen=True)
class Candidate:
    """An alert that holds for a case as at a moment."""

    rule: str
    case_id: str
    subject: str
    severity: str
    owner: str
    team: str
    caused_by: tuple[str, ...]
    details: Details = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.rule, self.case_id, self.subject)


def candidates(views: CaseViews, policy: Policy) -> list[Candidate]:
    """Every alert that holds for this case as at the views' moment. Pure."""
    if not views.exists or not views.header.get("open"):
        return []
    v = views.visible
    owner, team = v.owner(), v.team()
    out: list[Candidate] = []
    for rule in RULES:
        setting = policy.rule(rule.name)
        if not setting.enabled:
            continue
        for hit in rule.evaluate(views, policy):
            out.append(Candidate(rule.name, views.case_id, hit.subject, setting.severity, owner,
                                 team, tuple(dict.fromkeys(hit.caused_by)), hit.details))
    out.sort(key=lambda c: (ORDER[c.rule], c.subject))
    return out


@dataclass
class ReconcileResult:
    raised: list[str] = field(default_factory=list)
    resolved: list[str] = field(default_factory=list)
    kept: int = 0


def reconcile(
    conn: Connection,
    case_ids: Sequence[str],
    holding: dict[str, list[Candidate]],
    at: datetime,
    policy_version: str,
    *,
    rules: frozenset[str] | None = None,
) -> ReconcileResult:
    """Make the alerts of ``case_ids`` match ``holding`` (case id -> candidates), as at ``at``.

    ``rules`` limits the reconciliation to those rules (others are left as they are).
    """
    result = ReconcileResult()
    if not case_ids:
        return result
    existing: dict[str, list[Any]] = {}
    for chunk in _chunks(list(case_ids), 500):
        for row in conn.execute(
            select(A.c.alert_id, A.c.rule, A.c.case_id, A.c.subject, A.c.status,
                   A.c.severity, A.c.owner, A.c.team, A.c.caused_by, A.c.details,
                   A.c.policy_version, A.c.closed_by, A.c.condition_ended_at,
                   A.c.review_on).where(A.c.case_id.in_(chunk))
        ):
            existing.setdefault(row.case_id, []).append(row)
    inserts: list[dict[str, object]] = []
    updates: list[dict[str, object]] = []
    resolves: list[dict[str, object]] = []
    ended: list[dict[str, object]] = []
    for case_id in case_ids:
        rows = existing.get(case_id, [])
        open_rows = {(r.rule, r.subject): r for r in rows if r.status == "open"}
        # Closed by a manager while the condition held: not raised again until it ends, or
        # until the review date the manager set (then raised again if it still holds).
        today = local_date(at)
        held = {(r.rule, r.subject): r for r in rows
                if r.closed_by is not None and r.condition_ended_at is None
                and (r.review_on is None or r.review_on > today)}
        counts: dict[tuple[str, str], int] = {}
        for r in rows:
            counts[(r.rule, r.subject)] = counts.get((r.rule, r.subject), 0) + 1
        wanted = {(c.rule, c.subject): c for c in holding.get(case_id, [])}
        for key, cand in wanted.items():
            caused = json.dumps(list(cand.caused_by))
            details = json.dumps(cand.details, sort_keys=True, default=str)
            current = open_rows.get(key)
            if current is None and key in held:
                result.kept += 1
                continue
            if current is None:
                n = counts.get(key, 0) + 1
                alert_id = f"{cand.rule}:{case_id}:{cand.subject}:{n}"
                inserts.append({
                    "alert_id": alert_id, "rule": cand.rule, "case_id": case_id,
                    "subject": cand.subject, "severity": cand.severity, "owner": cand.owner,
                    "team": cand.team, "status": "open", "raised_at": at, "resolved_at": None,
                    "acknowledged_at": None, "acknowledged_by": None, "ack_note": None,
                    "caused_by": caused, "details": details, "policy_version": policy_version,
                    "raise_count": n, "updated_at": at,
                })
                result.raised.append(alert_id)
            else:
                result.kept += 1
                if (current.severity, current.owner, current.team, current.caused_by,
                        current.details, current.policy_version) != (
                        cand.severity, cand.owner, cand.team, caused, details, policy_version):
                    updates.append({
                        "b_id": current.alert_id, "severity": cand.severity, "owner": cand.owner,
                        "team": cand.team, "caused_by": caused, "details": details,
                        "policy_version": policy_version, "updated_at": at,
                    })
        for key, open_row in open_rows.items():
            if key in wanted or (rules is not None and key[0] not in rules):
                continue
            resolves.append({"b_id": open_row.alert_id, "resolved_at": at, "updated_at": at})
            result.resolved.append(open_row.alert_id)
        for key, closed_row in held.items():
            if key not in wanted and (rules is None or key[0] in rules):
                ended.append({"b_id": closed_row.alert_id, "ended": at, "updated_at": at})
    if resolves:
        conn.execute(
            update(A).where(A.c.alert_id == bindparam("b_id")).values(
                status="resolved", resolved_at=bindparam("resolved_at"),
                updated_at=bindparam("updated_at"),
            ),
            resolves,
        )
    if ended:
        conn.execute(
            update(A).where(A.c.alert_id == bindparam("b_id")).values(
                condition_ended_at=bindparam("ended"), updated_at=bindparam("updated_at"),
            ),
            ended,
        )
    if updates:
        conn.execute(
            update(A).where(A.c.alert_id == bindparam("b_id")).values(
                severity=bindparam("severity"), owner=bindparam("owner"),
                team=bindparam("team"), caused_by=bindparam("caused_by"),
                details=bindparam("details"), policy_version=bindparam("policy_version"),
                updated_at=bindparam("updated_at"),
            ),
            updates,
        )
    if inserts:
        conn.execute(insert(A), inserts)
    return result


def _chunks(items: list[str], size: int) -> Iterable[list[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def row_to_dict(row: Row[Any]) -> AlertView:
    """An ``alerts`` row as the dict the queries, the CLI and the API return."""
    m = row._mapping
    return {
        "alert_id": m["alert_id"],
        "rule": m["rule"],
        "title": TEXT.get(m["rule"], m["rule"]),
        "case_id": m["case_id"],
        "subject": m["subject"],
        "severity": m["severity"],
        "owner": m["owner"],
        "team": m["team"],
        "status": m["status"],
        "raised_at": _iso(m["raised_at"]),
        "resolved_at": _iso(m["resolved_at"]),
        "acknowledged_at": _iso(m["acknowledged_at"]),
        "acknowledged_by": m["acknowledged_by"],
        "ack_note": m["ack_note"],
        "caused_by": json.loads(m["caused_by"]),
        "details": json.loads(m["details"]),
        "policy_version": m["policy_version"],
        "raise_count": m["raise_count"],
        "closed_at": _iso(m["closed_at"]),
        "closed_by": m["closed_by"],
        "close_note": m["close_note"],
        "review_on": m["review_on"].isoformat() if m.get("review_on") is not None else None,
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
