"""The supervision policy: timescales, contact levels, enforcement, disposal profiles and
alert rules, as data.

The defaults ship in ``tracker/domain/policy.toml`` (domain.md §4, §5, §11). A service
overrides any value with its own TOML file that holds only the keys it changes; unknown keys
are refused, so a typo cannot silently leave a default in force. The result is one frozen
``Policy`` with a ``version`` that every read model row and alert records.

Every section says where its rules come from (``source``, with ``sources`` for a rule whose
origin differs): a statute, a seed section or local practice. A value a service file
overrides without saying why is sourced to that file, so ``tracker policy show`` never
presents a local choice as the law.
"""

from __future__ import annotations

import copy
import hashlib
import json
import tomllib
from collections.abc import Iterator
from datetime import date
from functools import cache
from pathlib import Path
from types import UnionType
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from events.case import COURT_DISPOSALS, DisposalType, OffenceCategory
from tracker.kernel.errors import ConfigurationError

DEFAULT_FILE = Path(__file__).with_name("policy.toml")

Severity = Literal["low", "medium", "high"]
Level = Literal["standard", "enhanced", "intensive"]


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class _Section(_Strict):
    """A table of rules, with where they come from: ``source`` for the table, ``sources``
    for any rule whose origin differs (statute, seed section or local practice)."""

    source: str = Field(min_length=1, max_length=400)
    sources: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _sources_name_rules(self) -> _Section:
        unknown = set(self.sources) - set(self.rule_names())
        if unknown:
            raise ValueError(f"sources name no rule of this table: {sorted(unknown)}")
        return self

    @classmethod
    def rule_names(cls) -> list[str]:
        """The table's rules (every field but its sources)."""
        return [name for name in cls.model_fields if name not in ("source", "sources")]

    def source_of(self, rule: str) -> str:
        """Where one rule of this table comes from."""
        return self.sources.get(rule, self.source)


class Calendar(_Section):
    country: str = "GB"
    subdivision: str | None = "ENG"
    extra_closed_days: tuple[date, ...] = ()


class WorkingDaysPolicy(_Section):
    working_days: int = Field(ge=0, le=200)


class PlanningPolicy(_Section):
    working_days_after_assessment: int = Field(ge=0, le=200)


class ReviewPolicy(_Section):
    interval_months: int = Field(ge=1, le=24)
    after_significant_change_working_days: int = Field(ge=0, le=200)
    due_soon_working_days: int = Field(ge=0, le=200)


class ContactsPolicy(_Section):
    initial_period_weeks: int = Field(ge=0, le=520)
    counted_kinds: tuple[str, ...]
    exempt_in_custody: bool
    per_month: dict[Level, tuple[int, int]]

    @field_validator("per_month")
    @classmethod
    def _all_levels(cls, value: dict[str, tuple[int, int]]) -> dict[str, tuple[int, int]]:
        missing = {"standard", "enhanced", "intensive"} - set(value)
        if missing:
            raise ValueError(f"needs every intervention level; missing {sorted(missing)}")
        for level, (first, after) in value.items():
            if first < 0 or after < 0:
                raise ValueError(f"{level}: contacts per month cannot be negative")
        return value


class MissedPolicy(_Section):
    follow_up_working_days: int = Field(ge=0, le=30)
    no_follow_up_needed_for: tuple[str, ...] = ()


class EnforcementPolicy(_Section):
    """The YRO warning scheme (Sentencing Act 2020 Sch 7 para 4): the warned period is whole
    calendar months beginning with the day the warning was given."""

    warned_period_months: int = Field(ge=1, le=36)
    warnings_before_breach: int = Field(ge=1, le=10)


class ManagerDecisionsPolicy(_Section):
    """Which decisions need a manager (domain.md §12), and the management oversight
    categories a manager records entries in (seed 004)."""

    breach_needs_authorisation: bool
    intervention_level_change_needs_agreement: bool
    oversight_categories: dict[str, str] = Field(min_length=1)
    """Category id -> the label people read."""


class PanelPolicy(_Section):
    """Referral-order panels: the initial panel after sentence, progress panels after it."""

    initial_working_days: int = Field(ge=0, le=200)
    progress_interval_months: int = Field(ge=1, le=12)
    after_failure_working_days: int = Field(ge=0, le=60)
    """A progress panel after a failure to comply is due this many working days after it."""
    final_before_end_working_days: int = Field(ge=0, le=60)
    """The final panel is due this many working days before the order's expected end."""


class JointDecisionPolicy(_Section):
    """Out-of-court decisions: who must be at the joint decision-making panel."""

    minimum_agencies: tuple[str, ...]


EnforcementRoute = Literal["sch7_warnings", "supervision_breach", "referral_panel",
                           "caution_conditions", "none"]
"""How non-compliance is enforced under a disposal (domain.md §11):

* ``sch7_warnings`` — warnings, warned periods and breach (YRO, Sentencing Act 2020 Sch 7);
* ``supervision_breach`` — breach of the supervision period goes to court, no warning scheme
  (DTO, Sentencing Act 2020 Sch 12);
* ``referral_panel`` — a panel progress meeting, which may refer back to court (Sch 4);
* ``caution_conditions`` — a failed condition leads to a decision on prosecution (CDA 1998
  s.66E);
* ``none`` — nothing to enforce (remand, community resolution, youth caution).
"""


class DisposalProfile(_Section):
    """Which obligations apply to a case under one disposal, and how it is enforced."""

    label: str = Field(min_length=1, max_length=80)
    route: Literal["court", "out_of_court"]
    custodial_sentence: bool
    assessment_working_days: int | None = Field(ge=0, le=200)
    assessment_before_decision: bool
    first_appointment: bool
    contact_levels: bool
    reviews: bool
    panels: bool
    supervision_from: Literal["start", "contract"]
    enforcement: EnforcementRoute
    enforcement_note: str = Field(min_length=1, max_length=300)
    home_visit_every_months: int = Field(ge=0, le=24)

    @property
    def warnings(self) -> bool:
        """Whether formal warnings are part of this disposal's enforcement."""
        return self.enforcement == "sch7_warnings"

    @property
    def breach(self) -> bool:
        """Whether breach proceedings (return to court) can be started by the YOT."""
        return self.enforcement in ("sch7_warnings", "supervision_breach")

    @property
    def failures(self) -> bool:
        """Whether a missed appointment or a failed requirement is a failure to comply
        (routes that enforce an order: YRO, DTO supervision, referral order)."""
        return self.enforcement in ("sch7_warnings", "supervision_breach", "referral_panel")


class ContinuityPolicy(_Section):
    no_case_manager_grace_working_days: int = Field(ge=0, le=60)
    change_at_transition_window_days: int = Field(ge=0, le=180)
    change_at_transition_kinds: tuple[str, ...]
    release_warning_working_days: int = Field(ge=0, le=120)
    probation_transition_age_months: int = Field(ge=120, le=240)
    probation_warning_days: int = Field(ge=0, le=365)


class EngagementPolicy(_Section):
    window_days: int = Field(ge=7, le=365)
    min_contacts_per_window: int = Field(ge=1, le=100)
    participation_drop: float = Field(gt=0, le=4)
    attendance_floor: float = Field(ge=0, le=1)


class DatesPolicy(_Section):
    """How far from its case a date on the case may lie: not before the child could have
    been born, not long after the case, and no case started long before the records."""

    oldest_child_years: int = Field(ge=10, le=100)
    horizon_years: int = Field(ge=1, le=100)
    earliest_start_years_ago: int = Field(ge=1, le=100)


class ReplayPolicy(_Section):
    back_dated_after_hours: float = Field(ge=0, le=24 * 365)


class AlertReviewPolicy(_Section):
    """A manager who resolves an alert while its condition still holds sets a review date
    no further off than this; the alert comes back on that date if the condition holds."""

    max_days: int = Field(ge=1, le=366)


class RatingsPolicy(_Section):
    outstanding: float = Field(ge=0, le=100)
    good: float = Field(ge=0, le=100)
    requires_improvement: float = Field(ge=0, le=100)
    small_sample_max: int = Field(ge=0, le=1000)
    resettlement_min_custody_cases: int = Field(ge=0, le=1000)
    judged_levels: tuple[str, ...]
    default_period_months: int = Field(ge=1, le=60)
    custody_period_months: int = Field(ge=1, le=60)
    sample_fraction: float = Field(gt=0, le=1)
    sample_minimum: int = Field(ge=1, le=10_000)
    sample_court_share: float = Field(ge=0, le=1)


class QaPolicy(_Section):
    """Quality assurance (domain.md §12): who may audit, how prompts roll up, the themes."""

    allow_peer_audit: bool
    key_question_yes_pct: float = Field(gt=0, le=100)
    themes: tuple[str, ...] = Field(min_length=1)
    monthly_dip_per_practitioner: int = Field(ge=1, le=100)


class SweepPolicy(_Section):
    """When the workers re-evaluate the time-based rules (optional; settings otherwise)."""

    every_minutes: int = Field(ge=1, le=24 * 60)
    daily_at: str = Field(pattern=r"^\d{2}:\d{2}$")


class RetentionPeriod(_Section):
    """How long the records of the disposals listed are kept (``tracker.domain.retention``)."""

    disposals: tuple[str, ...] = Field(min_length=1)
    years_after_last_action: int = Field(ge=1, le=100)
    or_at_age: int | None = Field(default=None, ge=10, le=100)
    whichever: Literal["earlier", "later"] = "later"
    basic_only_after_years: int | None = Field(default=None, ge=1, le=100)


class RetentionPolicy(_Section):
    """Retention by disposal type, and what the scheduled job does when it runs out."""

    on_expiry: Literal["erase", "alert"]
    alert_severity: Severity
    run_at: str = Field(pattern=r"^\d{2}:\d{2}$")
    periods: dict[str, RetentionPeriod]

    @field_validator("periods")
    @classmethod
    def _one_period_per_disposal(
        cls, periods: dict[str, RetentionPeriod]
    ) -> dict[str, RetentionPeriod]:
        seen: dict[str, str] = {}
        for name, period in periods.items():
            for disposal in period.disposals:
                if disposal in seen:
                    raise ValueError(f"{disposal} is in both {seen[disposal]} and {name}")
                seen[disposal] = name
        return periods

    def period_for(self, disposal: str) -> tuple[str, RetentionPeriod] | None:
        """The period (name, rule) that covers this disposal, if any."""
        for name, period in self.periods.items():
            if disposal in period.disposals:
                return name, period
        return None


class TransfersPolicy(_Section):
    """Transfers between teams (domain.md §7): how long the sending team keeps read-only
    access after a full transfer is accepted (to finish handover notes, answer questions)."""

    read_access_days: int = Field(ge=0, le=365)


Document = Literal["assessment", "plan"]


class CountersignaturePolicy(_Section):
    """Which assessments and plans a manager countersigns (seed 004: "levels of
    countersignature"), any one criterion sufficing, and how long before it is chased."""

    documents: tuple[Document, ...]
    all_documents: bool
    case_managers: tuple[str, ...] = ()
    risk_of_serious_harm: tuple[Literal["low", "medium", "high", "very_high"], ...] = ()
    safety_and_wellbeing: tuple[Literal["low", "medium", "high", "very_high"], ...] = ()
    disposals: tuple[DisposalType, ...] = ()
    offence_categories: tuple[OffenceCategory, ...] = ()
    alert_after_working_days: int = Field(ge=0, le=60)
    resubmit_working_days: int = Field(ge=0, le=60)


class KpiDataPolicy(_Section):
    """How the KPI data is read (issue 13): the serious-violence threshold of KPI 9."""

    serious_violence_min_gravity: int = Field(ge=1, le=8)


class ReportsPolicy(_Section):
    """Management information (issue 13): the KPIs' counting rules that are choices, and
    the disproportionality report's comparison group and small-number suppression."""

    suppress_below: int = Field(ge=1, le=100)
    comparison_group: str = Field(min_length=1, max_length=40)
    trend_quarters: int = Field(ge=1, le=12)


class AlertRule(_Section):
    """One rule's row of the ``[alerts]`` table. Which rules exist is the read side's
    registry (``projections.alert_rules``), which checks the table when it takes a policy."""

    severity: Severity
    enabled: bool = True


class RuleInForce(BaseModel):
    """One rule as ``tracker policy show`` prints it: its dotted name, value and source."""

    model_config = ConfigDict(frozen=True)

    rule: str
    value: Any
    source: str


class Policy(_Strict):
    """A complete, validated policy. Build it with ``load_policy``."""

    version: str = Field(min_length=1, max_length=64)
    calendar: Calendar
    first_appointment: WorkingDaysPolicy
    panels: PanelPolicy
    joint_decisions: JointDecisionPolicy
    planning: PlanningPolicy
    review: ReviewPolicy
    contacts: ContactsPolicy
    missed_appointments: MissedPolicy
    enforcement: EnforcementPolicy
    continuity: ContinuityPolicy
    engagement: EngagementPolicy
    dates: DatesPolicy
    replay: ReplayPolicy
    ratings: RatingsPolicy
    qa: QaPolicy
    disposals: dict[DisposalType, DisposalProfile]
    alerts: dict[str, AlertRule]
    alert_review: AlertReviewPolicy
    retention: RetentionPolicy
    sweep: SweepPolicy | None = None
    transfers: TransfersPolicy
    countersignature: CountersignaturePolicy
    manager_decisions: ManagerDecisionsPolicy
    kpi_data: KpiDataPolicy
    reports: ReportsPolicy
    _source: str = PrivateAttr(default="overrides")

    @field_validator("disposals")
    @classmethod
    def _every_disposal(
        cls, value: dict[str, DisposalProfile]
    ) -> dict[str, DisposalProfile]:
        missing = set(get_args(DisposalType)) - set(value)
        if missing:
            raise ValueError(f"needs a profile for every disposal; missing {sorted(missing)}")
        for name, profile in value.items():
            expected = "court" if name in COURT_DISPOSALS else "out_of_court"
            if profile.route != expected:
                raise ValueError(f"{name}: route must be '{expected}'")
        return value

    @property
    def source(self) -> str:
        """Where the policy came from (``file <path>``), for messages about it."""
        return self._source

    def profile(self, disposal: str) -> DisposalProfile:
        """The obligations and enforcement route of a disposal (domain.md §11)."""
        return self.disposals[disposal]  # type: ignore[index]

    def assessment_days(self, disposal: str) -> int | None:
        """Working days allowed for the initial assessment of this disposal (None: untimed)."""
        return self.profile(disposal).assessment_working_days

    def contacts_per_month(self, level: str, initial: bool) -> int:
        """Contacts required in a supervision month at this level."""
        first, after = self.contacts.per_month[level]  # type: ignore[index]
        return first if initial else after

    def rule(self, name: str) -> AlertRule:
        return self.alerts[name]

    def rules_in_force(self, disposal: str | None = None) -> list[RuleInForce]:
        """Every rule with its value and source, in file order; with ``disposal``, that
        disposal's profile and the tables its obligations draw on."""
        out: list[RuleInForce] = []
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, _Section):
                out.extend(_rules(name, value))
            elif isinstance(value, dict):
                for key, section in value.items():
                    if disposal is not None and name == "disposals" and key != disposal:
                        continue
                    out.extend(_rules(f"{name}.{key}", section))
        return out


def _rules(prefix: str, section: _Section) -> list[RuleInForce]:
    """A table's rules; a nested table (or a table of them) gives its own, with its sources."""
    out: list[RuleInForce] = []
    for name in section.rule_names():
        value = getattr(section, name)
        if isinstance(value, _Section):
            out.extend(_rules(f"{prefix}.{name}", value))
        elif isinstance(value, dict) and value and all(
                isinstance(v, _Section) for v in value.values()):
            for key, inner in value.items():
                out.extend(_rules(f"{prefix}.{name}.{key}", inner))
        else:
            out.append(RuleInForce(rule=f"{prefix}.{name}", value=value,
                                   source=section.source_of(name)))
    return out


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigurationError(f"policy file {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"policy file {path}: not valid TOML ({exc})") from None
    except OSError as exc:
        raise ConfigurationError(f"policy file {path}: cannot be read ({exc.strerror})") from None


def _section_type(annotation: Any) -> tuple[type[_Section] | None, bool]:
    """The section class a field holds, and whether it is a dict of them (else (None, _))."""
    origin = get_origin(annotation)
    if origin in (Union, UnionType):
        for arg in get_args(annotation):
            found = _section_type(arg)
            if found[0] is not None:
                return found
        return None, False
    if origin is dict:
        inner, _ = _section_type(get_args(annotation)[1])
        return inner, True
    if isinstance(annotation, type) and issubclass(annotation, _Section):
        return annotation, False
    return None, False


def _tables(model: type[BaseModel], data: dict[str, Any]) -> Iterator[
    tuple[type[_Section], dict[str, Any]]
]:
    """Every table of rules in ``data`` (shaped like the policy file) with its section class."""
    for name, value in data.items():
        field = model.model_fields.get(name)
        if field is None or not isinstance(value, dict):
            continue
        section, many = _section_type(field.annotation)
        if section is None:
            continue
        for table in value.values() if many else [value]:
            if isinstance(table, dict):
                yield section, table
                yield from _tables(section, table)


def _sourced_locally(override: dict[str, Any], where: str) -> None:
    """Give every rule ``override`` sets without a source of its own ``where`` as source."""
    for section, table in _tables(Policy, override):
        if "source" in table:
            continue
        given = table.get("sources")
        sources = dict(given) if isinstance(given, dict) else {}
        for rule in section.rule_names():
            if rule in table:
                sources.setdefault(rule, f"local policy ({where})")
        if sources:
            table["sources"] = sources


def _source_new_tables(merged: dict[str, Any], where: str) -> None:
    """A table only the service's file has (no default to inherit a source from)."""
    for _section, table in _tables(Policy, merged):
        table.setdefault("source", f"local policy ({where})")


def build_policy(overrides: dict[str, Any] | None = None, *, source: str = "overrides") -> Policy:
    """The default policy with ``overrides`` (same shape as the TOML file) applied on top.

    A rule the overrides set without a source of their own is sourced to them."""
    defaults = _defaults()
    overrides = copy.deepcopy(overrides or {})
    if overrides and "version" not in overrides:
        digest = hashlib.sha256(
            json.dumps(overrides, sort_keys=True, default=str).encode()
        ).hexdigest()[:8]
        overrides["version"] = f"{defaults['version']}+local.{digest}"
    _sourced_locally(overrides, source)
    merged = _merge(defaults, overrides)
    _source_new_tables(merged, source)
    try:
        policy = Policy.model_validate(merged)
    except ValidationError as exc:
        problems = []
        for err in exc.errors(include_url=False):
            where = ".".join(str(p) for p in err["loc"]) or "(whole file)"
            msg = err["msg"].removeprefix("Value error, ")
            problems.append(f"{where}: {msg}")
        raise ConfigurationError(f"policy {source}: " + "; ".join(problems)) from None
    policy._source = source
    return policy


def load_policy(path: Path | str | None = None) -> Policy:
    """The policy in force: the defaults, with a service's file on top if one is given."""
    if path is None:
        return default_policy()
    path = Path(path)
    return build_policy(_read_toml(path), source=f"file {path}")


@cache
def default_policy() -> Policy:
    """The shipped defaults (domain.md §4-§5)."""
    return build_policy(None, source=f"file {DEFAULT_FILE}")


@cache
def _defaults() -> dict[str, Any]:
    return _read_toml(DEFAULT_FILE)
