"""The fold: events into a case record (pure; corrections applied, repeats ignored)."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from events.catalogue import event_class
from events.envelope import RecordedEvent
from projections.record.facts import (
    LIST_KINDS,
    Alloc,
    AllocEnd,
    Assess,
    Attend,
    Audit,
    AuditDone,
    Breach,
    BreachDecision,
    CaseRecord,
    Change,
    Closed,
    Cond,
    CondEnd,
    Contract,
    Corr,
    Decision,
    Excuse,
    FollowUp,
    Label,
    Level,
    LevelAgreed,
    Miss,
    OffenceFact,
    Opened,
    Oversight,
    OversightDone,
    Panel,
    Plan,
    Prosecution,
    Referral,
    ReqFail,
    Review,
    Sched,
    SignOff,
    TDone,
    TPlan,
    Warn,
    Xfer,
)
from projections.record.moments import day_of_us, local_ordinal, to_us
from tracker.kernel.errors import CaseQuarantined, TrackerError


@dataclass(frozen=True, slots=True)
class RawEvent:
    """An event as the folds read it: its place, when it happened, and its payload as a
    JSON-ready dict (the stored shape; personal values may still be sealed tokens).

    The projector builds these straight from the stored rows (no re-validation: the write
    side validated every payload, and upcasters bring old versions to the current shape);
    ``raw(recorded)`` builds one from a ``RecordedEvent``. Both give the same facts.
    """

    position: int
    event_id: str
    stream_id: str
    stream_version: int
    type: str
    t: int
    d: int
    data: dict[str, Any]
    recorded_by: str = ""
    """Who recorded it (the envelope's actor): the manager of a manager's decision."""


def raw(rec: RecordedEvent) -> RawEvent:
    """The folds' view of a ``RecordedEvent``."""
    return RawEvent(
        rec.position, str(rec.event_id), rec.stream_id, rec.stream_version, rec.event.type,
        to_us(rec.occurred_at), local_ordinal(rec.occurred_at),
        rec.event.model_dump(mode="json"), rec.recorded_by,
    )


DobOpener = Callable[[str], date | None]
"""Opens a sealed date-of-birth token (None when the child's key was destroyed)."""

def _moment_us(value: str) -> int:
    return to_us(datetime.fromisoformat(value))


class Builder:
    """A mutable copy of a record, to apply many events and freeze once."""

    def __init__(self, record: CaseRecord, open_dob: DobOpener | None = None) -> None:
        self.case_id = record.case_id
        self.position = record.position
        self.version = record.version
        self.opened = record.opened
        self.closed = record.closed
        self.open_dob = open_dob
        self.skipped: dict[str, RawEvent] = {}
        """Events left out by ``refold`` (they failed, and a later correction names them)."""
        self.lists: dict[str, list[Any]] = {
            name: list(getattr(record, name)) for name in LIST_KINDS
        }

    def freeze(self) -> CaseRecord:
        return CaseRecord(
            case_id=self.case_id,
            position=self.position,
            version=self.version,
            opened=self.opened,
            closed=self.closed,
            **{name: tuple(items) for name, items in self.lists.items()},
        )

    def apply(self, ev: RawEvent) -> None:
        if ev.position <= self.position:
            return
        self.position = ev.position
        self.version = ev.stream_version
        if ev.type == "event_retracted":
            target = str(ev.data["target_event_id"])
            self._remove(target)
            self.lists["corrections"].append(
                Corr(ev.event_id, ev.position, ev.t, ev.d, target, "retracted"))
            return
        if ev.type == "event_superseded":
            target = str(ev.data["target_event_id"])
            self._supersede(ev.data, target, ev.recorded_by)
            self.lists["corrections"].append(
                Corr(ev.event_id, ev.position, ev.t, ev.d, target, "superseded"))
            return
        self._put(ev.type, ev.data, ev.event_id, ev.position, ev.t, ev.d, by=ev.recorded_by)

    def _find(self, target: str) -> tuple[str, int, Any] | None:
        if self.opened is not None and self.opened.id == target:
            return "opened", -1, self.opened
        if self.closed is not None and self.closed.id == target:
            return "closed", -1, self.closed
        for name, items in self.lists.items():
            for i, fact in enumerate(items):
                if fact.id == target:
                    return name, i, fact
        return None

    def _remove(self, target: str) -> None:
        found = self._find(target)
        if found is None:
            return
        name, index, _fact = found
        if name == "opened":
            self.opened = None
        elif name == "closed":
            self.closed = None
        else:
            del self.lists[name][index]

    def _supersede(self, data: dict[str, Any], target: str, by: str = "") -> None:
        found = self._find(target)
        if found is None:
            skipped = self.skipped.get(target)
            if skipped is not None:
                self._put_replacement(data, target, skipped.position, skipped.t, skipped.d,
                                      by=by)
            return
        name, index, fact = found
        when = data.get("replacement_occurred_at")
        if when is not None:
            t = _moment_us(when)
            d = day_of_us(t)
        else:
            t, d = fact.t, fact.d
        if name == "opened":
            self.opened = None
        elif name == "closed":
            self.closed = None
        else:
            del self.lists[name][index]
        self._put_replacement(data, target, fact.pos, t, d, index, by=by)

    def _put_replacement(self, data: dict[str, Any], target: str, pos: int, t: int, d: int,
                         index: int = -1, by: str = "") -> None:
        when = data.get("replacement_occurred_at")
        if when is not None and index < 0:
            t = _moment_us(when)
            d = day_of_us(t)
        type_name = str(data["replacement_type"]).strip().replace("-", "_")
        self._put(type_name, data["replacement"], target, pos, t, d, index=index, by=by)

    def _put(self, type_name: str, data: dict[str, Any], eid: str, pos: int, t: int, d: int,
             index: int = -1, by: str = "") -> None:
        by_maker = _BY_MAKERS.get(type_name)
        maker = _MAKERS.get(type_name)
        if maker is None and by_maker is None:
            return
        data = _with_defaults(type_name, data)
        if by_maker is not None:
            name, fact = by_maker(data, eid, pos, t, d, by)
        else:
            assert maker is not None
            name, fact = maker(data, eid, pos, t, d)
        if name == "opened":
            value = data.get("date_of_birth")
            token = value if isinstance(value, str) and value.startswith("sealed:") else None
            fact = fact._replace(dob=self._dob(value), dob_token=token)
            self.opened = fact
        elif name == "closed":
            self.closed = fact
        elif index >= 0:
            self.lists[name].insert(index, fact)
        else:
            self.lists[name].append(fact)

    def _dob(self, value: Any) -> int | None:
        if not isinstance(value, str):
            return None
        if value.startswith("sealed:"):
            opened = self.open_dob(value) if self.open_dob is not None else None
            return opened.toordinal() if opened is not None else None
        try:
            return date.fromisoformat(value).toordinal()
        except ValueError:
            return None


ByMaker = Callable[[dict[str, Any], str, int, int, int, str], tuple[str, Any]]
"""A maker that also takes who recorded the event: a manager's decision names its manager
from the envelope's actor (a version-1 entry from the field it carried)."""


def _level(p: dict[str, Any], i: str, pos: int, t: int, d: int, by: str) -> tuple[str, Any]:
    # A v2 change agreed on recording is one a manager recorded; practitioners' changes
    # await an ``intervention_level_change_agreed`` (its own fact).
    return "levels", Level(i, pos, t, d, p["intervention_level"], p["reason"],
                           p.get("v1_manager_id"))


def _oversight(p: dict[str, Any], i: str, pos: int, t: int, d: int, by: str
               ) -> tuple[str, Any]:
    return "oversights", Oversight(i, pos, t, d, p["oversight_id"], p["category"],
                                   p.get("action") is not None, _ord(p.get("action_due")), by,
                                   p.get("from_alert"))


_BY_MAKERS: dict[str, ByMaker] = {
    "exceptional_circumstances_recorded": lambda p, i, pos, t, d, by: ("excuses", Excuse(
        i, pos, t, d, str(p["failure_event_id"]), p.get("v1_manager_id") or by)),
    "intervention_level_changed": _level,
    "intervention_level_change_agreed": lambda p, i, pos, t, d, by: (
        "level_agreements", LevelAgreed(i, pos, t, d, str(p["change_event_id"]), by)),
    "breach_authorised": lambda p, i, pos, t, d, by: ("breach_decisions", BreachDecision(
        i, pos, t, d, str(p["breach_event_id"]), True, by)),
    "breach_declined": lambda p, i, pos, t, d, by: ("breach_decisions", BreachDecision(
        i, pos, t, d, str(p["breach_event_id"]), False, by)),
    "management_oversight_recorded": _oversight,
    "oversight_action_completed": lambda p, i, pos, t, d, by: ("oversight_done", OversightDone(
        i, pos, t, d, p["oversight_id"])),
}


_DEFAULTS: dict[str, tuple[int, dict[str, Any]]] = {}


def _with_defaults(type_name: str, data: dict[str, Any]) -> dict[str, Any]:
    """``data`` with the model's defaults for fields it lacks (payloads written before an
    optional field existed)."""
    found = _DEFAULTS.get(type_name)
    if found is None:
        cls = event_class(type_name)
        defaults = {
            name: f.get_default(call_default_factory=True)
            for name, f in cls.model_fields.items() if not f.is_required()
        }
        found = _DEFAULTS[type_name] = (len(cls.model_fields), defaults)
    count, defaults = found
    if len(data) >= count:
        return data
    return {**defaults, **data}


def _ord(value: str | None) -> int | None:
    return date.fromisoformat(value).toordinal() if value else None


Maker = Callable[[dict[str, Any], str, int, int, int], tuple[str, Any]]


def _plan(p: dict[str, Any], i: str, pos: int, t: int, d: int, revised: bool) -> tuple[str, Any]:
    domains = tuple(sorted({o["domain"] for o in p["objectives"]}))
    return "plans", Plan(i, pos, t, d, revised, domains, p["contingency_for_safety"],
                         p["contingency_for_risk"], p["child_involved"],
                         p["parent_carer_involved"])


_MAKERS: dict[str, Maker] = {
    "case_opened": lambda p, i, pos, t, d: ("opened", Opened(
        i, pos, t, d, p["child_id"], p["disposal_type"], p["route"],
        date.fromisoformat(p["start_date"]).toordinal(), _ord(p.get("expected_end_date")),
        p.get("setting") or "community", p["intervention_level"], p["service"], p["team"],
        None, None, p.get("offence_category"), p.get("child_label"))),
    "child_label_changed": lambda p, i, pos, t, d: ("labels", Label(
        i, pos, t, d, p.get("child_label"))),
    "case_closed": lambda p, i, pos, t, d: ("closed", Closed(i, pos, t, d, p["reason"])),
    "offence_recorded": lambda p, i, pos, t, d: ("offences", OffenceFact(
        i, pos, t, d, p["category"], int(p["gravity_score"]), bool(p["first_offence"]))),
    "case_manager_allocated": lambda p, i, pos, t, d: ("allocs", Alloc(
        i, pos, t, d, p["practitioner_id"], p["agency"], p["role"], p.get("team"),
        p.get("manager_id"))),
    "case_manager_allocation_ended": lambda p, i, pos, t, d: ("alloc_ends", AllocEnd(
        i, pos, t, d, p["practitioner_id"], p["role"], p["reason"])),
    "assessment_completed": lambda p, i, pos, t, d: ("assessments", Assess(
        i, pos, t, d, p["kind"], p["likelihood_of_reoffending"], p["safety_and_wellbeing"],
        p["risk_of_serious_harm"], p["strengths_recorded"], p["child_involved"],
        p["parent_carer_involved"], p["victim_considered"],
        p["other_agencies_information_used"])),
    "significant_change_noted": lambda p, i, pos, t, d: ("changes", Change(
        i, pos, t, d, tuple(p["domains"]))),
    "plan_agreed": lambda p, i, pos, t, d: _plan(p, i, pos, t, d, False),
    "plan_revised": lambda p, i, pos, t, d: _plan(p, i, pos, t, d, True),
    "contact_scheduled": lambda p, i, pos, t, d: ("scheduled", Sched(
        i, pos, t, d, p["contact_id"], p["kind"], _moment_us(p["scheduled_for"]),
        day_of_us(_moment_us(p["scheduled_for"])))),
    "contact_attended": lambda p, i, pos, t, d: ("attended", Attend(
        i, pos, t, d, p.get("contact_id"), p["kind"], p["participation"],
        tuple(p.get("barriers_noted") or ()), tuple(p.get("barriers_addressed") or ()),
        bool(p.get("parent_carer_present")))),
    "contact_missed": lambda p, i, pos, t, d: ("missed", Miss(
        i, pos, t, d, p.get("contact_id"), p["kind"], p["acceptable"], p["reason"])),
    "missed_contact_followed_up": lambda p, i, pos, t, d: ("followups", FollowUp(
        i, pos, t, d, str(p["missed_event_id"]), p["method"], p["child_reached"])),
    "review_completed": lambda p, i, pos, t, d: ("reviews", Review(
        i, pos, t, d, p["trigger"], tuple(p.get("changed_domains") or ()), p["plan_adjusted"],
        p["child_involved"], bool(p.get("parent_carer_involved")))),
    "transition_planned": lambda p, i, pos, t, d: ("tplans", TPlan(
        i, pos, t, d, p["transition_id"], p["kind"],
        date.fromisoformat(p["planned_date"]).toordinal(), p.get("receiving_case_manager"),
        p.get("receiving_service"), bool(p.get("accommodation_arranged")),
        bool(p.get("resettlement_plan_agreed")), bool(p.get("information_shared")),
        bool(p.get("handover_meeting_held")))),
    "transition_completed": lambda p, i, pos, t, d: ("tdone", TDone(
        i, pos, t, d, p.get("transition_id"), p["kind"], p.get("receiving_case_manager"),
        p.get("receiving_service"), p["information_shared"], p["handover_meeting_held"],
        p["accommodation_arranged"])),
    "warning_issued": lambda p, i, pos, t, d: ("warnings", Warn(
        i, pos, t, d, str(p["failure_event_id"]))),
    "breach_initiated": lambda p, i, pos, t, d: ("breaches", Breach(
        i, pos, t, d, tuple(str(f) for f in p["failure_event_ids"]),
        bool(p.get("serious_failure")))),
    "requirement_failed": lambda p, i, pos, t, d: ("req_failures", ReqFail(
        i, pos, t, d, p["requirement"])),
    "condition_set": lambda p, i, pos, t, d: ("conditions", Cond(
        i, pos, t, d, p["condition_id"], p["kind"],
        date.fromisoformat(p["deadline"]).toordinal())),
    "condition_completed": lambda p, i, pos, t, d: ("condition_ends", CondEnd(
        i, pos, t, d, p["condition_id"], True, False)),
    "condition_failed": lambda p, i, pos, t, d: ("condition_ends", CondEnd(
        i, pos, t, d, p["condition_id"], False, bool(p["reasonable_excuse"]))),
    "prosecution_decided": lambda p, i, pos, t, d: ("prosecutions", Prosecution(
        i, pos, t, d, str(p["failure_event_id"]), p["decision"])),
    "panel_held": lambda p, i, pos, t, d: ("panels", Panel(
        i, pos, t, d, p["kind"], tuple(p["attendee_roles"]),
        bool(p["victim_views_presented"]))),
    "contract_agreed": lambda p, i, pos, t, d: ("contracts", Contract(
        i, pos, t, d, tuple(sorted({o["domain"] for o in p["objectives"]})))),
    "referred_back_to_court": lambda p, i, pos, t, d: ("referrals", Referral(
        i, pos, t, d, p["reason"])),
    "joint_decision_made": lambda p, i, pos, t, d: ("decisions", Decision(
        i, pos, t, d, p["outcome"], tuple(p["agencies_present"]),
        bool(p["proportionate_assessment"]))),
    "case_audited": lambda p, i, pos, t, d: ("audits", Audit(
        i, pos, t, d, p.get("legacy_auditor_id") or "", p.get("question_set") or "hmip-youth-2021",
        tuple((a["standard"], a["lens"], bool(a["answer"])) for a in p["answers"]),
        p.get("safety_and_wellbeing"), p.get("risk_of_serious_harm"),
        tuple((a["action_id"], a["owner_id"], date.fromisoformat(a["due_date"]).toordinal())
              for a in p.get("actions") or ()))),
    "audit_action_completed": lambda p, i, pos, t, d: ("audit_done", AuditDone(
        i, pos, t, d, p["action_id"])),
    "transfer_requested": lambda p, i, pos, t, d: ("transfers", Xfer(
        i, pos, t, d, p["transfer_id"], "requested", p["kind"], p.get("to_team"),
        p.get("to_service"))),
    "transfer_accepted": lambda p, i, pos, t, d: ("transfers", Xfer(
        i, pos, t, d, p["transfer_id"], "accepted", None, p["team"], None)),
    "transfer_rejected": lambda p, i, pos, t, d: ("transfers", Xfer(
        i, pos, t, d, p["transfer_id"], "rejected", None, None, None)),
    "caretaking_ended": lambda p, i, pos, t, d: ("transfers", Xfer(
        i, pos, t, d, p["transfer_id"], "ended", None, None, None)),
    "document_countersigned": lambda p, i, pos, t, d: ("signoffs", SignOff(
        i, pos, t, d, str(p["document_event_id"]), "countersigned", None)),
    "document_returned": lambda p, i, pos, t, d: ("signoffs", SignOff(
        i, pos, t, d, str(p["document_event_id"]), "returned", p["reason"])),
}


# -- the fold -------------------------------------------------------------------------------


def evolve(record: CaseRecord, rec: RecordedEvent) -> CaseRecord:
    """The record after one more event. Pure; an event already applied is ignored."""
    builder = Builder(record)
    builder.apply(raw(rec))
    return builder.freeze()


def evolve_many(record: CaseRecord, recs: Iterable[RecordedEvent]) -> CaseRecord:
    """``evolve`` over several events of the same case, copying the record only once."""
    return evolve_raw(record, (raw(r) for r in recs))


def evolve_raw(
    record: CaseRecord, events: Iterable[RawEvent], open_dob: DobOpener | None = None
) -> CaseRecord:
    """The record after several raw events of the same case (the projector's path)."""
    builder = Builder(record, open_dob)
    for ev in events:
        builder.apply(ev)
    return builder.freeze()


def refold(
    case_id: str, events: Iterable[RawEvent], open_dob: DobOpener | None = None
) -> CaseRecord:
    """A case folded from scratch, leaving out any event that fails to fold when a later
    correction retracts or supersedes it: how a quarantined case comes back."""
    events = list(events)
    corrected = {str(e.data.get("target_event_id")) for e in events
                 if e.type in ("event_retracted", "event_superseded")}
    builder = Builder(CaseRecord(case_id=case_id), open_dob)
    for ev in events:
        try:
            builder.apply(ev)
        except Exception:
            if ev.event_id not in corrected:
                raise
            builder.skipped[ev.event_id] = ev
    return builder.freeze()


def fold(case_id: str, recs: Iterable[RecordedEvent]) -> CaseRecord:
    """The record of a case from its events (raw log order; corrections handled)."""
    return evolve_many(CaseRecord(case_id=case_id), recs)


def fold_raw(
    case_id: str, events: Iterable[RawEvent], open_dob: DobOpener | None = None
) -> CaseRecord:
    """``fold`` over raw events."""
    return evolve_raw(CaseRecord(case_id=case_id), events, open_dob)


@contextmanager
def folding(case_id: str) -> Iterator[None]:
    """Fold or evaluate one case on demand (replay, case page): a failure that is not a
    deliberate error reads as ``CaseQuarantined`` naming the case, never as a crash."""
    try:
        yield
    except TrackerError:
        raise
    except Exception as exc:
        raise CaseQuarantined(
            f"case {case_id} cannot be folded ({type(exc).__name__}); an administrator "
            "must correct it"
        ) from None


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while folding: the folds build millions of small
    acyclic objects (freed by reference counting) that would otherwise be scanned over and
    over; a rebuild spends a third of its time there. The previous state is restored."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
