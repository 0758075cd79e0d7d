"""CLI for inspection scoping and dip sampling (issue 10 §6, issue 11 §3).

``tracker sample --seed S`` draws a reproducible sample of the cases that commenced
supervision in the window and **records** it (who drew it — ``TRACKER_USER`` — when, its
parameters and its cases), printing its id. Presets: ``inspection`` (the default: the
policy's court share, its fraction of the cases in scope and at least its minimum; seed 001
§3.33, seed 004), ``monthly_dip`` (N per practitioner, from last month by default) and
``custom`` (``--size`` cases over ``--strata``). ``tracker samples`` lists the samples
drawn, or shows one with ``--id``; ``tracker ratings --sample ID`` rates one.
"""

from __future__ import annotations

from typing import Annotated

import typer

from projections import queries
from projections.sampling import PRESETS, STRATA
from tracker.edges.cli import context as ctx
from tracker.kernel.errors import FieldProblem, InvalidInput


def register(app: typer.Typer) -> None:
    app.command("sample")(sample)
    app.command("samples")(samples)


def sample(
    seed: Annotated[int, typer.Option("--seed", min=0, max=2**63 - 1,
                                      help="The seed: the same seed draws the same sample.")],
    start: Annotated[str | None, typer.Option(
        "--from", metavar=ctx.DATE,
        help="First day of the window (default: six months before --to).")] = None,
    end: Annotated[str | None, typer.Option(
        "--to", metavar=ctx.DATE, help="Last day (default: today).")] = None,
    team: Annotated[str | None, typer.Option(help="Only this team.")] = None,
    preset: Annotated[str, typer.Option(
        help=f"One of {', '.join(PRESETS)}.")] = "inspection",
    strata: Annotated[str, typer.Option(
        help=f"custom: comma-separated strata from {', '.join(STRATA)}.")] = "",
    size: Annotated[int | None, typer.Option(min=1, max=10_000,
                                             help="custom: how many cases.")] = None,
    per_practitioner: Annotated[int | None, typer.Option(
        "--per-practitioner", min=1, max=100,
        help="monthly_dip: cases per practitioner (default: the policy's).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Draw a stratified sample of the cases that commenced supervision in the window, and
    record it."""
    if preset not in PRESETS:
        raise InvalidInput([FieldProblem("--preset", f"must be one of {', '.join(PRESETS)}")])
    result = queries.draw_dip_sample(
        ctx.app(), drawn_by=ctx.actor().user_id, preset=preset, seed=seed,
        start=ctx.parse_date(start, "--from"), end=ctx.parse_date(end, "--to"), team=team,
        strata=[s.strip() for s in strata.split(",") if s.strip()], size=size,
        per_practitioner=per_practitioner)
    if as_json:
        ctx.emit_json(result)
        return
    _print(result)


def samples(
    sample_id: Annotated[str | None, typer.Option("--id", help="Show this sample's cases.")
                         ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The dip samples drawn, newest first (or one, with ``--id``, and its cases)."""
    app = ctx.app()
    found = [queries.dip_sample(app, sample_id)] if sample_id else queries.list_samples(app)
    if as_json:
        ctx.emit_json(found[0] if sample_id else found)
        return
    for s in found:
        if sample_id:
            _print(s)
        else:
            done = sum(1 for c in s["cases"] if c["audited"])
            print(f"{s['sample_id']}  {s['drawn_at'][:16]}  {s['drawn_by']}  {s['preset']} "
                  f"seed {s['seed']}  {s['period']['from']}..{s['period']['to']}  "
                  f"{s['drawn']['cases']} cases, {done} audited")


def _print(result: queries.DipSample) -> None:
    period, scope, drawn = result["period"], result["in_scope"], result["drawn"]
    print(f"sample {result['sample_id']} ({result['preset']}, seed {result['seed']}) of cases "
          f"that commenced supervision {period['from']} to {period['to']}"
          + (f", team {result['team']}" if result["team"] else "")
          + f" · policy {result['policy_version']} · drawn by {result['drawn_by']}")
    print(f"in scope: {scope['cases']} ({scope['court']} court, {scope['out_of_court']} "
          f"out of court); drawn: {drawn['cases']} ({drawn['court']} court, "
          f"{drawn['out_of_court']} out of court)")
    for c in result["cases"]:
        print(f"{c['case_id']}  {c['stratum']}  "
              + (f"audited {c['audited_on']}" if c["audited"] else "not yet audited"))
