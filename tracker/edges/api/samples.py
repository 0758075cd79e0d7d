"""Dip samples over JSON (issue 11 §3; seed 004): QA draws a reproducible random sample of
cases and it is recorded; QA and auditors list the samples drawn and see one with its cases
and whether each has been audited since. Rate a sample with ``GET /api/ratings?sample_id=``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import Field

from projections import queries
from projections.sampling import Preset, Stratum
from tracker.edges.api.reports import SAMPLE_ID_PATTERN, AskingDep
from tracker.edges.api.schemas import CASE_ID_PATTERN, Body, BoundedDay, responses
from tracker.edges.api.strict import StrictJSONRoute

router = APIRouter(prefix="/api", tags=["samples"], route_class=StrictJSONRoute)
SampleId = Annotated[str, Path(pattern=SAMPLE_ID_PATTERN, description="a drawn sample's id")]


class DrawSampleBody(Body):
    """What to draw: a preset (``inspection``: 60/40 court/out-of-court, 20% and at least
    20; ``monthly_dip``: N per practitioner from last month; ``custom``: ``size`` spread
    over ``strata``), the seed, the window of commencement and optionally one team."""

    preset: Preset = "inspection"
    seed: int = Field(ge=0, le=2**63 - 1)
    start: BoundedDay | None = None
    end: BoundedDay | None = None
    team: Annotated[str, Field(pattern=CASE_ID_PATTERN)] | None = None
    strata: list[Stratum] = Field(default_factory=list, max_length=4)
    size: int | None = Field(default=None, ge=1, le=10_000)
    per_practitioner: int | None = Field(default=None, ge=1, le=100)


SampleOut = queries.DipSample


@router.post("/samples", status_code=201, response_model=dict[str, object],
             responses=responses())
def draw_sample(body: DrawSampleBody, who: AskingDep) -> SampleOut:
    """Draw a dip sample and record it (QA only): who drew it, when, its parameters and
    its cases. The same window, parameters and seed draw the same cases."""
    return who.reports.draw_sample(
        who.user, who.action, preset=body.preset, seed=body.seed, start=body.start,
        end=body.end, team=body.team, strata=list(body.strata), size=body.size,
        per_practitioner=body.per_practitioner)


@router.get("/samples", response_model=list[dict[str, object]], responses=responses())
def list_samples(who: AskingDep) -> list[SampleOut]:
    """The dip samples drawn, newest first (QA, auditors)."""
    return who.reports.samples(who.user)


@router.get("/samples/{sample_id}", response_model=dict[str, object],
            responses=responses(404))
def show_sample(sample_id: SampleId, who: AskingDep) -> SampleOut:
    """One dip sample: its parameters and cases, and whether each was audited since."""
    return who.reports.sample(who.user, sample_id, who.action)
