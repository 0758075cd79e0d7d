"""Read functions for the CLI, the API and the web pages. All take the ``App`` first.

Every view is computed from the stored case records *as at* the moment asked for (now by
default), so "what is overdue?" is always answered against an explicit clock. A case whose
record is behind the log has its newer events folded in on the spot, so a case view is
never stale even while the projector catches up. Dates in results are ISO strings.

Shapes (the TypedDicts below; docs/read-models.md describes every field):

* ``case_view`` -> ``{"case_id", "as_at", "policy_version", "case": {header}, "aspire",
  "engagement", "continuity", "enforcement", "alerts": [open alerts], "projection":
  {"position", "caught_up"}}``
* ``caseload`` -> ``[{"case_id", "child_id", "team", "practitioner", "manager",
  "disposal", "intervention_level", "setting", "start_date", "stages": {stage: {"status",
  "due"}}, "overdue", "next_due", "due": [{"stage", "kind", "subject", "due", "status"}],
  "open_alerts"}]`` — open cases, most overdue first, then by next due date.
* ``list_alerts`` / ``acknowledge_alert`` -> alert dicts (``alerts.row_to_dict``).
* ``ratings`` -> ``{"period", "team", "policy_version", "audits": table, "records": table,
  "comparison"}``; a table is ``{"sample", "domains": {"court"|"out_of_court": {standard:
  {"rating", "lowest", "lowest_pct", "small_sample", "questions": {lens: {"yes", "judged",
  "pct", "band"}}}}}, "resettlement"}``.
* ``replay`` -> see ``projections.replay``.
* ``compliance_by_practitioner`` -> ``[{"practitioner", "team", "cases", "overdue_cases",
  "stages": {stage: {status: n}}, "obligations": {status: n}, "on_time_rate"}]``.
* ``engagement_series`` -> monthly points: for a case, its supervision months
  (``{"month", "from", "to", "required", "contacts", "status", "attended",
  "missed_acceptable", "missed_unacceptable", "attendance_rate", "participation"}``); for
  a team or the service, calendar months (``{"month": "YYYY-MM", "cases", "attended",
  "missed_acceptable", "missed_unacceptable", "attendance_rate", "participation",
  "required", "contacts"}``).
"""

from projections.due import DueItem
from projections.queries.alerts import (
    AlertPage,
    AlertRow,
    AlertSort,
    acknowledge_alert,
    alert_history,
    close_alert,
    find_alerts,
    list_alerts,
    notes_in_clear,
    seal_notes_in_clear,
)
from projections.queries.cases import (
    CaseDetail,
    CaseloadPage,
    CaseloadRow,
    PractitionerCompliance,
    Projection,
    StageSummary,
    case_view,
    caseload,
    caseload_page,
    compliance_by_practitioner,
    replay,
)
from projections.queries.diary import DiaryRow, diary
from projections.queries.index import (
    IndexPage,
    IndexRow,
    case_index,
    child_labels,
    exact_case_id,
)
from projections.queries.reports import (
    CalendarMonth,
    InspectionSample,
    Period,
    RatingsReport,
    engagement_by_practitioner,
    engagement_series,
    inspection_sample,
    ratings,
)
from projections.queries.samples import (
    DipSample,
    SampleCase,
    dip_sample,
    draw_dip_sample,
    list_samples,
)

__all__ = [
    "AlertPage",
    "AlertRow",
    "AlertSort",
    "CalendarMonth",
    "CaseDetail",
    "CaseloadPage",
    "CaseloadRow",
    "DiaryRow",
    "DipSample",
    "DueItem",
    "IndexPage",
    "IndexRow",
    "InspectionSample",
    "Period",
    "PractitionerCompliance",
    "Projection",
    "RatingsReport",
    "SampleCase",
    "StageSummary",
    "acknowledge_alert",
    "alert_history",
    "case_index",
    "case_view",
    "caseload",
    "caseload_page",
    "child_labels",
    "close_alert",
    "compliance_by_practitioner",
    "diary",
    "dip_sample",
    "draw_dip_sample",
    "engagement_by_practitioner",
    "engagement_series",
    "exact_case_id",
    "find_alerts",
    "inspection_sample",
    "list_alerts",
    "list_samples",
    "notes_in_clear",
    "ratings",
    "replay",
    "seal_notes_in_clear",
]
