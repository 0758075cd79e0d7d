"""The application's parts as one value: what every layer above the domain is handed.

``tracker.bootstrap`` builds it; nothing below the composition root builds one. It lives
here, under the read side and the workers, so they can take it without importing the root.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy import Engine

from events.sealing import SqlKeyring
from events.store import EventStore
from tracker.domain.policy import Policy, load_policy
from tracker.kernel.clock import Clock
from tracker.kernel.config import Settings


class WorkerHandle(Protocol):
    """What the app needs of its attached workers (``workers.runtime.Workers``)."""

    @property
    def in_process(self) -> bool: ...

    def close(self) -> None: ...


@dataclass
class App:
    """What the edges need: settings, the engine, the store, the keyring and the clock."""

    settings: Settings
    engine: Engine
    store: EventStore
    keyring: SqlKeyring
    clock: Clock
    extras: dict[str, object] = field(default_factory=dict)
    workers: WorkerHandle | None = None  # broker, actors, append hint (workers.runtime.attach)

    def close(self) -> None:
        if self.workers is not None:
            self.workers.close()
        self.engine.dispose()


def policy_for(app: App) -> Policy:
    """The policy in force for this app (its ``policy_file``), loaded once per app."""
    found = app.extras.get("tracker.domain.policy")
    if isinstance(found, Policy):
        return found
    policy = load_policy(app.settings.policy_file)
    app.extras["tracker.domain.policy"] = policy
    return policy
