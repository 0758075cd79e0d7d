"""The child's label on the case index, sealed (issue 12 §3: search by child label).

Revision ID: 0010_web_child_label
Revises: 0010_kpireports_figures (the lead re-chains the 0010s when merging)

``rm_case_records.child_label`` holds the label exactly as the event stored it, sealed with
the child's key: search opens it in memory within the cases the reader may read, so no
label is ever in clear in a table, and erasing the child (destroying the key) leaves
nothing that can match. Rows written before this revision have no label until the records
are refolded (``tracker project --rebuild --only records``, or the case's next event).
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_web_child_label"
down_revision = "0010_kpireports_figures"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("rm_case_records") as batch:
        batch.add_column(sa.Column("child_label", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("rm_case_records") as batch:
        batch.drop_column("child_label")
