"""Alembic environment: runs on the connection that ``tracker.db.migrations.upgrade`` passes."""

from __future__ import annotations

from alembic import context

from tracker.db.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only when someone runs the alembic CLI by hand
    raise SystemExit("run migrations with 'tracker db upgrade'")

context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
