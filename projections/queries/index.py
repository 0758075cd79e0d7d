"""The case index: every case a reader may see, open and closed, found by reference or by
the child's label in any letter case, paged in the database (so a page's size does not grow
with the service).

Labels are matched by opening them in memory within the reader's cases, not through a
blind index: a keyed hash only finds a whole label, while people type part of one, and
opening (one AES-GCM decryption per labelled case of the reader's teams, the keys fetched
in bulk) needs no second key whose destruction erasure would also have to guarantee. The
stored column is only ever the sealed token; an erased child's label opens to nothing and
never matches."""

from __future__ import annotations

from collections.abc import Collection
from typing import Literal, TypedDict

from sqlalchemy import ColumnElement, func, or_, select

from events.sealing import ERASED
from projections.sealer import open_labels
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
    child_label: str | None


class IndexPage(TypedDict):
    rows: list[IndexRow]
    total: int
    page: int
    pages: int


def case_index(
    app: App, *, teams: Collection[str] | None, search: str = "", status: Status = "all",
    page: int = 1, per_page: int = 50,
) -> IndexPage:
    """The cases of ``teams`` (None: every team, for auditors) whose reference or child's
    label contains ``search`` in any letter case, newest first."""
    where: list[ColumnElement[bool]] = []
    if teams is not None:
        where.append(R.c.team.in_(sorted(teams)))
    if status != "all":
        where.append(R.c.is_open.is_(status == "open"))
    needle = search.strip().lower()[:64]
    page = max(1, page)
    with read(app.engine, tables="read models") as conn:
        if needle:
            escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            by_reference = func.lower(R.c.case_id).like(f"%{escaped}%", escape="\\")
            labelled = conn.execute(
                select(R.c.case_id, R.c.child_label).where(*where, R.c.child_label.is_not(None))
            ).all()
            opened = open_labels(app.keyring, (r.child_label for r in labelled))
            by_label = sorted(r.case_id for r in labelled
                              if _matches(opened.get(r.child_label), needle))
            where.append(or_(by_reference, R.c.case_id.in_(by_label)) if by_label
                         else by_reference)
        total = conn.execute(select(func.count()).select_from(R).where(*where)).scalar_one()
        rows = conn.execute(
            select(R.c.case_id, R.c.team, R.c.practitioner, R.c.route, R.c.start_date,
                   R.c.closed_on, R.c.is_open, R.c.child_label)
            .where(*where)
            .order_by(R.c.is_open.desc(), R.c.start_date.desc(), R.c.case_id)
            .limit(per_page).offset((page - 1) * per_page)
        ).all()
    pages = max(1, -(-total // per_page))
    labels = open_labels(app.keyring, (r.child_label for r in rows))
    return {
        "rows": [{
            "case_id": r.case_id, "team": r.team, "practitioner": r.practitioner,
            "route": r.route, "start_date": r.start_date.isoformat() if r.start_date else None,
            "closed_on": r.closed_on.isoformat() if r.closed_on else None,
            "is_open": bool(r.is_open),
            "child_label": labels.get(r.child_label) if r.child_label else None,
        } for r in rows],
        "total": int(total), "page": min(page, pages), "pages": pages,
    }


def _matches(label: str | None, needle: str) -> bool:
    """Whether an opened label contains ``needle`` in any letter case (an erased one never)."""
    return label is not None and label != ERASED and needle.casefold() in label.casefold()


def exact_case_id(app: App, typed: str, teams: Collection[str] | None) -> str | None:
    """The stored reference that ``typed`` names in any letter case, if the reader may see
    it (``cs-2026-0001`` finds ``CS-2026-0001``)."""
    where = [func.lower(R.c.case_id) == typed.strip().lower()[:64]]
    if teams is not None:
        where.append(R.c.team.in_(sorted(teams)))
    with read(app.engine, tables="read models") as conn:
        found = conn.execute(select(R.c.case_id).where(*where).limit(1)).scalar_one_or_none()
    return str(found) if found is not None else None


def child_labels(app: App, case_ids: Collection[str]) -> dict[str, str]:
    """The children's labels of these cases (case id -> label), opened in memory for a
    reader the caller has let read them; a case without a label is left out."""
    if not case_ids:
        return {}
    with read(app.engine, tables="read models") as conn:
        rows = conn.execute(select(R.c.case_id, R.c.child_label).where(
            R.c.case_id.in_(sorted(case_ids)), R.c.child_label.is_not(None))).all()
    opened = open_labels(app.keyring, (r.child_label for r in rows))
    return {r.case_id: opened[r.child_label] for r in rows if r.child_label in opened}
