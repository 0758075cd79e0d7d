"""Admin pages: users, roles, teams and API tokens (admins only; no case content here)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from events.erasure import ERASURE_REASONS
from tracker.edges.api.auth import SignedIn
from tracker.edges.api.deps import AccountsDep, AppDep
from tracker.edges.api.schemas import CASE_ID_PATTERN
from tracker.edges.web.common import read_form, render
from tracker.edges.web.deps import PageUser, PostedForm
from tracker.edges.web.forms import FormValues, friendly
from tracker.kernel.errors import AccessDenied, ChildNotFound, FieldProblem, InvalidInput
from tracker.kernel.logging import current_correlation_id
from tracker.services.accounts import ROLES, Accounts, can_manage_users
from tracker.services.accounts.account_log import read_account_log
from tracker.services.accounts.teams import known_teams, looks_like
from tracker.services.erasure import erase_child


def _one(values: FormValues, name: str) -> str:
    """One text value of a form (the first, if the name repeats)."""
    raw = values.get(name, "")
    return (raw[0] if raw else "") if isinstance(raw, list) else raw


def _teams(text: str) -> list[str]:
    """Team ids as an admin types them: separated by commas or semicolons."""
    return [t.strip() for t in text.replace(";", ",").split(",") if t.strip()]


UserId = Annotated[str, Path(pattern=CASE_ID_PATTERN)]
CASE_ID_RE = re.compile(CASE_ID_PATTERN)
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
    token: str = "", status: int = 200, invite: dict[str, str] | None = None,
) -> Response:
    """The users page, with what the last action said (and a new set-password link)."""
    users = accounts.list_users()
    teams = known_teams(accounts.engine)
    tokens = {t.token_id: t for t in accounts.list_tokens()}
    changes = read_account_log(accounts.engine, limit=ACCOUNT_LOG_ROWS).entries
    return render(request, "users.html", {
        "title": "Users", "users": users, "roles": ROLES, "changes": changes,
        "tokens": sorted(tokens.values(), key=lambda t: t.created_at, reverse=True),
        "values": values or {}, "errors": errors or {}, "flash": flash,
        "flash_kind": flash_kind, "new_token": token, "known_teams": teams,
        "invite": invite,
    }, status=status)


@router.get("/admin/users")
def users_page(request: Request, accounts: AccountsDep, principal: PageUser) -> Response:
    """Every user and API token (admins)."""
    admin(principal)
    return page(request, accounts)


def chosen_teams(values: FormValues, known: list[str]) -> list[str]:
    """The teams ticked from the list of existing ones, plus a new team if one is typed;
    a new team that looks like a mistyped existing one is refused, naming it."""
    ticked = values.get("teams", [])
    teams = [t for t in ([ticked] if isinstance(ticked, str) else ticked) if t]
    unknown = [t for t in teams if t not in known]
    if unknown:
        raise InvalidInput([FieldProblem("teams", f"choose from the list ({unknown[0]} is "
                                                  "not a team)")])
    new = _one(values, "new_team").strip().upper()
    if new:
        near = looks_like(new, known)
        if near is not None:
            raise InvalidInput([FieldProblem("new_team", f"looks like {near}: tick it in the "
                                                         "list instead")])
        teams.append(new)
    return teams


def invitation(request: Request, name: str, secret: str, expires: datetime) -> dict[str, str]:
    """What the users page shows once: whom to send the link to, the link on this
    service's own address, and until when it works."""
    return {"name": name, "link": f"{str(request.base_url).rstrip('/')}/set-password/{secret}",
            "expires": expires.isoformat()}


@router.post("/admin/users")
def add_user(request: Request, accounts: AccountsDep, form: PostedForm) -> Response:
    """Add a user and show a one-time link for them to set their own password; a mistake
    shows the form again with the messages beside the fields (422)."""
    principal, values = form
    admin(principal)
    try:
        teams = chosen_teams(values, known_teams(accounts.engine))
        user = accounts.create_user(
            _one(values, "username").strip().lower(), None,
            _one(values, "role"), teams,
            user_id=_one(values, "user_id").strip() or None,
            display_name=_one(values, "display_name").strip() or None,
            by=principal.user.user_id,
        )
    except InvalidInput as exc:
        errors = {p.field: friendly(p.reason) for p in exc.problems}
        return page(request, accounts, values=values, errors=errors, status=422)
    secret, expires = accounts.invite(user.user_id, by=principal.user.user_id)
    return page(request, accounts,
                flash=f"Added {user.display_name} ({user.role}) as {user.user_id}.",
                invite=invitation(request, user.display_name, secret, expires))


@router.post("/admin/users/{user_id}/invite")
def reinvite(
    request: Request, user_id: UserId, accounts: AccountsDep, form: PostedForm
) -> Response:
    """A new set-password link for a user (older links stop working)."""
    principal, _values = form
    admin(principal)
    user = accounts.get(user_id)
    if user is None:
        return page(request, accounts, flash="No such user.", flash_kind="bad", status=404)
    secret, expires = accounts.invite(user_id, by=principal.user.user_id)
    return page(request, accounts, flash=f"New set-password link for {user.display_name}.",
                invite=invitation(request, user.display_name, secret, expires))


Secret = Annotated[str, Path(pattern=r"^inv_[A-Za-z0-9_-]{20,80}$")]


@router.get("/set-password/{secret}")
def set_password_form(request: Request, secret: Secret, accounts: AccountsDep) -> Response:
    """The invited person's own page to choose their password (no sign-in needed: the
    link itself is the one-time key)."""
    user = accounts.invited_user(secret)
    return render(request, "set_password.html", {
        "title": "Set your password", "invited": user, "errors": {}, "done": False,
    }, status=200 if user else 410)


@router.post("/set-password/{secret}")
async def set_password(request: Request, secret: Secret, accounts: AccountsDep) -> Response:
    """Set the password from the link, once."""
    values = await read_form(request)
    try:
        user = await run_in_threadpool(accounts.redeem_invitation, secret,
                                       _one(values, "password"), _one(values, "repeat_password"))
    except InvalidInput as exc:
        return render(request, "set_password.html", {
            "title": "Set your password", "invited": accounts.invited_user(secret),
            "errors": {p.field: friendly(p.reason) for p in exc.problems}, "done": False,
        }, status=422)
    return render(request, "set_password.html", {
        "title": "Password set", "invited": user, "errors": {}, "done": True,
    })


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
    try:
        if what == "teams":
            changes["teams"] = chosen_teams(values, known_teams(accounts.engine))
            changes["role"] = _one(values, "role") or None
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


@router.get("/admin/erase")
def erase_form(request: Request, principal: PageUser) -> Response:
    """The form to erase a child's personal data (admins)."""
    admin(principal)
    return render(request, "erase.html", {
        "title": "Erase a child's personal data", "values": {}, "errors": {},
        "reasons": [(r, r.replace("_", " ").capitalize()) for r in ERASURE_REASONS],
        "confirm": False,
    })


@router.post("/admin/erase")
def erase(request: Request, app: AppDep, form: PostedForm) -> Response:
    """Erase a child's personal data in every case, after a confirmation step: the key is
    destroyed, so this cannot be undone."""
    principal, values = form
    admin(principal)
    child_id = _one(values, "child_id").strip()
    reason = _one(values, "reason")
    reference = _one(values, "reference").strip() or None
    errors: dict[str, str] = {}
    if not CASE_ID_RE.match(child_id):
        errors["child_id"] = "enter the child's pseudonymous id, for example C-0001"
    if reason not in ERASURE_REASONS:
        errors["reason"] = "choose one of the options"
    if reference is not None and not CASE_ID_RE.match(reference):
        errors["reference"] = "use 2 to 64 letters, digits, dots, dashes or underscores"
    context = {"title": "Erase a child's personal data", "values": values,
               "reasons": [(r, r.replace("_", " ").capitalize()) for r in ERASURE_REASONS]}
    if errors:
        return render(request, "erase.html", {**context, "errors": errors, "confirm": False},
                      status=422)
    if _one(values, "confirm") != "yes":
        return render(request, "erase.html", {**context, "errors": {}, "confirm": True})
    try:
        done = erase_child(app, child_id, reason, reference=reference,
                           actor=principal.user.actor, correlation_id=current_correlation_id())
    except ChildNotFound:
        return render(request, "erase.html", {
            **context, "errors": {"child_id": "no case or key is held for this child"},
            "confirm": False}, status=422)
    return render(request, "erase.html", {
        **context, "values": {}, "errors": {}, "confirm": False,
        "flash": f"Erased the personal data of {child_id} in {len(done.case_ids)} case(s); "
                 "their key is destroyed.",
    })
