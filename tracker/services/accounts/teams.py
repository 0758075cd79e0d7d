"""The teams that exist: those people belong to and those cases are held by. An admin picks
from these, so a typo (``TEAM-NROTH``) cannot create a team nobody meant."""

from __future__ import annotations

from sqlalchemy import Engine, select, union

from tracker.db import tx
from tracker.db.account_tables import TABLES, user_teams
from tracker.db.read_models import case_records


def known_teams(engine: Engine) -> list[str]:
    """Every team some user belongs to or some case is held by, sorted."""
    query = union(select(user_teams.c.team),
                  select(case_records.c.team).where(case_records.c.team.is_not(None)))
    with tx.read(engine, tables=TABLES) as conn:
        return sorted({str(t) for (t,) in conn.execute(query)})


def looks_like(new: str, known: list[str]) -> str | None:
    """A known team that ``new`` is probably a mistyping of, or None: the same id in
    another letter case, two letters swapped (``TEAM-NROTH``), or one letter too many or
    too few (``TEAM-NORTHH``). A different letter is not a typo: ``TEAM-A`` and ``TEAM-C``
    are two teams."""
    if new in known:
        return None
    a = new.upper()
    for team in known:
        b = team.upper()
        if a == b or (len(a) == len(b) and sorted(a) == sorted(b) and _one_swap(a, b)):
            return team
        if abs(len(a) - len(b)) == 1 and min(len(a), len(b)) >= 6 and _one_extra(a, b):
            return team
    return None


def _one_swap(a: str, b: str) -> bool:
    """``a`` is ``b`` with two neighbouring letters swapped."""
    diff = [i for i in range(len(a)) if a[i] != b[i]]
    return len(diff) == 2 and diff[1] == diff[0] + 1


def _one_extra(a: str, b: str) -> bool:
    """One of the two is the other with one letter added somewhere."""
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1:] == short for i in range(len(long_)))
