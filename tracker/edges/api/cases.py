"""JSON endpoints for cases: open, record any catalogued event, state, history, replay, export.

Each event type has its own endpoint with its data's schema in the OpenAPI document
(``POST /api/cases/{case_id}/events/contact_missed``); the generic endpoint takes the type
in the body. All of them build one ``RecordEvent`` and go through ``CaseGuard.record``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query, Response
from pydantic import BaseModel, Field, create_model

from events.base import Event
from events.case import CaseOpened
from events.catalogue import EVENT_CLASSES
from projections import queries
from projections.engagement import EngagementMonth
from projections.history import CaseHistory, case_history
from projections.replay import ReplayView
from tracker.domain.commands import parse_command
from tracker.edges.api.auth import SignedIn
from tracker.edges.api.deps import Action, AppDep, CurrentUser, GuardDep
from tracker.edges.api.export import export_response
from tracker.edges.api.guard import CaseGuard
from tracker.edges.api.schemas import (
    CASE_ID_PATTERN,
    AwareDatetime,
    Body,
    BoundedDay,
    EventTypeOut,
    RecordBody,
    RecordedOut,
    RecordResult,
    responses,
)
from tracker.edges.api.strict import StrictJSONRoute
from tracker.services.app import App

CaseId = Annotated[str, Path(pattern=CASE_ID_PATTERN, description="the case's id")]


class OpenCaseBody(Body):
    """Open a case: its id and the ``case_opened`` fields (the team decides who may open it)."""

    case_id: str = Field(pattern=CASE_ID_PATTERN, examples=["CS-2026-0001"])
    data: CaseOpened
    occurred_at: AwareDatetime | None = Field(
        default=None, description="when it was opened; default: now"
    )
    event_id: UUID | None = Field(default=None, description="set it to make a retry safe")


class TypedRecordBody(Body):
    """The envelope of a typed record request; ``data`` is the event type's own model."""

    occurred_at: AwareDatetime | None = Field(
        default=None, description="when it happened (may be back-dated); default: now"
    )
    event_id: UUID | None = Field(default=None, description="set it to make a retry safe")
    expected_version: int | None = Field(
        default=None, ge=0, description="the case version you last saw; stale means 409"
    )


router = APIRouter(prefix="/api", tags=["cases"], route_class=StrictJSONRoute)
"""The case routes, shared by every application: the App comes with the request."""


class CaseAccess:
    """A request's way to a case: its reads checked and logged, its writes through the guard."""

    def __init__(self, app: App, guard: CaseGuard, user: SignedIn, action: str) -> None:
        self.app, self.guard, self.user, self.action = app, guard, user, action

    def read(self, case_id: str) -> App:
        """Check and log the read of ``case_id`` before any data leaves (403, or 404)."""
        self.guard.read(self.user.user, case_id, self.action)
        return self.app

    def record(
        self, case_id: str, event_type: str, data: dict[str, Any], occurred_at: datetime | None,
        event_id: UUID | None, expected_version: int | None,
    ) -> RecordResult:
        """Build the ``RecordEvent`` and record it through the guard (the one door)."""
        fields: dict[str, Any] = {
            "case_id": case_id, "event_type": event_type, "data": data,
            "occurred_at": occurred_at or self.app.clock.now(),
            "expected_version": expected_version,
        }
        if event_id is not None:
            fields["event_id"] = event_id
        recorded = self.guard.record(self.user.user, parse_command(fields), self.action)
        return RecordResult(
            case_id=case_id,
            version=recorded[-1].stream_version if recorded else 0,
            events=[RecordedOut.of(r) for r in recorded],
        )


def case_access(app: AppDep, guard: GuardDep, principal: CurrentUser, action: Action) -> CaseAccess:
    """Dependency: the caller, authenticated (CSRF too). The case itself is checked in the
    body, once every parameter is valid, so an invalid request leaves no access-log row."""
    return CaseAccess(app, guard, principal, action)


Access = Annotated[CaseAccess, Depends(case_access)]
WRITE_ERRORS = responses(404, 409, 410)


@router.post(
    "/cases", status_code=201, response_model=RecordResult, responses=WRITE_ERRORS,
    summary="Open a case",
)
def open_case(body: OpenCaseBody, access: Access) -> RecordResult:
    """Open a case in one of your teams (practitioners only)."""
    return access.record(
        body.case_id, "case_opened", body.data.model_dump(mode="json"), body.occurred_at,
        body.event_id, None,
    )


@router.post(
    "/cases/{case_id}/events", status_code=201, response_model=RecordResult,
    responses=WRITE_ERRORS, summary="Record any catalogued event",
)
def record_event(case_id: CaseId, body: RecordBody, access: Access) -> RecordResult:
    """Record an event of any type from GET /api/event-types on a case of your team."""
    return access.record(
        case_id, body.event_type, body.data, body.occurred_at, body.event_id,
        body.expected_version,
    )


def _typed_route(cls: type[Event]) -> None:
    """``POST /api/cases/{case_id}/events/<type>``, with the type's own data schema."""
    model: type[BaseModel] = create_model(
        f"Record_{cls.type}", __base__=TypedRecordBody, data=(cls, ...),
        __doc__=f"Record {cls.type}: {(cls.__doc__ or '').strip().splitlines()[0]}",
    )

    def endpoint(case_id: CaseId, body: Any, access: Access) -> RecordResult:
        data: Event = body.data
        return access.record(
            case_id, cls.type, data.model_dump(mode="json"), body.occurred_at, body.event_id,
            body.expected_version,
        )

    endpoint.__annotations__["body"] = model
    endpoint.__name__ = f"record_{cls.type}"
    router.add_api_route(
        f"/cases/{{case_id}}/events/{cls.type}", endpoint, methods=["POST"], status_code=201,
        response_model=RecordResult, responses=WRITE_ERRORS,
        summary=f"Record {cls.type.replace('_', ' ')}", description=(cls.__doc__ or "").strip(),
        operation_id=f"record_{cls.type}", tags=["events"],
    )


for _cls in EVENT_CLASSES:
    if _cls is not CaseOpened:
        _typed_route(_cls)


@router.get("/event-types", response_model=list[EventTypeOut], responses=responses())
def event_types(principal: CurrentUser) -> list[EventTypeOut]:
    """The event catalogue: each type's family, version and data schema."""
    return [
        EventTypeOut(
            type=cls.type, family=cls.family, version=cls.version,
            description=(cls.__doc__ or "").strip().splitlines()[0],
            schema_=cls.model_json_schema(),
        )
        for cls in EVENT_CLASSES
    ]


AsOf = Annotated[BoundedDay | None, Query(description="the state at the end of this day")]
AsKnownAt = Annotated[
    AwareDatetime | None, Query(description="only what had been recorded by then")
]


@router.get(
    "/cases/{case_id}", response_model=dict[str, Any], responses=responses(404),
    summary="A case's current state (ASPIRE, engagement, continuity, enforcement, alerts)",
)
def case_state(case_id: CaseId, access: Access, as_at: AsOf = None) -> queries.CaseDetail:
    """The case's read model, now or as at a date."""
    return queries.case_view(access.read(case_id), case_id, as_at=as_at)


@router.get(
    "/cases/{case_id}/history", response_model=dict[str, Any], responses=responses(404),
    summary="The case's timeline, with corrections and back-dated entries marked",
)
def history(
    case_id: CaseId,
    access: Access,
    as_of: Annotated[BoundedDay | None, Query(description="what had happened by this day")
                     ] = None,
    as_known_at: AsKnownAt = None,
) -> CaseHistory:
    """Every stored event in order (valid time ``as_of``, record time ``as_known_at``)."""
    return case_history(access.read(case_id), case_id, as_of=as_of, as_known_at=as_known_at)


@router.get(
    "/cases/{case_id}/replay", response_model=dict[str, Any], responses=responses(404),
    summary="Replay the case as at a date and as known at a moment",
)
def replay(
    case_id: CaseId, access: Access, as_of: AsOf = None, as_known_at: AsKnownAt = None
) -> ReplayView:
    """The read model rebuilt from the events, bitemporally."""
    return queries.replay(access.read(case_id), case_id, as_of=as_of, as_known_at=as_known_at)


@router.get(
    "/cases/{case_id}/engagement", response_model=list[dict[str, Any]],
    responses=responses(404), summary="The case's engagement by supervision month",
)
def case_engagement(
    case_id: CaseId, access: Access
) -> list[EngagementMonth] | list[queries.CalendarMonth]:
    """Attendance, contacts against the level's requirement and participation per month."""
    return queries.engagement_series(access.read(case_id), case_id=case_id)


@router.get(
    "/cases/{case_id}/export", responses={
        **responses(404),
        200: {"content": {"application/json": {}, "text/csv": {}},
              "description": "the case history as JSON or CSV"},
    },
    summary="Export the case history (JSON or CSV)",
)
def export(
    case_id: CaseId, access: Access, format: Annotated[Literal["json", "csv"], Query()] = "json",
    as_of: AsOf = None, as_known_at: AsKnownAt = None,
) -> Response:
    """The stored history of a case for a file (logged as an export): all of it, or exactly
    the replayed view as at a day and as known at a moment. The CSV is flat (UK local dates
    and times, one column per field); ``X-Contains-Personal-Data`` says whether the file
    holds personal data in clear."""
    return export_response(access.read(case_id), case_id, format, as_of=as_of,
                           as_known_at=as_known_at)
