"""Erasure of a child's personal data: destroy the key, record it on each of their cases.

Crypto-shredding (``events.sealing``) makes every sealed value of the child unreadable in
every copy at once: the events, the read models' sealed date of birth, the managers'
sealed alert notes. The key is destroyed under the store's writer lock, so no write can
be stored under it afterwards; every process rereads keys within ``KEY_CHECK_SECONDS``.
Each of the child's cases then gets a ``personal_data_erased`` event (who, when, a reason
code), so the chain and the history show the erasure. Running it again records the event
on any case still without one (e.g. after a failure between the two steps).
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import uuid4

import structlog

from events.catalogue import parse_event
from events.envelope import Actor
from events.erasure import ErasureScope, PersonalDataErased
from tracker.domain.commands import RecordEvent
from tracker.kernel.errors import AccessDenied, ChildNotFound
from tracker.services.app import App
from tracker.services.cases import CaseService

log = structlog.get_logger("tracker.services.erasure")


@dataclass(frozen=True)
class Erasure:
    """What an erasure did: whether a key was destroyed now, and the cases it recorded on."""

    child_id: str
    key_destroyed: bool
    case_ids: tuple[str, ...]
    recorded_on: tuple[str, ...]

    def to_dict(self) -> dict[str, object]:
        return {
            "child_id": self.child_id, "key_destroyed": self.key_destroyed,
            "case_ids": list(self.case_ids), "recorded_on": list(self.recorded_on),
        }


def erase_child(
    app: App, child_id: str, reason: str, *, actor: Actor, correlation_id: str,
    reference: str | None = None, scope: ErasureScope = "all",
) -> Erasure:
    """Erase the child's personal data (admin, or the retention job acting as ``system``);
    with ``scope="detail"``, only the narrative: the records reduced to basic information.

    Raises ``AccessDenied`` for any other role, ``InvalidInput`` for a reason outside
    the codes, ``ChildNotFound`` when the child has neither a case nor a key.
    """
    if actor.role != "admin":
        raise AccessDenied()
    # Validate the reason before anything is destroyed: a bad code must not half-erase.
    data = {"child_id": child_id, "reason": reason, "reference": reference, "scope": scope}
    parse_event(PersonalDataErased.type, data)
    case_ids = app.store.streams_of_subject(child_id)
    destroyed = app.store.destroy_key(child_id, app.clock.now(), scope)
    if not case_ids and not destroyed:
        raise ChildNotFound(f"child {child_id} has no case and no key")
    service = CaseService.of(app)
    recorded: list[str] = []
    for case_id in case_ids:
        if _recorded(app, case_id, scope):
            continue
        command = RecordEvent(
            case_id=case_id, event_type=PersonalDataErased.type, event_id=uuid4(),
            data=data,
            occurred_at=app.clock.now(),
        )
        service.record(command, actor=actor, correlation_id=correlation_id)
        recorded.append(case_id)
    log.info(
        "child_erased", child_id=child_id, reason=reason, scope=scope, key_destroyed=destroyed,
        cases=len(case_ids), actor=actor.user_id,
    )
    return Erasure(child_id, destroyed, tuple(case_ids), tuple(recorded))


def _recorded(app: App, case_id: str, scope: ErasureScope) -> bool:
    """Whether the case already records an erasure covering ``scope``."""
    return any(
        isinstance(e.event, PersonalDataErased) and e.event.scope in (scope, "all")
        for e in app.store.read_stream(case_id)
    )
