"""The one synthetic caseload generator: stories that plan commands, one pipeline that
checks them with ``decide`` and simulates or records them through ``CaseService``.

``demo`` is the caseload behind ``tracker seed`` / ``tracker demo`` (every command valid);
``varied`` the freer stories the property tests and benchmarks draw, filtered by ``accept``.
"""

from tracker.services.synthetic.pipeline import (
    SYNTH_ACTOR,
    Proposal,
    accept,
    check,
    simulate,
    write,
)
from tracker.services.synthetic.varied import caseload, plan_case

__all__ = [
    "SYNTH_ACTOR", "Proposal", "accept", "caseload", "check", "plan_case", "simulate", "write",
]
