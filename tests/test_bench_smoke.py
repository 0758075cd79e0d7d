"""``python -m bench append`` runs end to end on a tiny workload and says what it should.

No timing assertions (speed lives in ``bench/``): only that every case prints one JSON
line with the documented keys and positive rates, and that the chains the tracker wrote
while measured verify.
"""

from __future__ import annotations

import json

import pytest

from bench import append

KEYS = {
    "bench", "backend", "events_per_tx", "impl", "events_per_s", "raw_events_per_s",
    "eventsourcing_events_per_s", "ratio_vs_raw", "ratio_vs_eventsourcing",
    "ratio_vs_raw_p10_p90", "ratio_vs_eventsourcing_p10_p90", "goal_vs_raw",
    "goal_vs_eventsourcing", "goals_met",
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
    goals = {line["events_per_tx"]: line["goals_met"] for line in lines}
    assert isinstance(goals[1], bool) and goals[10] is None  # goals: 1 and 100 per transaction


@pytest.mark.postgres
def test_append_bench_on_postgresql(
    capsys: pytest.CaptureFixture[str], bench_pg: None
) -> None:
    append.main([*TINY, "--backend", "postgresql"])
    lines = _check(capsys.readouterr().out, "postgresql")
    goals = {line["events_per_tx"]: line["goals_met"] for line in lines}
    assert isinstance(goals[1], bool) and goals[10] is None  # goals: 1 and 100 per transaction
