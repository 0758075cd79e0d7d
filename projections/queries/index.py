"""The case index: every case a reader may see, open and closed, found in any letter case,
paged in the database (so a page's size does not grow with the service)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Literal, TypedDict

from sqlalchemy import func, select

from tracker.db.read_models import case_records as R  # noqa: N812
from tracker.db.tx import read
from tracker.services.app import App

Status = Literal["open", "closed", "all"]


class IndexRow(TypedDict):
    case_id: str
    team: str | None
    practitioner: str | None
    route: str | None
    start_date: str | None
    closed_on: str | None
    is_open: bool


class IndexPage(TypedDict):
    rows: list[IndexRow]
    total: int
    page: int
    pages: int


def case_index(
    app: App, *, teams: Collection[str] | None, search: str = "", status: Status = "all",
    page: int = 1, per_page: int = 50,
) -> IndexPage:
    """The cases of ``teams`` (None: every team, for auditors) whose reference contains
    ``search`` in any letter case, newest first."""
    where = []
    if teams is not None:
        where.append(R.c.team.in_(sorted(teams)))
    needle = search.strip().lower()[:64]
    if needle:
        escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        where.append(func.lower(R.c.case_id).like(f"%{escaped}%", escape="\\"))
    if status != "all":
        where.append(R.c.is_open.is_(status == "open"))
    page = max(1, page)
    with read(app.engine, tables="read models") as conn:
        total = conn.execute(select(func.count()).select_from(R).where(*where)).scalar_one()
        rows = conn.execute(
            select(R.c.case_id, R.c.team, R.c.practitioner, R.c.route, R.c.start_date,
                   R.c.closed_on, R.c.is_open)
            .where(*where)
            .order_by(R.c.is_open.desc(), R.c.start_date.desc(), R.c.case_id)
            .limit(per_page).offset((page - 1) * per_page)
        ).all()
    pages = max(1, -(-total // per_page))
    return {
        "rows": [{
            "case_id": r.case_id, "team": r.team, "practitioner": r.practitioner,
            "route": r.route, "start_date": r.start_date.isoformat() if r.start_date else None,
            "closed_on": r.closed_on.isoformat() if r.closed_on else None,
            "is_open": bool(r.is_open),
        } for r in rows],
        "total": int(total), "page": min(page, pages), "pages": pages,
    }


def exact_case_id(app: App, typed: str, teams: Collection[str] | None) -> str | None:
    """The stored reference that ``typed`` names in any letter case, if the reader may see
    it (``cs-2026-0001`` finds ``CS-2026-0001``)."""
    where = [func.lower(R.c.case_id) == typed.strip().lower()[:64]]
    if teams is not None:
        where.append(R.c.team.in_(sorted(teams)))
    with read(app.engine, tables="read models") as conn:
        found = conn.execute(select(R.c.case_id).where(*where).limit(1)).scalar_one_or_none()
    return str(found) if found is not None else None
