"""A second key per child: the detail key, destroyed when records are reduced to basic.

Revision ID: 0009_tiered_child_keys
Revises: 0006_i9_no_dob_dates

``child_keys`` gains ``detail_wrapped_key`` (the key sealing narrative values: notes,
reasons, descriptions) and ``detail_destroyed_at``. Rows from before stay valid: their one
key keeps opening every value sealed under it; the detail key is created on the child's
first narrative write (a migration holds no master key, so it cannot create keys). A child
already erased has its detail key marked destroyed too, so no narrative write can create
a fresh key for them: every destroyed basic key implies a destroyed detail key.
"""

import sqlalchemy as sa
from alembic import op

from events.schema import UTCDateTime

revision = "0009_tiered_child_keys"
down_revision = "0006_i9_no_dob_dates"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("child_keys") as batch:
        batch.add_column(sa.Column("detail_wrapped_key", sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column("detail_destroyed_at", UTCDateTime, nullable=True))
    keys = sa.table("child_keys", sa.column("destroyed_at"), sa.column("detail_destroyed_at"))
    op.execute(keys.update().where(keys.c.destroyed_at.is_not(None))
               .values(detail_destroyed_at=keys.c.destroyed_at))


def downgrade() -> None:
    with op.batch_alter_table("child_keys") as batch:
        batch.drop_column("detail_destroyed_at")
        batch.drop_column("detail_wrapped_key")
