"""``python -m bench append`` runs end to end on a tiny workload and says what it should.

No timing assertions (speed lives in ``bench/``): only that every case prints one JSON
line with the documented keys and positive rates, and that the chains the tracker wrote
while measured verify.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from bench import append
from bench.common import pg_unreachable
from events.chain import ChainFields, envelope_hash, iso, link_hash
from tests.conftest import PG_ADMIN_URL, missing_server

KEYS = {
    "bench", "backend", "events_per_tx", "impl", "events_per_s", "raw_events_per_s",
    "eventsourcing_events_per_s", "ratio_vs_raw", "ratio_vs_eventsourcing",
    "ratio_vs_raw_p10_p90", "ratio_vs_eventsourcing_p10_p90", "goal_vs_raw", "goals_met",
    "chain_verified", "events", "streams", "rounds", "samples",
}
TINY = ["--json", "--events", "20", "--rounds", "1", "--streams", "3", "--per-tx", "1", "10"]


def _check(out: str, backend: str) -> list[dict[str, object]]:
    lines = [json.loads(line) for line in out.splitlines() if line.strip()]
    assert [line["events_per_tx"] for line in lines] == [1, 10]
    for line in lines:
        assert set(line) == KEYS
        assert line["bench"] == "append" and line["backend"] == backend
        assert line["impl"] == "tracker" and line["rounds"] == 1
        assert line["chain_verified"] is True
        for key in ("events_per_s", "raw_events_per_s", "eventsourcing_events_per_s",
                    "ratio_vs_raw", "ratio_vs_eventsourcing"):
            value = line[key]
            assert isinstance(value, float) and value > 0, key
    return lines


def test_append_bench_on_sqlite(capsys: pytest.CaptureFixture[str]) -> None:
    append.main([*TINY, "--backend", "sqlite"])
    lines = _check(capsys.readouterr().out, "sqlite")
    assert all(line["goals_met"] is None for line in lines)  # goals are for PostgreSQL


@pytest.mark.postgres
def test_append_bench_on_postgresql(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRACKER_BENCH_PG_URL", PG_ADMIN_URL)
    why = pg_unreachable()
    if why is not None:
        missing_server("PostgreSQL", why)
    append.main([*TINY, "--backend", "postgresql"])
    lines = _check(capsys.readouterr().out, "postgresql")
    goals = {line["events_per_tx"]: line["goals_met"] for line in lines}
    assert isinstance(goals[1], bool) and goals[10] is None  # goals: 1 and 100 per transaction


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
