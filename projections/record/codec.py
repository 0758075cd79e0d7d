"""The stored form of a case record: compact JSON, the date of birth and the child's label
sealed."""

from __future__ import annotations

import re
from datetime import date
from typing import Any, NamedTuple, Protocol

import orjson

from projections.record.facts import LIST_KINDS, CaseRecord, Closed, Opened


class DobSealer(Protocol):
    """Seals and opens the one personal value a record keeps (the date of birth)."""

    def seal(self, child_id: str, dob: date) -> str | None: ...

    def open(self, token: str) -> date | None: ...


_TUPLE_FIELDS: dict[type[NamedTuple], tuple[int, ...]] = {}


def _tuple_fields(cls: type[NamedTuple]) -> tuple[int, ...]:
    found = _TUPLE_FIELDS.get(cls)
    if found is None:
        hints = cls.__annotations__
        found = tuple(
            i for i, name in enumerate(cls._fields)
            if getattr(hints[name], "__forward_arg__", str(hints[name])).startswith("tuple")
        )
        _TUPLE_FIELDS[cls] = found
    return found


def _revive(cls: type[NamedTuple], raw: list[Any]) -> Any:
    for i in _tuple_fields(cls):
        value = raw[i]
        if isinstance(value, list):
            raw[i] = tuple(tuple(v) if isinstance(v, list) else v for v in value)
    return cls(*raw)


FORMAT = 3
"""The stored record's layout; a record stored in another layout is refolded from its events.
(3: an audit's actions and their completions; the case's offences; the child's label, the
opening's and ``labels``.)"""


def _sealed(token: str | None) -> str | None:
    """A label token only as the store sealed it: a clear value (folded from events that
    were never sealed, as in a unit test) is never written into a read model."""
    return token if token is not None and token.startswith("sealed:") else None


class StaleRecord(Exception):
    """A stored record was written in another layout (``FORMAT``): refold the case."""


def current_label(record: CaseRecord) -> str | None:
    """The child's label now, as its sealed token: the last change, else the opening's."""
    if record.labels:
        return _sealed(record.labels[-1].token)
    return _sealed(record.opened.label) if record.opened is not None else None


def dumps(record: CaseRecord, sealer: DobSealer) -> str:
    """The record as compact JSON; the date of birth only ever sealed with the child's key."""
    doc: dict[str, Any] = {"v": FORMAT, "case_id": record.case_id,
                           "position": record.position, "version": record.version,
                           "closed": record.closed}
    if record.opened is not None:
        o = record.opened
        token = o.dob_token
        if token is None and o.dob is not None:
            token = sealer.seal(o.child_id, date.fromordinal(o.dob))
        doc["opened"] = o._replace(dob=None, dob_token=token, label=_sealed(o.label))
    for name in LIST_KINDS:
        items = getattr(record, name)
        if name == "labels":
            items = tuple(item._replace(token=_sealed(item.token)) for item in items)
        if items:
            doc[name] = items
    return orjson.dumps(doc, default=list).decode()


def loads(text: str | bytes, sealer: DobSealer) -> CaseRecord:
    """A record stored by ``dumps``; a shredded date of birth comes back as None.

    Raises ``StaleRecord`` if it was stored in another layout."""
    doc = orjson.loads(text)
    if doc.get("v") != FORMAT:
        raise StaleRecord(doc.get("case_id"))
    opened = None
    if doc.get("opened"):
        o = Opened(*doc["opened"])
        token = o.dob_token
        dob = sealer.open(token) if token else None
        opened = o._replace(
            dob=dob.toordinal() if dob else None,
            dob_token=token if token and token.startswith("sealed:") else None,
        )
    closed = Closed(*doc["closed"]) if doc.get("closed") else None
    lists = {
        name: tuple(_revive(cls, raw) for raw in doc.get(name, ()))
        for name, cls in LIST_KINDS.items()
    }
    return CaseRecord(
        case_id=doc["case_id"], position=doc["position"], version=doc["version"],
        opened=opened, closed=closed, **lists,
    )


_SEALED_CHILD = re.compile(r'"sealed:v1:([A-Za-z0-9_.-]+):')


def sealed_child(text: str) -> str | None:
    """The child whose key opens the date of birth in a stored record (to preload it)."""
    found = _SEALED_CHILD.search(text)
    return found.group(1) if found else None
