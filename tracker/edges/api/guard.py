"""Case access for the API and the pages alike: the role matrix, the access log, the writes.

Every read of a case goes through ``CaseGuard.read`` (logged before any data leaves), every
write through ``CaseGuard.record`` (logged, then ``CaseService.record``). A refusal is a bare
``AccessDenied``, the same whether or not the case exists, and it is logged too.
"""

from __future__ import annotations

from collections.abc import Iterable

import structlog

from events.case import CaseOpened
from events.catalogue import event_class, parse_event
from events.envelope import RecordedEvent
from tracker.domain.case import fold
from tracker.domain.commands import RecordEvent
from tracker.kernel.errors import AccessDenied, CaseNotFound
from tracker.kernel.logging import current_correlation_id
from tracker.services.access_log import Outcome, record_access
from tracker.services.accounts import User, can_read_case, can_write_case
from tracker.services.app import App
from tracker.services.cases import CaseService

log = structlog.get_logger("tracker.edges.api")


class CaseGuard:
    """Checks and logs access to cases for one application."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.service = CaseService(app.store, app.clock)

    def team_of(self, case_id: str) -> str | None:
        """The case's team (from its opening, corrections applied), or None if no such case."""
        state = fold(case_id, self.app.store.read_stream(case_id))
        return state.opened.team if state.opened is not None else None

    def log(self, user: User, case_ids: Iterable[str], action: str, outcome: Outcome) -> None:
        """Append to the access log."""
        record_access(
            self.app, user_id=user.user_id, role=user.role, case_ids=case_ids, action=action,
            outcome=outcome,
        )

    def read(self, user: User, case_id: str, action: str) -> str:
        """Allow (and log) a read of one case, or refuse it; returns the case's team."""
        team = self.team_of(case_id)
        if not can_read_case(user, team):
            self.log(user, [case_id], action, "refused")
            raise AccessDenied()
        if team is None:
            self.log(user, [case_id], action, "not_found")
            raise CaseNotFound(f"case {case_id} not found")
        self.log(user, [case_id], action, "allowed")
        return team

    def record(self, user: User, command: RecordEvent, action: str) -> list[RecordedEvent]:
        """Record one command as ``user``, if their role and team allow it."""
        if user.role != "practitioner":
            self.log(user, [command.case_id], action, "refused")
            raise AccessDenied()
        team = self.team_of(command.case_id)
        if team is None and event_class(command.event_type) is CaseOpened:
            opening = parse_event(command.event_type, command.data, context="data")
            assert isinstance(opening, CaseOpened)
            team = opening.team
        if not can_write_case(user, team):
            self.log(user, [command.case_id], action, "refused")
            raise AccessDenied()
        self.log(user, [command.case_id], action, "allowed")
        recorded = self.service.record(
            command, actor=user.actor, correlation_id=current_correlation_id()
        )
        after_write(self.app)
        return recorded


def after_write(app: App) -> None:
    """Bring the read models up to date after a write, unless a worker already does.

    A running worker (``workers.runtime``: Redis workers, or the in-process one that
    ``tracker serve`` and ``tracker demo`` start) marks itself in ``app.extras["worker"]``
    and projects each append. Without one (a bare app, as in tests) the projector is
    caught up here, in the request, so a write is visible on the next page.
    """
    if app.extras.get("worker") is not None:
        return
    from projections.projector import Projector

    Projector(app).catch_up()
