"""Tamper evidence and upcasting on real databases, and ``tracker verify`` reporting it."""

from __future__ import annotations

import json
from dataclasses import fields
from datetime import UTC, datetime, timedelta, timezone
from uuid import uuid4

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from events.case import CaseOpened
from events.chain import (
    GENESIS,
    ChainFields,
    WriteHasher,
    canonical,
    canonical_payload,
    envelope_hash,
    iso,
    link_hash,
)
from events.envelope import ENVELOPE_FIELDS, RecordedEvent, column_of
from events.schema import events as events_table
from tests.support import at, open_case, record
from tracker.bootstrap import App
from tracker.services.verify import verify


def _unprotect(app: App) -> None:
    """What an attacker with database rights does first: lift the append-only trigger."""
    with app.engine.begin() as conn:
        if app.engine.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE events DISABLE TRIGGER events_append_only"))
        else:
            conn.execute(text("DROP TRIGGER events_no_update"))
            conn.execute(text("DROP TRIGGER events_no_delete"))


def _case_with_contacts(app: App) -> None:
    open_case(app, "CS-1")
    for day, score in (("2026-02-02", 4), ("2026-02-09", 3), ("2026-02-16", 5)):
        record(app, "CS-1", "contact_attended", {"kind": "office", "participation": score},
               at(day))
    open_case(app, "CS-2", child_id="C-TEST0002")


def test_intact_store_verifies(app: App) -> None:
    _case_with_contacts(app)
    report = verify(app.engine)
    assert report.ok and report.streams == 2 and report.events == 5


def test_one_changed_byte_is_found_with_case_and_version(app: App) -> None:
    _case_with_contacts(app)
    _unprotect(app)
    with app.engine.begin() as conn:
        conn.execute(text(  # one byte: the participation score 3 becomes 5
            "UPDATE events SET payload = REPLACE(payload, :old, :new) "
            "WHERE stream_id = 'CS-1' AND stream_version = 3"),
            {"old": '"participation":3', "new": '"participation":5'})
    report = verify(app.engine)
    assert not report.ok
    assert [(b.case_id, b.version, b.problem) for b in report.breaks] == [
        ("CS-1", 3, "content_altered")]
    assert "envelope" in report.breaks[0].detail


def test_changed_time_is_found(app: App) -> None:
    _case_with_contacts(app)
    _unprotect(app)
    with app.engine.begin() as conn:
        conn.execute(text("UPDATE events SET recorded_at = occurred_at "
                          "WHERE stream_id = 'CS-1' AND stream_version = 2"))
    assert [(b.version, b.problem) for b in verify(app.engine).breaks] == [(2, "content_altered")]


def test_deleted_event_and_rehashed_forgery_are_found(app: App) -> None:
    _case_with_contacts(app)
    anchor = verify(app.engine).to_dict()
    _unprotect(app)
    with app.engine.begin() as conn:
        conn.execute(text("DELETE FROM events WHERE stream_id = 'CS-1' AND stream_version = 2"))
    breaks = verify(app.engine).breaks
    assert [(b.case_id, b.version, b.problem) for b in breaks] == [("CS-1", 3, "version_gap")]
    # Cut the tail of CS-2 entirely: the chain alone cannot see it, the anchor can.
    with app.engine.begin() as conn:
        conn.execute(text("DELETE FROM events WHERE stream_id = 'CS-2'"))
    anchored = verify(app.engine, anchor=anchor).breaks
    assert ("CS-2", 1, "truncated") in [(b.case_id, b.version, b.problem) for b in anchored]


def test_rewritten_history_with_fresh_hashes_is_caught_by_the_anchor(app: App) -> None:
    open_case(app, "CS-1")
    anchor = verify(app.engine).to_dict()
    _unprotect(app)
    with app.engine.begin() as conn:
        from events.schema import events

        row = conn.execute(events.select().where(events.c.stream_id == "CS-1")).mappings().one()
        payload = row["payload"].replace('"enhanced"', '"standard"')
        forged = link_hash(GENESIS, ChainFields(
            str(row["event_id"]), row["stream_id"], 1, row["event_type"], row["schema_version"],
            row["occurred_at"], row["recorded_at"], row["recorded_by"],
            row["recorded_role"], row["correlation_id"], payload))
        conn.execute(text("UPDATE events SET payload = :p, hash = :h WHERE stream_id = 'CS-1'"),
                     {"p": payload, "h": forged})
    assert verify(app.engine).ok  # a consistent forgery: the chain alone is satisfied
    assert [b.problem for b in verify(app.engine, anchor=anchor).breaks] == ["rewritten"]


def test_version_one_case_opened_is_upcast_on_read(app: App) -> None:
    """A row written by an older release (``level``, no ``setting``) reads as version 2."""
    v1 = {"child_id": "C-OLD00001", "disposal_type": "referral_order", "route": "court",
          "start_date": "2025-06-02", "expected_end_date": "2025-12-01", "level": "standard",
          "service": "YJS-TEST", "team": "TEAM-A"}
    payload = json.dumps(v1, sort_keys=True, separators=(",", ":"))
    when = at("2025-06-02")
    event_id = uuid4()
    fields = ChainFields(str(event_id), "CS-OLD", 1, "case_opened", 1, when, when, "P-OLD",
                         "practitioner", "legacy", payload)
    from events.schema import events

    with app.engine.begin() as conn:
        conn.execute(events.insert().values(
            position=1, event_id=event_id, stream_id="CS-OLD", stream_version=1,
            event_type="case_opened", schema_version=1, occurred_at=when, recorded_at=when,
            recorded_by="P-OLD", recorded_role="practitioner", correlation_id="legacy",
            payload=payload, prev_hash=GENESIS, hash=link_hash(GENESIS, fields)))
    [rec] = app.store.read_stream("CS-OLD")
    assert isinstance(rec.event, CaseOpened)
    assert rec.schema_version == 1
    assert rec.event.intervention_level == "standard" and rec.event.setting == "community"
    assert verify(app.engine).ok  # the stored v1 bytes still verify
    record(app, "CS-OLD", "contact_attended", {"kind": "phone", "participation": 2},
           at("2025-06-03"))  # and the case can carry on
    assert app.store.stream_version("CS-OLD") == 2


@pytest.mark.parametrize("bad", ["{not json", "[1,2]"])
def test_unreadable_payload_is_reported(sqlite_app: App, bad: str) -> None:
    open_case(sqlite_app, "CS-1")
    _unprotect(sqlite_app)
    with sqlite_app.engine.begin() as conn:
        conn.execute(text("UPDATE events SET payload = :p"), {"p": bad})
    [brk] = verify(sqlite_app.engine).breaks
    assert brk.problem == "content_altered"


@pytest.mark.parametrize(
    "text",
    ["CS-1", "café ☕", 'quote " and \\ backslash', "tab\tnew\nline\x00\x1f", "\u2028\u2029", ""],
)
def test_append_path_hash_is_the_reference_link_hash(text: str) -> None:
    """The store's ``envelope_hash`` hashes exactly the bytes ``link_hash`` hashes."""
    occurred = datetime(2026, 3, 4, 5, 6, 7, 89, tzinfo=timezone(timedelta(hours=1)))
    recorded = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
    fields = ChainFields(
        event_id="6f1c2c0e-0000-4000-8000-000000000001", stream_id=text, stream_version=7,
        type=f"t{text}", schema_version=2, occurred_at=occurred, recorded_at=recorded,
        recorded_by=text, recorded_role="practitioner", correlation_id=text,
        payload=f'{{"note":"{text}"}}',
    )
    fast = envelope_hash(
        "a" * 64, fields.event_id, fields.stream_id, fields.stream_version, fields.type,
        fields.schema_version, iso(fields.occurred_at), iso(fields.recorded_at),
        fields.recorded_by, fields.recorded_role, fields.correlation_id, fields.payload,
    )
    assert fast == link_hash("a" * 64, fields)


def test_the_envelope_is_listed_once_and_every_carrier_has_it() -> None:
    """``ENVELOPE_FIELDS`` is what the chain covers: the recorded event, the chain's fields,
    the ``events`` table and the append path's spelled-out hash all follow that one list."""
    assert [f.name for f in fields(ChainFields)] == [*ENVELOPE_FIELDS, "payload"]
    assert set(ENVELOPE_FIELDS) <= {f.name for f in fields(RecordedEvent)}
    assert {column_of(name) for name in ENVELOPE_FIELDS} <= set(events_table.c.keys())
    when = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    values = dict(zip(ENVELOPE_FIELDS, [str(uuid4()), "CS-1", 3, "case_opened", 1, when, when,
                                        "P-1", "practitioner", "corr"], strict=True))
    row = {column_of(k): v for k, v in values.items()} | {"payload": "{}"}
    reference = link_hash(GENESIS, ChainFields.from_row(row))
    head = json.loads(canonical(ChainFields.from_row(row)).split(b"\n")[0])
    assert sorted(head) == sorted(ENVELOPE_FIELDS)
    fast = envelope_hash(
        GENESIS, str(values["event_id"]), "CS-1", 3, "case_opened", 1, iso(when), iso(when),
        "P-1", "practitioner", "corr", "{}",
    )
    assert fast == reference


_TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=20)
_MOMENTS = st.datetimes(
    min_value=datetime(1000, 1, 1), max_value=datetime(9998, 12, 31),
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=1)), timezone(-timedelta(hours=5))]),
)


@settings(max_examples=300, deadline=None)
@given(texts=st.lists(_TEXT, min_size=6, max_size=6), versions=st.lists(
    st.integers(0, 2**40), min_size=2, max_size=2), occurred=_MOMENTS, recorded=_MOMENTS)
def test_a_writes_hasher_hashes_the_reference_bytes(
    texts: list[str], versions: list[int], occurred: datetime, recorded: datetime
) -> None:
    """``WriteHasher`` (the envelope's shared parts spelt once per write) gives exactly
    ``link_hash``, for every event of the write, whatever the strings hold."""
    stream, by, role, corr, kind, note = texts
    fields = ChainFields(
        event_id=str(uuid4()), stream_id=stream, stream_version=versions[0], type=kind,
        schema_version=versions[1] % 2**15, occurred_at=occurred, recorded_at=recorded,
        recorded_by=by, recorded_role=role, correlation_id=corr,
        payload=canonical_payload({"note": note, "n": versions[0]}),
    )
    hasher = WriteHasher(stream, iso(recorded), by, role, corr)
    for prev in (GENESIS, "f" * 64):  # two events of one write share the hasher
        fast = hasher.digest(prev, fields.event_id, fields.stream_version, fields.type,
                             fields.schema_version, iso(occurred), fields.payload)
        assert fast == link_hash(prev, fields)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | _TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_TEXT, inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(payload=st.dictionaries(_TEXT, _JSON, max_size=6))
def test_canonical_payload_is_json_dumps(payload: dict[str, object]) -> None:
    """The payload's spelling is exactly the documented ``json.dumps`` call."""
    assert canonical_payload(payload) == json.dumps(
        payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
