"""Management oversight: a manager's entry on a case, in the service's oversight category,
with an optional action for the practitioner (seed 004: managers record "actions on
individual cases, in the appropriate management oversight category"; domain.md §12).

The categories are the policy's list (``[manager_decisions] oversight_categories``), checked
by ``decide``; the event keeps only the category's id.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import StringConstraints, ValidationInfo, model_validator

from events.base import BoundedDate, Event, Identifier, PersonalReason, PersonalText

AlertId = Annotated[str, StringConstraints(min_length=1, max_length=200,
                                           pattern=r"^[A-Za-z0-9_.:-]+$")]
"""An alert's id (``rule:case:subject:n``): no personal data, so kept in clear."""


class ManagementOversightRecorded(Event):
    """A manager recorded management oversight of the case: a category, a note and, when
    there is one, an action for the practitioner with its due date."""

    type = "management_oversight_recorded"
    family = "oversight"

    oversight_id: Identifier
    category: Identifier
    note: PersonalReason
    action: PersonalText | None = None
    action_due: BoundedDate | None = None
    from_alert: AlertId | None = None

    @model_validator(mode="after")
    def _action_and_due(self, info: ValidationInfo) -> ManagementOversightRecorded:
        # A stored entry whose action was erased (the child's key destroyed) reads with no
        # action beside its due date: checked on new input only.
        stored = isinstance(info.context, dict) and bool(info.context.get("stored"))
        if not stored and (self.action is None) != (self.action_due is None):
            raise ValueError("action and action_due go together: give both or neither")
        return self


class OversightActionCompleted(Event):
    """The action a manager set in an oversight entry was done."""

    type = "oversight_action_completed"
    family = "oversight"

    oversight_id: Identifier
    note: PersonalText | None = None
