"""The projections benchmark runs end to end on a small store (speed is not judged here)."""

from __future__ import annotations

import json

import pytest
import structlog

from bench import projections as bench


@pytest.mark.slow
def test_bench_projections_reports_rebuild_and_replay(capsys: pytest.CaptureFixture[str]
                                                      ) -> None:
    saved = structlog.get_config()  # the benchmark configures logging for its process
    try:
        bench.main(["--json", "--backend", "sqlite", "--events", "1500", "--rounds", "1",
                    "--replays", "2"])
    finally:
        structlog.configure(**saved)
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    rebuild, replay = lines
    assert rebuild["case"] == "rebuild" and rebuild["events"] >= 1500 + 1000
    assert rebuild["rebuild_events_per_s"] > 0 and rebuild["read_events_per_s"] > 0
    assert rebuild["ratio_to_read"] == pytest.approx(
        rebuild["rebuild_events_per_s"] / rebuild["read_events_per_s"], rel=0.5)
    assert replay["case"] == "replay" and replay["events"] == 1000
    assert replay["median_ms"] > 0


@pytest.mark.slow
def test_bench_projections_times_the_rebuild_in_one_and_two_processes(
    capsys: pytest.CaptureFixture[str]
) -> None:
    saved = structlog.get_config()
    try:
        bench.main(["--json", "--backend", "sqlite", "--events", "1500", "--rounds", "2",
                    "--replays", "2", "--processes", "1", "2"])
    finally:
        structlog.configure(**saved)
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    rebuild, processes, _replay = lines
    assert processes["case"] == "rebuild_processes"
    assert processes["events"] == rebuild["events"]
    assert processes["p1_events_per_s"] > 0 and processes["p2_events_per_s"] > 0
    low, high = processes["speedup_p2_p10_p90"]
    assert low <= processes["speedup_p2"] <= high
    assert processes["goal_speedup_p2"] == 1.6


def test_bench_projections_refuses_a_single_number_of_processes(
    capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        bench.parse(["--processes", "2"])
    assert "--processes: give two or more numbers" in capsys.readouterr().err
