"""The one personal value the read models keep, the date of birth, stays sealed.

A case record keeps the date-of-birth token exactly as the event stored it (sealed with
the child's key), and opens it in memory only to evaluate the 17½ rule. Destroying the
child's key (crypto-shredding) therefore makes it unreadable in the read models too.

Opening needs the child's data key. ``preload`` asks the keyring to fetch many children's
keys in a few queries (a rebuild meets thousands of children); ``SqlKeyring`` owns the
unwrapping, so there is one copy of it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import cast

from events.case import CaseOpened, ChildLabelChanged
from events.catalogue import event_class
from events.sealing import PREFIX, Keyring, SqlKeyring, open_text, seal, unseal
from projections.alerts import AlertView
from tracker.kernel.errors import KeyUnavailable
from tracker.services.app import App


def child_of(token: str) -> str | None:
    """The child id a sealed token was sealed for."""
    if not token.startswith(PREFIX):
        return None
    child, _, _rest = token[len(PREFIX):].partition(":")
    return child or None


ALERT_NOTES = ("ack_note", "close_note")
"""The managers' free-text notes on an alert: sealed with the child's key when written."""


def open_alert_notes(keyring: Keyring, views: list[AlertView]) -> list[AlertView]:
    """The alerts with their notes opened (``[erased]`` once the child was erased)."""
    if isinstance(keyring, SqlKeyring):
        keyring.preload(c for v in views for n in ALERT_NOTES
                        if (t := v[n]) and (c := child_of(t)) is not None)  # type: ignore[literal-required]
    out: list[AlertView] = []
    for view in views:
        opened = dict(view)
        for name in ALERT_NOTES:
            opened[name] = open_text(view[name], keyring)  # type: ignore[literal-required]
        out.append(cast(AlertView, opened))
    return out


def open_labels(keyring: Keyring, tokens: Iterable[str | None]) -> dict[str, str]:
    """The child labels these tokens hold, opened in memory (token -> label): ``[erased]``
    once the child's key is destroyed. Only for a reader who may read the cases (the
    caller has checked); the keys are fetched in bulk where the keyring can."""
    wanted = sorted({t for t in tokens if t})
    if isinstance(keyring, SqlKeyring):
        keyring.preload(c for t in wanted if (c := child_of(t)) is not None)
    out: dict[str, str] = {}
    for token in wanted:
        opened = unseal(ChildLabelChanged, {"child_label": token}, keyring, event_class)
        out[token] = str(opened.get("child_label"))
    return out


class KeyringDob:
    """Seals and opens dates of birth with each child's key (``record.DobSealer``)."""

    def __init__(self, keyring: Keyring) -> None:
        self._keyring = keyring

    @classmethod
    def for_app(cls, app: App) -> KeyringDob:
        return cls(app.keyring)

    def preload(self, child_ids: Iterable[str]) -> None:
        """Fetch the keys of these children in bulk, where the keyring can."""
        if isinstance(self._keyring, SqlKeyring):
            self._keyring.preload(child_ids)

    def forget(self) -> None:
        """Drop cached keys (so a key destroyed meanwhile is not used again)."""
        if isinstance(self._keyring, SqlKeyring):
            self._keyring.forget()

    def seal(self, child_id: str, dob: date) -> str | None:
        try:
            sealed = seal(CaseOpened, {"date_of_birth": dob.isoformat()}, child_id,
                          self._keyring, event_class)
        except KeyUnavailable:
            return None
        value = sealed.get("date_of_birth")
        return str(value) if value is not None else None

    def open(self, token: str) -> date | None:
        opened = unseal(CaseOpened, {"date_of_birth": token}, self._keyring, event_class)
        value = opened.get("date_of_birth")
        try:
            return date.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            return None
