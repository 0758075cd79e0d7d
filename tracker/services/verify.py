"""Walk every stream's hash chain and report the first broken link of each.

A link is broken when a version is missing or repeated, when an event's ``prev_hash`` is
not the hash of the event before it, or when the stored content no longer hashes to the
stored hash. An *anchor* (the JSON of an earlier run) also catches what a chain alone
cannot: a stream cut short at its tail, or rewritten wholesale with fresh hashes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Engine, select

from events.base import STORED
from events.catalogue import event_class, upcast
from events.chain import GENESIS, ChainFields, link_hash
from events.schema import events as events_table
from tracker.db import tx
from tracker.kernel.errors import TrackerError


@dataclass(frozen=True)
class Break:
    """The first broken link found in one stream."""

    case_id: str
    version: int
    problem: str
    detail: str

    def to_dict(self) -> dict[str, object]:
        return {"case_id": self.case_id, "version": self.version, "problem": self.problem,
                "detail": self.detail}


@dataclass
class VerifyReport:
    """What a verification run found; ``ok`` only if no stream has a break."""

    streams: int = 0
    events: int = 0
    breaks: list[Break] = field(default_factory=list)
    heads: dict[str, dict[str, object]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.breaks

    def to_dict(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "streams": self.streams,
            "events": self.events,
            "breaks": [b.to_dict() for b in self.breaks],
            "heads": self.heads,
        }


def verify(engine: Engine, *, anchor: Mapping[str, Any] | None = None,
           case_id: str | None = None) -> VerifyReport:
    """Check every stream (or one); compare with an earlier report's heads if given."""
    report = VerifyReport()
    current: str | None = None
    expected_version = 0
    prev = GENESIS
    broken = False
    for row in _rows(engine, case_id):
        sid = row["stream_id"]
        if sid != current:
            current, expected_version, prev, broken = sid, 0, GENESIS, False
            report.streams += 1
        report.events += 1
        expected_version += 1
        version = row["stream_version"]
        if not broken:
            problem = _check(row, expected_version, prev)
            if problem:
                report.breaks.append(Break(sid, version, *problem))
                broken = True
        prev = row["hash"]
        report.heads[sid] = {"version": version, "hash": row["hash"]}
    if anchor is not None:
        _compare_anchor(engine, report, anchor)
    return report


def _check(row: Mapping[str, Any], expected_version: int, prev: str) -> tuple[str, str] | None:
    version = row["stream_version"]
    if version != expected_version:
        return (
            "version_gap",
            f"expected version {expected_version}, found {version}: "
            f"{'an event is missing' if version > expected_version else 'a version repeats'}",
        )
    if row["prev_hash"] != prev:
        return (
            "link_mismatch",
            f"prev_hash {row['prev_hash'][:16]}… is not the hash of version {version - 1} "
            f"({prev[:16]}…): an earlier event was replaced or removed",
        )
    computed = link_hash(prev, ChainFields.from_row(row))
    if computed != row["hash"]:
        return ("content_altered", f"stored hash {row['hash'][:16]}… but the stored content "
                f"hashes to {computed[:16]}…; {_what_differs(row)}")
    return None


def _what_differs(row: Mapping[str, Any]) -> str:
    """Best effort at saying which part changed, from what can still be read."""
    try:
        data = json.loads(row["payload"])
    except ValueError:
        return "the payload is no longer valid JSON"
    if not _has_sealed(data):  # sealed fields cannot be checked without the child's key
        try:
            cls = event_class(row["event_type"])
            cls.model_validate(upcast(row["event_type"], row["schema_version"], data),
                               context=STORED)
        except (ValidationError, TrackerError):
            return "the payload no longer fits its event type"
    return "the payload or an envelope field (time, author, type) was changed"


def _has_sealed(data: object) -> bool:
    if isinstance(data, str):
        return data.startswith("sealed:")
    if isinstance(data, dict):
        return any(_has_sealed(v) for v in data.values())
    if isinstance(data, list):
        return any(_has_sealed(v) for v in data)
    return False


def _compare_anchor(engine: Engine, report: VerifyReport, anchor: Mapping[str, Any]) -> None:
    heads = anchor.get("heads", anchor)
    broken_cases = {b.case_id for b in report.breaks}
    hashes = _hashes_at(engine, heads)
    for sid, head in heads.items():
        if sid in broken_cases:
            continue
        version, digest = int(head["version"]), str(head["hash"])
        stored = hashes.get((sid, version))
        if stored is None:
            report.breaks.append(Break(sid, version, "truncated",
                                       f"the anchor has version {version}; it is gone now"))
        elif stored != digest:
            report.breaks.append(Break(sid, version, "rewritten",
                                       f"anchored hash {digest[:16]}… is now {stored[:16]}…"))


def _hashes_at(engine: Engine, heads: Mapping[str, Any]) -> dict[tuple[str, int], str]:
    t = events_table
    out: dict[tuple[str, int], str] = {}
    ids = list(heads)
    with tx.read(engine, tables="event store") as conn:
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            rows = conn.execute(
                select(t.c.stream_id, t.c.stream_version, t.c.hash).where(t.c.stream_id.in_(chunk))
            )
            for sid, version, digest in rows:
                if int(heads[sid]["version"]) == version:
                    out[(sid, version)] = digest
    return out


def _rows(engine: Engine, case_id: str | None) -> Iterator[Any]:
    t = events_table
    query = select(t).order_by(t.c.stream_id, t.c.stream_version)
    if case_id is not None:
        query = query.where(t.c.stream_id == case_id)
    with tx.read(engine, tables="event store") as conn:
        result = conn.execution_options(yield_per=2000).execute(query)
        for row in result:
            yield row._mapping
