"""Workers: alert deliveries and scheduler bookkeeping (issue 4).

Revision ID: 0004
Revises: 0003

Placeholder kept in the chain so that parallel work keeps one linear history; the owner of
the issue fills in upgrade() and downgrade().
"""

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
