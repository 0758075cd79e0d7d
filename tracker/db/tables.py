"""Every table the tracker has, on one ``MetaData``: what Alembic compares the migrations to.

The object is ``events.schema.metadata`` (the store's tables live with the store, the lowest
layer that has any); each module below adds its own tables to it on import.
"""

from __future__ import annotations

from events.schema import metadata
from tracker.db import (
    access_log_table,
    account_tables,
    board_tables,
    read_models,
    report_tables,
    sample_tables,
    worker_tables,
)

__all__ = ["access_log_table", "account_tables", "board_tables", "metadata", "read_models",
           "report_tables", "sample_tables", "worker_tables"]
