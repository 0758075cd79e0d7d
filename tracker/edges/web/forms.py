"""The practitioner's forms: what each asks, and how a submitted form becomes event data.

A form is data (``FormSpec``): its fields, their labels and choices. Submitting it builds
the event's ``data`` and an ``occurred_at``; every problem (from the form itself, from the
event model or from a case rule) is mapped back to the field it concerns, so the page can
show the message beside that field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal, get_args

from pydantic import BaseModel

from events.base import Barrier, ContactKind, Domain, Event, RiskLevel, TransitionKind
from events.case import COURT_DISPOSALS, DisposalType, OffenceCategory
from events.outcomes import (
    AccommodationRecorded,
    EteRecorded,
    Ethnicity,
    FeedbackGiven,
    FeedbackQuestion,
    HealthNeedRecorded,
    OffenceRecorded,
    RestorativeJusticeCompleted,
    RestorativeJusticeOffered,
    RestorativeJusticeTakenUp,
    SenRecorded,
    Sex,
    VictimConsentRecorded,
    VictimContacted,
    VictimIdentified,
    VictimSatisfactionRecorded,
    VictimViewsTaken,
    WiderServiceLinkEnded,
    WiderServiceLinkStarted,
)
from tracker.kernel.clock import LONDON
from tracker.kernel.errors import FieldProblem

Kind = Literal[
    "text", "textarea", "select", "radio", "checkbox", "checkboxes", "date", "datetime",
    "password",
]

FormValues = Mapping[str, str | list[str]]


def words(value: str) -> str:
    """``home_visit`` -> ``Home visit``."""
    text = value.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def choices(
    values: Sequence[str], labels: Mapping[str, str] | None = None
) -> list[tuple[str, str]]:
    return [(v, (labels or {}).get(v, words(v))) for v in values]


RISK = choices(get_args(RiskLevel), {"very_high": "Very high"})
DOMAINS = choices(get_args(Domain), {
    "desistance": "Desistance (reoffending)",
    "safety_wellbeing": "Child's safety and wellbeing",
    "risk_of_harm": "Risk of serious harm to others",
})
YES_NO = [("yes", "Yes"), ("no", "No")]


@dataclass(frozen=True)
class Field:
    """One input on a form."""

    name: str
    label: str
    kind: Kind = "text"
    options: list[tuple[str, str]] = field(default_factory=list)
    required: bool = False
    hint: str = ""


@dataclass(frozen=True)
class FormSpec:
    """A form that records one event type on a case."""

    slug: str
    title: str
    event_type: str
    fields: list[Field]
    intro: str = ""
    objectives: int = 0
    """How many objective rows (plans only)."""
    group: str = ""
    """A group of forms shown apart on the case page ("outcomes": the KPI data)."""

    def field_names(self) -> set[str]:
        names = {f.name for f in self.fields} | {"occurred_at"}
        for i in range(1, self.objectives + 1):
            names |= {f"objective_{i}_{part}" for part in ("domain", "description", "target_date")}
        return names


OCCURRED = Field(
    "occurred_at", "When did it happen?", "datetime", required=True,
    hint="UK time. You can back-date an entry; it will be marked as back-dated.",
)
LABEL_HINT = ("The label your service shows this child by, up to 40 characters. Kept sealed "
              "with the child's own key and erased with it.")
NOTE = Field("note", "Note", "textarea", hint="Kept sealed with the child's own key.")

FORMS: dict[str, FormSpec] = {
    spec.slug: spec
    for spec in [
        FormSpec(
            "contact", "Log a contact", "contact_attended",
            [
                Field("kind", "Kind of contact", "select", choices(get_args(ContactKind)),
                      required=True),
                Field("participation", "How did the child take part?", "radio",
                      [("1", "1 disengaged"), ("2", "2"), ("3", "3"), ("4", "4"),
                       ("5", "5 fully engaged")], required=True),
                Field("barriers_noted", "Barriers noted", "checkboxes",
                      choices(get_args(Barrier))),
                Field("barriers_addressed", "Barriers addressed", "checkboxes",
                      choices(get_args(Barrier))),
                Field("parent_carer_present", "A parent or carer was present", "checkbox"),
                NOTE,
            ],
        ),
        FormSpec(
            "missed", "Log a missed appointment", "contact_missed",
            [
                Field("kind", "Kind of appointment", "select", choices(get_args(ContactKind)),
                      required=True),
                Field("acceptable", "Was the absence acceptable?", "radio", YES_NO, required=True,
                      hint="Acceptable absences (illness with evidence, agreed rearrangement) "
                           "do not count towards enforcement."),
                Field("reason", "Reason", "select", choices([
                    "illness_with_evidence", "agreed_rearrangement", "education_or_work",
                    "family_emergency", "no_reason_given", "refused", "forgot", "other",
                ]), required=True),
                NOTE,
            ],
            intro="Follow up within one working day.",
        ),
        FormSpec(
            "assessment", "Record an assessment", "assessment_completed",
            [
                Field("kind", "Kind of assessment", "select", choices(
                    ["initial", "review", "pre_sentence", "out_of_court", "pre_release", "other"]
                ), required=True),
                Field("likelihood_of_reoffending", "Likelihood of reoffending", "select", RISK,
                      required=True),
                Field("safety_and_wellbeing", "Child's safety and wellbeing", "select", RISK,
                      required=True),
                Field("risk_of_serious_harm", "Risk of serious harm to others", "select", RISK,
                      required=True),
                Field("strengths_recorded", "Strengths and protective factors recorded",
                      "checkbox"),
                Field("child_involved", "The child was meaningfully involved", "checkbox"),
                Field("parent_carer_involved", "A parent or carer was involved", "checkbox"),
                Field("victim_considered", "Victims' needs were considered", "checkbox"),
                Field("other_agencies_information_used", "Other agencies' information was used",
                      "checkbox"),
                NOTE,
            ],
        ),
        FormSpec(
            "plan", "Record a plan", "plan_agreed",
            [
                Field("contingency_for_safety", "Contingency for the child's safety", "checkbox"),
                Field("contingency_for_risk", "Contingency for risk to others", "checkbox"),
                Field("child_involved", "The child was involved", "checkbox"),
                Field("parent_carer_involved", "A parent or carer was involved", "checkbox"),
                Field("reason", "Why is the plan changing?", "textarea",
                      hint="Only when revising an agreed plan."),
            ],
            objectives=3,
            intro="Give at least one objective. Empty rows are ignored.",
        ),
        FormSpec(
            "review", "Record a review", "review_completed",
            [
                Field("trigger", "What prompted the review?", "select", choices(
                    ["scheduled", "significant_change", "transition", "pre_release"]
                ), required=True),
                Field("changed_domains", "What changed?", "checkboxes", DOMAINS),
                Field("plan_adjusted", "The plan was adjusted", "checkbox"),
                Field("child_involved", "The child was involved", "checkbox"),
                Field("parent_carer_involved", "A parent or carer was involved", "checkbox"),
                NOTE,
            ],
        ),
        FormSpec(
            "transition", "Plan a transition", "transition_planned",
            [
                Field("transition_id", "Transition reference", required=True,
                      hint="A short id, e.g. TR-1, used again when the move happens."),
                Field("kind", "Kind of transition", "select", choices(get_args(TransitionKind)),
                      required=True),
                Field("planned_date", "Planned date", "date", required=True),
                Field("receiving_case_manager", "Receiving case manager (id)"),
                Field("receiving_service", "Receiving service (id)"),
                Field("accommodation_arranged", "Suitable accommodation is arranged", "checkbox"),
                Field("resettlement_plan_agreed", "A resettlement plan is agreed", "checkbox"),
                Field("information_shared", "Information has been shared", "checkbox"),
                Field("handover_meeting_held", "A handover meeting was held", "checkbox"),
                NOTE,
            ],
        ),
        FormSpec(
            "transition-done", "Record a completed transition", "transition_completed",
            [
                Field("transition_id", "Transition reference",
                      hint="The reference used when it was planned, if it was."),
                Field("kind", "Kind of transition", "select", choices(get_args(TransitionKind)),
                      required=True),
                Field("receiving_case_manager", "Receiving case manager (id)"),
                Field("receiving_service", "Receiving service (id)"),
                Field("information_shared", "Information was shared", "checkbox"),
                Field("handover_meeting_held", "A handover meeting was held", "checkbox"),
                Field("accommodation_arranged", "Suitable accommodation is arranged", "checkbox"),
                NOTE,
            ],
        ),
    ]
}

OPEN_CASE = FormSpec(
    "open", "Open a case", "case_opened",
    [
        Field("case_id", "Case reference", required=True, hint="e.g. CS-2026-0042"),
        Field("child_id", "Child's pseudonymous id", required=True, hint="never a name"),
        Field("child_label", "Child's label", hint=LABEL_HINT),
        Field("date_of_birth", "Date of birth", "date"),
        Field("disposal_type", "Disposal", "select", choices(get_args(DisposalType), {
            "yro": "Youth rehabilitation order", "yro_iss": "YRO with ISS",
            "dto": "Detention and training order",
        }), required=True),
        Field("start_date", "Start date", "date", required=True),
        Field("expected_end_date", "Expected end date", "date"),
        Field("setting", "Setting", "select", choices(["community", "custody"]), required=True),
        Field("intervention_level", "Intervention level", "select",
              choices(["standard", "enhanced", "intensive"]), required=True),
        Field("service", "Service (id)", required=True),
        Field("team", "Team", "select", required=True),
        Field("offence_category", "Main offence category", "select",
              choices(get_args(OffenceCategory)),
              hint="Where your service records it (some countersign by offence category)."),
    ],
)

# -- the KPI data (issue 13 §1; events/outcomes.py) ------------------------------------------

SCORE_PREFIX = "score_"
SCORES = [("1", "1 strongly disagree"), ("2", "2"), ("3", "3"), ("4", "4"),
          ("5", "5 strongly agree")]


def _opts(model: type[BaseModel], name: str, labels: Mapping[str, str] | None = None,
          ) -> list[tuple[str, str]]:
    """The choices of an event field, from its type (one list, kept by the model)."""
    annotation = model.model_fields[name].annotation
    values = [v for arg in (get_args(annotation) or (annotation,))
              for v in (get_args(arg) if get_args(arg) else (arg,)) if isinstance(v, str)]
    return choices(values, labels)


def _victim_form(slug: str, title: str, event_type: type[Event], *extra: Field) -> FormSpec:
    return FormSpec(slug, title, event_type.type,
                    [VICTIM_ID, *extra], group="outcomes",
                    intro="A victim is known here only by a number (V-0001): never a name.")


def feedback_answers(data: dict[str, Any]) -> list[dict[str, str]]:
    """The feedback form's scored questions (``score_<question>``) as the event's answers
    (unanswered questions left out); the score fields leave ``data``."""
    answers = []
    for name in [k for k in data if k.startswith(SCORE_PREFIX)]:
        answers.append({"question": name[len(SCORE_PREFIX):], "score": data.pop(name)})
    return answers


VICTIM_ID = Field("victim_id", "Victim number", required=True, hint="e.g. V-0001")
SUITABLE = Field("suitable", "Is it suitable?", "radio", YES_NO, required=True)

KPI_FORMS: list[FormSpec] = [
    FormSpec("accommodation", "Record accommodation", "accommodation_recorded", [
        Field("point", "When is this recorded?", "select", _opts(AccommodationRecorded, "point"),
              required=True),
        Field("accommodation_type", "Type of accommodation", "select",
              _opts(AccommodationRecorded, "accommodation_type"), required=True),
        SUITABLE, NOTE,
    ], group="outcomes"),
    FormSpec("ete", "Record education, training or employment", "ete_recorded", [
        Field("point", "When is this recorded?", "select", _opts(EteRecorded, "point"),
              required=True),
        Field("status", "Status", "select", _opts(EteRecorded, "status"), required=True),
        SUITABLE,
        Field("hours_offered", "Hours offered per week", required=True),
        Field("hours_attended", "Hours attended per week", required=True),
        NOTE,
    ], group="outcomes"),
    FormSpec("sen", "Record special educational needs", "sen_recorded", [
        Field("identified", "Is a SEND (ALN) need identified?", "radio", YES_NO, required=True),
        Field("formal_plan", "Formal plan in place", "select", _opts(SenRecorded, "formal_plan", {
            "ehcp": "Education, health and care plan (EHCP)",
            "idp": "Individual development plan (Wales)", "none": "None"}), required=True),
        NOTE,
    ], group="outcomes"),
    FormSpec("health", "Record a health need step", "health_need_recorded", [
        Field("domain", "Which need?", "select", _opts(HealthNeedRecorded, "domain"),
              required=True),
        Field("stage", "Stage reached", "select", _opts(HealthNeedRecorded, "stage"),
              required=True, hint="Need identified, then planned or offered, then attending."),
        Field("stage_date", "Date the stage was reached", "date", required=True),
        NOTE,
    ], group="outcomes"),
    FormSpec("link-start", "Record a link to a wider service", "wider_service_link_started", [
        Field("service", "Service", "select", _opts(WiderServiceLinkStarted, "service"),
              required=True),
        Field("start_date", "Start date", "date", required=True),
    ], group="outcomes"),
    FormSpec("link-end", "End a link to a wider service", "wider_service_link_ended", [
        Field("service", "Service", "select", _opts(WiderServiceLinkEnded, "service"),
              required=True),
        Field("end_date", "End date", "date", required=True),
    ], group="outcomes"),
    FormSpec("offence", "Record an offence", "offence_recorded", [
        Field("offence_id", "Offence reference", required=True, hint="e.g. OF-1"),
        Field("category", "Category", "select", _opts(OffenceRecorded, "category"),
              required=True),
        Field("gravity_score", "Gravity score (1-8)", "select",
              [(str(n), str(n)) for n in range(1, 9)], required=True),
        Field("offence_date", "Date of the offence", "date", required=True),
        Field("first_offence", "Is it the child's first offence?", "radio", YES_NO,
              required=True),
    ], group="outcomes"),
    _victim_form("victim", "Record a victim", VictimIdentified,
                 Field("victim_kind", "Kind of victim", "select",
                       _opts(VictimIdentified, "victim_kind"), required=True)),
    _victim_form("victim-contact", "Record victim contact", VictimContacted,
                 Field("method", "How?", "select", _opts(VictimContacted, "method"),
                       required=True)),
    _victim_form("victim-consent", "Record victim consent", VictimConsentRecorded,
                 Field("consented", "Did the victim consent to contact?", "radio", YES_NO,
                       required=True)),
    _victim_form("victim-views", "Record victim views taken", VictimViewsTaken,
                 Field("method", "How?", "select", _opts(VictimViewsTaken, "method"),
                       required=True)),
    _victim_form("rj-offered", "Record restorative justice offered",
                 RestorativeJusticeOffered),
    _victim_form("rj-taken-up", "Record restorative justice taken up",
                 RestorativeJusticeTakenUp,
                 Field("kind", "Kind", "select", _opts(RestorativeJusticeTakenUp, "kind"),
                       required=True)),
    _victim_form("rj-completed", "Record restorative justice completed",
                 RestorativeJusticeCompleted),
    _victim_form("victim-satisfaction", "Record victim satisfaction",
                 VictimSatisfactionRecorded,
                 Field("satisfaction", "How satisfied?", "select",
                       _opts(VictimSatisfactionRecorded, "satisfaction"), required=True)),
    FormSpec("ooc-completed", "Record the out-of-court intervention completed",
             "out_of_court_intervention_completed", [NOTE], group="outcomes"),
    FormSpec("diversity", "Record ethnicity and sex", "diversity_recorded", [
        Field("ethnicity", "Ethnicity (ONS 2021 census categories)", "select",
              choices(get_args(Ethnicity))),
        Field("sex", "Sex", "select", choices(get_args(Sex))),
    ], group="outcomes", intro="As the child or family state them. Kept sealed with the "
                               "child's own key, like the date of birth."),
    FormSpec("feedback", "Record feedback", "feedback_given", [
        Field("respondent", "Who gave it?", "select", _opts(FeedbackGiven, "respondent"),
              required=True),
        Field("point", "When?", "select", _opts(FeedbackGiven, "point"), required=True),
        *[Field(f"{SCORE_PREFIX}{q}", words(q), "radio", SCORES)
          for q in get_args(FeedbackQuestion)],
        Field("comment", "Comment", "textarea", hint="Kept sealed with the child's own key."),
    ], group="outcomes", intro="Score each question answered; leave the others empty."),
]
FORMS.update({spec.slug: spec for spec in KPI_FORMS})
FORMS["label"] = FormSpec("label", "Change the child's label", "child_label_changed", [
    Field("child_label", "Child's label", required=True, hint=LABEL_HINT),
], intro="The new label replaces the old one wherever the case is shown.", group="case")


def _one(values: FormValues, name: str) -> str:
    raw = values.get(name, "")
    if isinstance(raw, list):
        raw = raw[0] if raw else ""
    return raw.strip()


def _many(values: FormValues, name: str) -> list[str]:
    raw = values.get(name, [])
    items = raw if isinstance(raw, list) else [raw]
    return [v.strip() for v in items if v.strip()]


def parse_local(value: str) -> datetime:
    """``2026-11-02T10:30`` typed in the UK, as an aware datetime."""
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=LONDON)
    return moment


def to_event(
    spec: FormSpec, values: FormValues
) -> tuple[dict[str, Any], datetime | None, list[FieldProblem]]:
    """The event data and occurred-at from a submitted form, and the form-level problems.

    Type checks beyond "present" and "a date and time" are left to the event model, whose
    messages are mapped back to the fields by ``field_for``.
    """
    data: dict[str, Any] = {}
    problems: list[FieldProblem] = []
    for f in spec.fields:
        if f.kind == "checkbox":
            data[f.name] = _one(values, f.name) in ("on", "yes", "true", "1")
        elif f.kind == "checkboxes":
            data[f.name] = _many(values, f.name)
        else:
            value = _one(values, f.name)
            if not value:
                if f.required:
                    problems.append(FieldProblem(f.name, "is required"))
                continue
            if f.kind == "radio" and f.options == YES_NO:
                data[f.name] = value == "yes"
            else:
                data[f.name] = value
    if spec.objectives:
        objectives = []
        for i in range(1, spec.objectives + 1):
            row = {part: _one(values, f"objective_{i}_{part}")
                   for part in ("domain", "description", "target_date")}
            if any(row.values()):
                objectives.append(row)
        data["objectives"] = objectives
        if not objectives:
            problems.append(FieldProblem("objective_1_description", "give at least one objective"))
    if spec.event_type == "feedback_given":
        data["answers"] = feedback_answers(data)
    if spec.event_type == "case_opened" and "disposal_type" in data:
        data["route"] = "court" if data["disposal_type"] in COURT_DISPOSALS else "out_of_court"
    occurred: datetime | None = None
    when = _one(values, "occurred_at")
    if not when and spec.event_type != "case_opened":  # a case is opened now
        problems.append(FieldProblem("occurred_at", "is required"))
    if when:
        try:
            occurred = parse_local(when)
        except ValueError:
            problems.append(FieldProblem("occurred_at", "must be a date and time"))
    return data, occurred, problems


FIELD_RE = re.compile(r"^(?:data\.)?(?:objectives\.(\d+)\.(\w+)|(\w+))")


def field_for(spec: FormSpec, problem_field: str, objective_rows: Sequence[int] = ()) -> str | None:
    """The form field an event or rule problem belongs to (None: show it above the form)."""
    match = FIELD_RE.match(problem_field)
    if match is None:
        return None
    if match.group(1) is not None:
        index = int(match.group(1))
        row = objective_rows[index] if index < len(objective_rows) else index + 1
        name = f"objective_{row}_{match.group(2)}"
    else:
        name = match.group(3)
        if name == "objectives":
            name = "objective_1_description"
        if name == "route":
            name = "disposal_type"
    return name if name in spec.field_names() else None


def objective_rows(spec: FormSpec, values: FormValues) -> list[int]:
    """Which form rows (1-based) became objectives 0, 1, ... (empty rows are skipped)."""
    rows = []
    for i in range(1, spec.objectives + 1):
        parts = ("domain", "description", "target_date")
        if any(_one(values, f"objective_{i}_{p}") for p in parts):
            rows.append(i)
    return rows


def local_input(moment: datetime) -> str:
    """An aware moment as a ``datetime-local`` input value (UK time, minutes)."""
    return moment.astimezone(LONDON).strftime("%Y-%m-%dT%H:%M")


def today_input(moment: datetime) -> str:
    return moment.astimezone(LONDON).date().isoformat()



FRIENDLY: list[tuple[str, str]] = [
    ("Input should be a valid date", "must be a date (day, month and year)"),
    ("Input should be a valid datetime", "must be a date and time"),
    ("Input should be a valid integer", "must be a whole number"),
    ("Input should be a valid boolean", "must be yes or no"),
    ("Input should be '", "choose one of the options"),
    ("String should match pattern", "use 2 to 64 letters, digits, dots, dashes or underscores "
                                    "(no spaces), starting with a letter or digit"),
    ("Field required", "is required"),
    ("List should have at least 1 item", "give at least one"),
]


def friendly(reason: str) -> str:
    """A validation message in words a practitioner can act on."""
    for prefix, replacement in FRIENDLY:
        if reason.startswith(prefix):
            return replacement
    return reason


def day_field(value: str, name: str, errors: dict[str, str]) -> date | None:
    """An optional date typed into a filter box; a bad one is noted in ``errors``."""
    if not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip()[:10])
    except ValueError:
        errors[name] = "must be a date, e.g. 2026-03-31"
        return None
