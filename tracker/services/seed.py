"""``tracker seed``: record the demo caseload (``tracker.services.synthetic.demo``).

Every planned command is checked by the rules before anything is written, and the write
is one transaction, so a seed either records the whole caseload or nothing.
"""

from __future__ import annotations

from datetime import date

from tracker.domain.access import Principal
from tracker.kernel.clock import LONDON
from tracker.kernel.errors import FieldProblem, InvalidInput
from tracker.services.app import App, policy_for
from tracker.services.board import list_meetings, record_meeting
from tracker.services.synthetic.demo import KEYWORKERS, SEED_ACTOR, SERVICE, TEAMS, plan_caseload
from tracker.services.synthetic.outcomes import plan_board_meetings
from tracker.services.synthetic.pipeline import write

__all__ = ["KEYWORKERS", "TEAMS", "seed_board_meetings", "seed_caseload"]


def seed_caseload(
    app: App, *, cases: int, seed: int = 1, until: date | None = None
) -> dict[str, int]:
    """Record the synthetic caseload; cases that already exist are left as they are.

    Whoever seeds runs one projection catch-up afterwards (the seeding store has no
    append listeners).
    """
    today = app.clock.now().astimezone(LONDON).date()
    until = until or today
    if until > today:
        raise InvalidInput([FieldProblem("until", "must not be after today")])
    if cases < 0:
        raise InvalidInput([FieldProblem("cases", "must not be negative")])
    existing = set(app.store.stream_ids())
    plan = [p for p in plan_caseload(cases, seed, until, policy_for(app))
            if p.case_id not in existing]
    planned = len({p.case_id for p in plan})
    written = write(app, plan, actor=SEED_ACTOR, correlation_id="seed", clock=app.clock)
    if cases:
        seed_board_meetings(app, seed=seed, until=until)
    return {"cases": planned, "skipped_existing": cases - planned, "events": written}


def seed_board_meetings(app: App, *, seed: int, until: date) -> int:
    """The demo service's quarterly management board meetings (KPI 7), unless it already
    has some: how many were recorded."""
    if list_meetings(app, service=SERVICE):
        return 0
    operator = Principal(user_id=SEED_ACTOR.user_id, role="admin", teams=frozenset())
    meetings = plan_board_meetings(seed, until)
    for meeting in meetings:
        record_meeting(app, operator, {"service": SERVICE, **meeting})
    return len(meetings)
