"""Dip sampling (seed 004; domain.md §12): a reproducible random draw of cases, stratified.

Pure: the candidates (every case in the window, with the facts a stratum may name) and the
parameters in, the chosen ids out. Same candidates, same parameters, same seed: same sample.

Presets:

* ``inspection`` — the inspectorate's draw (seed 001 §3.33; seed 004): court and
  out-of-court in the policy's court share, the policy's fraction of the cases and at least
  its minimum (``projections.ratings.draw_sample``);
* ``monthly_dip`` — ``per_practitioner`` cases of each practitioner's caseload (the policy's
  ``[qa] monthly_dip_per_practitioner`` unless given), from the month before;
* ``custom`` — ``size`` cases spread over the strata asked for (route, team, practitioner,
  risk level) in proportion to their sizes (largest remainder, ties by stratum name), each
  stratum drawn at random.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

from projections.ratings import draw_sample
from tracker.domain.policy import Policy

Stratum = Literal["route", "team", "practitioner", "risk"]
STRATA: tuple[Stratum, ...] = ("route", "team", "practitioner", "risk")
Preset = Literal["inspection", "monthly_dip", "custom"]
PRESETS: tuple[Preset, ...] = ("inspection", "monthly_dip", "custom")


@dataclass(frozen=True)
class Candidate:
    """A case in the window, with what the strata look at."""

    case_id: str
    route: str
    team: str
    practitioner: str  # "unallocated" when no case manager holds it
    risk: str  # the latest risk of serious harm level, or "not_assessed"

    def key(self, strata: Sequence[Stratum]) -> str:
        """The case's stratum, e.g. ``court / T1``."""
        return " / ".join(getattr(self, s) for s in strata) or "all"


@dataclass(frozen=True)
class Drawn:
    case_id: str
    stratum: str


def draw(
    candidates: Sequence[Candidate], *, preset: Preset, seed: int, policy: Policy,
    strata: Sequence[Stratum] = (), size: int | None = None,
    per_practitioner: int | None = None,
) -> list[Drawn]:
    """The sample, sorted by stratum then case id."""
    pool = sorted(candidates, key=lambda c: c.case_id)
    if preset == "inspection":
        court = [c.case_id for c in pool if c.route == "court"]
        other = [c.case_id for c in pool if c.route != "court"]
        chosen = set(draw_sample(court, other, seed, policy))
        out = [Drawn(c.case_id, c.route) for c in pool if c.case_id in chosen]
    elif preset == "monthly_dip":
        n = per_practitioner or policy.qa.monthly_dip_per_practitioner
        rng = random.Random(seed)
        groups = _groups(pool, ("practitioner",))
        out = [Drawn(c.case_id, key) for key in sorted(groups)
               for c in rng.sample(groups[key], min(n, len(groups[key])))]
    else:
        wanted = min(size if size is not None else len(pool), len(pool))
        groups = _groups(pool, strata)
        quotas = _quotas({k: len(v) for k, v in groups.items()}, wanted)
        rng = random.Random(seed)
        out = [Drawn(c.case_id, key) for key in sorted(groups)
               for c in rng.sample(groups[key], quotas[key])]
    return sorted(out, key=lambda d: (d.stratum, d.case_id))


def _groups(pool: Sequence[Candidate], strata: Sequence[Stratum]) -> dict[str, list[Candidate]]:
    groups: dict[str, list[Candidate]] = defaultdict(list)
    for c in pool:
        groups[c.key(strata)].append(c)
    return groups


def _quotas(sizes: dict[str, int], wanted: int) -> dict[str, int]:
    """``wanted`` shared over the strata in proportion to their sizes (largest remainder)."""
    total = sum(sizes.values())
    if not total:
        return dict.fromkeys(sizes, 0)
    exact = {k: Fraction(wanted * n, total) for k, n in sizes.items()}
    quotas = {k: int(v) for k, v in exact.items()}
    left = wanted - sum(quotas.values())
    for k in sorted(sizes, key=lambda k: (-(exact[k] - quotas[k]), k))[:left]:
        quotas[k] += 1
    return quotas
