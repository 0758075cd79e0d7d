"""The event store on real SQLite and PostgreSQL: append, read, conflicts, idempotency."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

import pytest
from sqlalchemy import text

from events.delivery import ContactAttended, ContactMissed
from events.envelope import Actor, Draft, StreamWrite
from tests.support import at, open_case, record
from tracker.bootstrap import App
from tracker.kernel.errors import ConcurrencyConflict, DuplicateEventConflict
from tracker.services.verify import verify

ACTOR = Actor("P-TEST01", "practitioner")


def attended(participation: int = 4, note: str | None = None) -> ContactAttended:
    return ContactAttended(kind="office", participation=participation, note=note)


def append(app: App, stream: str, drafts: list[Draft], expected: int | None):  # type: ignore[no-untyped-def]
    return app.store.append(stream, drafts, expected_version=expected, actor=ACTOR,
                            correlation_id="t", subject_id="C-TEST0001")


def test_append_assigns_versions_positions_and_chain(app: App) -> None:
    first = append(app, "S1", [Draft(attended(), at("2026-02-01"))], 0)
    more = append(app, "S1", [Draft(attended(3), at("2026-02-02")),
                              Draft(attended(2), at("2026-02-03"))], 1)
    other = append(app, "S2", [Draft(attended(), at("2026-02-04"))], 0)
    assert [r.stream_version for r in first + more] == [1, 2, 3]
    assert [r.position for r in first + more + other] == [1, 2, 3, 4]
    assert more[0].prev_hash == first[0].hash and more[1].prev_hash == more[0].hash
    stored = app.store.read_stream("S1")
    assert [r.event for r in stored] == [attended(), attended(3), attended(2)]
    assert [r.hash for r in stored] == [r.hash for r in first + more]
    assert stored[0].recorded_by == "P-TEST01" and stored[0].recorded_role == "practitioner"
    assert stored[0].occurred_at == at("2026-02-01")
    assert app.store.head_position() == 4
    assert app.store.stream_version("S1") == 3


def test_stale_expected_version_names_both_versions_and_writes_nothing(app: App) -> None:
    append(app, "S1", [Draft(attended(), at("2026-02-01"))], 0)
    append(app, "S1", [Draft(attended(), at("2026-02-02"))], 1)
    with pytest.raises(ConcurrencyConflict) as info:
        append(app, "S1", [Draft(attended(), at("2026-02-03"))], 1)
    assert (info.value.expected, info.value.actual) == (1, 2)
    assert "expected version 1" in str(info.value) and "version 2" in str(info.value)
    assert app.store.stream_version("S1") == 2
    assert app.store.head_position() == 2


def test_reappending_same_event_is_a_no_op(app: App) -> None:
    draft = Draft(attended(note="synthetic note"), at("2026-02-01"))
    first = append(app, "S1", [draft], 0)
    again = append(app, "S1", [draft], 0)  # a retry after a lost reply
    also = append(app, "S1", [draft], None)
    assert [r.event_id for r in again] == [r.event_id for r in first]
    assert again[0].hash == first[0].hash and also[0].hash == first[0].hash
    assert app.store.stream_version("S1") == 1
    assert app.store.head_position() == 1


def test_same_event_id_with_different_content_is_refused(app: App) -> None:
    draft = Draft(attended(4), at("2026-02-01"))
    append(app, "S1", [draft], 0)
    with pytest.raises(DuplicateEventConflict, match="content"):
        append(app, "S1", [Draft(attended(1), draft.occurred_at, draft.event_id)], 0)
    with pytest.raises(DuplicateEventConflict, match="occurred_at"):
        append(app, "S1", [Draft(draft.event, draft.occurred_at + timedelta(hours=1),
                                 draft.event_id)], 0)
    with pytest.raises(DuplicateEventConflict, match="case"):
        append(app, "S2", [draft], 0)
    assert app.store.head_position() == 1


def test_append_many_is_all_or_nothing(app: App) -> None:
    append(app, "S1", [Draft(attended(), at("2026-02-01"))], 0)
    writes = [
        StreamWrite("S2", [Draft(attended(), at("2026-02-02"))], 0, "C-TEST0001"),
        StreamWrite("S1", [Draft(attended(), at("2026-02-03"))], 0, "C-TEST0001"),  # stale
    ]
    with pytest.raises(ConcurrencyConflict):
        app.store.append_many(writes, actor=ACTOR, correlation_id="t")
    assert app.store.stream_version("S2") == 0
    assert app.store.head_position() == 1


def test_read_stream_to_version_and_as_recorded_before(app: App, clock) -> None:  # type: ignore[no-untyped-def]
    t0 = clock.now()
    append(app, "S1", [Draft(attended(5), at("2026-02-01"))], 0)
    clock.set(t0 + timedelta(hours=1))
    append(app, "S1", [Draft(attended(4), at("2026-02-02"))], 1)
    clock.set(t0 + timedelta(hours=2))
    append(app, "S1", [Draft(attended(3), at("2026-01-15"))], 2)  # back-dated
    assert [r.stream_version for r in app.store.read_stream("S1", to_version=2)] == [1, 2]
    known = app.store.read_stream("S1", recorded_before=t0 + timedelta(minutes=90))
    assert [r.event for r in known] == [attended(5), attended(4)]
    assert app.store.read_stream("S1", recorded_before=t0) == []


def test_read_all_follows_global_order_in_batches(app: App) -> None:
    for i in range(7):
        append(app, f"S{i % 3}", [Draft(attended(), at("2026-02-01"))], None)
    batches = list(app.store.iter_all(after=2, batch_size=2))
    assert [len(b) for b in batches] == [2, 2, 1]
    assert [r.position for b in batches for r in b] == [3, 4, 5, 6, 7]
    assert app.store.read_all(after=7) == []


def test_events_table_refuses_update_and_delete(app: App) -> None:
    append(app, "S1", [Draft(attended(), at("2026-02-01"))], 0)
    for sql in ("UPDATE events SET stream_id = 'X'", "DELETE FROM events"):
        with pytest.raises(Exception, match="append-only"), app.engine.begin() as conn:
            conn.execute(text(sql))
    assert app.store.stream_version("S1") == 1


def test_personal_fields_are_sealed_and_can_be_shredded(app: App) -> None:
    open_case(app, "CS-1", child_id="C-SHRED01")
    record(app, "CS-1", "contact_missed", {"kind": "office", "acceptable": False,
                                            "reason": "other", "note": "synthetic secret"},
           at("2026-02-01"))
    with app.engine.connect() as conn:
        raw = " ".join(r[0] for r in conn.execute(text("SELECT payload FROM events")))
    assert "synthetic secret" not in raw and "2010-05-17" not in raw
    assert "sealed:v1:C-SHRED01:" in raw
    before = app.store.read_stream("CS-1")
    assert isinstance(before[1].event, ContactMissed) and before[1].event.note == "synthetic secret"
    assert app.keyring.destroy("C-SHRED01") is True
    after = app.store.read_stream("CS-1")
    assert isinstance(after[1].event, ContactMissed) and after[1].event.note is None
    assert after[0].event.date_of_birth is None  # type: ignore[attr-defined]
    assert [r.hash for r in after] == [r.hash for r in before]
    from tracker.services.verify import verify

    assert verify(app.engine).ok


def test_unknown_event_id_in_batch_with_known_ones_is_refused(app: App) -> None:
    known = Draft(attended(), at("2026-02-01"))
    append(app, "S1", [known], 0)
    with pytest.raises(DuplicateEventConflict):
        append(app, "S1", [known, Draft(attended(), at("2026-02-02"), uuid4())], None)
    assert app.store.stream_version("S1") == 1


def test_sqlite_store_runs_in_wal_mode(sqlite_app: App) -> None:
    with sqlite_app.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL


def test_concurrent_commands_without_a_pinned_version_both_land(app: App) -> None:
    """Two practitioners log contacts on one case at once: the loser re-decides, not fails."""
    import threading

    open_case(app, "CS-1")
    errors: list[BaseException] = []

    def log(day: str) -> None:
        try:
            for hour in range(9, 15):
                record(app, "CS-1", "contact_attended", {"kind": "phone", "participation": 3},
                       at(day, hour))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=log, args=(d,)) for d in ("2026-02-02", "2026-02-03")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert app.store.stream_version("CS-1") == 13
    assert [r.stream_version for r in app.store.read_stream("CS-1")] == list(range(1, 14))


def test_concurrent_first_writes_for_one_child_share_one_key(app: App) -> None:
    """Two processes sealing for a new child at once must end up with the same stored key."""
    import base64
    import threading

    from events.sealing import SqlKeyring
    from tests.conftest import TEST_KEY

    master = base64.urlsafe_b64decode(TEST_KEY)
    rings = [SqlKeyring(app.engine, master) for _ in range(4)]
    keys: list[bytes | None] = []
    barrier = threading.Barrier(len(rings))

    def create(ring: SqlKeyring) -> None:
        barrier.wait()
        keys.append(ring.key_for("C-RACE0001", create=True))

    threads = [threading.Thread(target=create, args=(r,)) for r in rings]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(keys) == 4 and keys[0] is not None
    assert len(set(keys)) == 1
    assert SqlKeyring(app.engine, master).key_for("C-RACE0001", create=False) == keys[0]


def test_sqlite_appends_go_on_after_the_engine_is_disposed(sqlite_app: App) -> None:
    """The store's own writer connection is closed with the engine's pool (``App.close``
    disposes it) and made again by the next append, with the engine's settings."""
    first = append(sqlite_app, "S1", [Draft(attended(), at("2026-02-01"))], 0)
    sqlite_app.engine.dispose()
    more = append(sqlite_app, "S1", [Draft(attended(3), at("2026-02-02"))], 1)
    assert [r.position for r in first + more] == [1, 2]
    assert more[0].prev_hash == first[0].hash
    assert [r.hash for r in sqlite_app.store.read_stream("S1")] == [first[0].hash, more[0].hash]


def test_a_large_batch_reads_back_exactly_and_verifies(app: App) -> None:
    """40 events in one append (PostgreSQL's COPY path; SQLite's executemany), sealed and
    chained, read back as appended, and the chain verifies by the reference code."""
    drafts = [Draft(attended(1 + i % 5, note=f"note {i} \\ \t \"q\" é"), at("2026-02-01"))
              for i in range(40)]
    written = append(app, "S1", drafts, 0)
    stored = app.store.read_stream("S1")
    assert [r.position for r in stored] == list(range(1, 41))
    assert [(r.event_id, r.event, r.hash, r.prev_hash, r.occurred_at, r.recorded_at)
            for r in stored] == [
        (r.event_id, r.event, r.hash, r.prev_hash, r.occurred_at, r.recorded_at) for r in written]
    assert verify(app.engine).ok
