"""Management information over every case: the ten KPIs for a quarter, disproportionality
for a year (docs/kpis.md, docs/disproportionality.md).

The facts come straight from the event log (``projections.kpi_source``), so a report never
waits for the projector, and one case that cannot be read is left out and counted
(``skipped``) rather than stopping the report. A case's facts are folded once per stream
version and kept (``CohortCache`` on the app: the facts hold no sealed value, only the
high-level ethnic group the aggregates use; ``personal`` reads are never kept): a request reads
each stream's version in one query and refolds only the cases that changed since. Who may
see which teams is the edges' to decide: these functions take the teams (None: every team).
"""

from __future__ import annotations

import threading
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypedDict

import structlog
from sqlalchemy import Connection, func, insert, select

from events.catalogue import event_class
from events.outcomes import SERIOUS_VIOLENCE_CATEGORIES
from events.schema import events as T  # noqa: N812 - the table, read like SQL
from events.sealing import unseal
from projections import source
from projections.alert_rules import read_policy
from projections.disproportionality import (
    DisproportionalityReport,
    entries,
    read_population,
    report,
)
from projections.kpi_source import kpi_case
from projections.kpis import BoardMeeting, KpiCase, KpiResult, KpiRules, Quarter, all_kpis
from projections.record import RawEvent
from tracker.db import tx
from tracker.db.report_tables import published_figures
from tracker.domain.policy import Policy
from tracker.kernel.errors import TrackerError
from tracker.services.app import App
from tracker.services.board import list_meetings

log = structlog.get_logger("projections.kpi_reports")
FIGURES = "published figures"


class Cohort(TypedDict):
    cases: list[KpiCase]
    meetings: list[BoardMeeting]
    skipped: int


def _case_versions(conn: Connection) -> dict[str, int]:
    """Each case stream's current version (a case: a stream with a ``case_opened``)."""
    cases = select(T.c.stream_id).where(T.c.event_type == "case_opened").distinct()
    query = (select(T.c.stream_id, func.max(T.c.stream_version))
             .where(T.c.stream_id.in_(cases)).group_by(T.c.stream_id))
    return {str(r[0]): int(r[1]) for r in conn.execute(query)}


@dataclass
class CohortCache:
    """Each case's KPI facts as folded at a stream version, under one policy version. An
    erasure, a correction or any new event changes the version, so the case is refolded
    (an erased child's to None: nothing about it is kept or computed again);
    ``KpiCase.personal`` is only ever read uncached."""

    policy_version: str = ""
    cases: dict[str, tuple[int, KpiCase | None]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


CACHE_KEY = "projections.kpi_reports.cohort"


def _cache(app: App, policy_version: str) -> CohortCache:
    found = app.extras.get(CACHE_KEY)
    if not isinstance(found, CohortCache):
        found = CohortCache()
        app.extras[CACHE_KEY] = found
    with found.lock:
        if found.policy_version != policy_version:
            found.policy_version, found.cases = policy_version, {}
    return found


def read_cohort(app: App, teams: Collection[str] | None = None, *,
                personal: bool = False) -> Cohort:
    """Every case's KPI facts (of ``teams``; None: all) and the board meetings.
    ``personal``: also open each child's diversity values (only the return asks; never
    cached)."""
    policy = read_policy(app)

    def opener(e: RawEvent) -> dict[str, Any]:
        return unseal(event_class(e.type), dict(e.data), app.keyring, event_class)

    def custodial(disposal: str) -> bool:
        return disposal in policy.disposals and policy.profile(disposal).custodial_sentence

    cache = None if personal else _cache(app, policy.version)
    cases: list[KpiCase] = []
    skipped = 0
    with app.engine.connect() as conn:
        for case_id, version in sorted(_case_versions(conn).items()):
            kept = cache.cases.get(case_id) if cache is not None else None
            if kept is not None and kept[0] == version:
                found = kept[1]
            else:
                try:
                    found = kpi_case([env.event for env in source.read_case(conn, case_id)],
                                     opener, custodial, personal=personal)
                except (TrackerError, KeyError, ValueError, TypeError) as exc:
                    skipped += 1
                    log.warning("kpi_case_skipped", case_id=case_id,
                                error=type(exc).__name__)
                    continue
                if cache is not None:
                    with cache.lock:
                        cache.cases[case_id] = (version, found)
            if found is not None and (teams is None or found.team in teams):
                cases.append(found)
    return {"cases": cases, "meetings": read_meetings(app), "skipped": skipped}


NOT_A_PARTNER = frozenset({"yjs"})
"""The service itself sits on its board; KPI 7 counts its partners' attendance."""


def read_meetings(app: App) -> list[BoardMeeting]:
    """The management board meetings (service level, ``tracker.services.board``)."""
    return [BoardMeeting(
        date.fromisoformat(m["held_on"]),
        tuple(a for a in m["agencies_invited"] if a not in NOT_A_PARTNER),
        tuple(a for a in m["agencies_attending"] if a not in NOT_A_PARTNER),
    ) for m in list_meetings(app)]


def kpi_rules(policy: Policy) -> KpiRules:
    """KPI 9's definition: the YJB's categories, the policy's minimum gravity score."""
    return KpiRules(tuple(sorted(SERIOUS_VIOLENCE_CATEGORIES)),
                    policy.kpi_data.serious_violence_min_gravity)


class KpiReport(TypedDict):
    quarter: str
    yjb_quarter: str
    period: dict[str, str]
    policy_version: str
    teams: list[str] | None
    kpis: list[KpiResult]
    case_teams: dict[str, str]
    skipped: int


def kpi_report(app: App, quarter: Quarter, teams: Collection[str] | None = None,
               cohort: Cohort | None = None) -> KpiReport:
    """The ten KPIs for ``quarter`` over the cases of ``teams`` (None: every team)."""
    policy = read_policy(app)
    found = cohort if cohort is not None else read_cohort(app, teams)
    rules = kpi_rules(policy)
    results = all_kpis(found["cases"], found["meetings"], quarter, rules)
    counted = {i for k in results for i in k["case_ids"]}
    return {
        "quarter": str(quarter), "yjb_quarter": quarter.yjb,
        "period": {"from": quarter.first.isoformat(), "to": quarter.last.isoformat()},
        "policy_version": policy.version,
        "teams": sorted(teams) if teams is not None else None,
        "kpis": results,
        "case_teams": {c.case_id: c.team for c in found["cases"] if c.case_id in counted},
        "skipped": found["skipped"],
    }


class Published(TypedDict):
    """A quarter's KPI figures as first published (service-wide, no case ids)."""

    period: str
    produced_at: str
    policy_version: str
    kpis: list[KpiResult]


def published_kpis(app: App, quarter: Quarter, cohort: Cohort | None = None) -> Published:
    """The quarter's service-wide KPI figures: as published if they were, else computed;
    and once the quarter has ended, published (stored) the first time they are produced,
    so a later erasure never changes them."""
    with tx.read(app.engine, tables=FIGURES) as conn:
        row = conn.execute(select(published_figures).where(
            published_figures.c.kind == "kpis",
            published_figures.c.period == str(quarter))).first()
    if row is not None:
        return {"period": row.period, "produced_at": row.produced_at.isoformat(),
                "policy_version": row.policy_version, "kpis": list(row.figures)}
    now = app.clock.now()
    report = kpi_report(app, quarter, cohort=cohort)
    figures: list[KpiResult] = [{**k, "case_ids": []} for k in report["kpis"]]
    found: Published = {"period": str(quarter), "produced_at": now.isoformat(),
                        "policy_version": report["policy_version"], "kpis": figures}
    if quarter.last < now.date():
        with tx.write(app.engine, tables=FIGURES) as conn:
            exists = conn.execute(select(published_figures.c.period).where(
                published_figures.c.kind == "kpis",
                published_figures.c.period == str(quarter))).first()
            if exists is None:  # idempotent: the first publication stands
                conn.execute(insert(published_figures).values(
                    kind="kpis", period=str(quarter), produced_at=now,
                    policy_version=report["policy_version"], figures=figures))
    return found


def disproportionality(app: App, year: int, population_csv: str, *,
                       comparison: str | None = None, teams: Collection[str] | None = None,
                       cohort: Cohort | None = None, upto: date | None = None,
                       ) -> DisproportionalityReport:
    """Counts and RRIs by ethnic group at each stage in calendar ``year`` (up to ``upto``:
    the year so far)."""
    policy = read_policy(app)
    population = read_population(population_csv)
    found = cohort if cohort is not None else read_cohort(app, teams)
    first, last = date(year, 1, 1), min(date(year, 12, 31), upto or date(year, 12, 31))
    return report(entries(found["cases"], first, last), population, first=first, last=last,
                  comparison=comparison or policy.reports.comparison_group,
                  threshold=policy.reports.suppress_below)
