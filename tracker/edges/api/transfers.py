"""The transfer bundle through the API (issue 11 §4): a case's verifiable bundle for the
receiving service. Requesting, accepting and rejecting a transfer are the typed event
routes (``POST /api/cases/{case_id}/events/transfer_requested`` and so on)."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from fastapi import APIRouter
from pydantic import Field

from tracker.edges.api.cases import CaseId
from tracker.edges.api.deps import Action, AppDep, CurrentUser, GuardDep
from tracker.edges.api.schemas import Body, responses
from tracker.edges.api.strict import StrictJSONRoute
from tracker.kernel.errors import AccessDenied, FieldProblem, InvalidInput
from tracker.services.bundle import export_bundle

router = APIRouter(prefix="/api", tags=["transfers"], route_class=StrictJSONRoute)


class BundleBody(Body):
    """The transfer key agreed with the receiving service, to wrap the child's keys and
    sign the bundle (it is not stored, nor logged)."""

    transfer_key: str = Field(min_length=43, max_length=44, pattern=r"^[A-Za-z0-9+/_-]+=?$",
                              description="base64 of 32 random bytes")


@router.post(
    "/cases/{case_id}/bundle", response_model=dict[str, Any], responses=responses(404),
    summary="Export the case's transfer bundle (events, hash chain, manifest, digest)",
)
def export(
    case_id: CaseId, body: BundleBody, app: AppDep, guard: GuardDep, user: CurrentUser,
    action: Action,
) -> dict[str, Any]:
    """The bundle ``tracker import-bundle`` verifies and continues in the receiving service.
    For the case's own team (its practitioners and manager); logged as a read."""
    key = _key(body.transfer_key)
    teams = guard.teams_of(case_id)
    who = user.user
    if teams is None or who.role not in ("practitioner", "manager") or (
        teams.owner not in who.teams
    ):
        guard.log(who, [case_id], action, "refused")
        raise AccessDenied()
    guard.log(who, [case_id], action, "allowed")
    return export_bundle(app, case_id, key, who.user_id)


def _key(text: str) -> bytes:
    try:
        key = base64.b64decode(text.replace("-", "+").replace("_", "/"), validate=True)
    except (ValueError, binascii.Error):
        key = b""
    if len(key) != 32:
        raise InvalidInput([FieldProblem("transfer_key", "must be base64 of 32 bytes")])
    return key
