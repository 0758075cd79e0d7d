"""Accounts, sessions, API tokens and the access log (issue 5).

Revision ID: 0003
Revises: 0002

Placeholder kept in the chain so that parallel work keeps one linear history; the owner of
the issue fills in upgrade() and downgrade().
"""

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
