"""Dip samples: draw one (and record it), list those drawn, show one with its cases and
whether each has been audited since (issue 11 §3; seed 004).

The draw itself is ``projections.sampling`` (pure); this module finds the candidates (the
cases that commenced supervision in the window, as ``inspection_sample`` scopes them),
records the sample — who drew it, when, its parameters, its cases and their strata — and
reads it back. Recording is append-only, so a sample shown later is the one drawn.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any, TypedDict
from uuid import uuid4

from sqlalchemy import insert, select

from events.schema import events as store_events
from projections import sampling
from projections.asat import AsAt
from projections.queries.reports import Period, _Scope
from projections.ratings import Sample
from projections.visible import Visible, add_months
from tracker.db import tx
from tracker.db.sample_tables import TABLES, dip_sample_cases, dip_samples
from tracker.kernel.errors import FieldProblem, InvalidInput, SampleNotFound
from tracker.services.app import App


class SampleCase(TypedDict):
    case_id: str
    route: str
    stratum: str
    audited: bool
    audited_on: str | None
    audited_by: str | None


class DipSample(TypedDict):
    """A drawn sample: who drew it, when, why these cases (its parameters), and the cases."""

    sample_id: str
    drawn_by: str
    drawn_at: str
    preset: str
    seed: int
    period: Period
    team: str | None
    parameters: dict[str, Any]
    policy_version: str
    in_scope: Sample
    drawn: Sample
    case_ids: list[str]
    cases: list[SampleCase]


def _window(
    preset: str, start: date | None, end: date | None, today: date
) -> tuple[date | None, date | None]:
    """A monthly dip looks at the calendar month before this one unless told otherwise."""
    if preset != "monthly_dip" or start is not None or end is not None:
        return start, end
    first_of_this = today.replace(day=1)
    first = add_months(first_of_this, -1)
    return first, date.fromordinal(first_of_this.toordinal() - 1)


def draw_dip_sample(
    app: App, *, drawn_by: str, preset: str, seed: int, start: date | None = None,
    end: date | None = None, team: str | None = None, strata: list[str] | None = None,
    size: int | None = None, per_practitioner: int | None = None,
) -> DipSample:
    """Draw a sample of the cases in the window and record it; the same window, parameters
    and seed draw the same cases."""
    problems = []
    if preset not in sampling.PRESETS:
        problems.append(FieldProblem("preset", f"must be one of {', '.join(sampling.PRESETS)}"))
    chosen_strata = list(dict.fromkeys(strata or []))
    unknown = [s for s in chosen_strata if s not in sampling.STRATA]
    if unknown:
        problems.append(FieldProblem("strata", f"unknown: {', '.join(unknown)}; known: "
                                     f"{', '.join(sampling.STRATA)}"))
    if size is not None and not 1 <= size <= 10_000:
        problems.append(FieldProblem("size", "must be between 1 and 10000"))
    if per_practitioner is not None and not 1 <= per_practitioner <= 100:
        problems.append(FieldProblem("per_practitioner", "must be between 1 and 100"))
    if not 0 <= seed < 2**63:
        problems.append(FieldProblem("seed", "must be between 0 and 2^63-1"))
    if problems:
        raise InvalidInput(problems)
    now = app.clock.now()
    start, end = _window(preset, start, end, AsAt.at(now).day)
    scope = _Scope(app, start, end, team)
    # Strata as the cases stand when the sample is drawn (team, case manager, latest risk)
    drawn_at = AsAt.at(now)
    candidates = [c for r in scope.window
                  if (c := _candidate(Visible(r, drawn_at, scope.policy))) is not None]
    routes = {c.case_id: c.route for c in candidates}
    drawn = sampling.draw(
        candidates, preset=preset,  # type: ignore[arg-type]
        seed=seed, policy=scope.policy, strata=chosen_strata,  # type: ignore[arg-type]
        size=size, per_practitioner=per_practitioner)
    parameters: dict[str, Any] = {"strata": chosen_strata, "size": size,
                                  "per_practitioner": per_practitioner}
    if preset == "inspection":
        r = scope.policy.ratings
        parameters |= {"fraction": r.sample_fraction, "minimum": r.sample_minimum,
                       "court_share": r.sample_court_share}
    if preset == "monthly_dip":
        parameters["per_practitioner"] = (per_practitioner
                                          or scope.policy.qa.monthly_dip_per_practitioner)
    sample_id = str(uuid4())
    with tx.write(app.engine, tables=TABLES) as conn:
        conn.execute(insert(dip_samples).values(
            sample_id=sample_id, drawn_by=drawn_by, drawn_at=now, preset=preset, seed=seed,
            window_from=scope.first, window_to=scope.last, team=team,
            parameters=json.dumps(parameters, sort_keys=True),
            policy_version=scope.policy.version,
            in_scope_court=sum(1 for c in candidates if c.route == "court"),
            in_scope_out_of_court=sum(1 for c in candidates if c.route != "court")))
        if drawn:
            conn.execute(insert(dip_sample_cases), [
                {"sample_id": sample_id, "case_id": d.case_id, "route": routes[d.case_id],
                 "stratum": d.stratum,
                 "ordinal": i} for i, d in enumerate(drawn)])
    return dip_sample(app, sample_id)


def _candidate(v: Visible) -> sampling.Candidate | None:
    if v.opened is None:
        return None
    manager = v.case_manager()
    latest = v.latest_assessment()
    return sampling.Candidate(
        case_id=v.record.case_id, route=v.opened.route, team=v.team(),
        practitioner=manager.practitioner if manager is not None else "unallocated",
        risk=latest.harm if latest is not None else "not_assessed")


def list_samples(app: App) -> list[DipSample]:
    """Every sample drawn, newest first, with its cases."""
    with tx.read(app.engine, tables=TABLES) as conn:
        ids = conn.execute(select(dip_samples.c.sample_id).order_by(
            dip_samples.c.drawn_at.desc(), dip_samples.c.sample_id)).scalars().all()
    return [dip_sample(app, i) for i in ids]


def sample_case_ids(app: App, sample_id: str) -> set[str]:
    """The cases of one drawn sample (for ratings over it)."""
    return {c["case_id"] for c in dip_sample(app, sample_id)["cases"]}


def dip_sample(app: App, sample_id: str) -> DipSample:
    """One drawn sample, its cases and whether each was audited since it was drawn."""
    with tx.read(app.engine, tables=TABLES) as conn:
        row = conn.execute(select(dip_samples).where(
            dip_samples.c.sample_id == sample_id)).first()
        if row is None:
            raise SampleNotFound(f"no sample {sample_id}")
        cases = conn.execute(select(dip_sample_cases).where(
            dip_sample_cases.c.sample_id == sample_id).order_by(
            dip_sample_cases.c.ordinal)).all()
        ids = [c.case_id for c in cases]
        # Audited = an audit recorded on the case since the sample was drawn (read from the
        # log itself, so it shows at once, whatever the projector's lag).
        audited: dict[str, tuple[date, str]] = {}
        if ids:
            for a in conn.execute(select(
                    store_events.c.stream_id, store_events.c.recorded_at,
                    store_events.c.recorded_by).where(
                    store_events.c.event_type == "case_audited",
                    store_events.c.stream_id.in_(ids),
                    store_events.c.recorded_at >= row.drawn_at).order_by(
                    store_events.c.position)):
                audited[a.stream_id] = (AsAt.at(a.recorded_at).day, a.recorded_by)
    court = sum(1 for c in cases if c.route == "court")
    return {
        "sample_id": row.sample_id, "drawn_by": row.drawn_by,
        "drawn_at": row.drawn_at.isoformat(), "preset": row.preset, "seed": int(row.seed),
        "period": {"from": row.window_from.isoformat(), "to": row.window_to.isoformat()},
        "team": row.team, "parameters": json.loads(row.parameters),
        "policy_version": row.policy_version,
        "in_scope": {"cases": row.in_scope_court + row.in_scope_out_of_court,
                     "court": row.in_scope_court, "out_of_court": row.in_scope_out_of_court},
        "drawn": {"cases": len(cases), "court": court, "out_of_court": len(cases) - court},
        "case_ids": sorted(ids),
        "cases": [{"case_id": c.case_id, "route": c.route, "stratum": c.stratum,
                   "audited": c.case_id in audited,
                   "audited_on": audited[c.case_id][0].isoformat()
                   if c.case_id in audited else None,
                   "audited_by": audited[c.case_id][1] if c.case_id in audited else None}
                  for c in cases],
    }
