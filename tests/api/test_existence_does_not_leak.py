"""A refused read of a case in another team does the same work as a read of an id that
does not exist (issue 9 §5): the same SQL statements, in the same order, and no child's
key opened, so neither the answer nor its cost tells the two apart. No timings here: the
code paths are compared (speed lives in bench/)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from tests.api.conftest import Env
from tests.support import at, open_case, record
from tracker.services.access_log import search


@contextmanager
def statements(env: Env) -> Iterator[list[str]]:
    """The SQL the application runs inside the block (parameters left out)."""
    seen: list[str] = []

    def before(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        seen.append(" ".join(sql.split()))

    event.listen(env.app.engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(env.app.engine, "before_cursor_execute", before)


def test_a_refused_case_and_a_missing_id_take_the_same_path(env: Env) -> None:
    open_case(env.app)  # TEAM-A's case: prac_b (TEAM-B) may not read it
    for day in range(2, 9):
        record(env.app, "CS-TEST1", "contact_attended", {
            "kind": "office", "participation": 3, "note": "a sealed note",
        }, at(f"2026-02-0{day}"))
    env.client.get("/api/me", headers=env["prac_b"].headers)  # warm the connection
    answers: dict[str, int] = {}
    paths: dict[str, list[str]] = {}
    for case_id in ("CS-TEST1", "CS-NOPE9"):
        env.app.keyring.forget()  # as in a fresh process: no child's key at hand
        with statements(env) as seen:
            answers[case_id] = env.client.get(
                f"/api/cases/{case_id}", headers=env["prac_b"].headers
            ).status_code
        paths[case_id] = seen
    assert answers == {"CS-TEST1": 403, "CS-NOPE9": 403}
    assert paths["CS-TEST1"] == paths["CS-NOPE9"]
    assert not any("child_keys" in sql for sql in paths["CS-TEST1"])  # no key opened
    assert sum("FROM events" in sql for sql in paths["CS-TEST1"]) == 1  # the stream, read
    assert sum("INSERT INTO access_log" in sql for sql in paths["CS-TEST1"]) == 1
    outcomes = {e.case_id: e.outcome for e in search(env.app).entries}
    assert outcomes == {"CS-TEST1": "refused", "CS-NOPE9": "refused"}
