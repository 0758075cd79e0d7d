"""The supervision policy: timescales, contact levels, enforcement and alert rules, as data.

The defaults ship in ``tracker/domain/policy.toml`` (domain.md §4-§5). A service overrides any
value with its own TOML file that holds only the keys it changes; unknown keys are refused,
so a typo cannot silently leave a default in force. The result is one frozen ``Policy``
with a ``version`` that every read model row and alert records.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator

from tracker.kernel.errors import ConfigurationError

DEFAULT_FILE = Path(__file__).with_name("policy.toml")

Severity = Literal["low", "medium", "high"]
Level = Literal["standard", "enhanced", "intensive"]


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Calendar(_Section):
    country: str = "GB"
    subdivision: str | None = "ENG"
    extra_closed_days: tuple[date, ...] = ()


class AssessmentPolicy(_Section):
    working_days: int = Field(ge=0, le=200)
    working_days_by_disposal: dict[str, int] = Field(default_factory=dict)


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
    warned_period_days: int = Field(ge=1, le=1100)
    warnings_before_breach: int = Field(ge=1, le=10)


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


class RatingsPolicy(_Section):
    outstanding: float = Field(ge=0, le=100)
    good: float = Field(ge=0, le=100)
    requires_improvement: float = Field(ge=0, le=100)
    small_sample_max: int = Field(ge=0, le=1000)
    resettlement_min_custody_cases: int = Field(ge=0, le=1000)
    judged_levels: tuple[str, ...]
    default_period_months: int = Field(ge=1, le=60)


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


class AlertRule(_Section):
    """One rule's row of the ``[alerts]`` table. Which rules exist is the read side's
    registry (``projections.alert_rules``), which checks the table when it takes a policy."""

    severity: Severity
    enabled: bool = True


class Policy(_Section):
    """A complete, validated policy. Build it with ``load_policy``."""

    version: str = Field(min_length=1, max_length=64)
    calendar: Calendar
    assessment: AssessmentPolicy
    first_appointment: WorkingDaysPolicy
    referral_order_panel: WorkingDaysPolicy
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
    alerts: dict[str, AlertRule]
    retention: RetentionPolicy
    sweep: SweepPolicy | None = None
    _source: str = PrivateAttr(default="overrides")

    @property
    def source(self) -> str:
        """Where the policy came from (``file <path>``), for messages about it."""
        return self._source

    def assessment_days(self, disposal: str) -> int:
        """Working days allowed for the initial assessment of this disposal."""
        return self.assessment.working_days_by_disposal.get(disposal, self.assessment.working_days)

    def contacts_per_month(self, level: str, initial: bool) -> int:
        """Contacts required in a supervision month at this level."""
        first, after = self.contacts.per_month[level]  # type: ignore[index]
        return first if initial else after

    def rule(self, name: str) -> AlertRule:
        return self.alerts[name]


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


def build_policy(overrides: dict[str, Any] | None = None, *, source: str = "overrides") -> Policy:
    """The default policy with ``overrides`` (same shape as the TOML file) applied on top."""
    defaults = _defaults()
    overrides = dict(overrides or {})
    if overrides and "version" not in overrides:
        digest = hashlib.sha256(
            json.dumps(overrides, sort_keys=True, default=str).encode()
        ).hexdigest()[:8]
        overrides["version"] = f"{defaults['version']}+local.{digest}"
    merged = _merge(defaults, overrides)
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
