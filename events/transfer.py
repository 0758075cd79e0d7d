"""Transfer: the case's owning team changes only through these events (domain.md §7).

A transfer is requested by the case's team, to another team of this service or to another
service, full (the receiving team takes the case over) or caretaking (the home team keeps
it while a host team supervises, e.g. the child stays elsewhere for a while). The
receiving team's manager accepts or rejects it; a rejection changes nothing.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from events.base import Event, Identifier, PersonalText

TransferKind = Literal["full", "caretaking"]


class TransferRequested(Event):
    """The case's team asked another team (or another service) to take or host the case."""

    type = "transfer_requested"
    family = "transfer"

    transfer_id: Identifier
    kind: TransferKind
    to_team: Identifier | None = None
    to_service: Identifier | None = None
    reason: PersonalText = Field(min_length=1, max_length=2000)


class TransferAccepted(Event):
    """The receiving team's manager accepted the transfer: from now the receiving team owns
    (full) or hosts (caretaking) the case. ``team`` is the receiving team: the requested one,
    or, for a transfer to another service, the team of that service that takes the case."""

    type = "transfer_accepted"
    family = "transfer"

    transfer_id: Identifier
    team: Identifier
    note: PersonalText | None = None


class TransferRejected(Event):
    """The receiving team's manager declined the transfer, with a reason; nothing changes."""

    type = "transfer_rejected"
    family = "transfer"

    transfer_id: Identifier
    reason: PersonalText = Field(min_length=1, max_length=2000)


class CaretakingEnded(Event):
    """A caretaking arrangement ended: the host team's access ends, the home team carries on."""

    type = "caretaking_ended"
    family = "transfer"

    transfer_id: Identifier
    note: PersonalText | None = None
