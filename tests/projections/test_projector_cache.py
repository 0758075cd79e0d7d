"""The projector keeps the case records it wrote between catch-ups (a worker's next hint
touches the same open cases), and never serves one that may be stale: another projector
moved the records, or the child's personal data was erased. Both back ends."""

from __future__ import annotations

from typing import Any

import pytest

from events.envelope import Actor
from projections.projector import Projector
from projections.projector import loop as projector_loop
from projections.projector.rows import load
from tests.projections.helpers import snapshot
from tests.support import at, open_case, record
from tracker.bootstrap import App
from tracker.services.erasure import erase_child

CONTACT = {"kind": "office", "participation": 3}
ADMIN = Actor("A-TEST01", "admin")


def _loads(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Every ``load`` of stored records the projector makes, by case ids."""
    calls: list[list[str]] = []

    def counting(conn: Any, case_ids: Any, sealer: Any) -> Any:
        calls.append(sorted(case_ids))
        return load(conn, case_ids, sealer)

    monkeypatch.setattr(projector_loop, "load", counting)
    return calls


def _rebuilt(app: App) -> dict[str, Any]:
    Projector(app).rebuild()
    return snapshot(app)


def test_the_next_catch_up_folds_onto_the_kept_record(app: App,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    open_case(app, "CS-C1")
    projector = Projector(app)
    projector.catch_up()
    loads = _loads(monkeypatch)
    record(app, "CS-C1", "contact_attended", CONTACT, at("2026-01-20"))
    projector.catch_up()
    assert loads == []  # folded onto the record it kept
    incremental = snapshot(app)
    assert incremental == _rebuilt(app)


def test_a_record_another_projector_moved_is_loaded_again(app: App,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    open_case(app, "CS-C1")
    mine, other = Projector(app), Projector(app)
    mine.catch_up()
    record(app, "CS-C1", "contact_attended", CONTACT, at("2026-01-20"))
    other.catch_up()  # moves the records past what ``mine`` kept
    loads = _loads(monkeypatch)
    record(app, "CS-C1", "contact_attended", CONTACT, at("2026-01-21"))
    mine.catch_up()
    assert ["CS-C1"] in loads  # not the kept record, which lacks the 20th's contact
    stored = mine.load_record("CS-C1")
    assert stored is not None and stored.version == 3
    incremental = snapshot(app)
    assert incremental == _rebuilt(app)


def test_an_erased_childs_record_is_restored_from_its_row(app: App,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    open_case(app, "CS-C1", child_id="C-ERASE01")
    projector = Projector(app)
    projector.catch_up()
    kept = projector.load_record("CS-C1")
    assert kept is not None and kept.opened is not None and kept.opened.dob is not None
    loads = _loads(monkeypatch)
    erase_child(app, "C-ERASE01", "erasure_request", actor=ADMIN, correlation_id="t-erase")
    projector.catch_up()
    assert ["CS-C1"] in loads
    after = projector.load_record("CS-C1")
    assert after is not None and after.opened is not None and after.opened.dob is None
    incremental = snapshot(app)
    assert incremental == _rebuilt(app)
