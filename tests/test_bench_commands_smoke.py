"""``python -m bench commands`` runs end to end on tiny cases and says what it should.

No timing assertions (speed lives in ``bench/``): one JSON line per case length with the
documented keys and positive times, and the chains written while measured verify.
"""

from __future__ import annotations

import json

import pytest
import structlog

from bench import commands

KEYS = {
    "bench", "backend", "events", "impl", "ms", "ms_p10_p90", "cold_ms", "eventsourcing_ms",
    "eventsourcing_snapshots_ms", "ratio_vs_base", "ratio_vs_base_p10_p90", "base_events",
    "speedup_vs_eventsourcing", "speedup_vs_eventsourcing_p10_p90",
    "speedup_vs_eventsourcing_snapshots", "speedup_vs_eventsourcing_snapshots_p10_p90",
    "goals_met", "chain_verified", "rounds", "per_sample",
}
TINY = ["--json", "--lengths", "3", "120", "--rounds", "2", "--per-sample", "1"]


def _run(capsys: pytest.CaptureFixture[str], backend: str) -> list[dict[str, object]]:
    saved = structlog.get_config()  # the benchmark configures logging for its process
    try:
        commands.main([*TINY, "--backend", backend])
    finally:
        structlog.configure(**saved)
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]
    assert [line["events"] for line in lines] == [3, 120]
    for line in lines:
        assert set(line) == KEYS
        assert line["bench"] == "commands" and line["backend"] == backend
        assert line["chain_verified"] is True and isinstance(line["goals_met"], bool)
        assert line["base_events"] == 3  # 100 is not among the lengths: the shortest
        for key in ("ms", "cold_ms", "eventsourcing_ms", "eventsourcing_snapshots_ms",
                    "speedup_vs_eventsourcing", "speedup_vs_eventsourcing_snapshots"):
            value = line[key]
            assert isinstance(value, float) and value > 0, key
    return lines


def test_commands_bench_on_sqlite(capsys: pytest.CaptureFixture[str]) -> None:
    _run(capsys, "sqlite")


@pytest.mark.postgres
def test_commands_bench_on_postgresql(
    capsys: pytest.CaptureFixture[str], bench_pg: None
) -> None:
    _run(capsys, "postgresql")
