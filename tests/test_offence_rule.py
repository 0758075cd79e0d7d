"""The case's offence: one rule (``tracker.domain.offence``) for a case with both
``case_opened.offence_category`` and ``offence_recorded``, either alone, or neither."""

from __future__ import annotations

from tracker.domain.offence import CaseOffence, RecordedOffence, case_offence, offence_category


def test_latest_offence_recorded_wins_over_case_opened() -> None:
    recorded = [RecordedOffence("robbery", 6, True), RecordedOffence("arson", 4, False)]
    assert case_offence("sexual_offences", recorded) == CaseOffence(
        "arson", 4, False, "offence_recorded")
    assert offence_category("sexual_offences", recorded) == "arson"


def test_case_opened_is_the_fallback_for_older_streams() -> None:
    assert case_offence("sexual_offences", []) == CaseOffence(
        "sexual_offences", None, None, "case_opened")
    assert offence_category(None, [RecordedOffence("drugs", 5, False)]) == "drugs"
    assert case_offence(None, []) is None and offence_category("", []) is None
