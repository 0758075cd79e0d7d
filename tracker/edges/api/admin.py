"""JSON endpoints for accounts (who am I; admins manage users and tokens), verify, access log."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request

from tracker.edges.api.auth import Principal, accounts, api_principal, require, tracker_app
from tracker.edges.api.cases import responses
from tracker.edges.api.schemas import (
    CASE_ID_PATTERN,
    AccessEntryOut,
    AccessLogOut,
    AwareDatetime,
    MeOut,
    NewTokenBody,
    NewUserBody,
    TokenOut,
    UpdateUserBody,
    UserOut,
)
from tracker.edges.api.strict import StrictJSONRoute
from tracker.kernel.errors import FieldProblem, InvalidInput
from tracker.services.access_log import search
from tracker.services.accounts import TokenInfo, User
from tracker.services.verify import verify

UserId = Annotated[str, Path(pattern=CASE_ID_PATTERN, description="the user's id")]


def user_out(user: User) -> UserOut:
    return UserOut(
        user_id=user.user_id, username=user.username, display_name=user.display_name,
        role=user.role, teams=sorted(user.teams), active=user.active,
    )


def token_out(info: TokenInfo, secret: str | None = None) -> TokenOut:
    return TokenOut(
        token_id=info.token_id, user_id=info.user_id, name=info.name,
        created_at=info.created_at, revoked_at=info.revoked_at, token=secret,
    )


def router() -> APIRouter:
    """Accounts, verification and access-log routes."""
    r = APIRouter(prefix="/api", route_class=StrictJSONRoute)

    @r.get("/me", response_model=MeOut, responses=responses(), tags=["accounts"])
    def me(principal: Principal = Depends(api_principal)) -> MeOut:
        """The authenticated user."""
        return MeOut(user=user_out(principal.user), via=principal.via)

    @r.get("/users", response_model=list[UserOut], responses=responses(), tags=["accounts"])
    def list_users(request: Request, _p: Principal = Depends(require("admin"))) -> list[UserOut]:
        """Every user (admins)."""
        return [user_out(u) for u in accounts(request).list_users()]

    @r.post(
        "/users", status_code=201, response_model=UserOut, responses=responses(),
        tags=["accounts"],
    )
    def add_user(
        request: Request, body: NewUserBody, _p: Principal = Depends(require("admin"))
    ) -> UserOut:
        """Add a user (admins)."""
        user = accounts(request).create_user(
            body.username, body.password, body.role, body.teams, user_id=body.user_id,
            display_name=body.display_name,
        )
        return user_out(user)

    @r.patch(
        "/users/{user_id}", response_model=UserOut, responses=responses(404), tags=["accounts"]
    )
    def update_user(
        request: Request,
        user_id: UserId,
        body: UpdateUserBody,
        _p: Principal = Depends(require("admin")),
    ) -> UserOut:
        """Change a user's role, teams, password, name or whether they may sign in (admins)."""
        updated = accounts(request).update_user(
            user_id, role=body.role, teams=body.teams, active=body.active,
            password=body.password, display_name=body.display_name,
        )
        return user_out(updated)

    @r.get(
        "/users/{user_id}/tokens", response_model=list[TokenOut], responses=responses(),
        tags=["accounts"],
    )
    def list_tokens(
        request: Request, user_id: UserId, _p: Principal = Depends(require("admin"))
    ) -> list[TokenOut]:
        """A user's API tokens, never their secrets (admins)."""
        return [token_out(t) for t in accounts(request).list_tokens(user_id)]

    @r.post(
        "/users/{user_id}/tokens", status_code=201, response_model=TokenOut,
        responses=responses(), tags=["accounts"],
    )
    def new_token(
        request: Request,
        user_id: UserId,
        body: NewTokenBody,
        _p: Principal = Depends(require("admin")),
    ) -> TokenOut:
        """Issue an API token for a user; the secret is in this answer only (admins)."""
        secret, info = accounts(request).create_token(user_id, body.name)
        return token_out(info, secret)

    @r.delete(
        "/tokens/{token_id}", status_code=204, responses=responses(), tags=["accounts"],
        response_model=None,
    )
    def revoke_token(
        request: Request,
        token_id: Annotated[str, Path(pattern=r"^[0-9a-f]{8}$")],
        _p: Principal = Depends(require("admin")),
    ) -> None:
        """Revoke an API token (admins)."""
        if not accounts(request).revoke_token(token_id):
            raise InvalidInput([FieldProblem("token_id", "no such live token")])

    @r.get("/verify", response_model=dict[str, Any], responses=responses(), tags=["audit"])
    def verify_chain(
        request: Request,
        case_id: Annotated[
            str | None, Query(pattern=CASE_ID_PATTERN, description="one case only")
        ] = None,
        _p: Principal = Depends(require("auditor", "admin")),
    ) -> dict[str, Any]:
        """Walk the hash chains and report the first broken link of each (auditors, admins)."""
        return verify(tracker_app(request).engine, case_id=case_id).to_dict()

    @r.get("/access-log", response_model=AccessLogOut, responses=responses(), tags=["audit"])
    def access_log(
        request: Request,
        user_id: Annotated[str | None, Query(max_length=64)] = None,
        case_id: Annotated[str | None, Query(max_length=64)] = None,
        outcome: Literal["allowed", "refused", "not_found"] | None = None,
        action: Annotated[str | None, Query(max_length=128)] = None,
        since: AwareDatetime | None = None,
        until: AwareDatetime | None = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
        offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
        _p: Principal = Depends(require("auditor", "admin")),
    ) -> AccessLogOut:
        """Search who read which case, when and through what (auditors, admins)."""
        page = search(
            tracker_app(request), user_id=user_id, case_id=case_id, outcome=outcome, action=action,
            since=since, until=until, limit=limit, offset=offset,
        )
        return AccessLogOut(
            total=page.total,
            entries=[AccessEntryOut.model_validate(e.to_dict()) for e in page.entries],
        )

    return r
