"""The teams that exist: those people belong to and those cases are held by. An admin picks
from these, so a typo (``TEAM-NROTH``) cannot create a team nobody meant."""

from __future__ import annotations

from difflib import SequenceMatcher

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
    """A known team that ``new`` is probably a mistyping of (same letters nearly), or None."""
    if new in known:
        return None
    for team in known:
        if SequenceMatcher(None, new.upper(), team.upper()).ratio() >= 0.8:
            return team
    return None
