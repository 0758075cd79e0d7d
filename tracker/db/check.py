"""Do the table definitions match what the migrations build? Alembic's comparison says.

Code reads and writes through ``tracker.db.tables.metadata``; the database is built by the
migrations. When the two drift apart (an index only a migration creates, a column only
the code knows), nothing fails until a query plan or a constraint does: ``tracker db
check`` lists every difference instead.
"""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, Connection, Constraint, Index, Table

from tracker.db.migrations import head_revision
from tracker.db.tables import metadata
from tracker.kernel.errors import SchemaNotReady


def differences(conn: Connection) -> list[str]:
    """Every difference between the tables and the database, one sentence each.

    Raises ``SchemaNotReady`` unless the database is migrated to the newest revision:
    differences from an older one only say to run the migrations.
    """
    context = MigrationContext.configure(conn, opts={"compare_type": True})
    current, head = context.get_current_revision(), head_revision()
    if current != head:
        raise SchemaNotReady(
            f"the database is at revision {current or 'none'}, not {head}: "
            "run 'tracker db upgrade' first"
        )
    found: list[str] = []
    for diff in compare_metadata(context, metadata):
        # A change to a column comes as a list of changes, each a tuple like the others.
        for change in diff if isinstance(diff, list) else [diff]:
            found.append(_sentence(change))
    return found


def _sentence(change: tuple[Any, ...]) -> str:
    kind, args = change[0], change[1:]
    if kind.startswith("modify_"):
        _schema, table, column, _existing, in_database, in_tables = args
        return (
            f"{kind.removeprefix('modify_')} of column {table}.{column}: "
            f"{in_database!r} in the database, {in_tables!r} in the table definitions"
        )
    what = " ".join(_name(a) for a in args if a is not None)
    if kind.startswith("add_"):
        return f"{what}: in the table definitions, not in the database"
    if kind.startswith("remove_"):
        return f"{what}: in the database, not in the table definitions"
    return f"{kind}: {what}"


def _name(item: Any) -> str:
    if isinstance(item, str):  # the table of an added or removed column
        return f"table {item}"
    if isinstance(item, Table):
        return f"table {item.name}"
    if isinstance(item, Column):
        return f"column {item.name}"
    if isinstance(item, Index):
        columns = ", ".join(getattr(e, "name", str(e)) for e in item.expressions)
        table = item.table.name if item.table is not None else "?"
        return f"{'unique ' if item.unique else ''}index {item.name} on {table} ({columns})"
    if isinstance(item, Constraint):
        return f"{type(item).__name__} {item.name}"
    return str(item)
