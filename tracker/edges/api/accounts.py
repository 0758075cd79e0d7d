"""JSON endpoints for accounts: who am I; admins manage users and their API tokens."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from tracker.edges.api.deps import AccountsDep, AdminUser, CurrentUser
from tracker.edges.api.schemas import (
    CASE_ID_PATTERN,
    MeOut,
    NewTokenBody,
    NewUserBody,
    TokenOut,
    UpdateUserBody,
    UserOut,
    responses,
)
from tracker.edges.api.strict import StrictJSONRoute
from tracker.kernel.errors import FieldProblem, InvalidInput
from tracker.services.accounts import TokenInfo, User
from tracker.services.accounts.account_log import read_account_log

UserId = Annotated[str, Path(pattern=CASE_ID_PATTERN, description="the user's id")]


def user_out(user: User) -> UserOut:
    """A user as the API shows one (no password hash, teams sorted)."""
    return UserOut(
        user_id=user.user_id, username=user.username, display_name=user.display_name,
        role=user.role, teams=sorted(user.teams), active=user.active,
    )


def token_out(info: TokenInfo, secret: str | None = None) -> TokenOut:
    """A token as the API shows one; the secret only when it is just issued."""
    return TokenOut(
        token_id=info.token_id, user_id=info.user_id, name=info.name,
        created_at=info.created_at, revoked_at=info.revoked_at, token=secret,
    )


router = APIRouter(prefix="/api", route_class=StrictJSONRoute)


@router.get("/me", response_model=MeOut, responses=responses(), tags=["accounts"])
def me(principal: CurrentUser) -> MeOut:
    """The authenticated user."""
    return MeOut(user=user_out(principal.user), via=principal.via)


@router.get("/users", response_model=list[UserOut], responses=responses(), tags=["accounts"])
def list_users(accounts: AccountsDep, _p: AdminUser) -> list[UserOut]:
    """Every user (admins)."""
    return [user_out(u) for u in accounts.list_users()]


@router.post(
    "/users", status_code=201, response_model=UserOut, responses=responses(), tags=["accounts"],
)
def add_user(body: NewUserBody, accounts: AccountsDep, admin: AdminUser) -> UserOut:
    """Add a user (admins)."""
    user = accounts.create_user(
        body.username, body.password, body.role, body.teams, user_id=body.user_id,
        display_name=body.display_name, by=admin.user.user_id,
    )
    return user_out(user)


@router.patch(
    "/users/{user_id}", response_model=UserOut, responses=responses(404), tags=["accounts"]
)
def update_user(
    user_id: UserId, body: UpdateUserBody, accounts: AccountsDep, admin: AdminUser
) -> UserOut:
    """Change a user's role, teams, password, name or whether they may sign in (admins; not
    their own role or activity)."""
    updated = accounts.update_user(
        user_id, role=body.role, teams=body.teams, active=body.active,
        password=body.password, display_name=body.display_name, by=admin.user.user_id,
    )
    return user_out(updated)


@router.get(
    "/users/{user_id}/tokens", response_model=list[TokenOut], responses=responses(),
    tags=["accounts"],
)
def list_tokens(user_id: UserId, accounts: AccountsDep, _p: AdminUser) -> list[TokenOut]:
    """A user's API tokens, never their secrets (admins)."""
    return [token_out(t) for t in accounts.list_tokens(user_id)]


@router.post(
    "/users/{user_id}/tokens", status_code=201, response_model=TokenOut,
    responses=responses(), tags=["accounts"],
)
def new_token(
    user_id: UserId, body: NewTokenBody, accounts: AccountsDep, _p: AdminUser
) -> TokenOut:
    """Issue an API token for a user; the secret is in this answer only (admins)."""
    secret, info = accounts.create_token(user_id, body.name)
    return token_out(info, secret)


@router.delete(
    "/tokens/{token_id}", status_code=204, responses=responses(), tags=["accounts"],
    response_model=None,
)
def revoke_token(
    token_id: Annotated[str, Path(pattern=r"^[0-9a-f]{8}$")], accounts: AccountsDep, _p: AdminUser
) -> None:
    """Revoke an API token (admins)."""
    if not accounts.revoke_token(token_id):
        raise InvalidInput([FieldProblem("token_id", "no such live token")])


@router.get("/account-log", response_model=dict[str, Any], responses=responses(),
            tags=["accounts"])
def account_log(
    accounts: AccountsDep,
    _p: AdminUser,
    user_id: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> dict[str, Any]:
    """Every change to an account, newest first: who changed what, when (admins)."""
    return read_account_log(
        accounts.engine, user_id=user_id, limit=limit, offset=offset
    ).to_dict()
