"""Properties over generated case histories.

Hypothesis draws the shape of each story (the seed of its random choices, when it starts,
how long it runs, how dense the contact is); ``tracker.services.synthetic`` tells it, and the
write side's own rules (``synthetic.accept``) keep only what the tracker would accept.
"""

from __future__ import annotations

import os
import random
from datetime import date, timedelta
from typing import get_args

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from events.case import DisposalType
from events.correction import EventRetracted, EventSuperseded
from events.envelope import RecordedEvent
from projections.asat import AsAt
from projections.record import CaseRecord, dumps, evolve, evolve_many, fold, loads
from projections.replay import replay_events
from projections.views import evaluate_all
from tests.projections.helpers import without_labels
from tests.projections.plain import PlainDob
from tracker.domain.corrections import apply_corrections
from tracker.domain.policy import default_policy
from tracker.kernel.errors import CaseNotFound
from tracker.services import synthetic

START = date(2025, 1, 6)
UNTIL = date(2026, 2, 27)
POLICY = default_policy()
PROPERTY = settings(max_examples=int(os.environ.get("TRACKER_PROPERTY_EXAMPLES", "40")),
                    deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


def history(seed: int, offset: int, length: int, per_week: float | None,
            disposal: str) -> list[RecordedEvent]:
    start = START + timedelta(days=offset)
    until = min(UNTIL, start + timedelta(days=length))
    proposals = synthetic.plan_case(random.Random(seed), "CS-P1", start=start, until=until,
                                    contacts_per_week=per_week, disposal=disposal)
    return synthetic.simulate(synthetic.accept(proposals))


histories = st.builds(
    history,
    seed=st.integers(0, 2**32 - 1),
    offset=st.integers(0, 300),
    length=st.integers(1, 420),
    per_week=st.one_of(st.none(), st.floats(0.3, 4.0)),
    disposal=st.sampled_from(get_args(DisposalType)),  # every disposal's profile
)


@PROPERTY
@given(events=histories, data=st.data())
def test_reapplying_any_event_is_a_no_op(events: list[RecordedEvent], data: st.DataObject
                                         ) -> None:
    cut = data.draw(st.integers(1, len(events)))
    record = fold("CS-P1", events[:cut])
    again = data.draw(st.sampled_from(events[:cut]))
    assert evolve(record, again) == record
    # and a duplicate delivered in the middle of the stream changes nothing either
    doubled = [*events[:cut], again, *events[cut:]]
    assert fold("CS-P1", doubled) == fold("CS-P1", events)


@PROPERTY
@given(events=histories)
def test_the_raw_log_and_the_corrected_log_fold_alike(events: list[RecordedEvent]) -> None:
    effective = [e for e in apply_corrections(events)
                 if not isinstance(e.event, EventSuperseded | EventRetracted)]
    raw = fold("CS-P1", events)
    corrected = fold("CS-P1", effective)
    assert {k: v for k, v in vars(raw).items() if k not in ("corrections", "position",
                                                             "version")} == {
        k: v for k, v in vars(corrected).items() if k not in ("corrections", "position",
                                                              "version")}


@PROPERTY
@given(events=histories, data=st.data())
def test_incremental_through_storage_equals_one_fold(events: list[RecordedEvent],
                                                     data: st.DataObject) -> None:
    cuts = sorted(data.draw(st.lists(st.integers(0, len(events)), max_size=6)))
    record = CaseRecord(case_id="CS-P1")
    previous = 0
    for cut in [*cuts, len(events)]:
        record = evolve_many(record, events[previous:cut])
        record = loads(dumps(record, PlainDob()), PlainDob())
        previous = cut
    # A label folded in clear (these events were never sealed) is never stored: only the
    # sealed token the store gives the read side would be.
    assert record.opened is None or record.opened.label is None
    assert all(label.token is None for label in record.labels)
    assert without_labels(record) == without_labels(fold("CS-P1", events))


@PROPERTY
@given(events=histories, data=st.data())
def test_replay_as_of_a_day_equals_the_projection_of_what_had_happened_by_then(
        events: list[RecordedEvent], data: st.DataObject) -> None:
    first = min(e.occurred_at for e in events).date()
    day = data.draw(st.dates(first - timedelta(days=3), UNTIL + timedelta(days=60)))
    at = AsAt.end_of(day)
    replayed = replay_events("CS-P1", events, POLICY, as_of=day, now=at.moment)
    happened = [e for e in apply_corrections(events)
                if not isinstance(e.event, EventSuperseded | EventRetracted)
                and e.occurred_at <= at.moment]
    expected = evaluate_all(fold("CS-P1", happened), at, POLICY)
    for model in ("aspire", "engagement", "continuity", "enforcement"):
        assert replayed[model] == getattr(expected, model), model
    assert replayed["case"] == expected.header


@PROPERTY
@given(events=histories, data=st.data())
def test_replay_as_known_at_uses_only_what_was_recorded_before(
        events: list[RecordedEvent], data: st.DataObject) -> None:
    moments = sorted({e.recorded_at for e in events})
    known_at = data.draw(st.sampled_from(moments))
    recorded = [e for e in events if e.recorded_at < known_at]
    if not recorded:
        with pytest.raises(CaseNotFound, match="had not been recorded by"):
            replay_events("CS-P1", events, POLICY, as_known_at=known_at, now=moments[-1])
        return
    replayed = replay_events("CS-P1", events, POLICY, as_known_at=known_at, now=moments[-1])
    expected = evaluate_all(fold("CS-P1", recorded), AsAt.at(known_at), POLICY)
    assert replayed["aspire"] == expected.aspire
    assert replayed["enforcement"] == expected.enforcement
    later = [t for t in replayed["timeline"] if not t["known"]]
    assert len(later) == len(events) - len(recorded)
