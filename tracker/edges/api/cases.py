"""JSON endpoints for cases: open, record any catalogued event, state, history, replay, export.

Each event type has its own endpoint with its data's schema in the OpenAPI document
(``POST /api/cases/{case_id}/events/contact_missed``); the generic endpoint takes the type
in the body. All of them build one ``RecordEvent`` and go through ``CaseGuard.record``.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel, Field, create_model

from events.base import Event
from events.case import CaseOpened
from events.catalogue import EVENT_CLASSES
from events.envelope import RecordedEvent
from projections import queries
from projections.history import case_history
from tracker.domain.commands import parse_command
from tracker.edges.api.auth import Principal, api_principal, tracker_app
from tracker.edges.api.guard import CaseGuard
from tracker.edges.api.schemas import (
    CASE_ID_PATTERN,
    AwareDatetime,
    Body,
    ErrorBody,
    EventTypeOut,
    RecordBody,
    RecordedOut,
    RecordResult,
)
from tracker.edges.api.strict import StrictJSONRoute
from tracker.services.app import App

CaseId = Annotated[str, Path(pattern=CASE_ID_PATTERN, description="the case's id")]


def responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the error answers a route can give (always 401, 403, 422, 503)."""
    wanted = sorted({400, 401, 403, 422, 503, *codes})
    return {code: {"model": ErrorBody} for code in wanted}


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


def action(request: Request) -> str:
    """The endpoint as the access log names it: method and route template."""
    route = request.scope.get("route")
    return f"{request.method} {getattr(route, 'path', request.url.path)}"[:128]


def guard(request: Request) -> CaseGuard:
    found: CaseGuard = request.app.state.guard
    return found


def _result(case_id: str, recorded: list[RecordedEvent]) -> RecordResult:
    return RecordResult(
        case_id=case_id,
        version=recorded[-1].stream_version if recorded else 0,
        events=[RecordedOut.of(r) for r in recorded],
    )


def router() -> APIRouter:
    """The case routes (shared by every application: the App comes with the request)."""
    r = APIRouter(prefix="/api", tags=["cases"], route_class=StrictJSONRoute)

    def record(
        request: Request,
        principal: Principal,
        case_id: str,
        event_type: str,
        data: dict[str, Any],
        occurred_at: datetime | None,
        event_id: UUID | None,
        expected_version: int | None,
    ) -> RecordResult:
        app = tracker_app(request)
        fields: dict[str, Any] = {
            "case_id": case_id, "event_type": event_type, "data": data,
            "occurred_at": occurred_at or app.clock.now(), "expected_version": expected_version,
        }
        if event_id is not None:
            fields["event_id"] = event_id
        command = parse_command(fields)
        recorded = guard(request).record(principal.user, command, action(request))
        return _result(case_id, recorded)

    @r.post(
        "/cases", status_code=201, response_model=RecordResult, responses=responses(404, 409, 410),
        summary="Open a case",
    )
    def open_case(
        request: Request, body: OpenCaseBody, principal: Principal = Depends(api_principal)
    ) -> RecordResult:
        """Open a case in one of your teams (practitioners only)."""
        return record(
            request, principal, body.case_id, "case_opened", body.data.model_dump(mode="json"),
            body.occurred_at, body.event_id, None,
        )

    @r.post(
        "/cases/{case_id}/events", status_code=201, response_model=RecordResult,
        responses=responses(404, 409, 410), summary="Record any catalogued event",
    )
    def record_event(
        request: Request,
        case_id: CaseId,
        body: RecordBody,
        principal: Principal = Depends(api_principal),
    ) -> RecordResult:
        """Record an event of any type from GET /api/event-types on a case of your team."""
        return record(
            request, principal, case_id, body.event_type, body.data, body.occurred_at,
            body.event_id, body.expected_version,
        )

    for cls in EVENT_CLASSES:
        if cls is not CaseOpened:
            _typed_route(r, cls, record)

    @r.get("/event-types", response_model=list[EventTypeOut], responses=responses())
    def event_types(principal: Principal = Depends(api_principal)) -> list[EventTypeOut]:
        """The event catalogue: each type's family, version and data schema."""
        return [
            EventTypeOut(
                type=cls.type, family=cls.family, version=cls.version,
                description=(cls.__doc__ or "").strip().splitlines()[0],
                schema_=cls.model_json_schema(),
            )
            for cls in EVENT_CLASSES
        ]

    @r.get(
        "/cases/{case_id}", response_model=dict[str, Any], responses=responses(404),
        summary="A case's current state (ASPIRE, engagement, continuity, enforcement, alerts)",
    )
    def case_state(
        request: Request,
        case_id: CaseId,
        as_at: Annotated[date | None, Query(description="the state at the end of this day")] = None,
        principal: Principal = Depends(api_principal),
    ) -> dict[str, Any]:
        """The case's read model, now or as at a date."""
        guard(request).read(principal.user, case_id, action(request))
        return queries.case_view(tracker_app(request), case_id, as_at=as_at)

    @r.get(
        "/cases/{case_id}/history", response_model=dict[str, Any], responses=responses(404),
        summary="The case's timeline, with corrections and back-dated entries marked",
    )
    def history(
        request: Request,
        case_id: CaseId,
        as_of: Annotated[date | None, Query(description="what had happened by this day")] = None,
        as_known_at: Annotated[
            AwareDatetime | None, Query(description="only what had been recorded by then")
        ] = None,
        principal: Principal = Depends(api_principal),
    ) -> dict[str, Any]:
        """Every stored event in order (valid time ``as_of``, record time ``as_known_at``)."""
        guard(request).read(principal.user, case_id, action(request))
        return case_history(tracker_app(request), case_id, as_of=as_of, as_known_at=as_known_at)

    @r.get(
        "/cases/{case_id}/replay", response_model=dict[str, Any], responses=responses(404),
        summary="Replay the case as at a date and as known at a moment",
    )
    def replay(
        request: Request,
        case_id: CaseId,
        as_of: Annotated[date | None, Query(description="the state at the end of this day")] = None,
        as_known_at: Annotated[
            AwareDatetime | None, Query(description="only what had been recorded by then")
        ] = None,
        principal: Principal = Depends(api_principal),
    ) -> dict[str, Any]:
        """The read model rebuilt from the events, bitemporally."""
        guard(request).read(principal.user, case_id, action(request))
        return queries.replay(tracker_app(request), case_id, as_of=as_of,
                              as_known_at=as_known_at)

    @r.get(
        "/cases/{case_id}/engagement", response_model=list[dict[str, Any]],
        responses=responses(404), summary="The case's engagement by supervision month",
    )
    def case_engagement(
        request: Request, case_id: CaseId, principal: Principal = Depends(api_principal)
    ) -> list[dict[str, Any]]:
        """Attendance, contacts against the level's requirement and participation per month."""
        guard(request).read(principal.user, case_id, action(request))
        return queries.engagement_series(tracker_app(request), case_id=case_id)

    @r.get(
        "/cases/{case_id}/export", responses={
            **responses(404),
            200: {"content": {"application/json": {}, "text/csv": {}},
                  "description": "the case history as JSON or CSV"},
        },
        summary="Export the case history (JSON or CSV)",
    )
    def export(
        request: Request,
        case_id: CaseId,
        format: Annotated[Literal["json", "csv"], Query()] = "json",
        principal: Principal = Depends(api_principal),
    ) -> Response:
        """The full stored history of a case, for a file (logged as an export)."""
        guard(request).read(principal.user, case_id, action(request))
        return export_response(tracker_app(request), case_id, format)

    return r


def _typed_route(r: APIRouter, cls: type[Event], record: Any) -> None:
    model: type[BaseModel] = create_model(
        f"Record_{cls.type}", __base__=TypedRecordBody, data=(cls, ...),
        __doc__=f"Record {cls.type}: {(cls.__doc__ or '').strip().splitlines()[0]}",
    )

    def endpoint(
        request: Request,
        case_id: CaseId,
        body: Any,
        principal: Principal = Depends(api_principal),
    ) -> RecordResult:
        data: Event = body.data
        return record(  # type: ignore[no-any-return]
            request, principal, case_id, cls.type, data.model_dump(mode="json"),
            body.occurred_at, body.event_id, body.expected_version,
        )

    endpoint.__annotations__["body"] = model
    endpoint.__name__ = f"record_{cls.type}"
    r.add_api_route(
        f"/cases/{{case_id}}/events/{cls.type}", endpoint, methods=["POST"], status_code=201,
        response_model=RecordResult, responses=responses(404, 409, 410),
        summary=f"Record {cls.type.replace('_', ' ')}", description=(cls.__doc__ or "").strip(),
        operation_id=f"record_{cls.type}", tags=["events"],
    )


def export_rows(app: App, case_id: str) -> dict[str, Any]:
    """The export document: the case's whole stored history with marks."""
    history = case_history(app, case_id)
    return {
        "case_id": case_id,
        "exported_at": app.clock.now().isoformat(),
        "events": history["events"],
    }


CSV_COLUMNS = (
    "version", "event_id", "type", "occurred_at", "recorded_at", "recorded_by", "recorded_role",
    "marks", "data",
)


def export_response(app: App, case_id: str, fmt: str) -> Response:
    """The export as a downloadable JSON or CSV file."""
    doc = export_rows(app, case_id)
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(CSV_COLUMNS)
        for ev in doc["events"]:
            writer.writerow([
                _cell(ev["version"]), _cell(ev["event_id"]), _cell(ev["type"]),
                _cell(ev["occurred_at"]), _cell(ev["recorded_at"]), _cell(ev["recorded_by"]),
                _cell(ev["recorded_role"]), _cell("; ".join(ev["marks"])),
                _cell(json.dumps(ev["data"], ensure_ascii=False, sort_keys=True)),
            ])
        return Response(
            out.getvalue(), media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{case_id}.csv"'},
        )
    return Response(
        json.dumps(doc, ensure_ascii=False, indent=2), media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{case_id}.json"'},
    )


def _cell(value: object) -> str:
    """A CSV cell a spreadsheet will not run as a formula."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
