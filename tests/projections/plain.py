"""A date-of-birth sealer for pure tests: no keys, the date kept as ISO text."""

from __future__ import annotations

from datetime import date


class PlainDob:
    """For pure tests: keeps the date as ISO text (never used against a real database)."""

    def seal(self, child_id: str, dob: date) -> str | None:
        return dob.isoformat()

    def open(self, token: str) -> date | None:
        return date.fromisoformat(token)
