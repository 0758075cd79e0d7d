"""The demo caseload shows countersignature at work (issue 11 §2), on both back ends: some
documents countersigned, some awaiting their manager, a few returned, each naming an
assessment or plan of its own case."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from projections import queries
from projections.projector import Projector
from tests.conftest import NOW
from tracker.bootstrap import App
from tracker.services.seed import seed_caseload
from tracker.services.synthetic.demo import plan_caseload

UNTIL = NOW.date() - timedelta(days=1)
SIGN_OFFS = ("document_countersigned", "document_returned")


def test_the_demo_has_countersigned_awaiting_and_returned_documents(app: App) -> None:
    seed_caseload(app, cases=40, seed=1, until=UNTIL)
    Projector(app).catch_up()
    statuses: Counter[str] = Counter()
    for row in queries.caseload(app):
        view = queries.case_view(app, row["case_id"])
        statuses.update(d["status"] for d in view["aspire"].get("countersignature", []))
    assert statuses["countersigned"] > 0 and statuses["awaiting"] > 0
    assert any(r["awaiting_countersignature"] for r in queries.caseload(app))
    written = Counter(r.type for batch in app.store.iter_all() for r in batch
                      if r.type in SIGN_OFFS)
    assert written["document_countersigned"] > written["document_returned"] > 0


def test_each_sign_off_names_a_document_of_its_own_case_recorded_before_it() -> None:
    planned = plan_caseload(60, 1, UNTIL)
    signed = [(i, p) for i, p in enumerate(planned) if p.event_type in SIGN_OFFS]
    assert signed
    where = {str(p.event_id): (i, p) for i, p in enumerate(planned)}
    for i, p in signed:
        j, doc = where[p.data["document_event_id"]]
        assert doc.case_id == p.case_id and j < i
        assert doc.event_type in ("assessment_completed", "plan_agreed", "plan_revised")


def test_sign_offs_follow_the_offence_rule_when_the_policy_names_categories() -> None:
    """With only an offence category in the policy, the seed countersigns exactly the
    documents whose case's offence (``tracker.domain.offence``: the latest
    ``offence_recorded`` before the document, else ``case_opened``'s) is in it."""
    from tracker.domain.offence import RecordedOffence, offence_category
    from tracker.domain.policy import build_policy

    named = ["robbery", "theft_and_handling"]
    policy = build_policy({"countersignature": {
        "offence_categories": named, "risk_of_serious_harm": [], "safety_and_wellbeing": [],
        "disposals": [], "case_managers": [], "all_documents": False}})
    planned = plan_caseload(40, 1, UNTIL, policy)
    by_id = {str(p.event_id): p for p in planned}
    signed = [p for p in planned if p.event_type in SIGN_OFFS]
    assert signed
    for s in signed:
        doc = by_id[s.data["document_event_id"]]
        case = [p for p in planned if p.case_id == doc.case_id]
        opened = next(p for p in case if p.event_type == "case_opened")
        offences = [RecordedOffence(p.data["category"], p.data["gravity_score"],
                                    p.data["first_offence"])
                    for p in case if p.event_type == "offence_recorded"
                    and p.occurred_at <= doc.occurred_at]
        assert offence_category(opened.data.get("offence_category"), offences) in named
