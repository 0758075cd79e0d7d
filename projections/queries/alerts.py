"""Alert queries: the list, and a manager's acknowledgement or closing with a note."""

from __future__ import annotations

import json
from collections.abc import Callable, Collection
from datetime import date, datetime, timedelta
from typing import Literal, TypedDict

from sqlalchemy import ColumnElement, and_, case, func, or_, select, update

from events.envelope import Actor
from events.sealing import ERASED, PREFIX, seal_text
from projections.alerts import AlertView, row_to_dict
from projections.queries.reading import SEVERITY_ORDER
from projections.sealer import ALERT_NOTES, open_alert_notes
from tracker.db.read_models import alerts as A  # noqa: N812
from tracker.db.read_models import case_records as R  # noqa: N812
from tracker.kernel.clock import local_date
from tracker.kernel.errors import AlertNotFound, FieldProblem, InvalidInput, KeyUnavailable
from tracker.services.app import App, policy_for

MAX_NOTE = 2000


def list_alerts(
    app: App, *, open_only: bool = True, team: str | None = None
) -> list[AlertView]:
    """Alerts (open ones by default), most severe and newest first."""
    query = select(A)
    if open_only:
        query = query.where(A.c.status == "open")
    if team is not None:
        query = query.where(A.c.team == team)
    with app.engine.connect() as conn:
        rows = open_alert_notes(app.keyring, [row_to_dict(r) for r in conn.execute(query)])
    rows.sort(key=lambda a: (a["status"] != "open", SEVERITY_ORDER.get(a["severity"], 9),
                             _neg(a["raised_at"]), a["alert_id"]))
    return rows


def alerts_of_case(app: App, case_id: str) -> list[AlertView]:
    """Every alert of one case, open or not (the caller has checked and logged the read)."""
    with app.engine.connect() as conn:
        rows = conn.execute(select(A).where(A.c.case_id == case_id)).all()
    return open_alert_notes(app.keyring, [row_to_dict(r) for r in rows])


def _neg(moment: str | None) -> str:
    return "".join(chr(0x10FFFF - ord(c)) for c in (moment or ""))


def acknowledge_alert(app: App, alert_id: str, *, note: str, actor: Actor) -> AlertView:
    """A manager acknowledges an alert with a note. Idempotent: the first acknowledgement
    stands (who, when, note); acknowledging again returns it unchanged."""
    return _note_on_alert(
        app, alert_id, note, A.c.acknowledged_at.is_(None),
        lambda now, text: {"acknowledged_at": now, "acknowledged_by": actor.user_id,
                           "ack_note": text},
    )


def close_alert(
    app: App, alert_id: str, *, note: str, actor: Actor, review_on: date | None
) -> AlertView:
    """A manager resolves an open alert by hand: the reason, and a date to review it.

    An open alert's condition still holds, so resolving it is a decision to live with that
    for a while: the alert becomes ``resolved`` (who, when, why) and is raised again on
    ``review_on`` if its condition still holds then, or sooner if the condition ends and
    comes back. The review date is required, after today and no further off than the
    policy's ``[alert_review] max_days``. Idempotent: closing a closed (or already
    resolved) alert returns it unchanged.
    """
    today = local_date(app.clock.now())
    longest = policy_for(app).alert_review.max_days
    if review_on is None:
        raise InvalidInput([FieldProblem("review_on", "is required: the date to look at "
                                                      "this again if it still holds")])
    if not today < review_on <= today + timedelta(days=longest):
        raise InvalidInput([FieldProblem(
            "review_on", f"must be after today and within {longest} days")])
    return _note_on_alert(
        app, alert_id, note, A.c.status == "open",
        lambda now, text: {"status": "resolved", "resolved_at": now, "closed_at": now,
                           "closed_by": actor.user_id, "close_note": text,
                           "review_on": review_on},
    )


def alert_history(app: App, alert_id: str) -> list[AlertView]:
    """Every raising of the same alert (rule, case, subject), oldest first: when it was
    raised, acknowledged, resolved by hand or ended, by whom and why."""
    with app.engine.connect() as conn:
        row = conn.execute(
            select(A.c.rule, A.c.case_id, A.c.subject).where(A.c.alert_id == alert_id)
        ).first()
        if row is None:
            raise AlertNotFound(f"alert {alert_id} not found")
        rows = conn.execute(
            select(A).where(A.c.rule == row.rule, A.c.case_id == row.case_id,
                            A.c.subject == row.subject).order_by(A.c.raise_count)
        ).all()
    return open_alert_notes(app.keyring, [row_to_dict(r) for r in rows])


def _note_on_alert(
    app: App, alert_id: str, note: str, only_if: ColumnElement[bool],
    values: Callable[[datetime, str], dict[str, object]],
) -> AlertView:
    """Check the manager's note, apply ``values`` where ``only_if`` still holds (so a
    repeat changes nothing), and return the alert as it now stands."""
    text = (note or "").strip()
    if not text:
        raise InvalidInput([FieldProblem("note", "must not be empty")])
    if len(text) > MAX_NOTE:
        raise InvalidInput([FieldProblem("note", f"must be at most {MAX_NOTE} characters")])
    now = app.clock.now()
    with app.engine.connect() as conn:
        case_id = conn.execute(select(A.c.case_id).where(A.c.alert_id == alert_id)).scalar()
    if case_id is None:
        raise AlertNotFound(f"alert {alert_id} not found")
    child = app.store.subject_of(case_id)
    if child is None:
        raise AlertNotFound(f"alert {alert_id} not found")
    text = seal_text(text, child, app.keyring)  # erased with the child (KeyUnavailable after)
    with app.engine.begin() as conn:
        conn.execute(
            update(A)
            .where(and_(A.c.alert_id == alert_id, only_if))
            .values(**values(now, text), updated_at=now)
        )
        row = conn.execute(select(A).where(A.c.alert_id == alert_id)).first()
    if row is None:
        raise AlertNotFound(f"alert {alert_id} not found")
    return open_alert_notes(app.keyring, [row_to_dict(row)])[0]



def _clear(column: ColumnElement[str | None]) -> ColumnElement[bool]:
    return and_(column.is_not(None), ~column.startswith(PREFIX), column != ERASED)


def notes_in_clear(app: App) -> int:
    """How many managers' notes on alerts are still stored in clear (written before notes
    were sealed): ``tracker db check`` and ``tracker serve`` report them."""
    with app.engine.connect() as conn:
        return len(conn.execute(select(A.c.alert_id).where(
            or_(*(_clear(A.c[n]) for n in ALERT_NOTES)))).all())


def seal_notes_in_clear(app: App) -> tuple[int, int]:
    """Seal every note still in clear with its child's key; a note of a child already
    erased becomes ``[erased]``. Returns (sealed, erased). Safe to run again.

    A command the operator runs, not a migration: sealing needs the children's keys, and
    those need the master key, which the migration context (a bare connection) has not.
    """
    sealed = erased = 0
    with app.engine.connect() as conn:
        rows = conn.execute(select(A.c.alert_id, A.c.case_id, *(A.c[n] for n in ALERT_NOTES))
                            .where(or_(*(_clear(A.c[n]) for n in ALERT_NOTES)))).all()
    for row in rows:
        child = app.store.subject_of(row.case_id)
        values: dict[str, str] = {}
        for name in ALERT_NOTES:
            text = row._mapping[name]
            if text is None or text.startswith(PREFIX) or text == ERASED:
                continue
            try:
                if child is None:
                    raise KeyUnavailable("no child")
                values[name] = seal_text(text, child, app.keyring)
                sealed += 1
            except KeyUnavailable:
                values[name] = ERASED  # the child was erased: the note goes with them
                erased += 1
        with app.engine.begin() as conn:
            conn.execute(update(A).where(A.c.alert_id == row.alert_id).values(**values))
    return sealed, erased


AlertSort = Literal["severity", "held", "overdue", "raised"]


class AlertRow(AlertView):
    """An alert as the alerts page lists it: with the case's practitioner, how long it has
    held (or held for), and how many days its obligation is overdue."""

    practitioner: str | None
    held_days: int
    days_overdue: int | None


class AlertPage(TypedDict):
    rows: list[AlertRow]
    total: int
    page: int
    pages: int


def find_alerts(
    app: App, *, teams: Collection[str] | None, closed: bool = False,
    severity: str = "", rule: str = "", practitioner: str = "",
    sort: AlertSort = "severity", page: int = 1, per_page: int | None = None,
) -> AlertPage:
    """Open (or closed) alerts of ``teams`` (None: every team), filtered in the database
    by severity, rule and the case's practitioner, sorted, and one page of them (at most
    the settings' ``max_page_size``). Only the page's notes are opened.

    Open alerts are sorted and paged by the database (how long an open alert has held
    follows from when it was raised). Closed alerts, and the sort by days overdue (a date
    inside each alert's details), are sorted on their keys alone, then the page is read."""
    settings = app.settings
    size = max(1, min(per_page or settings.page_size, settings.max_page_size))
    where = [A.c.status != "open" if closed else A.c.status == "open"]
    if teams is not None:
        where.append(A.c.team.in_(sorted(teams)))
    if severity:
        where.append(A.c.severity == severity[:16])
    if rule:
        where.append(A.c.rule == rule[:64])
    if practitioner:
        where.append(R.c.practitioner == practitioner[:64])
    joined = A.join(R, R.c.case_id == A.c.case_id, isouter=True)
    now = app.clock.now()
    today = local_date(now)
    with app.engine.connect() as conn:
        total = int(conn.execute(
            select(func.count()).select_from(joined).where(*where)).scalar_one())
        pages = max(1, -(-total // size))
        page = min(max(1, page), pages)
        query = select(A, R.c.practitioner).select_from(joined).where(*where)
        if not closed and sort != "overdue":
            rank = case(SEVERITY_ORDER, value=A.c.severity, else_=9)
            order = {"severity": (rank, A.c.raised_at.asc(), A.c.alert_id),
                     "held": (A.c.raised_at.asc(), rank, A.c.alert_id),
                     "raised": (A.c.raised_at.desc(), A.c.alert_id)}[sort]
            found = conn.execute(
                query.order_by(*order).limit(size).offset((page - 1) * size)).all()
        else:
            keyed = conn.execute(select(A.c.alert_id, A.c.severity, A.c.raised_at,
                                        A.c.resolved_at, A.c.details)
                                 .select_from(joined).where(*where)).all()
            keys = {k.alert_id: _sort_key(sort, k.severity, _held(k.raised_at,
                    k.resolved_at, now), _overdue(_due_of(k.details), today),
                    k.raised_at.isoformat() if k.raised_at else None, k.alert_id)
                    for k in keyed}
            chosen = sorted(keys, key=keys.__getitem__)[(page - 1) * size: page * size]
            found = sorted(conn.execute(query.where(A.c.alert_id.in_(chosen))).all(),
                           key=lambda r: keys[r.alert_id])
    rows: list[AlertRow] = []
    for r in found:
        view = open_alert_notes(app.keyring, [row_to_dict(r)])[0]
        raised = datetime.fromisoformat(view["raised_at"]) if view["raised_at"] else None
        until = datetime.fromisoformat(view["resolved_at"]) if view["resolved_at"] else None
        due = view["details"].get("due") if isinstance(view["details"], dict) else None
        rows.append({**view, "practitioner": r.practitioner,
                     "held_days": _held(raised, until, now),
                     "days_overdue": _overdue(str(due) if due else None, today)})
    return {"rows": rows, "total": total, "page": page, "pages": pages}


def _held(raised: datetime | None, until: datetime | None, now: datetime) -> int:
    """Whole days an alert has held (an open one: until now)."""
    return max(0, ((until or now) - (raised or now)).days)


def _due_of(details: str | None) -> str | None:
    try:
        found = json.loads(details or "{}")
    except ValueError:
        return None
    due = found.get("due") if isinstance(found, dict) else None
    return str(due) if due else None


def _overdue(due: str | None, today: date) -> int | None:
    """Days past the alert's due date (0 if not yet past), or None without one."""
    if not due:
        return None
    return max(0, (today - date.fromisoformat(due[:10])).days)


def _sort_key(
    sort: AlertSort, severity: str, held: int, overdue: int | None, raised: str | None,
    alert_id: str,
) -> tuple[object, ...]:
    rank = SEVERITY_ORDER.get(severity, 9)
    keys: dict[str, tuple[object, ...]] = {
        "severity": (rank, -held), "held": (-held, rank),
        "overdue": (-(overdue if overdue is not None else -1), rank), "raised": (_neg(raised),),
    }
    return (*keys[sort], alert_id)
