"""What a delivery says about an alert: ids and classifications, never personal details.

Read from the alerts read model at send time, so a delivery carries the alert as it
stands now (an alert resolved before its send is still sent, and says so).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from sqlalchemy import Engine, select

from tracker.db.read_models import alerts
from tracker.kernel.config import Settings


@dataclass(frozen=True)
class AlertView:
    """The fields of an alert a delivery may carry: ids and classifications only."""

    alert_id: str
    rule: str
    severity: str
    case_id: str
    owner: str | None
    team: str | None
    status: str
    raised_at: datetime | None

    def as_json(self) -> dict[str, Any]:
        return {
            "alert_id": self.alert_id,
            "rule": self.rule,
            "severity": self.severity,
            "case_id": self.case_id,
            "owner": self.owner,
            "team": self.team,
            "status": self.status,
            "raised_at": self.raised_at.isoformat() if self.raised_at else None,
        }


def alert_link(settings: Settings, alert: AlertView) -> str:
    """Where the alert is shown (the case's page, behind sign-in)."""
    return f"{settings.public_url.rstrip('/')}/cases/{quote(alert.case_id, safe='')}"


def _view(row: Any) -> AlertView:
    m = row._mapping
    return AlertView(
        alert_id=str(m["alert_id"]),
        rule=str(m["rule"]),
        severity=str(m["severity"]),
        case_id=str(m["case_id"]),
        owner=m["owner"],
        team=m["team"],
        status=str(m["status"]),
        raised_at=m["raised_at"],
    )


_ALERT_COLUMNS = (
    alerts.c.alert_id, alerts.c.rule, alerts.c.severity, alerts.c.case_id, alerts.c.owner,
    alerts.c.team, alerts.c.status, alerts.c.raised_at,
)


def load_alert(engine: Engine, alert_id: str) -> AlertView | None:
    """The alert as it stands now, or None if the read model does not hold it."""
    query = select(*_ALERT_COLUMNS).where(alerts.c.alert_id == alert_id)
    with engine.connect() as conn:
        row = conn.execute(query).first()
    return None if row is None else _view(row)


def open_alerts_of(engine: Engine, owner: str) -> list[AlertView]:
    """Every open alert owned by ``owner``, most severe first within raise order."""
    query = (
        select(*_ALERT_COLUMNS)
        .where(alerts.c.status == "open", alerts.c.owner == owner)
        .order_by(alerts.c.raised_at, alerts.c.alert_id)
    )
    with engine.connect() as conn:
        return [_view(r) for r in conn.execute(query)]
