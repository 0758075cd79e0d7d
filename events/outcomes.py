"""Outcomes: the facts the YJB key performance indicators are computed from (issue 13 §1).

From April 2023 every youth justice service reports ten KPIs to the YJB each quarter
(https://www.gov.uk/guidance/key-performance-indicators-for-youth-justice-services):
accommodation, education/training/employment, SEND/ALN, mental health, substance misuse,
out-of-court disposals, management board attendance, links to wider services, serious
violence and victims. The management board is service level (``tracker.domain.board``);
everything else is recorded on the case, here, as small past-tense facts. Which KPI uses
which event is in ``docs/kpi-data.md``.

The child's ethnicity and sex are identity data: sealed with the child's basic key like the
date of birth, so erasure destroys them with it. A victim appears only as a pseudonymous
number (``VictimId``), never by name or detail.
"""

from __future__ import annotations

from typing import Annotated, Literal, get_args

from pydantic import Field, StringConstraints, model_validator

from events.base import BASIC, PERSONAL, BoundedDate, Event, Fact, Identifier, PersonalText

# --- KPI 1: accommodation --------------------------------------------------------------

AccommodationType = Literal[
    "parent_or_guardian", "other_family_or_friends", "foster_care", "childrens_home",
    "supported_accommodation", "semi_independent", "independent_tenancy",
    "bed_and_breakfast", "temporary_or_emergency", "no_fixed_abode", "custody", "other",
]
NEVER_SUITABLE: frozenset[str] = frozenset({"bed_and_breakfast", "no_fixed_abode"})
"""Types the YJB guidance never counts as suitable for a child (no fixed abode, and
bed and breakfast, which is unsuitable for anyone under 18)."""

RecordPoint = Literal["start", "end", "release", "change"]
"""When a status is recorded: at the start or end of the order, on release from custody,
or because it changed. The KPIs read the value at the start and the end."""


class AccommodationRecorded(Event):
    """The child's accommodation as it stood on this date: suitable or not, and its type
    (KPI 1: suitable accommodation at the end of the order or on release)."""

    type = "accommodation_recorded"
    family = "outcomes"

    point: RecordPoint
    suitable: bool
    accommodation_type: AccommodationType
    note: PersonalText | None = None

    @model_validator(mode="after")
    def _never_suitable(self) -> AccommodationRecorded:
        if self.suitable and self.accommodation_type in NEVER_SUITABLE:
            raise ValueError(
                f"suitable cannot be true for accommodation_type '{self.accommodation_type}'"
            )
        return self


# --- KPI 2: education, training and employment ---------------------------------------

EteStatus = Literal[
    "school_full_time", "school_part_time", "alternative_provision", "elective_home_education",
    "college", "training", "apprenticeship", "employment", "not_in_ete",
]
EtePoint = Literal["start", "end", "release", "change", "review"]
MAX_WEEKLY_HOURS = 60
"""An upper bound on hours in one week: a school week is 25, full-time work about 40."""


class EteRecorded(Event):
    """The child's education, training or employment: status, whether it is suitable, and
    the hours offered and attended per week (KPI 2, and KPI 3 with the SEND record)."""

    type = "ete_recorded"
    family = "outcomes"

    point: EtePoint
    status: EteStatus
    suitable: bool
    hours_offered: int = Field(ge=0, le=MAX_WEEKLY_HOURS)
    hours_attended: int = Field(ge=0, le=MAX_WEEKLY_HOURS)
    note: PersonalText | None = None

    @model_validator(mode="after")
    def _hours(self) -> EteRecorded:
        if self.hours_attended > self.hours_offered:
            raise ValueError("hours_attended cannot exceed hours_offered")
        if self.status == "not_in_ete" and (self.hours_offered or self.suitable):
            raise ValueError("a child not in ETE has no hours offered and no suitable ETE")
        return self


# --- KPI 3: special educational needs / additional learning needs --------------------

FormalPlan = Literal["ehcp", "idp", "none"]
"""An education, health and care plan (England) or an individual development plan for
additional learning needs (Wales), or none."""


class SenRecorded(Event):
    """Whether the child has an identified SEND (ALN in Wales) need, and whether a formal
    plan is in place (KPI 3)."""

    type = "sen_recorded"
    family = "outcomes"

    identified: bool
    formal_plan: FormalPlan
    note: PersonalText | None = None

    @model_validator(mode="after")
    def _plan_needs_need(self) -> SenRecorded:
        if not self.identified and self.formal_plan != "none":
            raise ValueError("formal_plan must be 'none' when no need is identified")
        return self


# --- KPIs 4 and 5: mental health and substance misuse --------------------------------

HealthDomain = Literal["mental_health", "substance_misuse"]
HealthStage = Literal["need_identified", "intervention_planned", "intervention_offered",
                      "attending"]
STAGE_RANK: dict[str, int] = {
    "need_identified": 1, "intervention_planned": 2, "intervention_offered": 2, "attending": 3,
}
"""The funnel: a need is identified (screened), an intervention is planned or offered, the
child attends. ``decide`` keeps a case's stages in this order, with dates that do not go
back."""


class HealthNeedRecorded(Event):
    """A step in the mental-health or substance-misuse funnel was reached on ``stage_date``
    (KPI 4, KPI 5)."""

    type = "health_need_recorded"
    family = "outcomes"

    domain: HealthDomain
    stage: HealthStage
    stage_date: BoundedDate
    note: PersonalText | None = None


# --- KPI 8: links to wider services --------------------------------------------------

WiderService = Literal["looked_after", "child_protection_plan", "child_in_need", "early_help"]


class WiderServiceLinkStarted(Event):
    """The child became looked after, or subject to a child protection plan, a child in
    need plan or early help, on ``start_date`` (KPI 8)."""

    type = "wider_service_link_started"
    family = "outcomes"

    service: WiderService
    start_date: BoundedDate


class WiderServiceLinkEnded(Event):
    """A link to a wider service ended on ``end_date`` (KPI 8)."""

    type = "wider_service_link_ended"
    family = "outcomes"

    service: WiderService
    end_date: BoundedDate


# --- KPI 9 and first-time entrants: the offence --------------------------------------

OffenceCategory = Literal[
    "violence_against_the_person", "robbery", "drugs", "possession_of_weapons",
    "sexual_offences", "theft_and_handling", "burglary", "vehicle_theft", "criminal_damage",
    "arson", "public_order", "racially_or_religiously_aggravated", "fraud_and_forgery",
    "motoring", "breach_of_statutory_order", "other",
]
SERIOUS_VIOLENCE_CATEGORIES: frozenset[str] = frozenset(
    {"violence_against_the_person", "robbery", "drugs"}
)
"""The YJB's serious violence (KPI 9): a violence against the person, robbery or drug
offence with a gravity score of 5 or more (the score threshold is in the policy's
reading of the KPI, not here)."""


class OffenceRecorded(Event):
    """An offence the case answers: its category, gravity score (1-8, the ACPO/YJB
    gravity matrix), date, and whether it is the child's first (first-time entrants)."""

    type = "offence_recorded"
    family = "outcomes"

    offence_id: Identifier
    category: OffenceCategory
    gravity_score: int = Field(ge=1, le=8)
    offence_date: BoundedDate
    first_offence: bool


# --- KPI 10: victims ------------------------------------------------------------------

VictimId = Annotated[str, StringConstraints(pattern=r"^V-[0-9]{4,12}$", strip_whitespace=True)]
"""A victim's pseudonymous number on the case (``V-0001``): digits only, so it can never
carry a name; the victim's details stay with the victim service, not here."""

VictimKind = Literal["individual", "business", "organisation", "community"]
ContactMethod = Literal["in_person", "phone", "letter", "email", "via_police"]
RjKind = Literal["direct_meeting", "indirect_letter", "shuttle_mediation",
                 "direct_reparation", "indirect_reparation"]
Satisfaction = Literal["very_satisfied", "satisfied", "neither", "dissatisfied",
                       "very_dissatisfied"]


class VictimIdentified(Event):
    """A victim of the offence was identified (KPI 10's denominator)."""

    type = "victim_identified"
    family = "outcomes"

    victim_id: VictimId
    victim_kind: VictimKind


class VictimContacted(Event):
    """The service contacted the victim."""

    type = "victim_contacted"
    family = "outcomes"

    victim_id: VictimId
    method: ContactMethod


class VictimConsentRecorded(Event):
    """The victim consented (or declined) to further contact from the service."""

    type = "victim_consent_recorded"
    family = "outcomes"

    victim_id: VictimId
    consented: bool


class VictimViewsTaken(Event):
    """The victim's views were taken (to inform the plan, a panel or a report)."""

    type = "victim_views_taken"
    family = "outcomes"

    victim_id: VictimId
    method: ContactMethod


class RestorativeJusticeOffered(Event):
    """Restorative justice was offered to the victim."""

    type = "restorative_justice_offered"
    family = "outcomes"

    victim_id: VictimId


class RestorativeJusticeTakenUp(Event):
    """The victim took up the restorative justice offered, in this form."""

    type = "restorative_justice_taken_up"
    family = "outcomes"

    victim_id: VictimId
    kind: RjKind


class RestorativeJusticeCompleted(Event):
    """The restorative justice the victim took up was completed."""

    type = "restorative_justice_completed"
    family = "outcomes"

    victim_id: VictimId


class VictimSatisfactionRecorded(Event):
    """How satisfied the victim was with the service (KPI 10)."""

    type = "victim_satisfaction_recorded"
    family = "outcomes"

    victim_id: VictimId
    satisfaction: Satisfaction


# --- KPI 6: out-of-court disposals ---------------------------------------------------


class OutOfCourtInterventionCompleted(Event):
    """The child completed the intervention of an out-of-court disposal (KPI 6: completed
    as a proportion of out-of-court cases ending). A youth conditional caution's
    conditions (``events.enforcement``) must all be completed first."""

    type = "out_of_court_intervention_completed"
    family = "outcomes"

    note: PersonalText | None = None


# --- diversity (disproportionality) --------------------------------------------------

Ethnicity = Literal[
    "asian_bangladeshi", "asian_chinese", "asian_indian", "asian_pakistani", "asian_other",
    "black_african", "black_caribbean", "black_other",
    "mixed_white_and_asian", "mixed_white_and_black_african",
    "mixed_white_and_black_caribbean", "mixed_other",
    "white_british", "white_irish", "white_gypsy_or_irish_traveller", "white_roma",
    "white_other",
    "other_arab", "other_any",
    "not_stated",
]
"""The 19 ethnic groups of the ONS 2021 census for England and Wales (five high-level
groups: Asian, Black, Mixed, White, Other), and ``not_stated``."""

ETHNIC_GROUP: dict[str, str] = {
    value: value.split("_", 1)[0] if value != "not_stated" else "not_stated"
    for value in get_args(Ethnicity)
}
"""Each category's high-level group (asian, black, mixed, white, other)."""

Sex = Literal["female", "male", "not_stated"]

SealedEthnicity = Annotated[Ethnicity, PERSONAL, BASIC]
"""An ethnicity sealed with the child's basic key, like the date of birth."""
SealedSex = Annotated[Sex, PERSONAL, BASIC]
"""The child's sex, sealed with the child's basic key, like the date of birth."""


class DiversityRecorded(Event):
    """The child's ethnicity (ONS 2021 categories) and sex, as the child or family stated
    them: sealed, and erased with the child's key. Ages at offence and disposal are not
    stored: they are computed from the sealed date of birth."""

    type = "diversity_recorded"
    family = "outcomes"

    ethnicity: SealedEthnicity | None = None
    sex: SealedSex | None = None
    # Both may be absent when read: an erased child's values read as None. ``decide``
    # refuses a new record that gives neither.


# --- the child's and parents' voice --------------------------------------------------

FeedbackQuestion = Literal[
    "i_was_listened_to", "my_worker_helped_me", "i_understood_my_plan",
    "i_was_treated_fairly", "i_had_a_say_in_decisions", "things_are_better_for_me",
    "i_felt_safe", "i_would_recommend_the_service",
]
MIN_SCORE = 1
MAX_SCORE = 5
"""Each answer is scored 1 (strongly disagree) to 5 (strongly agree)."""


class FeedbackAnswer(Fact):
    """One structured question and its score."""

    question: FeedbackQuestion
    score: int = Field(ge=MIN_SCORE, le=MAX_SCORE)


class FeedbackGiven(Event):
    """The child or a parent/carer answered the feedback questions, at a review or at the
    end of the order (the board's "voice of the child")."""

    type = "feedback_given"
    family = "outcomes"

    respondent: Literal["child", "parent_carer"]
    point: Literal["review", "end"]
    answers: list[FeedbackAnswer] = Field(min_length=1, max_length=8)
    comment: PersonalText | None = None

    @model_validator(mode="after")
    def _once_each(self) -> FeedbackGiven:
        questions = [a.question for a in self.answers]
        if len(set(questions)) != len(questions):
            raise ValueError("each question may be answered once")
        return self
