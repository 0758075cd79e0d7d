"""``tracker demo``: the README's main command on the embedded default."""

from __future__ import annotations

from collections import Counter
from typing import Annotated

import typer
from rich.table import Table

from tracker.cli import context as ctx


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)


def demo(
    cases: Annotated[int, typer.Option(min=1, max=5000, help="Cases to seed.")] = 60,
    seed_value: Annotated[int, typer.Option("--seed", help="Random seed.")] = 1,
) -> None:
    """Migrate, seed a synthetic caseload (once), and print a summary with the chain check."""
    from sqlalchemy import func, select

    from events.schema import events as events_table
    from tracker.migrations import upgrade
    from tracker.seed import seed_caseload
    from tracker.verify import verify

    app = ctx.app()
    upgrade(app.engine)
    summary = seed_caseload(app, cases=cases, seed=seed_value)
    with app.engine.connect() as conn:
        by_type: Counter[str] = Counter(dict(conn.execute(
            select(events_table.c.event_type, func.count()).group_by(events_table.c.event_type)
        ).all()))
    report = verify(app.engine)
    console = ctx.console
    console.rule("[bold]the tracker — demo on the embedded default (SQLite)")
    console.print(f"database: {app.settings.database_url}")
    console.print(f"seeded now: {summary['cases']} cases; already there: "
                  f"{summary['skipped_existing']}")
    table = Table(title=f"{sum(by_type.values())} events on {report.streams} cases")
    table.add_column("event type")
    table.add_column("count", justify="right")
    for name, count in sorted(by_type.items()):
        table.add_row(name, str(count))
    console.print(table)
    status = "[green]intact[/]" if report.ok else f"[red]broken in {len(report.breaks)} cases[/]"
    console.print(f"hash chain: {status} ({report.events} events verified)")
    example = app.store.stream_ids()[:1]
    if example:
        console.print(f"try: tracker history {example[0]}   ·   tracker verify   ·   "
                      "tracker record --help")
