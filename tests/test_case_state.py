"""The decision state from a cached state plus the stream's tail is the full fold.

Commands no longer fold a case's whole stream every time: ``CaseService.load`` keeps the
decision state of recent cases and folds on only the events after it
(``tracker.domain.case.fold_on``). These tests hold that to the full fold over generated
histories (corrections included), and check the cache can never serve a state for a
stream that is not the one it was folded from, nor keep personal data.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import replace
from functools import reduce
from uuid import uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import text

from events.correction import EventRetracted, EventSuperseded
from events.envelope import RecordedEvent
from tests.projections.test_properties import PROPERTY, histories, history
from tests.support import at, open_case, record
from tests.test_chain import _unprotect
from tracker.bootstrap import App
from tracker.domain import case
from tracker.domain.case import CaseState, evolve, fold, fold_on
from tracker.domain.corrections import apply_corrections
from tracker.services.cases import CaseService


def reference_fold(case_id: str, recorded: list[RecordedEvent]) -> CaseState:
    """The fold as it was written before: ``evolve`` event by event, copying as it goes."""
    state = reduce(evolve, apply_corrections(recorded), CaseState(case_id=case_id))
    raw = {rec.event_id: rec.event.type for rec in recorded}
    version = recorded[-1].stream_version if recorded else 0
    return replace(state, version=version, event_types={**raw, **state.event_types})


@PROPERTY
@given(events=histories)
def test_fold_equals_the_event_by_event_reference(events: list[RecordedEvent]) -> None:
    assert fold("CS-P1", events) == reference_fold("CS-P1", events)


@PROPERTY
@given(events=histories, data=st.data())
def test_state_from_a_snapshot_and_the_tail_is_the_full_fold(
    events: list[RecordedEvent], data: st.DataObject
) -> None:
    cuts = sorted(data.draw(st.lists(st.integers(0, len(events)), max_size=6)))
    state = fold("CS-P1", [])
    done = 0
    for cut in [*cuts, len(events)]:
        tail = events[done:cut]
        carried = fold_on(state, tail)
        corrected = any(isinstance(e.event, EventSuperseded | EventRetracted) for e in tail)
        # only a correction (which may change what came before) needs the full fold
        assert (carried is None) == corrected
        state = carried if carried is not None else fold("CS-P1", events[:cut])
        assert state == fold("CS-P1", events[:cut])
        done = cut
    assert state == fold("CS-P1", events)


def test_a_tail_that_does_not_follow_the_state_is_refused() -> None:
    events = _contacts_history()
    state = fold("CS-P1", events[:2])
    assert fold_on(state, events[3:]) is None  # a gap: version 3 missing
    assert fold_on(state, events[2:]) == fold("CS-P1", events)


def _contacts_history() -> list[RecordedEvent]:
    return history(seed=7, offset=0, length=120, per_week=2.0, disposal="yro")


# -- through the service, on both back ends -------------------------------------------------


def _contact(app: App, case_id: str, day: str) -> None:
    record(app, case_id, "contact_attended",
           {"kind": "office", "participation": 3, "note": "talked about school"}, at(day))


def test_commands_use_the_cached_state_and_it_equals_the_full_fold(app: App) -> None:
    open_case(app, "CS-C1")
    service = CaseService.of(app)
    for day in ("2026-01-06", "2026-01-07", "2026-01-08"):
        _contact(app, "CS-C1", day)
        cached = service.states.get("CS-C1")
        assert cached is not None
        full = fold("CS-C1", app.store.read_stream("CS-C1", unseal=False))
        # the cache holds the state before the last command; loading folds on the tail
        assert cached[0].version == full.version - 1
        assert service.load("CS-C1") == full
    # a write that did not come through this service is seen too (the tail is always read)
    _contact(app, "CS-C1", "2026-01-09")
    assert service.load("CS-C1").version == 5


def test_a_cached_state_whose_last_event_is_not_stored_is_never_served(app: App) -> None:
    open_case(app, "CS-C2")
    _contact(app, "CS-C2", "2026-01-06")
    service = CaseService.of(app)
    real = service.load("CS-C2")
    # A state for the same case and version whose last event's hash is not the stored one
    # (a restored or different database): it must be thrown away, not folded on.
    bogus = replace(real, closed=True, level="intensive")
    service.states.clear()
    service.states.put("CS-C2", bogus, "0" * 64)
    assert service.load("CS-C2") == real
    # and with the stored hash it would have been used: the check is what protected it
    head = app.store.read_stream("CS-C2")[-1].hash
    service.states.put("CS-C2", bogus, head)
    assert service.load("CS-C2") == bogus


def test_a_stream_rewritten_under_the_cache_is_folded_again(app: App) -> None:
    open_case(app, "CS-C3")
    _contact(app, "CS-C3", "2026-01-06")
    service = CaseService.of(app)
    assert service.load("CS-C3").version == 2
    _unprotect(app)
    with app.engine.begin() as conn:  # the stream ends before the cached version now
        conn.execute(text("DELETE FROM events WHERE stream_id = 'CS-C3' AND stream_version = 2"))
    assert service.load("CS-C3") == fold("CS-C3", app.store.read_stream("CS-C3", unseal=False))
    assert service.load("CS-C3").version == 1


def test_the_cached_state_holds_no_personal_data(app: App) -> None:
    open_case(app, "CS-C4", date_of_birth="2010-05-17")
    _contact(app, "CS-C4", "2026-01-06")
    service = CaseService.of(app)
    state = service.load("CS-C4")
    cached = service.states.get("CS-C4")
    assert cached is not None and cached[0] == state
    assert state.opened is not None and state.opened.date_of_birth is None
    # while the store still opens it for a reader who may see it
    [opening] = app.store.read_stream("CS-C4", to_version=1)
    assert str(opening.event.date_of_birth) == "2010-05-17"  # type: ignore[attr-defined]


def test_a_retried_command_is_still_recognised_with_the_cached_state(app: App) -> None:
    open_case(app, "CS-C5")
    service = CaseService.of(app)
    service.load("CS-C5")
    event_id = uuid4()
    data = {"kind": "office", "participation": 3, "note": "talked about school"}
    first = record(app, "CS-C5", "contact_attended", data, at("2026-01-06"), event_id=event_id)
    again = record(app, "CS-C5", "contact_attended", data, at("2026-01-06"), event_id=event_id)
    assert again == first and app.store.stream_version("CS-C5") == 2


def test_the_folds_replace_is_dataclasses_replace() -> None:
    state = fold("CS-P1", _contacts_history())
    fast_replace: Callable[..., CaseState] = vars(case)["replace"]  # the runtime one
    fast = fast_replace(state, closed=True, level="intensive")
    assert fast == dataclasses.replace(state, closed=True, level="intensive")
    assert fast is not state and not state.closed  # a new state; the old one unchanged
    with pytest.raises(TypeError, match="no_such_field"):
        fast_replace(state, no_such_field=1)
