"""Erasure by command: the key is destroyed under the writer lock, each case records it,
the chain still verifies, and no other process can store a value under the dead key."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from events.delivery import ContactMissed
from events.envelope import Actor
from events.erasure import PersonalDataErased
from events.sealing import ERASED
from projections import queries
from projections.projector import Projector
from tests.support import at, open_case, record
from tracker.bootstrap import App
from tracker.db.read_models import alerts
from tracker.domain.access import Principal
from tracker.domain.commands import RecordEvent
from tracker.kernel.errors import (
    AccessDenied,
    ChildNotFound,
    InvalidInput,
    KeyUnavailable,
)
from tracker.services.cases import CaseService
from tracker.services.erasure import erase_child
from tracker.services.verify import verify

ADMIN = Actor("A-TEST01", "admin")
MISSED = {"kind": "office", "acceptable": False, "reason": "other", "note": "ZQX-NOTE-MARKER"}


def erase(app: App, child: str = "C-ERASE01", reason: str = "erasure_request") -> object:
    return erase_child(app, child, reason, actor=ADMIN, correlation_id="t-erase")


def test_erasure_records_an_event_on_each_case_and_the_chain_verifies(app: App) -> None:
    open_case(app, "CS-E1", child_id="C-ERASE01")
    open_case(app, "CS-E2", child_id="C-ERASE01")
    open_case(app, "CS-KEEP", child_id="C-KEEP0001")
    record(app, "CS-E1", "contact_missed", MISSED, at("2026-02-01"))
    done = erase(app)
    assert done.to_dict() == {  # type: ignore[attr-defined]
        "child_id": "C-ERASE01", "key_destroyed": True,
        "case_ids": ["CS-E1", "CS-E2"], "recorded_on": ["CS-E1", "CS-E2"],
    }
    for case_id in ("CS-E1", "CS-E2"):
        last = app.store.read_stream(case_id)[-1]
        assert isinstance(last.event, PersonalDataErased)
        assert last.event.reason == "erasure_request" and last.recorded_by == "A-TEST01"
    missed = app.store.read_stream("CS-E1")[1].event
    assert isinstance(missed, ContactMissed) and missed.note is None
    assert app.store.read_stream("CS-E1")[0].event.date_of_birth is None  # type: ignore[attr-defined]
    assert app.store.read_stream("CS-KEEP")[0].event.date_of_birth is not None  # type: ignore[attr-defined]
    assert verify(app.engine).ok
    again = erase(app)  # idempotent: nothing more to destroy or record
    assert again.to_dict()["recorded_on"] == [] and not again.to_dict()["key_destroyed"]  # type: ignore[attr-defined]


def test_erasure_is_refused_to_other_roles_bad_reasons_and_unknown_children(app: App) -> None:
    open_case(app, "CS-E1", child_id="C-ERASE01")
    with pytest.raises(AccessDenied):
        erase_child(app, "C-ERASE01", "other", actor=Actor("P-1", "practitioner"),
                    correlation_id="t")
    with pytest.raises(InvalidInput, match="reason"):
        erase(app, reason="because the child asked on 2010-05-17")
    with pytest.raises(ChildNotFound):
        erase(app, child="C-NOBODY01")
    assert app.store.read_stream("CS-E1")[0].event.date_of_birth is not None  # type: ignore[attr-defined]


def test_a_practitioner_cannot_record_an_erasure_as_a_case_entry(app: App) -> None:
    open_case(app, "CS-E1", child_id="C-ERASE01")
    who = Principal("P-TEST01", "practitioner", frozenset({"TEAM-A"}))
    command = RecordEvent(case_id="CS-E1", event_type="personal_data_erased",
                          data={"child_id": "C-ERASE01", "reason": "other"},
                          occurred_at=at("2026-02-01"))
    with pytest.raises(AccessDenied):
        CaseService.of(app).record(command, actor=who, correlation_id="t")


def test_another_process_holding_the_key_cannot_store_a_note_after_erasure(
    app: App, other: App
) -> None:
    """The writer in the other process read the case (and the key) just before: its note
    is refused with ``KeyUnavailable``, not answered as saved under a destroyed key."""
    open_case(app, "CS-E1", child_id="C-ERASE01")
    record(other, "CS-E1", "contact_missed", MISSED, at("2026-02-01"))  # key cached there
    assert other.store.read_stream("CS-E1")[1].event.note == "ZQX-NOTE-MARKER"  # type: ignore[attr-defined]
    erase(app)
    with pytest.raises(KeyUnavailable):
        record(other, "CS-E1", "contact_missed", MISSED, at("2026-02-02"))
    with pytest.raises(KeyUnavailable):  # nor a new case for the erased child
        open_case(other, "CS-E3", child_id="C-ERASE01")
    assert [e.type for e in app.store.read_stream("CS-E1")][-1] == "personal_data_erased"
    assert app.store.stream_version("CS-E3") == 0
    assert verify(app.engine).ok


def test_managers_alert_notes_are_sealed_and_erased_with_the_child(app: App) -> None:
    """Before, acknowledgement and resolve notes sat in clear in ``alerts`` and outlived
    the erasure of the child."""
    projector = Projector(app)
    open_case(app, "CS-E1", child_id="C-ERASE01", start_date="2026-10-01")  # no case manager
    projector.catch_up()
    alert = queries.list_alerts(app)[0]
    manager = Actor("M-TEST", "manager")
    acked = queries.acknowledge_alert(app, alert["alert_id"], note="ZQX-ACK-MARKER",
                                      actor=manager)
    closed = queries.close_alert(app, alert["alert_id"], note="ZQX-CLOSE-MARKER", actor=manager,
                                 review_on=app.clock.now().date() + timedelta(days=7))
    assert acked["ack_note"] == "ZQX-ACK-MARKER" and closed["close_note"] == "ZQX-CLOSE-MARKER"
    with app.engine.connect() as conn:
        raw = " ".join(str(v) for row in conn.execute(select(alerts)) for v in row)
    assert "ZQX-" not in raw and "sealed:v1:C-ERASE01:" in raw
    erase(app)
    [after] = [a for a in queries.list_alerts(app, open_only=False)
               if a["alert_id"] == alert["alert_id"]]
    assert (after["ack_note"], after["close_note"]) == (ERASED, ERASED)
