"""``python -m bench workers`` still runs end to end (tiny, on servers of its own)."""

from __future__ import annotations

import json

import pytest

from bench import workers as bench_workers
from tests.conftest import missing_server

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis]


def test_bench_workers_reports_both_figures(capsys: pytest.CaptureFixture[str]) -> None:
    from tests.servers import PG_BIN

    if not (PG_BIN / "initdb").exists():
        missing_server("PostgreSQL binaries", f"not found in {PG_BIN}")
    bench_workers.main(["--json", "--own-servers", "--seconds", "2", "--rate", "50",
                        "--cases", "20", "--rounds", "1"])
    line = [x for x in capsys.readouterr().out.splitlines() if x.startswith("{")][-1]
    report = json.loads(line)
    latency, throughput = report["latency"], report["throughput"]
    assert latency["probes"] == latency["probes_seen"] == 10 and latency["errors"] == []
    assert latency["p50_ms"] is not None and latency["p99_ms"] >= latency["p50_ms"]
    assert throughput["workers_events_per_s"] > 0 and throughput["in_process_events_per_s"] > 0
    assert throughput["ratio"] == pytest.approx(
        throughput["workers_events_per_s"] / throughput["in_process_events_per_s"], rel=0.01)
