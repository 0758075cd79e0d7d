"""Admin pages: users, roles, teams and API tokens (admins only; no case content here)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response

from tracker.edges.api.auth import Principal, accounts
from tracker.edges.api.schemas import CASE_ID_PATTERN
from tracker.edges.web.common import page_principal, posted, render
from tracker.edges.web.forms import FormValues, friendly
from tracker.kernel.errors import AccessDenied, InvalidInput
from tracker.services.accounts import ROLES, Accounts, can_manage_users


def _one(values: FormValues, name: str) -> str:
    raw = values.get(name, "")
    return (raw[0] if raw else "") if isinstance(raw, list) else raw


def _teams(text: str) -> list[str]:
    return [t.strip() for t in text.replace(";", ",").split(",") if t.strip()]


def router() -> APIRouter:
    r = APIRouter(include_in_schema=False)

    def admin(principal: Principal) -> None:
        if not can_manage_users(principal.user):
            raise AccessDenied()

    def page(
        request: Request, *, values: FormValues | None = None, errors: dict[str, str] | None = None,
        flash: str = "", flash_kind: str = "ok", token: str = "", status: int = 200,
    ) -> Response:
        acc: Accounts = accounts(request)
        users = acc.list_users()
        tokens = {t.token_id: t for t in acc.list_tokens()}
        return render(request, "users.html", {
            "title": "Users", "users": users, "roles": ROLES,
            "tokens": sorted(tokens.values(), key=lambda t: t.created_at, reverse=True),
            "values": values or {}, "errors": errors or {}, "flash": flash,
            "flash_kind": flash_kind, "new_token": token,
        }, status=status)

    @r.get("/admin/users")
    def users_page(request: Request, principal: Principal = Depends(page_principal)) -> Response:
        admin(principal)
        return page(request)

    @r.post("/admin/users")
    def add_user(
        request: Request, form: tuple[Principal, FormValues] = Depends(posted)
    ) -> Response:
        principal, values = form
        admin(principal)
        try:
            user = accounts(request).create_user(
                _one(values, "username").strip().lower(), _one(values, "password"),
                _one(values, "role"), _teams(_one(values, "teams")),
                user_id=_one(values, "user_id").strip() or None,
                display_name=_one(values, "display_name").strip() or None,
            )
        except InvalidInput as exc:
            errors = {p.field: friendly(p.reason) for p in exc.problems}
            safe = {k: v for k, v in values.items() if k != "password"}
            return page(request, values=safe, errors=errors, status=422)
        return page(request, flash=f"Added {user.username} ({user.role}) as {user.user_id}.")

    @r.post("/admin/users/{user_id}")
    def update_user(
        request: Request,
        user_id: str = Path(pattern=CASE_ID_PATTERN),
        form: tuple[Principal, FormValues] = Depends(posted),
    ) -> Response:
        principal, values = form
        admin(principal)
        what = _one(values, "action")
        changes: dict[str, Any] = {}
        if what == "deactivate":
            if user_id == principal.user.user_id:
                return page(request, flash="You cannot deactivate yourself.", flash_kind="bad",
                            status=422)
            changes["active"] = False
        elif what == "activate":
            changes["active"] = True
        elif what == "teams":
            changes["teams"] = _teams(_one(values, "teams"))
            changes["role"] = _one(values, "role") or None
        try:
            user = accounts(request).update_user(user_id, **changes)
        except InvalidInput as exc:
            text = "; ".join(f"{p.field}: {friendly(p.reason)}" for p in exc.problems)
            return page(request, flash=f"Not changed: {text}", flash_kind="bad", status=422)
        return page(request, flash=f"Updated {user.username}.")

    @r.post("/admin/users/{user_id}/token")
    def issue_token(
        request: Request,
        user_id: str = Path(pattern=CASE_ID_PATTERN),
        form: tuple[Principal, FormValues] = Depends(posted),
    ) -> Response:
        principal, values = form
        admin(principal)
        try:
            secret, info = accounts(request).create_token(user_id, _one(values, "name") or "api")
        except InvalidInput as exc:
            text = "; ".join(f"{p.field}: {friendly(p.reason)}" for p in exc.problems)
            return page(request, flash=f"No token issued: {text}", flash_kind="bad", status=422)
        return page(request, flash=f"Token {info.token_id} issued for {user_id}. Copy it now: "
                    "it is not shown again.", token=secret)

    @r.post("/admin/tokens/{token_id}/revoke")
    def revoke(
        request: Request,
        token_id: str = Path(pattern=r"^[0-9a-f]{8}$"),
        form: tuple[Principal, FormValues] = Depends(posted),
    ) -> Response:
        principal, _values = form
        admin(principal)
        done = accounts(request).revoke_token(token_id)
        return page(request, flash=f"Token {token_id} revoked." if done else "No such live token.",
                    flash_kind="ok" if done else "bad")

    return r
