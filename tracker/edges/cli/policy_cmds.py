"""CLI for the policy in force: ``tracker policy show [--disposal D] [--json]``.

Prints every rule the service runs under, with its value and where it comes from (statute,
seed section or local practice), and the policy's version, so a manager can see why an
alert was raised and an inspector can check the rules against their sources.
"""

from __future__ import annotations

import json
from typing import Annotated, get_args

import typer

from events.case import DisposalType
from tracker.edges.cli import context as ctx
from tracker.kernel.errors import FieldProblem, InvalidInput
from tracker.services.app import policy_for

DISPOSALS: tuple[str, ...] = get_args(DisposalType)


def register(app: typer.Typer) -> None:
    policy = ctx.group(app, "policy", "The supervision policy in force.")
    policy.command("show")(show)


def show(
    disposal: Annotated[str | None, typer.Option(
        "--disposal", help=f"Only this disposal's profile ({', '.join(DISPOSALS)}).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")
                       ] = False,
) -> None:
    """The rules in force, with their sources and the policy version."""
    if disposal is not None and disposal not in DISPOSALS:
        raise InvalidInput([FieldProblem(
            "--disposal", f"unknown disposal '{disposal}'; known: {', '.join(DISPOSALS)}")])
    policy = policy_for(ctx.app())
    rules = policy.rules_in_force(disposal)
    if as_json:
        ctx.emit_json({
            "version": policy.version,
            "loaded_from": policy.source,
            "disposal": disposal,
            "rules": [r.model_dump(mode="json") for r in rules],
        })
        return
    print(f"policy {policy.version} ({policy.source})")
    for r in rules:  # one rule a line, its source under it: easy to read and to grep
        print(f"{r.rule} = {json.dumps(r.value, default=str, ensure_ascii=False)}")
        print(f"    source: {r.source}")
