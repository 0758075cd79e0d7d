"""``python -m bench pages`` runs end to end on a tiny service and prints what it should.

No timing assertions (speed lives in ``bench/``): only that every size and page gives one
JSON line with the documented keys, that the signed-in users' requests were answered, and
that the ratio is given for the larger size only.
"""

from __future__ import annotations

import json

import pytest

from bench import pages

KEYS = {
    "bench", "backend", "cases", "open_cases", "events", "page", "users", "seconds",
    "requests", "errors", "p10_ms", "p50_ms", "p90_ms", "p95_ms", "p95_ratio", "goal_met",
}
TINY = ["--json", "--cases", "20", "10", "--users", "2", "--seconds", "2"]


def _check(out: str, backend: str) -> None:
    lines = [json.loads(line) for line in out.splitlines() if line.strip()]
    assert [(line["cases"], line["page"]) for line in lines] == [
        (size, page) for size in (10, 20) for page in ("caseload", "dashboard", "case")
    ]
    for line in lines:
        assert set(line) == KEYS
        assert line["bench"] == "pages" and line["backend"] == backend
        assert line["users"] == 2 and line["errors"] == 0
        assert line["open_cases"] >= line["cases"]
        assert isinstance(line["requests"], int) and line["requests"] > 0, line
        cuts = [line[k] for k in ("p10_ms", "p50_ms", "p90_ms", "p95_ms")]
        assert all(isinstance(c, float) for c in cuts) and cuts == sorted(cuts)
        if line["cases"] == 10:
            assert line["p95_ratio"] is None and line["goal_met"] is None
        else:
            assert isinstance(line["p95_ratio"], float) and isinstance(line["goal_met"], bool)


def test_pages_bench_on_sqlite(capsys: pytest.CaptureFixture[str]) -> None:
    pages.main(TINY)
    _check(capsys.readouterr().out, "sqlite")


@pytest.mark.postgres
def test_pages_bench_on_postgresql(
    capsys: pytest.CaptureFixture[str], bench_pg: None
) -> None:
    pages.main([*TINY, "--pg"])
    _check(capsys.readouterr().out, "postgresql")
