"""JSON endpoints about a child across their cases (admins): erasure."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

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
