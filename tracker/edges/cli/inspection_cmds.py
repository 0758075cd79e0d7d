"""CLI for inspection scoping: ``tracker sample --seed S`` draws the case sample.

The sample is reproducible (same cases in scope and seed, same sample) and stratified as
the inspectorate draws it (seed 001 §3.33; seed 004): the policy's court share, its
fraction of the cases in scope and at least its minimum. ``tracker ratings --sample-seed S``
rates the same sample.
"""

from __future__ import annotations

from typing import Annotated

import typer

from projections import queries
from tracker.edges.cli import context as ctx


def register(app: typer.Typer) -> None:
    app.command("sample")(sample)


def sample(
    seed: Annotated[int, typer.Option("--seed", min=0, max=2**63 - 1,
                                      help="The seed: the same seed draws the same sample.")],
    start: Annotated[str | None, typer.Option(
        "--from", metavar=ctx.DATE,
        help="First day of the window (default: six months before --to).")] = None,
    end: Annotated[str | None, typer.Option(
        "--to", metavar=ctx.DATE, help="Last day (default: today).")] = None,
    team: Annotated[str | None, typer.Option(help="Only this team.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Draw a stratified sample of the cases that commenced supervision in the window."""
    result = queries.inspection_sample(ctx.app(), seed=seed, start=ctx.parse_date(start, "--from"),
                                       end=ctx.parse_date(end, "--to"), team=team)
    if as_json:
        ctx.emit_json(result)
        return
    period, scope, drawn = result["period"], result["in_scope"], result["drawn"]
    print(f"sample (seed {seed}) of cases that commenced supervision {period['from']} to "
          f"{period['to']}" + (f", team {team}" if team else "") +
          f" · policy {result['policy_version']}")
    print(f"in scope: {scope['cases']} ({scope['court']} court, {scope['out_of_court']} "
          f"out of court); drawn: {drawn['cases']} ({drawn['court']} court, "
          f"{drawn['out_of_court']} out of court)")
    for case_id in result["case_ids"]:
        print(case_id)
