"""The application service: load a case, authorise, decide, append. The only path that
writes events.

The CLI, the API, the web pages, the importer and the seeder all come through here, so
every write is checked by the same rules (the app's policy) and sealed with the same child
key, and the case's stream is read once per write.
"""

from __future__ import annotations

import json
import random
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import structlog

from events.case import CaseOpened
from events.catalogue import parse_event
from events.envelope import Actor, Draft, RecordedEvent, StreamWrite
from events.store import EventStore
from tracker.domain.access import Principal, authorise, authorise_operator
from tracker.domain.case import CaseState, evolve, fold, fold_on
from tracker.domain.commands import RecordEvent, parse_command
from tracker.domain.decide import as_stored, decide
from tracker.domain.policy import Policy
from tracker.kernel.clock import Clock
from tracker.kernel.errors import (
    CaseNotFound,
    ConcurrencyConflict,
    DuplicateEventConflict,
    FieldProblem,
    InvalidInput,
    TrackerError,
)
from tracker.services.app import App, policy_for

log = structlog.get_logger("tracker.services.cases")

RETRIES_ON_CONFLICT = 10
"""Attempts to re-decide on fresh state when another writer got in first (unpinned version)."""

Adapt = Callable[[CaseState, RecordEvent], RecordEvent]
"""Completes a command from the loaded case (e.g. ``tracker.domain.commands.as_plan``)."""

CACHED_CASES = 4096
"""Decision states kept per store (least recently used dropped): a command on a case
then reads and folds only the events after the cached one, not the whole stream."""


class StateCache:
    """Decision states of recently used cases, each with the hash of its last event.

    A state is only ever used after reading the stream from its version on: the stored
    event at that version must carry the remembered hash (which chains every event before
    it), so a state is never served for a stream that changed under it (another database,
    a restore, a tampered prefix) and the events after it are always read. States are
    folded from sealed events, so no personal data is kept (nothing for erasure to find).
    """

    def __init__(self, size: int = CACHED_CASES) -> None:
        self._size = size
        self._states: OrderedDict[str, tuple[CaseState, str]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, case_id: str) -> tuple[CaseState, str] | None:
        with self._lock:
            found = self._states.get(case_id)
            if found is not None:
                self._states.move_to_end(case_id)
            return found

    def put(self, case_id: str, state: CaseState, head_hash: str) -> None:
        with self._lock:
            old = self._states.get(case_id)
            if old is not None and old[0].version > state.version:
                return  # a slower reader must not put an older state back
            self._states[case_id] = (state, head_hash)
            self._states.move_to_end(case_id)
            while len(self._states) > self._size:
                self._states.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._states.clear()


_CACHES: weakref.WeakKeyDictionary[EventStore, StateCache] = weakref.WeakKeyDictionary()
_CACHES_LOCK = threading.Lock()


def state_cache(store: EventStore) -> StateCache:
    """The cache of decision states for one store (one database), shared by its services."""
    with _CACHES_LOCK:
        cache = _CACHES.get(store)
        if cache is None:
            cache = _CACHES[store] = StateCache()
        return cache


class CaseService:
    """Records commands against cases, with the rules and optimistic concurrency."""

    def __init__(self, store: EventStore, clock: Clock, policy: Policy) -> None:
        self.store = store
        self.clock = clock
        self.policy = policy
        self.states = state_cache(store)

    @classmethod
    def of(cls, app: App) -> CaseService:
        """The service for ``app``: its store, its clock and its policy."""
        return cls(app.store, app.clock, policy_for(app))

    def state(self, case_id: str) -> CaseState:
        """The decision state of a case (raises ``CaseNotFound`` if it has no events)."""
        state = self.load(case_id)
        if not state.exists:
            raise CaseNotFound(f"case {case_id} not found")
        return state

    def load(self, case_id: str) -> CaseState:
        """The decision state of a case (empty if it has no events), from the cached state
        and the events after it when the stream still holds that state's last event,
        else from the whole stream. Read sealed: deciding needs no personal data."""
        cached = self.states.get(case_id)
        if cached is not None:
            known, head = cached
            rows = self.store.read_stream(case_id, from_version=known.version, unseal=False)
            if rows and rows[0].stream_version == known.version and rows[0].hash == head:
                state = fold_on(known, rows[1:])
                if state is not None:
                    self.states.put(case_id, state, rows[-1].hash)
                    return state
        recorded = self.store.read_stream(case_id, unseal=False)
        state = fold(case_id, recorded)
        if recorded:
            self.states.put(case_id, state, recorded[-1].hash)
        return state

    def record(
        self,
        command: RecordEvent,
        *,
        actor: Actor | Principal,
        correlation_id: str,
        adapt: Adapt | None = None,
    ) -> list[RecordedEvent]:
        """Load the case once, authorise, decide and append one command.

        A ``Principal`` (someone signed in to the API or the pages) is authorised by the
        role matrix against the loaded case (``AccessDenied`` whether or not it exists); a
        bare ``Actor`` is the operator of the CLI, the importer or the seeder, who holds
        the database itself. A retry with the same ``event_id`` is a no-op. Without
        ``expected_version`` a concurrent write is retried on fresh state; with it, a
        stale version is reported as a ``ConcurrencyConflict``.
        """
        by = actor.actor if isinstance(actor, Principal) else actor
        for attempt in range(RETRIES_ON_CONFLICT):
            state = self.load(command.case_id)
            if isinstance(actor, Principal):
                authorise(actor, state, command,
                          peer_audit=self.policy.qa.allow_peer_audit)
            else:
                authorise_operator(actor, state, command)
            wanted = adapt(state, command) if adapt is not None else command
            if wanted.event_id in state.event_types:  # a retry: compare with what is stored
                stored = self.store.read_event(command.case_id, wanted.event_id)
                if stored is not None:
                    return [self._same_or_raise(stored, wanted)]
            drafts = decide(state, wanted, self.clock.now(), self.policy)
            expected = (
                wanted.expected_version if wanted.expected_version is not None else state.version
            )
            if wanted.expected_version is not None and wanted.expected_version != state.version:
                raise ConcurrencyConflict(command.case_id, wanted.expected_version, state.version)
            try:
                out = self.store.append(
                    command.case_id,
                    drafts,
                    expected_version=expected,
                    actor=by,
                    correlation_id=correlation_id,
                    subject_id=_subject(state, drafts),
                )
            except ConcurrencyConflict:
                if wanted.expected_version is not None:
                    raise
                time.sleep(random.uniform(0, 0.005) * (attempt + 1))  # jitter
                continue
            log.info(
                "event_recorded",
                case_id=command.case_id,
                event_type=out[0].type,
                event_id=str(out[0].event_id),
                stream_version=out[-1].stream_version,
                actor=by.user_id,
                role=by.role,
            )
            return out
        raise ConcurrencyConflict(command.case_id, None, self.store.stream_version(command.case_id))

    def _same_or_raise(self, rec: RecordedEvent, command: RecordEvent) -> RecordedEvent:
        drafts = decide_shape(command)
        if rec.type != drafts.event.type or rec.event != drafts.event:
            raise DuplicateEventConflict(command.event_id, "content")
        if rec.occurred_at != command.occurred_at:
            raise DuplicateEventConflict(command.event_id, "occurred_at")
        return rec

    def record_many(
        self,
        commands: Sequence[RecordEvent],
        *,
        actor: Actor,
        correlation_id: str,
        recorded_at: Sequence[datetime | None] | None = None,
        labels: Sequence[str] | None = None,
        actors: Sequence[Actor | None] | None = None,
        states: dict[str, CaseState] | None = None,
    ) -> list[RecordedEvent]:
        """Decide every command in order and append them all in one transaction.

        A bad command is reported with its label (e.g. "line 12") and nothing is written.
        ``states`` lets a caller that writes in chunks carry case states between calls;
        it is updated only once the chunk has been committed. ``actors`` names, per
        command, who recorded it when not ``actor`` (the seeder's managers record their
        decisions as managers).
        """
        known = states if states is not None else {}
        states = dict(known)
        writes: list[StreamWrite] = []
        for i, command in enumerate(commands):
            label = labels[i] if labels else f"command {i + 1}"
            state = states.get(command.case_id)
            if state is None:
                state = self.load(command.case_id)
            try:
                drafts = decide(state, command, self.clock.now(), self.policy)
            except TrackerError as exc:
                raise _labelled(exc, label) from None
            expected = command.expected_version
            if expected is not None and expected != state.version:
                raise _labelled(
                    ConcurrencyConflict(command.case_id, expected, state.version), label
                )
            when = recorded_at[i] if recorded_at else None
            by = actors[i] if actors else None
            try:
                authorise_operator(by or actor, state, command)
            except TrackerError as exc:
                raise _labelled(exc, label) from None
            writes.append(StreamWrite(command.case_id, drafts, state.version,
                                      _subject(state, drafts), when, by))
            for draft in drafts:
                state = evolve(state, _provisional(command.case_id, state.version + 1, draft))
                state = replace(state, version=state.version + 1)
            states[command.case_id] = state
        out = self.store.append_many(writes, actor=actor, correlation_id=correlation_id)
        known.update(states)
        return out


@dataclass(frozen=True)
class ImportLine:
    """One line of an import file, parsed."""

    number: int
    command: RecordEvent


def parse_jsonl(lines: Iterable[str]) -> list[ImportLine]:
    """Parse an import file; the first bad line is reported with its number and field."""
    out: list[ImportLine] = []
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            obj: Any = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise InvalidInput(
                [FieldProblem("(line)", f"not valid JSON: {exc.msg} at column {exc.colno}")],
                context=f"line {number}",
            ) from None
        if not isinstance(obj, dict):
            raise InvalidInput(
                [FieldProblem("(line)", "must be a JSON object")], context=f"line {number}"
            )
        out.append(ImportLine(number, parse_command(obj, context=f"line {number}")))
    return out


def decide_shape(command: RecordEvent) -> Draft:
    """The draft a command would produce, without rules (to compare a retry)."""
    event = as_stored(parse_event(command.event_type, command.data, context="data"))
    return Draft(event=event, occurred_at=command.occurred_at, event_id=command.event_id)


def _subject(state: CaseState, drafts: Sequence[Draft]) -> str | None:
    if state.child_id:
        return state.child_id
    for draft in drafts:
        if isinstance(draft.event, CaseOpened):
            return draft.event.child_id
    return None


def _provisional(case_id: str, version: int, draft: Draft) -> RecordedEvent:
    return RecordedEvent(
        position=0, event_id=draft.event_id, stream_id=case_id, stream_version=version,
        type=draft.event.type, schema_version=type(draft.event).version,
        occurred_at=draft.occurred_at, recorded_at=draft.occurred_at, recorded_by="",
        recorded_role="", correlation_id="", event=draft.event, prev_hash="", hash="",
    )


def _labelled(exc: TrackerError, label: str) -> TrackerError:
    if isinstance(exc, InvalidInput):
        return InvalidInput(exc.problems, context=label)
    exc.args = (f"{label}: {exc}",)
    return exc
