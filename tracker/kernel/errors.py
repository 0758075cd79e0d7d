"""Every error the tracker raises on purpose: one base class, one line each on when.

The CLI and the API turn a ``TrackerError`` into a clear message (and an HTTP status)
instead of a stack trace; anything else reaching the edge is a bug.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID


@dataclass(frozen=True)
class FieldProblem:
    """One field that failed validation, and why, in words a practitioner can act on."""

    field: str
    reason: str


class TrackerError(Exception):
    """Base of every deliberate error; ``http_status`` is what the API answers with."""

    http_status = 400
    code = "error"

    def to_dict(self) -> dict[str, object]:
        return {"error": self.code, "message": str(self)}


class InvalidInput(TrackerError):
    """Raised when a command, event or import line fails validation; names each field."""

    http_status = 422
    code = "invalid_input"

    def __init__(self, problems: Sequence[FieldProblem], context: str = "") -> None:
        self.problems = list(problems)
        self.context = context
        text = "; ".join(f"{p.field}: {p.reason}" for p in self.problems)
        super().__init__(f"{context}: {text}" if context else text)

    def to_dict(self) -> dict[str, object]:
        return {
            "error": self.code,
            "message": str(self),
            "fields": [{"field": p.field, "reason": p.reason} for p in self.problems],
        }


class RuleViolation(TrackerError):
    """Raised when a well-formed command breaks a case rule (e.g. a warning with no failure)."""

    http_status = 422
    code = "rule_violation"

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")

    def to_dict(self) -> dict[str, object]:
        return {
            "error": self.code,
            "message": str(self),
            "fields": [{"field": self.field, "reason": self.reason}],
        }


class UnknownEventType(TrackerError):
    """Raised when an event type name is not in the catalogue."""

    http_status = 422
    code = "unknown_event_type"


class CaseNotFound(TrackerError):
    """Raised when a command or query names a case that has no events."""

    http_status = 404
    code = "case_not_found"


class CaseAlreadyExists(TrackerError):
    """Raised when opening a case whose id is already in use."""

    http_status = 409
    code = "case_exists"


class ConcurrencyConflict(TrackerError):
    """Raised when a stream's version is not the one the writer expected."""

    http_status = 409
    code = "version_conflict"

    def __init__(self, stream_id: str, expected: int | None, actual: int) -> None:
        self.stream_id = stream_id
        self.expected = expected
        self.actual = actual
        super().__init__(
            f"case {stream_id}: expected version {expected}, but the case is at version {actual}"
        )

    def to_dict(self) -> dict[str, object]:
        return {
            "error": self.code,
            "message": str(self),
            "expected_version": self.expected,
            "actual_version": self.actual,
        }


class DuplicateEventConflict(TrackerError):
    """Raised when an event id is appended again with content other than the stored one."""

    http_status = 409
    code = "duplicate_event_id"

    def __init__(self, event_id: UUID, difference: str) -> None:
        self.event_id = event_id
        super().__init__(f"event {event_id} was already recorded with different {difference}")


class StoreUnavailable(TrackerError):
    """Raised when the database cannot be reached or answers with an infrastructure error."""

    http_status = 503
    code = "store_unavailable"


class SchemaNotReady(TrackerError):
    """Raised when the database has not been migrated to the schema this code needs."""

    http_status = 503
    code = "schema_not_ready"


class ConfigurationError(TrackerError):
    """Raised when settings are missing or contradictory (e.g. no master key in production)."""

    code = "configuration_error"


class ChildNotFound(TrackerError):
    """Raised when an erasure or export names a child with no case and no key."""

    http_status = 404
    code = "child_not_found"


class KeyUnavailable(TrackerError):
    """Raised when personal data must be sealed for a child whose key was destroyed."""

    http_status = 410
    code = "key_destroyed"


class AccessDenied(TrackerError):
    """Raised when the reader's role or team does not allow the action; says nothing more."""

    http_status = 403
    code = "forbidden"

    def __init__(self) -> None:
        super().__init__("you do not have access to this")


class NotAuthenticated(TrackerError):
    """Raised when a request carries no valid session or token."""

    http_status = 401
    code = "not_authenticated"


class CsrfRejected(TrackerError):
    """Raised when a session's form or request lacks that session's CSRF token."""

    http_status = 403
    code = "csrf_failed"

    def __init__(self) -> None:
        super().__init__("this form has expired or did not come from the tracker; reload and retry")


class UnknownReadModel(TrackerError):
    """Raised when a projection command names a read model that does not exist."""

    http_status = 404
    code = "unknown_read_model"


class PartitionLayoutMismatch(TrackerError):
    """Raised when a projector runs with another number of partitions than the store keeps."""

    http_status = 409
    code = "partition_layout_mismatch"


class AlertNotFound(TrackerError):
    """Raised when an alert id given to acknowledge or show is not in the alerts table."""

    http_status = 404
    code = "alert_not_found"


class CaseQuarantined(TrackerError):
    """Raised when a case's events cannot be folded or evaluated (the projector quarantined
    it): its read models are stale until a correction, an upcaster or a retry brings it back."""

    http_status = 503
    code = "case_quarantined"


class PayloadTooLarge(TrackerError):
    """Raised when a request body is larger than the configured limit (refused unparsed)."""

    http_status = 413
    code = "payload_too_large"


class BundleRejected(TrackerError):
    """Raised when a transfer bundle does not verify (digest, manifest or hash chain), was
    sealed with another transfer key, or cannot be imported here (the case or the child's
    keys already exist): nothing is written."""

    http_status = 422
    code = "bundle_rejected"


class SampleNotFound(TrackerError):
    """Raised when a dip sample id asked for (to show, or to rate over) was never drawn."""

    http_status = 404
    code = "sample_not_found"
