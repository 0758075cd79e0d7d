"""CLI: schema, cases and events, import, seed, history, verify."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    db = typer.Typer(help="Database schema.", no_args_is_help=True)

    @db.command("upgrade")
    def upgrade() -> None:
        """Create or migrate the schema to the newest revision."""
        from tracker.cli.context import app as get_app
        from tracker.cli.context import console
        from tracker.migrations import current_revision, upgrade

        the_app = get_app()
        upgrade(the_app.engine)
        console.print(f"schema at revision {current_revision(the_app.engine)}")

    app.add_typer(db, name="db")
