"""No date derived from the date of birth in clear: the 17½ date leaves stored rows.

Revision ID: 0006_i9_no_dob_dates
Revises: 0006_account_log

The probation alert's ``details`` and the stored continuity view kept the 17½ date (the
date of birth plus 17 years 6 months) in clear. The code no longer writes it; this removes
it from rows written before (JSON edited in Python, the same on SQLite and PostgreSQL).
No key is needed. The managers' notes written in clear are sealed by ``tracker db
seal-notes``: sealing needs the master key, which a migration does not hold.
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0006_i9_no_dob_dates"
down_revision = "0006_account_log"
branch_labels = None
depends_on = None


def upgrade() -> None:
    conn = op.get_bind()
    alerts = sa.table("alerts", sa.column("alert_id", sa.String), sa.column("details", sa.Text))
    rows = conn.execute(sa.select(alerts.c.alert_id, alerts.c.details)
                        .where(alerts.c.details.contains("transition_date"))).all()
    for alert_id, details in rows:
        data = json.loads(details)
        if data.pop("transition_date", None) is not None:
            data["status"] = "reached_or_approaching"
        conn.execute(sa.update(alerts).where(alerts.c.alert_id == alert_id)
                     .values(details=json.dumps(data, sort_keys=True)))
    views = sa.table("rm_continuity", sa.column("case_id", sa.String), sa.column("view", sa.Text))
    rows = conn.execute(sa.select(views.c.case_id, views.c.view)
                        .where(views.c.view.contains("transition_date"))).all()
    for case_id, text in rows:
        view = json.loads(text)
        probation = view.get("probation")
        if isinstance(probation, dict) and probation.get("transition_date") is not None:
            probation["transition_date"] = None
            conn.execute(sa.update(views).where(views.c.case_id == case_id)
                         .values(view=json.dumps(view, separators=(",", ":"))))


def downgrade() -> None:
    """Nothing to restore: the dates are recomputed from the sealed date of birth."""
