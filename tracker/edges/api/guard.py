"""Case access for the API and the pages alike: the access log around reads and writes.

Every read of a case goes through ``CaseGuard.read`` (logged before any data leaves). Every
write goes through ``CaseGuard.record``, which hands it to ``CaseService.record`` (the one
door: it loads the case once and authorises by the role matrix) and logs the outcome. A
refusal is a bare ``AccessDenied``, the same whether or not the case exists, logged too.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

import structlog

from events.envelope import RecordedEvent
from projections.projector import Projector
from tracker.domain.access import (
    Principal,
    can_audit_case,
    can_record_manager_act,
    may_read,
    may_record,
)
from tracker.domain.case import CaseState, fold
from tracker.domain.commands import RecordEvent
from tracker.domain.teams import CaseTeams
from tracker.kernel.errors import AccessDenied, CaseNotFound, TrackerError
from tracker.kernel.logging import current_correlation_id
from tracker.services.access_log import Outcome, record_access
from tracker.services.app import App
from tracker.services.cases import Adapt, CaseService

log = structlog.get_logger("tracker.edges.api")


class CaseGuard:
    """Logs access to cases for one application; the service decides who may write."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.service = CaseService.of(app)

    def state(self, case_id: str) -> CaseState:
        """The case's decision state (not opened: ``state.team`` is None). Not logged."""
        return self.service.load(case_id)

    def team_of(self, case_id: str) -> str | None:
        """The case's team (``tracker.domain.teams``), or None if there is no such case.

        Read with personal fields left sealed: deciding access needs no child's key, so a
        refused read of a case that exists does the same work (one read of the stream, no
        key opened) as a read of an id that does not, and its timing does not tell them apart.
        """
        return fold(case_id, self.app.store.read_stream(case_id, unseal=False)).team

    def state_sealed(self, case_id: str) -> CaseState:
        """The case's decision state read with personal fields left sealed (for listing
        and judging access: no child's key opened)."""
        return fold(case_id, self.app.store.read_stream(case_id, unseal=False))

    def teams_of(self, case_id: str) -> CaseTeams | None:
        """Who has a part in the case (owner, hosts, sending teams, keyworkers), read sealed
        as ``team_of``; None if there is no such case."""
        return self.state_sealed(case_id).teams

    def may_read(self, user: Principal, teams: CaseTeams | None) -> bool:
        """The role matrix at the app's now, with the policy's read-only period."""
        days = timedelta(days=self.service.policy.transfers.read_access_days)
        return may_read(user, teams, self.app.clock.now(), days)

    def log(self, user: Principal, case_ids: Iterable[str], action: str, outcome: Outcome) -> None:
        """Append to the access log."""
        record_access(
            self.app, user_id=user.user_id, role=user.role, case_ids=case_ids, action=action,
            outcome=outcome,
        )

    def read(self, user: Principal, case_id: str, action: str) -> str:
        """Allow (and log) a read of one case, or refuse it; returns the case's team."""
        teams = self.teams_of(case_id)
        if not self.may_read(user, teams):
            self.log(user, [case_id], action, "refused")
            raise AccessDenied()
        if teams is None:
            self.log(user, [case_id], action, "not_found")
            raise CaseNotFound(f"case {case_id} not found")
        self.log(user, [case_id], action, "allowed")
        return teams.owner

    def writable(
        self, user: Principal, case_id: str, action: str, *, log_allowed: bool = True,
        kind: str | None = None,
        manager_act: bool = False,
    ) -> CaseState:
        """The case's state if ``user`` may write to it (to show a form), logged either way:
        a form shows the case, so it is a read (``log_allowed=False`` only where the same
        request's write has logged it already).

        Whether they may is decided first, on the sealed stream (as ``read``): the case is
        unsealed only for someone who may write to it. ``kind`` names the one event type
        the form records, for those who may record only some (``may_record``). A
        practitioner's form is shown to practitioners, a manager's act (``manager_act``)
        to managers (``MANAGER_ACTS``)."""
        if (not may_record(user, self.teams_of(case_id), kind)
                or (kind is None and (user.role == "manager") != manager_act)):
            self.log(user, [case_id], action, "refused")
            raise AccessDenied()
        if log_allowed:
            self.log(user, [case_id], action, "allowed")
        return self.state(case_id)

    def auditable(
        self, user: Principal, case_id: str, action: str, *, log_allowed: bool = True
    ) -> CaseState:
        """The case's state if ``user`` may audit it (QA; its own team only where the
        policy allows peer audit), to show the audit form; logged either way."""
        peer = self.service.policy.qa.allow_peer_audit
        if not can_audit_case(user, self.team_of(case_id), peer):
            self.log(user, [case_id], action, "refused")
            raise AccessDenied()
        if log_allowed:
            self.log(user, [case_id], action, "allowed")
        return self.state(case_id)

    def manageable(
        self, user: Principal, case_id: str, action: str, *, log_allowed: bool = True
    ) -> CaseState:
        """As ``writable``, for a manager's act on the case (``MANAGER_ACTS``): the case's
        state if ``user`` manages its team, logged either way."""
        if not can_record_manager_act(user, self.team_of(case_id)):
            self.log(user, [case_id], action, "refused")
            raise AccessDenied()
        if log_allowed:
            self.log(user, [case_id], action, "allowed")
        return self.state(case_id)

    def record(
        self, user: Principal, command: RecordEvent, action: str, *, adapt: Adapt | None = None
    ) -> list[RecordedEvent]:
        """Record one command as ``user`` through the service, logging whether it was allowed."""
        try:
            recorded = self.service.record(
                command, actor=user, correlation_id=current_correlation_id(), adapt=adapt
            )
        except AccessDenied:
            self.log(user, [command.case_id], action, "refused")
            raise
        except TrackerError:
            self.log(user, [command.case_id], action, "allowed")  # allowed, then refused by a rule
            raise
        self.log(user, [command.case_id], action, "allowed")
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
    Projector(app).catch_up()
