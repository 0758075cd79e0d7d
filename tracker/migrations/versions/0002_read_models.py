"""Read models: tables and checkpoints for the projections (issue 3).

Revision ID: 0002
Revises: 0001

Placeholder kept in the chain so that parallel work keeps one linear history; the owner of
the issue fills in upgrade() and downgrade().
"""

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
