"""Who may do what: the role matrix, pure, and ``authorise`` for writes.

The API, the web pages and ``CaseService`` ask these same questions, so a page never
offers what the service would refuse. A case's team is ``CaseState.team``
(``tracker.domain.teams``), the one the read models list the case under.

                     practitioner   manager        auditor      qa             admin
  read a case        own teams      own teams      every case   every case     no
  record case events own teams,     own teams,     no           audits (2)     no
                     all but (1)    MANAGER_ACTS
                                    only
  list alerts        own teams      own teams      every team   every team     no
  acknowledge alert  no             own teams      no           no             no
  ratings/compliance no             own teams      every team   every team     no
  dip samples        no             no             list         draw, list     no
  verify the chain   no             no             yes          no             yes
  access log         no             no             yes          no             yes
  manage users       no             no             no           no             yes

(1) every event but the manager's acts (``MANAGER_ACTS``) and ``case_audited`` (an audit
    is QA's, not the audited team's).
(2) ``case_audited`` only, on any case it can read, but not a case of its own team unless
    the policy allows peer audit (``[qa] allow_peer_audit``; seed 004: dip sampling by
    colleagues, peers, partners or independent auditors).

Transfers (``tracker.domain.teams``; issue 11 §4): the owning team reads and writes; after
a full transfer the sending team reads (only) for ``[transfers] read_access_days``; a
caretaking host team reads and records contacts; the receiving team's manager reads a case
offered to the team and records ``transfer_accepted`` / ``transfer_rejected``. A
``secure_keyworker`` reads only the cases they are allocated to (allocation role
``secure_keyworker``) and records custody contacts and the custody side of transitions.

A manager's decisions (``MANAGER_ACTS``: exceptional circumstances, breach authorised or
declined, agreeing a change of intervention level, management oversight entries,
countersigning an assessment or plan or returning it for revision) are
recorded by a manager of the case's team and by no one else: the decider is the signed-in
principal the envelope names, never a typed field. A correction (supersession or
retraction) of a manager's act is a manager's act too.

Admin is a technical role: it does not read case content. A person who needs both has
two accounts, so every case read is attributable to the role it was made in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal, get_args
from uuid import UUID

from events.case import CaseOpened
from events.catalogue import event_class, parse_event
from events.envelope import Actor
from tracker.domain.case import CaseState
from tracker.domain.commands import RecordEvent
from tracker.domain.teams import KEYWORKER, CaseTeams
from tracker.kernel.errors import AccessDenied

Role = Literal["practitioner", "manager", "auditor", "admin", "secure_keyworker", "qa"]
ROLES: tuple[Role, ...] = get_args(Role)


@dataclass(frozen=True)
class Principal:
    """Who is asking, as far as the rules care: a pseudonymous id, a role, their teams."""

    user_id: str
    role: Role
    teams: frozenset[str]
    service: str | None = field(default=None, kw_only=True)
    """The service whose instance they sign in to (the setting ``service_id``): an offer to a
    service is answered only there."""

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


MANAGER_ACTS = frozenset({
    "exceptional_circumstances_recorded",
    "breach_authorised",
    "breach_declined",
    "intervention_level_change_agreed",
    "management_oversight_recorded",
    "document_countersigned",
    "document_returned",
})
"""Case events only a manager of the case's team records (domain.md §12: decisions the law
or guidance gives to a manager). Practitioners record every other case event."""

CORRECTIONS = frozenset({"event_superseded", "event_retracted"})


def act_of(state: CaseState, command: RecordEvent) -> str:
    """The event type whose author the matrix judges: a correction is judged as the event
    it corrects (a practitioner cannot retract a manager's decision)."""
    event_type = event_class(command.event_type).type
    if event_type in CORRECTIONS:
        target = command.data.get("target_event_id")
        try:
            found = state.event_types.get(UUID(str(target)))
        except ValueError:
            found = None
        if found is not None:
            return found
    return event_type


def authorise(
    principal: Principal, state: CaseState, command: RecordEvent, *, peer_audit: bool = False
) -> None:
    """Raise ``AccessDenied`` unless ``principal`` may record ``command`` on the case.

    A case that does not exist is refused the same way (nothing is revealed), except an
    opening, which is judged by the team it names. ``peer_audit`` is the policy's
    ``[qa] allow_peer_audit``.
    """
    kind = event_class(command.event_type).type
    if kind in TRANSFER_ANSWERS or principal.role == KEYWORKER:
        authorise_transfer_or_custody(principal, state, command)
        return
    if principal.role == "qa":
        if kind not in QA_ONLY or not can_audit_case(principal, state.team, peer_audit):
            raise AccessDenied()
        return
    if principal.role not in ("practitioner", "manager"):
        raise AccessDenied()
    if (kind in HOST_ACTS and principal.role == "practitioner" and state.teams is not None
            and state.teams.hosts & principal.teams):
        return
    act = act_of(state, command)  # a correction is judged as the entry it corrects
    if act in OPERATOR_ONLY or act in QA_ONLY or kind in OPERATOR_ONLY or kind in QA_ONLY:
        raise AccessDenied()
    if (act in MANAGER_ACTS) != (principal.role == "manager"):
        raise AccessDenied()
    team = state.team
    if team is None and event_class(command.event_type) is CaseOpened:
        opening = parse_event(command.event_type, command.data, context="data")
        assert isinstance(opening, CaseOpened)
        team = opening.team
    if not can_write_case(principal, team):
        raise AccessDenied()


def authorise_operator(actor: Actor, state: CaseState, command: RecordEvent) -> None:
    """Refuse a command-line operator recording, in the role they name (the one recorded),
    what ``authorise`` refuses that role whatever its teams: a manager's act in another
    role, a practitioner's in the manager role, a transfer's answer but as a manager (or
    admin, who imports bundles), an audit but as QA, anything but an audit as QA,
    anything but custody work on their allocated case as a keyworker, anything as an
    auditor. The operator holds the database, so teams are not checked; ``system`` (the
    seeder, the importer) records what the rules let it."""
    if actor.role == "system":
        return
    act = act_of(state, command)
    if actor.role == "auditor":
        raise AccessDenied()
    if actor.role == "qa":
        if event_class(command.event_type).type not in QA_ONLY:
            raise AccessDenied()
        return
    if actor.role == KEYWORKER:  # as signed in: the allocated keyworker, custody work only
        authorise_transfer_or_custody(Principal(actor.user_id, "secure_keyworker", frozenset()),
                                      state, command)
        return
    if act in QA_ONLY:
        raise AccessDenied()
    if act in TRANSFER_ANSWERS:
        if actor.role not in ("manager", "admin"):
            raise AccessDenied()
        return
    if (act in MANAGER_ACTS) != (actor.role == "manager"):
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
    """May ``who`` record any events on a case of ``case_team`` (which ones: ``can_record``)?"""
    return (who.role in ("practitioner", "manager") and case_team is not None
            and case_team in who.teams)


def can_record(who: Principal, case_team: str | None, event_type: str) -> bool:
    """May ``who`` record events of ``event_type`` on a case of ``case_team`` (a page
    offers only these acts)?"""
    if case_team is None or case_team not in who.teams:
        return False
    if event_type in MANAGER_ACTS:
        return who.role == "manager"
    return who.role == "practitioner"


def can_record_manager_act(who: Principal, case_team: str | None) -> bool:
    """May ``who`` record a manager's act (``MANAGER_ACTS``) on a case of ``case_team``?"""
    return who.role == "manager" and case_team is not None and case_team in who.teams


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


# -- transfers and custody staff (issue 11 §4) ----------------------------------------------

TRANSFER_ANSWERS = frozenset({"transfer_accepted", "transfer_rejected"})
"""Recorded by a manager of the receiving team, never by the sending team."""

HOST_ACTS = frozenset(
    {"contact_scheduled", "contact_attended", "contact_missed", "missed_contact_followed_up"}
)
"""What a caretaking host team's practitioners record: the contacts they supervise."""

KEYWORKER_ACTS = HOST_ACTS | {"transition_planned", "transition_completed"}
"""What a secure-estate keyworker records: custody contacts and the custody side of
transitions (into custody, release from it)."""

CUSTODY_SIDE = frozenset({"community_to_custody", "custody_to_community"})


def authorise_transfer_or_custody(
    principal: Principal, state: CaseState, command: RecordEvent
) -> None:
    """``authorise`` for a transfer's answer and for a keyworker: ``AccessDenied`` unless a
    manager of the receiving team answers a pending transfer, or the keyworker allocated to
    the case records a custody contact or the custody side of a transition."""
    kind = event_class(command.event_type).type
    teams = state.teams
    if teams is None:
        raise AccessDenied()
    if kind in TRANSFER_ANSWERS:
        if principal.role != "manager":
            raise AccessDenied()
        request = state.requests.get(str(command.data.get("transfer_id", "")))
        if request is None or request.status != "pending":
            raise AccessDenied()
        if request.to_team is None and request.to_service != principal.service:
            raise AccessDenied()  # an offer to another service is answered there, not here
        receiving = request.to_team or str(command.data.get("team", ""))
        if receiving not in principal.teams or receiving == request.from_team:
            raise AccessDenied()
        return
    if principal.role != KEYWORKER or principal.user_id not in teams.keyworkers:
        raise AccessDenied()
    if kind in HOST_ACTS and state.setting == "custody":
        return
    transition = kind in ("transition_planned", "transition_completed")
    if transition and command.data.get("kind") in CUSTODY_SIDE:
        return
    raise AccessDenied()


def readers(teams: CaseTeams, now: datetime, read_access: timedelta) -> frozenset[str]:
    """The teams that may read the case at ``now``: owner, hosts, and sending teams inside
    their read-only period (``[transfers] read_access_days``)."""
    return frozenset({teams.owner}) | teams.hosts | teams.former_reading(now, read_access)


def may_read(
    who: Principal, teams: CaseTeams | None, now: datetime, read_access: timedelta
) -> bool:
    """``can_read_case`` with transfers and keyworkers: may ``who`` read this case at ``now``?"""
    if teams is None or who.role in ("auditor", "qa", "admin"):
        return can_read_case(who, teams.owner if teams else None)
    if who.role == KEYWORKER:
        return who.user_id in teams.keyworkers
    if who.role == "manager" and teams.pending & who.teams:
        return True
    return who.role in ("practitioner", "manager") and bool(
        readers(teams, now, read_access) & who.teams
    )


def may_record(who: Principal, teams: CaseTeams | None, kind: str | None = None) -> bool:
    """May ``who`` record on this case (``kind`` None: anything; else that event type)?
    A first check for the pages, which offer a form only where the service would accept
    it; ``authorise`` decides each write."""
    if teams is None:
        return False
    if can_write_case(who, teams.owner):
        if kind is None:
            return True
        if kind in TRANSFER_ANSWERS or kind in QA_ONLY or kind in OPERATOR_ONLY:
            return False  # the receiving team's, QA's, the erasure service's
        return (kind in MANAGER_ACTS) == (who.role == "manager")
    if kind is None:
        return False
    if kind in TRANSFER_ANSWERS:
        offered = bool(teams.pending & who.teams) or (
            who.service in teams.services_offered and bool(who.teams - {teams.owner}))
        return who.role == "manager" and offered
    if who.role == "practitioner" and teams.hosts & who.teams:
        return kind in HOST_ACTS
    if who.role == KEYWORKER and who.user_id in teams.keyworkers:
        return kind in KEYWORKER_ACTS
    return False


def can_record_board(who: Principal) -> bool:
    """May ``who`` record a management board meeting (service level, no child: KPI 7)?"""
    return who.role in ("manager", "admin")


def can_see_board(who: Principal) -> bool:
    """May ``who`` list the management board's meetings (no personal data in them)?"""
    return who.role in ("manager", "auditor", "admin")
