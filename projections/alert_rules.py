"""The alert rules: one registry, from which every list of rules is derived.

Each rule has its name (the key of the policy's ``[alerts]`` table), the text people read,
whether its answer changes with time alone (what ``sweep`` re-evaluates) and its evaluator:
a pure function from one case's views to the (subject, causes, details) it holds for.
Severity and whether a rule is enabled are policy (``tracker/domain/policy.toml``); the
policy model lives below the read side, so the check that its table names exactly these
rules is made here, when the read side takes its policy (``check``, ``read_policy``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from projections import countersignature
from projections.aspire import stage_of
from projections.due import audit_actions
from projections.oversight import oversight_actions
from projections.views import CaseViews
from tracker.domain.policy import Policy
from tracker.kernel.errors import ConfigurationError
from tracker.services.app import App, policy_for

Details = dict[str, str | bool | None]
"""What an alert records besides its causes: dates and flags, never free text."""


@dataclass(frozen=True)
class Hit:
    """One thing a rule holds for: its subject within the case, the events that caused it."""

    subject: str
    caused_by: Sequence[str]
    details: Details


Evaluator = Callable[[CaseViews, Policy], Iterator[Hit]]


@dataclass(frozen=True)
class AlertRule:
    """A rule: its name, the short text people read (no personal data), whether it changes
    with time alone, and its evaluator."""

    name: str
    text: str
    time_based: bool
    evaluate: Evaluator


def _overdue(stage: str, kinds: frozenset[str]) -> Evaluator:
    """Holds for each overdue ASPIRE obligation of these kinds in ``stage``."""

    def evaluate(views: CaseViews, policy: Policy) -> Iterator[Hit]:
        found = stage_of(views.aspire, stage)
        for ob in found["obligations"] if found else []:
            if ob["status"] == "overdue" and ob["kind"] in kinds:
                yield Hit(ob["subject"], ob["caused_by"], {"due": ob["due"]})

    return evaluate


def _breach_due(views: CaseViews, policy: Policy) -> Iterator[Hit]:
    for item in views.enforcement.get("breach_due", []):
        yield Hit(f"failure:{item['failure_event_id']}", item["caused_by"],
                  {"failure_date": item["date"]})


def _no_case_manager(views: CaseViews, policy: Policy) -> Iterator[Hit]:
    v = views.visible
    since = views.continuity.get("without_case_manager_since")
    if since is not None:
        grace = policy.continuity.no_case_manager_grace_working_days
        if v.wd.add(date.fromisoformat(since), grace) < v.last_day:
            ended = [a for a in v.case_managers() if a.end_event]
            caused = [ended[-1].end_event] if ended and ended[-1].end_event else []
            assert v.opened is not None
            yield Hit("case_manager", caused or [v.opened.id], {"since": since})


def _changed_at_transition(views: CaseViews, policy: Policy) -> Iterator[Hit]:
    for change in views.continuity.get("changes_at_transition", []):
        at = change["at_transition"]
        assert at is not None  # the changes listed here are those at a transition
        yield Hit(f"change:{change['event_id']}", [change["event_id"], at["event_id"]],
                  {"date": change["date"], "transition": at["kind"]})


def _custody_without_community_cm(views: CaseViews, policy: Policy) -> Iterator[Hit]:
    v = views.visible
    if views.continuity.get("custody_without_community_case_manager"):
        custody_events = [d.id for d in v.tdone if d.kind == "community_to_custody"]
        assert v.opened is not None
        yield Hit("custody_case_manager", custody_events[-1:] or [v.opened.id], {})


def _release_not_ready(views: CaseViews, policy: Policy) -> Iterator[Hit]:
    release = views.continuity.get("pending_release")
    if release and release["not_ready"]:
        yield Hit(f"release:{release['transition_id']}", [release["event_id"]], {
            "planned_date": release["planned_date"],
            "accommodation_arranged": release["accommodation_arranged"],
            "resettlement_plan_agreed": release["resettlement_plan_agreed"],
        })


def _falling_engagement(views: CaseViews, policy: Policy) -> Iterator[Hit]:
    participation = views.engagement.get("participation", {})
    if participation.get("falling"):
        yield Hit("engagement", participation.get("caused_by", []),
                  {"reason": participation.get("reason")})


def _probation_plan_missing(views: CaseViews, policy: Policy) -> Iterator[Hit]:
    prob = views.continuity.get("probation", {})
    if prob.get("status") in ("approaching", "reached"):
        # Only whether 17½ is near or passed: the date itself is the date of birth plus
        # 17 years 6 months, and alerts are stored in clear.
        yield Hit("probation", [prob["event_id"]], {"status": prob["status"]})


def _countersignature_overdue(views: CaseViews, policy: Policy) -> Iterator[Hit]:
    """An assessment or plan awaiting countersignature past the policy's working days: the
    alert goes to the manager (the case's alert owner) and clears when they act on it."""
    v = views.visible
    for doc in countersignature.awaiting(v):
        if doc.alert_after is not None and doc.alert_after < v.last_day:
            yield Hit(f"countersign:{doc.fact.id}", [doc.fact.id],
                      {"document": doc.kind, "recorded_on": date.fromordinal(doc.fact.d)
                       .isoformat(), "alert_after": doc.alert_after.isoformat()})
def _breach_awaiting_authorisation(views: CaseViews, policy: Policy) -> Iterator[Hit]:
    """Breach proceedings a manager has still to authorise or decline (the alert goes to
    the case's manager, the owner of every alert on the case)."""
    for breach in views.enforcement.get("breaches", []):
        if breach["authorisation"] == "awaiting":
            yield Hit(f"breach:{breach['event_id']}", [breach["event_id"]],
                      {"breach_date": breach["date"]})


def _oversight_action_overdue(views: CaseViews, policy: Policy) -> Iterator[Hit]:
    """An action a manager set in an oversight entry, not done by its due date."""
    for item in oversight_actions(views.visible):
        if item["status"] == "overdue":
            yield Hit(f"oversight:{item['oversight_id']}", [item["event_id"]],
                      {"due": item["due"]})


def _audit_action_overdue(views: CaseViews, policy: Policy) -> Iterator[Hit]:
    """An action a QA audit found on the case, not done by its due date."""
    for item in audit_actions(views.visible):
        if item["status"] == "overdue":
            yield Hit(f"audit:{item['action_id']}", [item["event_id"]], {"due": item["due"]})


RULES: tuple[AlertRule, ...] = (
    AlertRule("assessment_overdue", "Initial assessment overdue", True,
              _overdue("assessment", frozenset({"assessment"}))),
    AlertRule("plan_overdue", "Plan overdue", True, _overdue("planning", frozenset({"plan"}))),
    AlertRule("review_overdue", "Review overdue", True,
              _overdue("review", frozenset({"review", "review_after_change"}))),
    AlertRule("first_appointment_overdue", "First appointment overdue", True,
              _overdue("delivery", frozenset({"first_appointment"}))),
    AlertRule("contact_shortfall", "Contacts short of the level's requirement last month", True,
              _overdue("delivery", frozenset({"contacts"}))),
    AlertRule("missed_appointment_not_followed_up", "Missed appointment not followed up", True,
              _overdue("delivery", frozenset({"follow_up"}))),
    AlertRule("panel_overdue", "Referral-order panel overdue", True,
              _overdue("review", frozenset({"initial_panel", "progress_panel"}))),
    AlertRule("contract_not_agreed", "Referral-order contract not agreed", True,
              _overdue("planning", frozenset({"contract"}))),
    AlertRule("panel_after_failure_overdue",
              "Referral order: no progress panel after a failure to comply", True,
              _overdue("review", frozenset({"panel_after_failure"}))),
    AlertRule("final_panel_overdue", "Referral-order final panel overdue", True,
              _overdue("review", frozenset({"final_panel"}))),
    AlertRule("breach_due", "Breach due: further failure after two warnings", False,
              _breach_due),
    AlertRule("no_case_manager", "No case manager", True, _no_case_manager),
    AlertRule("case_manager_changed_at_transition", "Case manager changed at a transition",
              False, _changed_at_transition),
    AlertRule("custody_without_community_case_manager",
              "In custody with no community case manager", False,
              _custody_without_community_cm),
    AlertRule("release_not_ready", "Release soon without accommodation or a plan", True,
              _release_not_ready),
    AlertRule("falling_engagement", "Engagement falling", True, _falling_engagement),
    AlertRule("probation_transition_plan_missing", "17½ with no transition plan to probation",
              True, _probation_plan_missing),
    AlertRule("home_visit_overdue", "No home visit in the period the disposal expects one",
              True, _overdue("delivery", frozenset({"home_visit"}))),
    AlertRule("countersignature_overdue", "Assessment or plan awaiting countersignature", True,
              _countersignature_overdue),
    AlertRule("breach_awaiting_authorisation", "Breach awaiting a manager's authorisation",
              False, _breach_awaiting_authorisation),
    AlertRule("oversight_action_overdue", "Management oversight action overdue", True,
              _oversight_action_overdue),
    AlertRule("audit_action_overdue", "Audit action overdue", True, _audit_action_overdue),
)
"""Every alert rule, in the order alerts are listed."""

NAMES: tuple[str, ...] = tuple(rule.name for rule in RULES)
ORDER: Mapping[str, int] = {rule.name: i for i, rule in enumerate(RULES)}
TEXT: Mapping[str, str] = {rule.name: rule.text for rule in RULES}
TIME_RULES: frozenset[str] = frozenset(rule.name for rule in RULES if rule.time_based)
"""Rules whose answer changes with time alone: what ``sweep`` re-evaluates."""


def check(policy: Policy) -> None:
    """Refuse a policy whose ``[alerts]`` table does not name exactly the registry's rules."""
    problems = []
    unknown = set(policy.alerts) - set(NAMES)
    if unknown:
        problems.append(f"unknown alert rule(s) {sorted(unknown)}; known: {list(NAMES)}")
    missing = set(NAMES) - set(policy.alerts)
    if missing:
        problems.append(f"missing alert rule(s) {sorted(missing)}")
    if problems:
        raise ConfigurationError(f"policy {policy.source}: alerts: " + "; ".join(problems))


def read_policy(app: App) -> Policy:
    """The app's policy, checked against the registry: how the read side takes its policy."""
    policy = policy_for(app)
    check(policy)
    return policy
