"""Two keys per child: reducing to basic information destroys the detail key (notes,
reasons gone; the date of birth and every non-personal fact stay), erasure both; values
sealed under the single key of before keep reading, and are hidden by a reduction."""

from __future__ import annotations

import base64
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select, text, update

from events import sealing
from events.base import BASIC, DETAIL
from events.delivery import ContactMissed
from events.envelope import Actor
from events.erasure import PersonalDataErased
from events.schema import child_keys
from events.schema import events as E  # noqa: N812
from events.sealing import ERASED, SqlKeyring
from projections.sealer import KeyringDob
from projections.subject_access import subject_access
from tests.conftest import TEST_KEY
from tests.support import as_operator, at, open_case, record, run_cli
from tracker.bootstrap import App
from tracker.db.migrations import upgrade
from tracker.kernel.errors import KeyUnavailable
from tracker.services.erasure import erase_child
from tracker.services.verify import verify

ADMIN = Actor("A-TEST01", "admin")
CHILD = "C-TIER0001"
NOTE = {"kind": "office", "acceptable": False, "reason": "other", "note": "ZQX-TIER-NOTE"}
BARE = {"kind": "phone", "acceptable": False, "reason": "refused"}


def reduce(app: App, child: str = CHILD) -> object:
    return erase_child(app, child, "retention_expired", actor=ADMIN, correlation_id="t-tier",
                       scope="detail")


def events_of(app: App, case_id: str) -> list[Any]:
    return [e.event for e in app.store.read_stream(case_id)]


def raw_payloads(app: App, case_id: str) -> list[str]:
    with app.engine.connect() as conn:
        return [p for (p,) in conn.execute(
            select(E.c.payload).where(E.c.stream_id == case_id).order_by(E.c.position))]


def test_a_reduced_childs_notes_read_as_erased_while_identity_and_facts_stay(app: App) -> None:
    open_case(app, "CS-T1", child_id=CHILD, date_of_birth="2009-04-02")
    record(app, "CS-T1", "contact_missed", NOTE, at("2026-02-01"))
    opened_raw, missed_raw = raw_payloads(app, "CS-T1")
    assert f"sealed:v1:{CHILD}:detail:" in missed_raw and "ZQX" not in missed_raw
    assert f"sealed:v1:{CHILD}:" in opened_raw and ":detail:" not in opened_raw
    done = reduce(app)
    assert done.to_dict()["recorded_on"] == ["CS-T1"]  # type: ignore[attr-defined]
    opened, missed, reduced = events_of(app, "CS-T1")
    assert str(opened.date_of_birth) == "2009-04-02" and opened.disposal_type == "yro"
    assert isinstance(missed, ContactMissed) and missed.note is None
    assert (missed.kind, missed.acceptable, missed.reason) == ("office", False, "other")
    assert isinstance(reduced, PersonalDataErased) and reduced.scope == "detail"
    assert verify(app.engine).ok
    assert reduce(app).to_dict()["recorded_on"] == []  # type: ignore[attr-defined]


def test_after_reduction_a_note_is_refused_and_a_write_without_one_is_kept(app: App) -> None:
    open_case(app, "CS-T2", child_id=CHILD)
    reduce(app)
    with pytest.raises(KeyUnavailable):
        record(app, "CS-T2", "contact_missed", NOTE, at("2026-02-02"))
    record(app, "CS-T2", "contact_missed", BARE, at("2026-02-03"))
    assert events_of(app, "CS-T2")[-1].reason == "refused"


def test_a_full_erasure_after_a_reduction_takes_the_identity_too(app: App) -> None:
    open_case(app, "CS-T3", child_id=CHILD)
    record(app, "CS-T3", "contact_missed", NOTE, at("2026-02-01"))
    reduce(app)
    erase_child(app, CHILD, "erasure_request", actor=ADMIN, correlation_id="t-tier")
    opened, missed, first, second = events_of(app, "CS-T3")
    assert opened.date_of_birth is None and missed.note is None
    assert (first.scope, second.scope) == ("detail", "all")
    with pytest.raises(KeyUnavailable):
        record(app, "CS-T3", "case_closed", {"reason": "order_completed", "note": "x"},
               at("2026-02-04"))
    assert verify(app.engine).ok


def _as_before_tiers(app: App, monkeypatch: pytest.MonkeyPatch) -> None:
    """Write as the code did before tiers: every value under the one (basic) key, no
    marker, and a key row with no detail key."""
    real = sealing._seal_value

    def one_key(value: Any, child_id: str, keyring: Any, tier: str) -> str:
        return real(value, child_id, keyring, BASIC)

    monkeypatch.setattr(sealing, "_seal_value", one_key)
    open_case(app, "CS-OLD", child_id=CHILD, date_of_birth="2008-08-08")
    record(app, "CS-OLD", "contact_missed", NOTE, at("2026-02-01"))
    monkeypatch.setattr(sealing, "_seal_value", real)
    with app.engine.begin() as conn:
        conn.execute(update(child_keys).where(child_keys.c.child_id == CHILD)
                     .values(detail_wrapped_key=None))
    assert isinstance(app.keyring, SqlKeyring)
    app.keyring.forget()


def test_values_sealed_under_the_single_key_still_read_and_a_reduction_hides_them(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    _as_before_tiers(app, monkeypatch)
    assert ":detail:" not in raw_payloads(app, "CS-OLD")[1]
    opened, missed = events_of(app, "CS-OLD")
    assert (str(opened.date_of_birth), missed.note) == ("2008-08-08", "ZQX-TIER-NOTE")
    record(app, "CS-OLD", "contact_missed", {**NOTE, "note": "ZQX-NEW"}, at("2026-02-02"))
    assert events_of(app, "CS-OLD")[-1].note == "ZQX-NEW"  # detail key created on demand
    reduce(app)
    opened, old, new, _reduced = events_of(app, "CS-OLD")
    assert str(opened.date_of_birth) == "2008-08-08"
    assert (old.note, new.note) == (None, None)
    assert sealing.open_text(raw_payloads(app, "CS-OLD")[1].split('"note":"')[1].split('"')[0],
                             app.keyring) == ERASED
    assert verify(app.engine).ok


def test_a_key_destroyed_before_tiers_stays_destroyed_for_narrative_writes(
    tmp_path: Path,
) -> None:
    """Migration 0009 marks the detail key of every child already erased as destroyed, so a
    note cannot create a fresh detail key for them."""
    engine = create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    try:
        upgrade(engine, "0006_i9_no_dob_dates")
        gone = datetime(2026, 1, 1, tzinfo=UTC)
        with engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO child_keys (child_id, wrapped_key, created_at, destroyed_at)"
                " VALUES ('C-GONE0001', NULL, :at, :at), ('C-LIVE0001', :key, :at, NULL)"),
                {"at": gone.isoformat(), "key": b"x" * 60})
        upgrade(engine)
        with engine.connect() as conn:
            rows = dict(conn.execute(select(child_keys.c.child_id,
                                            child_keys.c.detail_destroyed_at)).all())
        assert rows["C-GONE0001"] is not None and rows["C-LIVE0001"] is None
        keyring = SqlKeyring(engine, base64.b64decode(TEST_KEY))
        with pytest.raises(KeyUnavailable):
            keyring.key_for("C-GONE0001", create=True, tier=DETAIL)
    finally:
        engine.dispose()


def test_the_read_sides_date_of_birth_still_seals_and_opens_and_alert_notes_go(
    app: App,
) -> None:
    open_case(app, "CS-T4", child_id=CHILD, date_of_birth="2009-04-02")
    note = sealing.seal_text("ZQX-ALERT-NOTE", CHILD, app.keyring)
    before = KeyringDob(app.keyring).seal(CHILD, date(2009, 4, 2))
    reduce(app)
    dob = KeyringDob(app.keyring)
    after = dob.seal(CHILD, date(2009, 4, 2))
    assert before is not None and after is not None
    assert dob.open(before) == dob.open(after) == date(2009, 4, 2)
    assert sealing.open_text(note, app.keyring) == ERASED
    with pytest.raises(KeyUnavailable):
        sealing.seal_text("ZQX-LATER", CHILD, app.keyring)


def test_another_process_holding_the_detail_key_cannot_store_a_note_after_reduction(
    app: App, other: App
) -> None:
    """The other process has the detail key cached: its note is sealed, then refused under
    the writer lock; its write without a note is stored."""
    open_case(app, "CS-T5", child_id=CHILD)
    record(other, "CS-T5", "contact_missed", NOTE, at("2026-02-01"))  # keys cached there
    reduce(app)
    with pytest.raises(KeyUnavailable):
        record(other, "CS-T5", "contact_missed", NOTE, at("2026-02-02"))
    record(other, "CS-T5", "contact_missed", BARE, at("2026-02-03"))
    assert [e.type for e in app.store.read_stream("CS-T5")][-2:] == [
        "personal_data_erased", "contact_missed"]
    assert verify(app.engine).ok


def test_an_admin_reduces_by_command_and_a_bad_scope_is_one_line(
    app: App, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    open_case(app, "CS-T6", child_id=CHILD, date_of_birth="2009-04-02")
    record(app, "CS-T6", "contact_missed", NOTE, at("2026-02-01"))
    as_operator(monkeypatch, app)
    code, _out, err = run_cli(monkeypatch, capsys, "child", "erase", CHILD, "--reason",
                              "court_order", "--scope", "some")
    assert code == 2 and "--scope" in err and "Traceback" not in err
    code, out, _err = run_cli(monkeypatch, capsys, "child", "erase", CHILD, "--reason",
                              "court_order", "--scope", "detail")
    assert code == 0 and "recorded on 1 of 1 case(s)" in out, out
    assert isinstance(app.keyring, SqlKeyring)
    app.keyring.forget()  # the command ran as another process (KEY_CHECK_SECONDS)
    opened, missed, reduced = events_of(app, "CS-T6")
    assert (str(opened.date_of_birth), missed.note, reduced.scope) == (
        "2009-04-02", None, "detail")


def test_the_subject_access_export_tells_a_reduction_from_an_erasure(app: App) -> None:
    open_case(app, "CS-T7", child_id=CHILD)
    reduce(app)
    doc = subject_access(app, CHILD, actor=ADMIN)
    assert not doc["erased"] and [e["scope"] for e in doc["erasures"]] == ["detail"]
    erase_child(app, CHILD, "erasure_request", actor=ADMIN, correlation_id="t-tier")
    doc = subject_access(app, CHILD, actor=ADMIN)
    assert doc["erased"] and [e["scope"] for e in doc["erasures"]] == ["detail", "all"]
