"""Tamper evidence: each event's hash covers its canonical form and the previous hash.

The chain runs per stream (case), so a case's history can be verified, exported or moved
on its own. The global position is deliberately outside the hash: it is the delivery
order of this database, not a fact about the case. What is hashed is what is stored
(sealed payloads), so destroying a child's key leaves the chain intact.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from events.envelope import ENVELOPE_FIELDS, column_of

GENESIS = "0" * 64


@dataclass(frozen=True)
class ChainFields:
    """The stored columns that the hash covers, exactly as stored."""

    event_id: str
    stream_id: str
    stream_version: int
    type: str
    schema_version: int
    occurred_at: datetime
    recorded_at: datetime
    recorded_by: str
    recorded_role: str
    correlation_id: str
    payload: str

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> ChainFields:
        """The fields of a stored ``events`` row (its columns as ``events.schema`` names them)."""
        values = {name: row[column_of(name)] for name in ENVELOPE_FIELDS}
        values["event_id"] = str(values["event_id"])
        return cls(**values, payload=row["payload"])


def iso(moment: datetime) -> str:
    """One spelling of a moment: UTC, microseconds, 'Z'."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(fields: ChainFields) -> bytes:
    """Sorted-key JSON of the envelope, then the payload text verbatim."""
    envelope = {}
    for name in ENVELOPE_FIELDS:
        value = getattr(fields, name)
        envelope[name] = iso(value) if isinstance(value, datetime) else value
    head = json.dumps(envelope, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return head.encode() + b"\n" + fields.payload.encode()


def link_hash(prev_hash: str, fields: ChainFields) -> str:
    """SHA-256 over the previous link and this event's canonical form."""
    digest = hashlib.sha256(prev_hash.encode())
    digest.update(b"\n")
    digest.update(canonical(fields))
    return digest.hexdigest()


_PAYLOAD_JSON = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_payload(payload: dict[str, object]) -> str:
    """The one JSON spelling of a payload that is stored and hashed.

    Exactly ``json.dumps(payload, sort_keys=True, separators=(",", ":"),
    ensure_ascii=False)``, which builds this same encoder on every call.
    """
    return _PAYLOAD_JSON.encode(payload)


_json_str = json.encoder.encode_basestring  # what json.dumps uses when ensure_ascii=False


def envelope_hash(
    prev_hash: str,
    event_id: str,
    stream_id: str,
    stream_version: int,
    type: str,
    schema_version: int,
    occurred_at_iso: str,
    recorded_at_iso: str,
    recorded_by: str,
    recorded_role: str,
    correlation_id: str,
    payload: str,
) -> str:
    """``link_hash`` for the append path: the same bytes, spelt out without a dict.

    The envelope is written key by key in sorted order with the encoder ``json.dumps``
    uses, so the result is byte for byte ``canonical``'s; the moments come already
    spelt by ``iso`` (a write's ``recorded_at`` is spelt once for all its events).
    """
    head = (
        '{"correlation_id":' + _json_str(correlation_id)
        + ',"event_id":' + _json_str(event_id)
        + ',"occurred_at":' + _json_str(occurred_at_iso)
        + ',"recorded_at":' + _json_str(recorded_at_iso)
        + ',"recorded_by":' + _json_str(recorded_by)
        + ',"recorded_role":' + _json_str(recorded_role)
        + ',"schema_version":' + int.__repr__(schema_version)
        + ',"stream_id":' + _json_str(stream_id)
        + ',"stream_version":' + int.__repr__(stream_version)
        + ',"type":' + _json_str(type)
        + "}\n"
    )
    return hashlib.sha256(
        prev_hash.encode() + b"\n" + head.encode() + payload.encode()
    ).hexdigest()
