"""Pages read projected rows (issue 14, goal 4): each case's caseload line on its
``rm_aspire`` row and its engagement per calendar month on its ``rm_engagement`` row, so the
caseload, the compliance figures and the dashboard's engagement read rows instead of
refolding every case per request.

Revision ID: 0011_pages_projected_rows
Revises: 0010_web_child_label

Both columns are empty on rows written before this revision: such a row is read as not
current and its case is evaluated on the spot until the projector (``tracker projections
rebuild``, or the next event or sweep) writes it again. No personal data: ids, dates,
statuses and counts only.
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_pages_projected_rows"
down_revision = "0010_web_child_label"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("rm_aspire") as batch:
        batch.add_column(sa.Column("summary", sa.Text(), nullable=True))
    with op.batch_alter_table("rm_engagement") as batch:
        batch.add_column(sa.Column("calendar", sa.Text(), nullable=True))
    op.create_index("ix_rm_aspire_order", "rm_aspire",
                    ["team", "overdue", "next_due", "case_id"])


def downgrade() -> None:
    op.drop_index("ix_rm_aspire_order", table_name="rm_aspire")
    with op.batch_alter_table("rm_engagement") as batch:
        batch.drop_column("calendar")
    with op.batch_alter_table("rm_aspire") as batch:
        batch.drop_column("summary")
