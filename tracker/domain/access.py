"""Who may do what: the role matrix, pure, and ``authorise`` for writes.

The API, the web pages and ``CaseService`` ask these same questions, so a page never
offers what the service would refuse. A case's team is ``CaseState.team``
(``tracker.domain.teams``), the one the read models list the case under.

                     practitioner   manager        auditor      admin
  read a case        own teams      own teams      every case   no
  write a case       own teams      no             no           no
  list alerts        own teams      own teams      every team   no
  acknowledge alert  no             own teams      no           no
  ratings/compliance no             own teams      every team   no
  verify the chain   no             no             yes          yes
  access log         no             no             yes          yes
  manage users       no             no             no           yes

Admin is a technical role: it does not read case content. A person who needs both has
two accounts, so every case read is attributable to the role it was made in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

from events.case import CaseOpened
from events.catalogue import event_class, parse_event
from events.envelope import Actor
from tracker.domain.case import CaseState
from tracker.domain.commands import RecordEvent
from tracker.kernel.errors import AccessDenied

Role = Literal["practitioner", "manager", "auditor", "admin"]
ROLES: tuple[Role, ...] = get_args(Role)


@dataclass(frozen=True)
class Principal:
    """Who is asking, as far as the rules care: a pseudonymous id, a role, their teams."""

    user_id: str
    role: Role
    teams: frozenset[str]

    @property
    def actor(self) -> Actor:
        """What events record as the author: the id and the role, never the name."""
        return Actor(user_id=self.user_id, role=self.role)


ADMINS = "role:admin"
"""The owner of the alerts an administrator acts on (a quarantined case, retention run out):
one name, so a recipients file routes them all with one line."""

OPERATOR_ONLY = frozenset({"personal_data_erased"})
"""Events no signed-in user records as a case entry: erasure is recorded by the erasure
service (``tracker.services.erasure``), for an admin or the retention job."""


def authorise(principal: Principal, state: CaseState, command: RecordEvent) -> None:
    """Raise ``AccessDenied`` unless ``principal`` may record ``command`` on the case.

    A case that does not exist is refused the same way (nothing is revealed), except an
    opening, which is judged by the team it names.
    """
    if principal.role != "practitioner":
        raise AccessDenied()
    if event_class(command.event_type).type in OPERATOR_ONLY:
        raise AccessDenied()
    team = state.team
    if team is None and event_class(command.event_type) is CaseOpened:
        opening = parse_event(command.event_type, command.data, context="data")
        assert isinstance(opening, CaseOpened)
        team = opening.team
    if not can_write_case(principal, team):
        raise AccessDenied()


def can_read_case(who: Principal, case_team: str | None) -> bool:
    """May ``who`` read a case of ``case_team`` (None: the case does not exist)?"""
    if who.role == "auditor":
        return True
    if who.role in ("practitioner", "manager"):
        return case_team is not None and case_team in who.teams
    return False


def can_write_case(who: Principal, case_team: str | None) -> bool:
    """May ``who`` record events on a case of ``case_team``?"""
    return who.role == "practitioner" and case_team is not None and case_team in who.teams


def can_see_team(who: Principal, team: str | None) -> bool:
    """May ``who`` see team-level figures (caseload, alerts, compliance) for ``team``?

    ``team`` None means every team: only auditors see across teams.
    """
    if who.role == "auditor":
        return True
    if who.role in ("practitioner", "manager"):
        return team is not None and team in who.teams
    return False


def can_see_management(who: Principal, team: str | None) -> bool:
    """May ``who`` see management figures (ratings, compliance, team engagement) for ``team``?"""
    return who.role != "practitioner" and can_see_team(who, team)


def can_acknowledge(who: Principal, case_team: str | None) -> bool:
    """May ``who`` acknowledge or resolve an alert on a case of ``case_team``?"""
    return who.role == "manager" and case_team is not None and case_team in who.teams


def can_verify(who: Principal) -> bool:
    """May ``who`` run and read the chain verification?"""
    return who.role in ("auditor", "admin")


def can_read_access_log(who: Principal) -> bool:
    """May ``who`` search the access log?"""
    return who.role in ("auditor", "admin")


def can_manage_users(who: Principal) -> bool:
    """May ``who`` add, change and deactivate users and issue tokens for them?"""
    return who.role == "admin"


def can_record_board(who: Principal) -> bool:
    """May ``who`` record a management board meeting (service level, no child: KPI 7)?"""
    return who.role in ("manager", "admin")


def can_see_board(who: Principal) -> bool:
    """May ``who`` list the management board's meetings (no personal data in them)?"""
    return who.role in ("manager", "auditor", "admin")
