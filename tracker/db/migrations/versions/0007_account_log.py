"""The account log, and the client's request id in the access log (issue 9, section 5).

Revision ID: 0006_account_log
Revises: 0006q

Every change to an account (created, role, teams, deactivated, password reset) is a row of
``account_log``, append-only at the database like the access log (UPDATE and DELETE
refused by triggers). ``access_log.client_request_id`` keeps a well-formed
``X-Request-ID`` sent by the client apart from the server's own correlation id.
"""

import sqlalchemy as sa
from alembic import op

from events.schema import UTCDateTime

revision = "0006_account_log"
down_revision = "0006q"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "account_log",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True,
                  autoincrement=True),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("actor_id", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("change", sa.String(32), nullable=False),
        sa.Column("detail", sa.String(256), nullable=False),
        sa.Column("correlation_id", sa.String(64), nullable=False),
    )
    op.create_index("ix_account_log_user", "account_log", ["user_id", "at"])
    op.create_index("ix_account_log_at", "account_log", ["at"])
    op.add_column("access_log", sa.Column("client_request_id", sa.String(64), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION tracker_account_log_append_only() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION 'the account log is append-only';
            END $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            "CREATE TRIGGER account_log_append_only BEFORE UPDATE OR DELETE ON account_log "
            "FOR EACH ROW EXECUTE FUNCTION tracker_account_log_append_only()"
        )
    else:
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER account_log_no_{action.lower()} BEFORE {action} ON account_log "
                "BEGIN SELECT RAISE(ABORT, 'the account log is append-only'); END"
            )


def downgrade() -> None:
    op.drop_column("access_log", "client_request_id")  # not batch: that would drop triggers
    op.drop_table("account_log")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS tracker_account_log_append_only()")
