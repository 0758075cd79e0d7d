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

# The C encoder ``_PAYLOAD_JSON.encode`` builds on every call (``JSONEncoder.iterencode``
# with ``_one_shot``), built once: same arguments, except that it keeps no markers for
# circular references (a payload from ``model_dump`` has none), which makes it safe to
# share between threads. Half the cost of ``encode`` for a small payload.
_c_make_encoder = getattr(json.encoder, "c_make_encoder", None)
_PAYLOAD_C = None if _c_make_encoder is None else _c_make_encoder(
    None, _PAYLOAD_JSON.default, json.encoder.encode_basestring, None,
    _PAYLOAD_JSON.key_separator, _PAYLOAD_JSON.item_separator, True, False, True,
)


def canonical_payload(payload: dict[str, object]) -> str:
    """The one JSON spelling of a payload that is stored and hashed.

    Exactly ``json.dumps(payload, sort_keys=True, separators=(",", ":"),
    ensure_ascii=False)``, which builds this same encoder on every call.
    """
    if _PAYLOAD_C is None:  # a Python without the C accelerator
        return _PAYLOAD_JSON.encode(payload)
    return "".join(_PAYLOAD_C(payload, 0))


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


class WriteHasher:
    """``envelope_hash`` for the events of one stream write, whose envelopes share the
    stream, the recording moment, the author and the correlation id: those parts of the
    canonical envelope are spelt once per write instead of once per event. The bytes
    hashed are the same (``tests/test_chain.py`` holds it to ``link_hash``)."""

    __slots__ = ("_head", "_recorded", "_stream", "_types")

    def __init__(
        self, stream_id: str, recorded_at_iso: str, recorded_by: str, recorded_role: str,
        correlation_id: str,
    ) -> None:
        self._head = '{"correlation_id":' + _json_str(correlation_id) + ',"event_id":'
        self._recorded = (
            ',"recorded_at":' + _json_str(recorded_at_iso)
            + ',"recorded_by":' + _json_str(recorded_by)
            + ',"recorded_role":' + _json_str(recorded_role)
            + ',"schema_version":'
        )
        self._stream = ',"stream_id":' + _json_str(stream_id) + ',"stream_version":'
        self._types: dict[str, str] = {}

    def digest(
        self, prev_hash: str, event_id: str, stream_version: int, type: str,
        schema_version: int, occurred_at_iso: str, payload: str,
    ) -> str:
        """The link hash of one event of this write (``envelope_hash``'s bytes)."""
        tail = self._types.get(type)
        if tail is None:
            tail = self._types[type] = ',"type":' + _json_str(type) + "}\n"
        text = (
            prev_hash + "\n" + self._head + _json_str(event_id)
            + ',"occurred_at":' + _json_str(occurred_at_iso)
            + self._recorded + int.__repr__(schema_version)
            + self._stream + int.__repr__(stream_version) + tail + payload
        )
        return hashlib.sha256(text.encode()).hexdigest()
