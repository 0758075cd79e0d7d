"""JSON endpoints about a child across their cases (admins): erasure, subject access."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path

from projections.subject_access import SubjectAccessExport, subject_access
from tracker.edges.api.deps import AdminUser, AppDep
from tracker.edges.api.schemas import CASE_ID_PATTERN, EraseBody, ErasureOut, responses
from tracker.edges.api.strict import StrictJSONRoute
from tracker.kernel.logging import current_correlation_id
from tracker.services.erasure import erase_child

ChildId = Annotated[str, Path(pattern=CASE_ID_PATTERN, description="the pseudonymous child id")]

router = APIRouter(prefix="/api", route_class=StrictJSONRoute)


@router.post("/children/{child_id}/erase", response_model=ErasureOut, responses=responses(404),
             tags=["data protection"])
def erase(child_id: ChildId, body: EraseBody, app: AppDep, admin: AdminUser) -> ErasureOut:
    """Erase the child's personal data in every case, at once (admins): the key is
    destroyed and each case records the erasure. Running it again is harmless."""
    done = erase_child(
        app, child_id, body.reason, reference=body.reference,
        actor=admin.user.actor, correlation_id=current_correlation_id(),
    )
    return ErasureOut.model_validate(done.to_dict())


@router.get("/children/{child_id}/export", response_model=dict[str, Any],
            responses=responses(404), tags=["data protection"])
def export(child_id: ChildId, app: AppDep, admin: AdminUser) -> SubjectAccessExport:
    """Subject access: everything held about the child across their cases (admins), as
    JSON; the readable version is the page ``/admin/children/{child_id}/export``. Each
    case is written to the access log."""
    return subject_access(app, child_id, actor=admin.user.actor)
