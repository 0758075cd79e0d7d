"""Who may do what: the role matrix, pure, and ``authorise`` for writes.

The API, the web pages and ``CaseService`` ask these same questions, so a page never
offers what the service would refuse. A case's team is ``CaseState.team``
(``tracker.domain.teams``), the one the read models list the case under.

                     practitioner   manager        auditor      qa             admin
  read a case        own teams      own teams      every case   every case     no
  write a case       own teams (1)  no             no           audits (2)     no
  list alerts        own teams      own teams      every team   every team     no
  acknowledge alert  no             own teams      no           no             no
  ratings/compliance no             own teams      every team   every team     no
  dip samples        no             no             list         draw, list     no
  verify the chain   no             no             yes          no             yes
  access log         no             no             yes          no             yes
  manage users       no             no             no           no             yes

(1) every event but ``case_audited`` (an audit is QA's, not the audited team's).
(2) ``case_audited`` only, on any case it can read, but not a case of its own team unless
    the policy allows peer audit (``[qa] allow_peer_audit``; seed 004: dip sampling by
    colleagues, peers, partners or independent auditors).

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

Role = Literal["practitioner", "manager", "auditor", "admin", "qa"]
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

QA_ONLY = frozenset({"case_audited"})
"""Events only a QA auditor records: the audited team does not audit its own work."""

OPERATOR_ONLY = frozenset({"personal_data_erased"})
"""Events no signed-in user records as a case entry: erasure is recorded by the erasure
service (``tracker.services.erasure``), for an admin or the retention job."""


def authorise(
    principal: Principal, state: CaseState, command: RecordEvent, *, peer_audit: bool = False
) -> None:
    """Raise ``AccessDenied`` unless ``principal`` may record ``command`` on the case.

    A case that does not exist is refused the same way (nothing is revealed), except an
    opening, which is judged by the team it names. ``peer_audit`` is the policy's
    ``[qa] allow_peer_audit``.
    """
    kind = event_class(command.event_type).type
    if principal.role == "qa":
        if kind not in QA_ONLY or not can_audit_case(principal, state.team, peer_audit):
            raise AccessDenied()
        return
    if principal.role != "practitioner":
        raise AccessDenied()
    if kind in OPERATOR_ONLY or kind in QA_ONLY:
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
    if who.role in ("auditor", "qa"):
        return True
    if who.role in ("practitioner", "manager"):
        return case_team is not None and case_team in who.teams
    return False


def can_audit_case(who: Principal, case_team: str | None, peer_audit: bool) -> bool:
    """May ``who`` record an audit on a case of ``case_team``? QA only, on an existing case,
    and on their own team's only where the policy allows peer audit."""
    if who.role != "qa" or case_team is None:
        return False
    return peer_audit or case_team not in who.teams


def can_draw_samples(who: Principal) -> bool:
    """May ``who`` draw and record a dip sample?"""
    return who.role == "qa"


def can_list_samples(who: Principal) -> bool:
    """May ``who`` list the dip samples drawn and see their cases (to show an inspector
    which cases were chosen and why)?"""
    return who.role in ("qa", "auditor")


def can_write_case(who: Principal, case_team: str | None) -> bool:
    """May ``who`` record events on a case of ``case_team``?"""
    return who.role == "practitioner" and case_team is not None and case_team in who.teams


def can_see_team(who: Principal, team: str | None) -> bool:
    """May ``who`` see team-level figures (caseload, alerts, compliance) for ``team``?

    ``team`` None means every team: only auditors and QA see across teams.
    """
    if who.role in ("auditor", "qa"):
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
