"""The KPI data of every case (or of the cases asked for): what the KPI reports read.

Each case's events are read from the store (personal fields opened with the child's key,
so an erased child's ethnicity, sex and ages are None: nothing about them is computed
again), corrections applied, and folded by ``projections.outcomes.fold_outcomes``. The
shape is in docs/kpi-data.md. Callers check who may see which cases.
"""

from __future__ import annotations

from collections.abc import Iterable

from projections.alert_rules import read_policy
from projections.outcomes import CaseOutcomes, fold_outcomes
from tracker.domain.corrections import apply_corrections
from tracker.services.app import App


def case_outcomes(app: App, case_ids: Iterable[str] | None = None) -> list[CaseOutcomes]:
    """Every case's KPI data (``case_ids``: only these), ordered by case id."""
    min_gravity = read_policy(app).kpi_data.serious_violence_min_gravity
    wanted = sorted(set(case_ids)) if case_ids is not None else app.store.stream_ids()
    out: list[CaseOutcomes] = []
    for case_id in wanted:
        recorded = app.store.read_stream(case_id)
        folded = fold_outcomes(apply_corrections(recorded), min_gravity)
        if folded is not None:
            out.append(folded)
    return sorted(out, key=lambda c: c["case_id"])
