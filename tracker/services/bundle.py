"""The transfer bundle: one case's events, verifiable, to continue the case in another service.

A bundle is one JSON document::

    {"format": "tracker-transfer-bundle/1",
     "manifest": {case_id, child_id, count, first_hash, last_hash, policy_version,
                  exported_at, exported_by, keys: {basic, detail}},
     "events": [the stored rows: envelope, sealed payload, prev_hash, hash; in order],
     "digest": "hmac-sha256:<hex over the canonical JSON of format, manifest and events>"}

How personal data travels. The events go exactly as stored: personal fields stay sealed
with the child's data keys, so the hash chain verifies byte for byte on both sides and
continues unbroken. The child's data keys go in the manifest wrapped (AES-256-GCM) by a
**transfer key**, a 32-byte secret the two services agree out of band (a file, never in
the bundle); the importer unwraps them and wraps them again with its own master key. So
the file holds no personal data in clear, nothing is unsealed on the way, and a key
already destroyed (erased data) travels as destroyed. The digest is an HMAC under the same
transfer key: a bundle altered anywhere (an event, the manifest, a key) is refused, even
if the tamperer recomputed the chain's hashes. Logs name the case and counts only.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import structlog
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from events.base import DETAIL
from events.chain import GENESIS, ChainFields, iso, link_hash
from events.envelope import ENVELOPE_FIELDS, RecordedEvent, column_of
from events.sealing import key_slot
from tracker.kernel.errors import BundleRejected, CaseNotFound, ConfigurationError
from tracker.services.app import App, policy_for

log = structlog.get_logger("tracker.services.bundle")

FORMAT = "tracker-transfer-bundle/1"
_TIMES = ("occurred_at", "recorded_at")


def read_transfer_key(path: Path) -> bytes:
    """The transfer key from a file (base64, standard or URL-safe, of 32 random bytes, as
    ``openssl rand -base64 32`` writes it)."""
    try:
        text = path.read_text().strip().replace("-", "+").replace("_", "/")
        key = base64.b64decode(text, validate=True)
    except (OSError, ValueError):
        raise ConfigurationError(f"cannot read a base64 transfer key from {path}") from None
    return check_key(key)


def check_key(key: bytes) -> bytes:
    """``key`` if it is 32 bytes; else a clear error."""
    if len(key) != 32:
        raise ConfigurationError("the transfer key must be 32 bytes (base64-encoded)")
    return key


def export_bundle(app: App, case_id: str, transfer_key: bytes, exported_by: str) -> dict[str, Any]:
    """The bundle of ``case_id`` (``CaseNotFound`` if it has no events)."""
    rows = app.store.raw_stream(case_id)
    if not rows:
        raise CaseNotFound(f"case {case_id} not found")
    events = [_event_of(row) for row in rows]
    child_id = app.store.subject_of(case_id)
    keys = app.keyring.data_keys(child_id) if child_id else None
    aead = AESGCM(check_key(transfer_key))
    manifest: dict[str, Any] = {
        "case_id": case_id,
        "child_id": child_id,
        "count": len(events),
        "first_hash": events[0]["hash"],
        "last_hash": events[-1]["hash"],
        "policy_version": policy_for(app).version,
        "exported_at": iso(app.clock.now()),
        "exported_by": exported_by,
        "keys": {
            "basic": _wrap(aead, case_id, child_id, keys[0]) if child_id and keys else None,
            "detail": (_wrap(aead, case_id, key_slot(child_id, DETAIL), keys[1])
                       if child_id and keys else None),
        },
    }
    bundle = {"format": FORMAT, "manifest": manifest, "events": events}
    bundle["digest"] = _digest(transfer_key, bundle)
    log.info("bundle_exported", case_id=case_id, events=len(events))
    return bundle


def import_bundle(app: App, bundle: Mapping[str, Any], transfer_key: bytes) -> list[RecordedEvent]:
    """Verify ``bundle`` (digest, manifest, chain) and store its case here, to be continued
    through ``CaseService`` like any other. ``BundleRejected`` says what failed."""
    if not isinstance(bundle, Mapping) or bundle.get("format") != FORMAT:
        raise BundleRejected(f"not a transfer bundle (format must be {FORMAT})")
    given = bundle.get("digest")
    if not isinstance(given, str) or not hmac.compare_digest(
        given, _digest(check_key(transfer_key), bundle)
    ):
        raise BundleRejected(
            "the bundle's digest does not match: it was altered after export, or the "
            "transfer key is not the one it was exported with"
        )
    manifest, events = bundle.get("manifest"), bundle.get("events")
    if not isinstance(manifest, Mapping) or not isinstance(events, list) or not events:
        raise BundleRejected("the bundle has no manifest or no events")
    case_id = str(manifest.get("case_id"))
    rows = [_row_of(e, i) for i, e in enumerate(events, start=1)]
    _verify_chain(case_id, rows)
    expected = (len(rows), rows[0]["hash"], rows[-1]["hash"])
    if (manifest.get("count"), manifest.get("first_hash"), manifest.get("last_hash")) != expected:
        raise BundleRejected("the manifest's count or first/last hash does not match the events")
    child_id = manifest.get("child_id")
    key_row = None
    if isinstance(child_id, str):
        aead = AESGCM(transfer_key)
        keys = manifest.get("keys") or {}
        basic = _unwrap(aead, case_id, child_id, keys.get("basic"))
        detail = _unwrap(aead, case_id, key_slot(child_id, DETAIL), keys.get("detail"))
        here = app.keyring.data_keys(child_id)
        if here is None:
            key_row = app.keyring.key_row(child_id, basic, detail, app.clock.now())
        elif here != (basic, detail):  # the same keys: an earlier case of the child came too
            raise BundleRejected(f"child {child_id} already has other keys here: import refused")
    recorded = app.store.adopt_stream(case_id, rows, key_row)
    log.info("bundle_imported", case_id=case_id, events=len(recorded))
    return recorded


def dump(bundle: Mapping[str, Any]) -> str:
    """The bundle as the file holds it."""
    return json.dumps(bundle, sort_keys=True, indent=1, ensure_ascii=False)


def load(text: str) -> Any:
    """A bundle file's JSON (not yet verified)."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise BundleRejected(f"the bundle is not valid JSON ({exc.msg} at line {exc.lineno})"
                             ) from None


# -- the parts ---------------------------------------------------------------------------------


def _event_of(row: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in ENVELOPE_FIELDS:
        value = row[column_of(name)]
        out[name] = iso(value) if isinstance(value, datetime) else (
            str(value) if name == "event_id" else value)
    out.update(payload=row["payload"], prev_hash=row["prev_hash"], hash=row["hash"])
    return out


def _row_of(event: Any, number: int) -> dict[str, Any]:
    """A bundle's event as an ``events`` row (column names, aware datetimes)."""
    if not isinstance(event, Mapping):
        raise BundleRejected(f"event {number} is not an object")
    try:
        row = {column_of(name): event[name] for name in ENVELOPE_FIELDS}
        for name in _TIMES:
            row[column_of(name)] = datetime.fromisoformat(str(event[name]))
        row.update(payload=str(event["payload"]), prev_hash=str(event["prev_hash"]),
                   hash=str(event["hash"]))
    except (KeyError, ValueError) as exc:
        raise BundleRejected(f"event {number} is incomplete or malformed ({exc})") from None
    return row


def _verify_chain(case_id: str, rows: list[dict[str, Any]]) -> None:
    prev = GENESIS
    for version, row in enumerate(rows, start=1):
        if row["stream_id"] != case_id:
            raise BundleRejected(f"event {version} belongs to another case")
        if row["stream_version"] != version:
            raise BundleRejected(f"event {version}: version {row['stream_version']} is out of "
                                 "order (an event is missing or repeated)")
        if row["prev_hash"] != prev:
            raise BundleRejected(f"event {version}: its link to the event before is broken")
        if link_hash(prev, ChainFields.from_row(row)) != row["hash"]:
            raise BundleRejected(f"event {version}: its content does not match its hash")
        prev = row["hash"]


def _digest(key: bytes, bundle: Mapping[str, Any]) -> str:
    body = {k: bundle.get(k) for k in ("format", "manifest", "events")}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "hmac-sha256:" + hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


def _wrap(aead: AESGCM, case_id: str, slot: str, dek: bytes | None) -> str | None:
    if dek is None:
        return None
    nonce = os.urandom(12)
    sealed = aead.encrypt(nonce, dek, f"{FORMAT}:{case_id}:{slot}".encode())
    return base64.b64encode(nonce + sealed).decode()


def _unwrap(aead: AESGCM, case_id: str, slot: str, value: Any) -> bytes | None:
    if value is None:
        return None
    try:
        blob = base64.b64decode(str(value), validate=True)
        return aead.decrypt(blob[:12], blob[12:], f"{FORMAT}:{case_id}:{slot}".encode())
    except (ValueError, InvalidTag):
        raise BundleRejected("the child's keys in the bundle do not open with this transfer "
                             "key") from None
