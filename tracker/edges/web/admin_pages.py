"""Admin pages: users, roles, teams and API tokens (admins only; no case content here)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from tracker.edges.api.auth import SignedIn
from tracker.edges.api.deps import AccountsDep
from tracker.edges.api.schemas import CASE_ID_PATTERN
from tracker.edges.web.common import render
from tracker.edges.web.deps import PageUser, PostedForm
from tracker.edges.web.forms import FormValues, friendly
from tracker.kernel.errors import AccessDenied, InvalidInput
from tracker.services.accounts import ROLES, Accounts, can_manage_users
from tracker.services.accounts.account_log import read_account_log


def _one(values: FormValues, name: str) -> str:
    """One text value of a form (the first, if the name repeats)."""
    raw = values.get(name, "")
    return (raw[0] if raw else "") if isinstance(raw, list) else raw


def _teams(text: str) -> list[str]:
    """Team ids as an admin types them: separated by commas or semicolons."""
    return [t.strip() for t in text.replace(";", ",").split(",") if t.strip()]


UserId = Annotated[str, Path(pattern=CASE_ID_PATTERN)]
TokenId = Annotated[str, Path(pattern=r"^[0-9a-f]{8}$")]


router = APIRouter(include_in_schema=False)

ACCOUNT_LOG_ROWS = 50
"""How many of the newest account changes the users page shows (the API pages through all)."""


def admin(principal: SignedIn) -> None:
    """Refuse anyone who may not manage users; checked in the body, after the form's CSRF."""
    if not can_manage_users(principal.user):
        raise AccessDenied()


def page(
    request: Request, accounts: Accounts, *, values: FormValues | None = None,
    errors: dict[str, str] | None = None, flash: str = "", flash_kind: str = "ok",
    token: str = "", status: int = 200,
) -> Response:
    """The users page, with what the last action said."""
    users = accounts.list_users()
    tokens = {t.token_id: t for t in accounts.list_tokens()}
    changes = read_account_log(accounts.engine, limit=ACCOUNT_LOG_ROWS).entries
    return render(request, "users.html", {
        "title": "Users", "users": users, "roles": ROLES, "changes": changes,
        "tokens": sorted(tokens.values(), key=lambda t: t.created_at, reverse=True),
        "values": values or {}, "errors": errors or {}, "flash": flash,
        "flash_kind": flash_kind, "new_token": token,
    }, status=status)


@router.get("/admin/users")
def users_page(request: Request, accounts: AccountsDep, principal: PageUser) -> Response:
    """Every user and API token (admins)."""
    admin(principal)
    return page(request, accounts)


@router.post("/admin/users")
def add_user(request: Request, accounts: AccountsDep, form: PostedForm) -> Response:
    """Add a user; a mistake shows the form again without the password (422)."""
    principal, values = form
    admin(principal)
    try:
        user = accounts.create_user(
            _one(values, "username").strip().lower(), _one(values, "password"),
            _one(values, "role"), _teams(_one(values, "teams")),
            user_id=_one(values, "user_id").strip() or None,
            display_name=_one(values, "display_name").strip() or None,
            by=principal.user.user_id,
        )
    except InvalidInput as exc:
        errors = {p.field: friendly(p.reason) for p in exc.problems}
        safe = {k: v for k, v in values.items() if k != "password"}
        return page(request, accounts, values=safe, errors=errors, status=422)
    return page(request, accounts,
                flash=f"Added {user.username} ({user.role}) as {user.user_id}.")


@router.post("/admin/users/{user_id}")
def update_user(
    request: Request, user_id: UserId, accounts: AccountsDep, form: PostedForm
) -> Response:
    """Deactivate, reactivate, or change a user's role and teams (not your own activity)."""
    principal, values = form
    admin(principal)
    what = _one(values, "action")
    changes: dict[str, Any] = {}
    if what == "deactivate":  # not yourself: the service refuses it, as for the API
        changes["active"] = False
    elif what == "activate":
        changes["active"] = True
    elif what == "teams":
        changes["teams"] = _teams(_one(values, "teams"))
        changes["role"] = _one(values, "role") or None
    try:
        user = accounts.update_user(user_id, by=principal.user.user_id, **changes)
    except InvalidInput as exc:
        text = "; ".join(f"{p.field}: {friendly(p.reason)}" for p in exc.problems)
        return page(request, accounts, flash=f"Not changed: {text}", flash_kind="bad", status=422)
    return page(request, accounts, flash=f"Updated {user.username}.")


@router.post("/admin/users/{user_id}/token")
def issue_token(
    request: Request, user_id: UserId, accounts: AccountsDep, form: PostedForm
) -> Response:
    """Issue an API token for a user, its secret shown this once."""
    principal, values = form
    admin(principal)
    try:
        secret, info = accounts.create_token(user_id, _one(values, "name") or "api")
    except InvalidInput as exc:
        text = "; ".join(f"{p.field}: {friendly(p.reason)}" for p in exc.problems)
        return page(request, accounts, flash=f"No token issued: {text}", flash_kind="bad",
                    status=422)
    return page(request, accounts, flash=f"Token {info.token_id} issued for {user_id}. "
                "Copy it now: it is not shown again.", token=secret)


@router.post("/admin/tokens/{token_id}/revoke")
def revoke(
    request: Request, token_id: TokenId, accounts: AccountsDep, form: PostedForm
) -> Response:
    """Revoke an API token."""
    principal, _values = form
    admin(principal)
    done = accounts.revoke_token(token_id)
    return page(request, accounts,
                flash=f"Token {token_id} revoked." if done else "No such live token.",
                flash_kind="ok" if done else "bad")
