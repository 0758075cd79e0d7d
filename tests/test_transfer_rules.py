"""The case's team and who may do what around transfers, pure (issue 11 §4): the write
side and the read models agree on the owning team, and the role matrix as a table."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from projections.asat import AsAt
from projections.projector.rows import record_row
from projections.record import fold as fold_record
from projections.visible import Visible
from tests.support import at
from tests.test_decide import NOW, POLICY, History
from tracker.domain.access import Principal, authorise, may_read, may_record
from tracker.domain.teams import CaseTeams
from tracker.kernel.errors import AccessDenied

READ_DAYS = timedelta(days=POLICY.transfers.read_access_days)


def teams_now(history: History, team: str) -> None:
    """The write side and the read side name the same owning team."""
    assert history.state.team == team
    record = fold_record(history.case_id, history.events)
    assert Visible(record, AsAt.at(NOW), POLICY).team() == team

    class NoDob:
        def seal(self, child_id: str, dob: object) -> str | None:
            return None

        def open(self, token: str) -> None:
            return None

    assert record_row(record, NOW, NoDob())["team"] == team  # type: ignore[arg-type]


def owner(history: History) -> str:
    record = fold_record(history.case_id, history.events)
    return Visible(record, AsAt.at(NOW), POLICY).owner()


def test_the_owning_team_changes_through_transfers_and_later_allocations() -> None:
    h = History()
    h.add("case_manager_allocated", {"practitioner_id": "P-A1", "agency": "yot",
                                     "role": "case_manager", "team": "TEAM-A",
                                     "manager_id": "M-A1"}, at("2026-01-06"))
    teams_now(h, "TEAM-A")
    assert owner(h) == "M-A1"
    h.add("transfer_requested", {"transfer_id": "T-1", "kind": "full", "to_team": "TEAM-B",
                                 "reason": "moved"}, at("2026-02-01"))
    teams_now(h, "TEAM-A")  # requested is not moved
    h.add("transfer_accepted", {"transfer_id": "T-1", "team": "TEAM-B"}, at("2026-02-03"))
    teams_now(h, "TEAM-B")  # though TEAM-A's case manager has not been ended yet
    assert owner(h) == "team:TEAM-B"  # alerts go to the new team, not TEAM-A's manager
    h.add("case_manager_allocated", {"practitioner_id": "P-C1", "agency": "yot",
                                     "role": "case_manager", "team": "TEAM-C"}, at("2026-02-10"))
    teams_now(h, "TEAM-C")  # a case manager allocated since moves it, as before transfers
    h.add("case_manager_allocation_ended", {"practitioner_id": "P-C1", "role": "case_manager",
                                            "reason": "reallocated"}, at("2026-03-01"))
    teams_now(h, "TEAM-B")  # back to the team that took it over, not the one that opened it


def test_caretaking_and_rejection_leave_the_owner() -> None:
    h = History()
    h.add("transfer_requested", {"transfer_id": "T-1", "kind": "full", "to_team": "TEAM-B",
                                 "reason": "moved"}, at("2026-02-01"))
    h.add("transfer_rejected", {"transfer_id": "T-1", "reason": "no"}, at("2026-02-02"))
    teams_now(h, "TEAM-A")
    h.add("transfer_requested", {"transfer_id": "T-2", "kind": "caretaking",
                                 "to_team": "TEAM-B", "reason": "staying with an aunt"},
          at("2026-02-03"))
    h.add("transfer_accepted", {"transfer_id": "T-2", "team": "TEAM-B"}, at("2026-02-04"))
    teams_now(h, "TEAM-A")
    teams = h.state.teams
    assert teams is not None and teams.hosts == {"TEAM-B"}
    h.add("caretaking_ended", {"transfer_id": "T-2"}, at("2026-03-01"))
    assert h.state.teams is not None and h.state.teams.hosts == frozenset()
    assert "a caretaking arrangement" in str(h.refuse("caretaking_ended",
                                                      {"transfer_id": "T-2"}, at("2026-03-02")))
    wrong = h.refuse("transfer_requested", {"transfer_id": "T-3", "kind": "caretaking",
                                            "to_service": "YJS-X", "reason": "r"},
                     at("2026-03-03"))
    assert wrong.field == "data.to_team"


PEOPLE = {
    "practitioner A": Principal("P-A", "practitioner", frozenset({"TEAM-A"})),
    "practitioner B": Principal("P-B", "practitioner", frozenset({"TEAM-B"})),
    "practitioner C": Principal("P-C", "practitioner", frozenset({"TEAM-C"})),
    "manager A": Principal("M-A", "manager", frozenset({"TEAM-A"})),
    "manager B": Principal("M-B", "manager", frozenset({"TEAM-B"})),
    "auditor": Principal("AU", "auditor", frozenset()),
    "admin": Principal("AD", "admin", frozenset()),
    "keyworker K": Principal("K-1", "secure_keyworker", frozenset()),
    "keyworker L": Principal("K-2", "secure_keyworker", frozenset()),
}
ACCEPTED = at("2026-10-01")
CASES: dict[str, tuple[CaseTeams, datetime]] = {
    "own A": (CaseTeams("TEAM-A", keyworkers=frozenset({"K-1"})), NOW),
    "offered to B": (CaseTeams("TEAM-A", pending=frozenset({"TEAM-B"})), NOW),
    "A->B in period": (CaseTeams("TEAM-B", former=(("TEAM-A", ACCEPTED),)),
                              ACCEPTED + READ_DAYS - timedelta(seconds=1)),
    "A->B after": (CaseTeams("TEAM-B", former=(("TEAM-A", ACCEPTED),)),
                          ACCEPTED + READ_DAYS),
    "A hosted by B": (CaseTeams("TEAM-A", hosts=frozenset({"TEAM-B"})), NOW),
}

# Each cell: r = reads; then what it records: W everything a practitioner records, M the
# manager's acts, C contacts (and, keyworker, custody transitions) only, T answers the
# transfer, - nothing.
MATRIX = """
                 own A         offered to B  A->B in period         A->B after         A hosted by B
practitioner A   rW            rW            r-                     --                 rW
practitioner B   --            --            rW                     rW                 rC
practitioner C   --            --            --                     --                 --
manager A        rM            rM            r-                     --                 rM
manager B        --            rT            rM                     rM                 r-
auditor          r-            r-            r-                     r-                 r-
admin            --            --            --                     --                 --
keyworker K      rC            --            --                     --                 --
keyworker L      --            --            --                     --                 --
"""


def cell(who: Principal, teams: CaseTeams, now: datetime) -> str:
    read = "r" if may_read(who, teams, now, READ_DAYS) else "-"
    if who.role != "manager" and may_record(who, teams):
        write = "W"
    elif may_record(who, teams, "management_oversight_recorded"):
        write = "M"
    elif may_record(who, teams, "transfer_accepted"):
        write = "T"
    elif may_record(who, teams, "contact_attended"):
        write = "C"
    else:
        write = "-"
    return read + write


def test_the_role_matrix() -> None:
    rows = MATRIX.strip("\n").splitlines()
    assert [c.strip() for c in rows[0][17:].split("  ") if c.strip()] == list(CASES)
    expected = {line[:17].strip(): line[17:].split() for line in rows[1:]}
    assert set(expected) == set(PEOPLE)
    for person, cells in expected.items():
        got = [cell(PEOPLE[person], teams, now) for teams, now in CASES.values()]
        assert got == cells, person


@pytest.mark.parametrize(("event_type", "data", "allowed"), [
    ("contact_attended", {"kind": "office", "participation": 3}, True),
    ("transition_planned", {"transition_id": "X-1", "kind": "custody_to_community",
                            "planned_date": "2026-12-01"}, True),
    ("transition_completed", {"kind": "community_to_custody", "information_shared": True,
                              "handover_meeting_held": True, "accommodation_arranged": True},
     True),
    ("transition_planned", {"transition_id": "X-2", "kind": "to_probation",
                            "planned_date": "2026-12-01"}, False),
    ("review_completed", {"trigger": "scheduled", "plan_adjusted": False,
                          "child_involved": True}, False),
    ("case_closed", {"reason": "order_completed"}, False),
])
def test_a_keyworker_records_custody_work_and_nothing_else(
    event_type: str, data: dict[str, object], allowed: bool
) -> None:
    h = History(setting="custody", disposal_type="dto")
    h.add("case_manager_allocated", {"practitioner_id": "K-1", "agency": "secure_establishment",
                                     "role": "secure_keyworker"}, at("2026-01-06"))
    command = h.command(event_type, data, at("2026-10-01"))
    keyworker = PEOPLE["keyworker K"]
    if allowed:
        authorise(keyworker, h.state, command)
    else:
        with pytest.raises(AccessDenied):
            authorise(keyworker, h.state, command)
    with pytest.raises(AccessDenied):  # another keyworker: nothing
        authorise(PEOPLE["keyworker L"], h.state, command)
