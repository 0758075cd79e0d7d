"""From a case's events to the KPIs' input shape (``projections.kpis.KpiCase``): pure.

The events arrive as the projector reads them (``RawEvent``: type, day, payload dict with
personal values still sealed). Only the ethnicity is opened, by the ``opener`` the caller
passes (the child's key), and only reduced to its ONS high-level group for the aggregate.
A case whose child was erased (``personal_data_erased`` with scope ``all``) gives None:
nothing about an erased child is computed again (figures published before stay in the
report snapshots). Corrections (retractions, supersessions) are applied first.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from projections.disproportionality import high_level
from projections.kpis import KpiCase
from projections.record import RawEvent

Opener = Callable[[RawEvent], dict[str, Any]]
"""An event's payload with its personal fields opened with the child's key (a destroyed
key gives None or ``[erased]``); only the diversity event is ever opened."""


def _day(value: Any, fallback: int) -> date:
    if isinstance(value, str) and len(value) >= 10:
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            pass
    return date.fromordinal(fallback)


def corrected(events: Sequence[RawEvent]) -> list[RawEvent]:
    """The events with retracted ones removed and superseded ones replaced in place (as
    ``tracker.domain.corrections.apply_corrections``, on raw payloads)."""
    gone: set[str] = set()
    replaced: dict[str, RawEvent] = {}
    for e in events:
        target = str(e.data.get("target_event_id") or "")
        if e.type == "event_retracted":
            gone.add(target)
        elif e.type == "event_superseded" and isinstance(e.data.get("replacement"), dict):
            replaced[target] = e
    out: list[RawEvent] = []
    for e in events:
        if e.type in ("event_retracted", "event_superseded") or e.event_id in gone:
            continue
        sup = replaced.get(e.event_id)
        if sup is not None:
            e = RawEvent(e.position, e.event_id, e.stream_id, e.stream_version,
                         str(sup.data["replacement_type"]), e.t, e.d,
                         dict(sup.data["replacement"]))
        out.append(e)
    return out


Handler = Callable[[dict[str, Any], RawEvent, Opener], None]
HANDLERS: dict[str, Handler] = {}
"""Event type -> what it adds to the case's facts (a mutable dict of KpiCase fields)."""


def handles(*types: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        for t in types:
            HANDLERS[t] = fn
        return fn
    return register


def _append(facts: dict[str, Any], key: str, item: object) -> None:
    facts[key] = (*facts.get(key, ()), item)


@handles("case_closed")
def _closed(facts: dict[str, Any], e: RawEvent, _o: Opener) -> None:
    facts["closed"] = _day(e.data.get("closed_on"), e.d)


@handles("transition_completed")
def _transition(facts: dict[str, Any], e: RawEvent, _o: Opener) -> None:
    if e.data.get("kind") == "custody_to_community":
        _append(facts, "releases", date.fromordinal(e.d))


@handles("breach_initiated")
def _breach(facts: dict[str, Any], e: RawEvent, _o: Opener) -> None:
    _append(facts, "breaches", date.fromordinal(e.d))


def kpi_case(events: Sequence[RawEvent], opener: Opener, custodial: Callable[[str], bool]
             ) -> KpiCase | None:
    """The case's KPI facts; None for a case never opened or whose child was erased."""
    opened: RawEvent | None = None
    facts: dict[str, Any] = {}
    for e in corrected(events):
        if e.type == "personal_data_erased" and e.data.get("scope", "all") == "all":
            return None
        if e.type == "case_opened":
            opened = e
            continue
        handler = HANDLERS.get(e.type)
        if handler is not None:
            handler(facts, e, opener)
    if opened is None:
        return None
    p = opened.data
    recorded = facts.pop("_ethnicity", None)
    group = high_level(recorded) if isinstance(recorded, str) else None
    return KpiCase(
        case_id=opened.stream_id, team=str(p["team"]), child_id=str(p["child_id"]),
        disposal=str(p["disposal_type"]), route=str(p["route"]),
        start=_day(p.get("start_date"), opened.d),
        custodial_sentence=custodial(str(p["disposal_type"])), ethnic_group=group, **facts,
    )
