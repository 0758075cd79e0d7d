"""The event catalogue: every event type by name, and the upcasters for older versions.

A stored event names its type and the schema version it was written with. Reading it
upcasts the payload step by step to the current version, so code only ever sees the
current shape, and old rows are never rewritten (that would break the hash chain).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pydantic import ValidationError

from events.allocation import CaseManagerAllocated, CaseManagerAllocationEnded
from events.assessment import AssessmentCompleted, SignificantChangeNoted
from events.audit import AuditActionCompleted, CaseAudited
from events.base import Event
from events.case import (
    CaseClosed,
    CaseOpened,
    ChildLabelChanged,
    InterventionLevelChangeAgreed,
    InterventionLevelChanged,
)
from events.correction import EventRetracted, EventSuperseded
from events.countersignature import DocumentCountersigned, DocumentReturned
from events.delivery import (
    ContactAttended,
    ContactMissed,
    ContactScheduled,
    MissedContactFollowedUp,
)
from events.enforcement import (
    BreachAuthorised,
    BreachDeclined,
    BreachInitiated,
    ConditionCompleted,
    ConditionFailed,
    ConditionSet,
    ExceptionalCircumstancesRecorded,
    ProsecutionDecided,
    RequirementFailed,
    WarningIssued,
)
from events.erasure import PersonalDataErased
from events.outcomes import (
    AccommodationRecorded,
    DiversityRecorded,
    EteRecorded,
    FeedbackGiven,
    HealthNeedRecorded,
    OffenceRecorded,
    OutOfCourtInterventionCompleted,
    RestorativeJusticeCompleted,
    RestorativeJusticeOffered,
    RestorativeJusticeTakenUp,
    SenRecorded,
    VictimConsentRecorded,
    VictimContacted,
    VictimIdentified,
    VictimSatisfactionRecorded,
    VictimViewsTaken,
    WiderServiceLinkEnded,
    WiderServiceLinkStarted,
)
from events.oversight import ManagementOversightRecorded, OversightActionCompleted
from events.panels import ContractAgreed, JointDecisionMade, PanelHeld, ReferredBackToCourt
from events.planning import PlanAgreed, PlanRevised
from events.review import ReviewCompleted
from events.transfer import (
    CaretakingEnded,
    TransferAccepted,
    TransferRejected,
    TransferRequested,
)
from events.transition import TransitionCompleted, TransitionPlanned
from tracker.kernel.errors import FieldProblem, InvalidInput, UnknownEventType

EVENT_CLASSES: tuple[type[Event], ...] = (
    CaseOpened, CaseClosed, InterventionLevelChanged,
    CaseManagerAllocated, CaseManagerAllocationEnded,
    AssessmentCompleted, SignificantChangeNoted,
    PlanAgreed, PlanRevised,
    ContactScheduled, ContactAttended, ContactMissed, MissedContactFollowedUp,
    ReviewCompleted,
    TransitionPlanned, TransitionCompleted,
    WarningIssued, BreachInitiated, ExceptionalCircumstancesRecorded, RequirementFailed,
    ConditionSet, ConditionCompleted, ConditionFailed, ProsecutionDecided,
    PanelHeld, ContractAgreed, ReferredBackToCourt, JointDecisionMade,
    EventSuperseded, EventRetracted,
    CaseAudited,
    PersonalDataErased,
    TransferRequested, TransferAccepted, TransferRejected, CaretakingEnded,
    AuditActionCompleted,
    DocumentCountersigned, DocumentReturned,
    BreachAuthorised, BreachDeclined, InterventionLevelChangeAgreed,
    ManagementOversightRecorded, OversightActionCompleted,
    # issue 13: the data the YJB KPIs need (events/outcomes.py)
    AccommodationRecorded, EteRecorded, SenRecorded, HealthNeedRecorded,
    WiderServiceLinkStarted, WiderServiceLinkEnded, OffenceRecorded,
    VictimIdentified, VictimContacted, VictimConsentRecorded, VictimViewsTaken,
    RestorativeJusticeOffered, RestorativeJusticeTakenUp, RestorativeJusticeCompleted,
    VictimSatisfactionRecorded, OutOfCourtInterventionCompleted, DiversityRecorded,
    FeedbackGiven,
    ChildLabelChanged,  # issue 12 §3: the child's service-controlled label
)

EVENT_TYPES: Mapping[str, type[Event]] = {cls.type: cls for cls in EVENT_CLASSES}

Payload = dict[str, Any]
Upcaster = Callable[[Payload], Payload]


def _case_opened_v1_to_v2(payload: Payload) -> Payload:
    """v1 called the intervention level ``level`` and had no setting (always community)."""
    out = dict(payload)
    out["intervention_level"] = out.pop("level")
    out.setdefault("setting", "community")
    return out


def _case_audited_v1_to_v2(payload: Payload) -> Payload:
    """v1 answered the key questions only, under a typed ``auditor_id``: a full audit with
    no prompts, its answers kept, the typed id kept as ``legacy_auditor_id``."""
    out = dict(payload)
    auditor = out.pop("auditor_id", None)
    if auditor is not None:
        out["legacy_auditor_id"] = auditor
    out.setdefault("audit_type", "full")
    return out


def _manager_field_v1_to_v2(payload: Payload) -> Payload:
    """v1 took the deciding manager from a typed ``manager_id``; v2 takes it from the
    envelope's actor. The v1 value is kept, as ``v1_manager_id``, so old entries still
    name the manager they named."""
    out = dict(payload)
    out["v1_manager_id"] = out.pop("manager_id", None)
    return out


UPCASTERS: Mapping[tuple[str, int], Upcaster] = {
    ("case_opened", 1): _case_opened_v1_to_v2,
    ("case_audited", 1): _case_audited_v1_to_v2,
    ("exceptional_circumstances_recorded", 1): _manager_field_v1_to_v2,
    ("intervention_level_changed", 1): _manager_field_v1_to_v2,
}
"""(type, from_version) -> function giving the payload at from_version + 1."""


def event_class(type_name: str) -> type[Event]:
    """The class for a type name: ``contact_missed``, ``contact-missed`` or ``ContactMissed``."""
    key = _normalise(type_name)
    try:
        return EVENT_TYPES[key]
    except KeyError:
        known = ", ".join(sorted(EVENT_TYPES))
        raise UnknownEventType(f"unknown event type '{type_name}'; known types: {known}") from None


def _normalise(name: str) -> str:
    name = name.strip().replace("-", "_")
    if "_" not in name and name[:1].isupper():
        name = "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")
    return name


def upcast(type_name: str, schema_version: int, payload: Payload) -> Payload:
    """Bring a stored payload from ``schema_version`` to the class's current version."""
    cls = event_class(type_name)
    version = schema_version
    while version < cls.version:
        step = UPCASTERS.get((cls.type, version))
        if step is None:
            raise UnknownEventType(f"no upcaster for {cls.type} v{version}")
        payload = step(payload)
        version += 1
    return payload


def parse_event(type_name: str, data: Mapping[str, Any], *, context: str = "") -> Event:
    """Validate ``data`` as an event of ``type_name``; bad input names each field and why."""
    cls = event_class(type_name)
    try:
        return cls.model_validate(dict(data))
    except ValidationError as exc:
        raise InvalidInput(problems_from(exc, prefix=f"{context}." if context else "")) from None


def problems_from(exc: ValidationError, prefix: str = "") -> list[FieldProblem]:
    """Pydantic's errors as field/reason pairs a person can read."""
    problems = []
    for err in exc.errors(include_url=False):
        loc = ".".join(str(part) for part in err["loc"]) or "(whole record)"
        msg = err["msg"]
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, ") :]
        problems.append(FieldProblem(field=f"{prefix}{loc}", reason=msg))
    return problems
