"""No personal data in clear outside sealed fields (issue 9 §4).

A full scenario with recognisable synthetic markers (a date of birth, a contact note, a
correction's reason, a manager's acknowledgement note), made through the API and
projected; then every column of every table of the database (SQLite and PostgreSQL),
every log line written meanwhile, and every export are scanned. The markers may appear
only sealed (so never as themselves), or in what an authorised reader asked for.

Before, the 17½ date (the date of birth plus 17 years 6 months) sat in clear in
``alerts.details`` and ``rm_continuity.view``, and the managers' notes in ``alerts``.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator

import pytest
import structlog
from sqlalchemy import select

from tests.api.conftest import Env
from tests.api.scenario import CASES, CHILD, MARKERS, NOTE, run_scenario
from tracker.db.tables import metadata
from tracker.kernel.logging import JsonLineHandler, configure
from workers.actors import json_stdlib_logging


@pytest.fixture
def logs(capsys: pytest.CaptureFixture[str]) -> Iterator[pytest.CaptureFixture[str]]:
    """The processes' JSON logging (structlog and the standard library, as the workers
    set it up), written to the captured stderr; put back afterwards."""
    root = logging.getLogger()
    handlers, level, hook = list(root.handlers), root.level, threading.excepthook
    configure("DEBUG", json=True)
    json_stdlib_logging("DEBUG")
    capsys.readouterr()
    yield capsys
    structlog.reset_defaults()
    for handler in list(root.handlers):
        if isinstance(handler, JsonLineHandler) and handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)
    threading.excepthook = hook


def found_in(text: str) -> list[str]:
    return [m for m in MARKERS if m in text]


def scan_tables(env: Env) -> dict[str, list[str]]:
    """Every table, every column, every row: which markers each table holds in clear."""
    hits: dict[str, list[str]] = {}
    with env.app.engine.connect() as conn:
        for table in metadata.sorted_tables:
            cells = " ".join(str(v) for row in conn.execute(select(table)) for v in row)
            if found := found_in(cells):
                hits[table.name] = found
    return hits


def test_markers_appear_only_sealed_or_to_an_authorised_reader(
    env: Env, logs: pytest.CaptureFixture[str]
) -> None:
    run_scenario(env)
    # a refused write carrying a marker, and a refused read: errors must not echo it
    bad = env.client.post(f"/api/cases/{CASES[0]}/events", headers=env["prac_a"].headers,
                          json={"event_type": "contact_missed", "data": {
                              "kind": NOTE, "acceptable": "no", "note": NOTE * 400}})
    assert bad.status_code == 422 and NOTE not in bad.text
    prac_b = env["prac_b"].headers
    for path in (f"/api/cases/{CASES[0]}", f"/api/cases/{CASES[0]}/history",
                 f"/api/cases/{CASES[0]}/export", f"/api/children/{CHILD}/export"):
        refused = env.client.get(path, headers=prac_b)
        assert refused.status_code == 403 and not found_in(refused.text)

    # what authorised readers asked for: their exports hold the data, opened
    admin, prac_a = env["admin"].headers, env["prac_a"].headers
    exported = " ".join(
        env.client.get(path, headers=who).text for path, who in (
            (f"/api/cases/{CASES[0]}", prac_a),
            (f"/api/cases/{CASES[0]}/history", prac_a),
            (f"/api/cases/{CASES[0]}/export?format=json", prac_a),
            (f"/api/cases/{CASES[0]}/export?format=csv", prac_a),
            ("/api/alerts?open_only=false", env["manager_a"].headers),
            (f"/api/children/{CHILD}/export", admin),
        ))
    assert set(found_in(exported)) == set(MARKERS)  # the scan can see each marker

    assert scan_tables(env) == {}
    lines = logs.readouterr().err.splitlines()
    assert len(lines) > 10  # the requests were logged
    for line in lines:
        assert isinstance(json.loads(line), dict)  # one JSON record per line
        assert not found_in(line), line

    # after erasure not even an authorised reader gets them back
    erased = env.client.post(f"/api/children/{CHILD}/erase", headers=admin,
                             json={"reason": "erasure_request"})
    assert erased.status_code == 200
    after = " ".join(env.client.get(path, headers=admin).text for path in (
        f"/api/children/{CHILD}/export", f"/api/cases/{CASES[0]}/history",
        f"/api/cases/{CASES[0]}/export?format=csv", "/api/alerts?open_only=false"))
    assert found_in(after) == [] and "[erased]" in after
    assert scan_tables(env) == {}
    assert not any(found_in(line) for line in logs.readouterr().err.splitlines())
