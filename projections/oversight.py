"""Management oversight on a case: the entries managers recorded and the actions they set
for the practitioner, each open, overdue (after its due date) or done. Pure."""

from __future__ import annotations

from datetime import date
from typing import TypedDict

from projections.visible import Visible


class OversightView(TypedDict):
    """One oversight entry as the case page and the API show it (the note stays sealed in
    the log; the timeline shows it to those who may read it)."""

    event_id: str
    oversight_id: str
    date: str
    category: str
    category_label: str
    manager: str
    from_alert: str | None
    action: bool
    due: str | None
    status: str  # no_action | open | overdue | done
    done_on: str | None


def oversight_view(v: Visible) -> list[OversightView]:
    """Every oversight entry visible as at ``v.at``, oldest first."""
    found: list[OversightView] | None = v.cache.get("oversight")
    if found is not None:
        return found
    labels = v.policy.manager_decisions.oversight_categories
    done = {d.oversight_id: d for d in v.oversight_done}
    today = v.last_day.toordinal()
    out: list[OversightView] = []
    for o in v.oversights:
        finished = done.get(o.oversight_id)
        if not o.has_action:
            status = "no_action"
        elif finished is not None:
            status = "done"
        elif o.due is not None and today > o.due:
            status = "overdue"
        else:
            status = "open"
        out.append({
            "event_id": o.id, "oversight_id": o.oversight_id,
            "date": date.fromordinal(o.d).isoformat(), "category": o.category,
            "category_label": labels.get(o.category, o.category.replace("_", " ")),
            "manager": o.manager, "from_alert": o.from_alert, "action": o.has_action,
            "due": date.fromordinal(o.due).isoformat() if o.due is not None else None,
            "status": status,
            "done_on": date.fromordinal(finished.d).isoformat() if finished else None,
        })
    v.cache["oversight"] = out
    return out


def oversight_actions(v: Visible) -> list[OversightView]:
    """The entries that set an action (what the practitioner has to do, or did)."""
    if not v.exists:
        return []
    return [o for o in oversight_view(v) if o["action"]]


class LevelChangeView(TypedDict):
    """A practitioner's change of intervention level still awaiting a manager's agreement."""

    event_id: str
    date: str
    level: str
    reason: str


def levels_awaiting(v: Visible) -> list[LevelChangeView]:
    """Changes of level awaiting agreement, when the policy asks for it
    ([manager_decisions] intervention_level_change_needs_agreement)."""
    if not v.exists or not v.policy.manager_decisions.intervention_level_change_needs_agreement:
        return []
    agreed = {a.change_id for a in v.level_agreements}
    return [{"event_id": c.id, "date": date.fromordinal(c.d).isoformat(), "level": c.level,
             "reason": c.reason}
            for c in v.levels if c.manager is None and c.id not in agreed]
