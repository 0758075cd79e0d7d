"""CLI for the event catalogue: which events exist and what each one's fields take.

Read from the pydantic models (``events.describe``), so it never drifts from what
``tracker record`` accepts.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from events.catalogue import EVENT_TYPES, event_class
from events.describe import EventDescription, FieldDescription, describe_event
from tracker.edges.cli import context as ctx

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def register(app: typer.Typer) -> None:
    events = ctx.group(app, "events", "The event types 'tracker record' accepts.")
    events.command("list")(list_events)
    events.command("show")(show_event)


def list_events(as_json: JsonFlag = False) -> None:
    """Every event type with its fields; a sealed (personal) field is marked with *."""
    described = [describe_event(cls) for cls in EVENT_TYPES.values()]
    if as_json:
        ctx.emit_json([d.to_dict() for d in described])
        return
    table = Table(title=f"Event types ({len(described)})", caption="* personal: sealed in storage")
    table.add_column("type", no_wrap=True, overflow="ellipsis", min_width=18)
    table.add_column("family", overflow="ellipsis", max_width=12)
    table.add_column("fields", overflow="fold", ratio=1)
    for d in described:
        names = [f.name + ("*" if f.personal else "") for f in d.fields if "." not in f.name]
        table.add_row(d.type, d.family, ", ".join(names))
    ctx.console.print(table)


def show_event(
    event_type: Annotated[str, typer.Argument(
        metavar="TYPE", help="An event type from 'tracker events list', e.g. contact_missed.")],
    as_json: JsonFlag = False,
) -> None:
    """One event type's fields: type, allowed values, bounds, required and personal."""
    described = describe_event(event_class(event_type.strip().replace("-", "_")))
    if as_json:
        ctx.emit_json(described.to_dict())
        return
    _print_event(described)


def _print_event(d: EventDescription) -> None:
    ctx.console.print(f"[bold]{d.type}[/] (version {d.version}, {d.family}): {d.summary}",
                      highlight=False)
    table = ctx.table(None, ("field", "type", "use", "allowed values and bounds"),
                      caption="sealed: personal, encrypted with the child's key in storage")
    table.columns[-1].overflow = "fold"  # an allowed value is never cut short
    for f in d.fields:
        use = "required" if f.required else "optional"
        table.add_row(f.name, f.type, use + (", sealed" if f.personal else ""), _limits(f))
    ctx.console.print(table)


def _limits(f: FieldDescription) -> str:
    parts: list[str] = []
    if f.allowed:
        parts.append("one of " + ", ".join(f.allowed))
    parts.extend(f.bounds)
    if f.default not in (None, []):
        shown = str(f.default).lower() if isinstance(f.default, bool) else str(f.default)
        parts.append(f"default {shown}")
    if f.description:
        parts.append(f.description)
    return "; ".join(parts)
