"""Recording and listing the management board's meetings (KPI 7), for a manager or an
administrator: service level, outside the case event store (no child, nothing to seal)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, TypedDict
from uuid import uuid4

import structlog
from pydantic import ValidationError
from sqlalchemy import insert, select

from events.catalogue import problems_from
from tracker.db import tx
from tracker.db.board_tables import board_meetings
from tracker.domain.access import Principal, can_record_board, can_see_board
from tracker.domain.board import BoardMeetingHeld, check_held_on
from tracker.kernel.clock import local_date
from tracker.kernel.errors import AccessDenied, InvalidInput, RuleViolation
from tracker.services.app import App

log = structlog.get_logger("tracker.services.board")
TABLES = "board meetings"


class BoardMeeting(TypedDict):
    meeting_id: str
    service: str
    held_on: str
    agencies_invited: list[str]
    agencies_attending: list[str]
    recorded_by: str


def parse_meeting(fields: Mapping[str, Any]) -> BoardMeetingHeld:
    """A meeting from what an edge received; every bad field named (``InvalidInput``)."""
    try:
        return BoardMeetingHeld.model_validate(dict(fields))
    except ValidationError as exc:
        raise InvalidInput(problems_from(exc)) from None


def record_meeting(app: App, who: Principal, fields: Mapping[str, Any]) -> BoardMeeting:
    """Record a board meeting for ``who`` (a manager or an administrator)."""
    if not can_record_board(who):
        raise AccessDenied()
    meeting = parse_meeting(fields)
    now = app.clock.now()
    why = check_held_on(meeting, local_date(now))
    if why:
        raise RuleViolation("held_on", why)
    row: BoardMeeting = {
        "meeting_id": str(uuid4()),
        "service": meeting.service,
        "held_on": meeting.held_on.isoformat(),
        "agencies_invited": list(meeting.agencies_invited),
        "agencies_attending": list(meeting.agencies_attending),
        "recorded_by": who.user_id,
    }
    with tx.write(app.engine, tables=TABLES) as conn:
        conn.execute(insert(board_meetings).values(
            {**row, "held_on": meeting.held_on, "recorded_at": now}))
    log.info("board_meeting_recorded", meeting_id=row["meeting_id"], service=row["service"])
    return row


def list_meetings(
    app: App, who: Principal | None = None, *, service: str | None = None,
    since: date | None = None, until: date | None = None,
) -> list[BoardMeeting]:
    """The meetings (of ``service``; held from ``since`` to ``until`` inclusive), oldest
    first. ``who`` None: the caller is trusted (a report run by the operator)."""
    if who is not None and not can_see_board(who):
        raise AccessDenied()
    query = select(board_meetings).order_by(board_meetings.c.held_on,
                                            board_meetings.c.meeting_id)
    if service is not None:
        query = query.where(board_meetings.c.service == service)
    if since is not None:
        query = query.where(board_meetings.c.held_on >= since)
    if until is not None:
        query = query.where(board_meetings.c.held_on <= until)
    with tx.read(app.engine, tables=TABLES) as conn:
        rows = conn.execute(query).all()
    return [{
        "meeting_id": r.meeting_id, "service": r.service, "held_on": r.held_on.isoformat(),
        "agencies_invited": list(r.agencies_invited),
        "agencies_attending": list(r.agencies_attending), "recorded_by": r.recorded_by,
    } for r in rows]
