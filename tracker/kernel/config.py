"""Settings, read once from the environment (``TRACKER_*``) by the bootstrap."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything that differs between a laptop demo and a service's production host."""

    model_config = SettingsConfigDict(env_prefix="TRACKER_", extra="ignore")

    database_url: str = Field(
        default="sqlite:///tracker.db",
        description="SQLAlchemy URL; default is an SQLite file in the working directory",
    )
    master_key: str | None = Field(
        default=None,
        description="base64 of 32 random bytes that wraps every child's data key",
    )
    master_key_file: Path | None = Field(
        default=None,
        description="file holding the master key; on SQLite it is created beside the database",
    )
    redis_url: str | None = Field(default=None, description="Redis for workers; none = in-process")
    redis_namespace: str = Field(default="tracker", description="prefix of every Redis key")
    policy_file: Path | None = Field(default=None, description="a service's policy overrides")
    population_file: Path | None = Field(
        default=None,
        description="the local 10-17 population by ethnic group (docs/disproportionality.md)",
    )
    log_level: str = "INFO"
    log_json: bool = True
    environment: str = Field(default="development", description="'production' makes keys mandatory")
    max_body_bytes: int = Field(
        default=1_048_576, ge=1024,
        description="largest request body the web server reads; a larger one is refused (413)",
    )
    service_id: str | None = Field(
        default=None, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{1,63}$",
        description="this instance's youth justice service (e.g. YJS-LEEDS): a transfer offered "
        "to a service, not a team, is answered only on that service's own instance; unset, "
        "no such offer is answered here",
    )
    invitation_valid_hours: int = Field(
        default=72, ge=1, le=24 * 14,
        description="how long a set-password link works; local practice: long enough to "
        "reach someone over a weekend",
    )
    session_idle_minutes: int = Field(
        default=120, ge=5, le=24 * 60,
        description="a browser session ends after this long without a request; local practice "
        "(NCSC's device guidance leaves the figure to the service's risk assessment)",
    )
    session_absolute_hours: int = Field(
        default=12, ge=1, le=24 * 7,
        description="a browser session ends this long after sign-in, whatever happens; local "
        "practice: one working day",
    )
    session_touch_minutes: int = Field(
        default=5, ge=1, le=60,
        description="a session's last-seen time is written at most this often (a write per "
        "request would be waste); must stay below the idle time",
    )

    # -- workers (workers/, docs/workers.md) ---------------------------------------------
    public_url: str = Field(
        default="http://localhost:8000", description="base of the links in alert e-mails"
    )
    redis_heartbeat_timeout_ms: int = Field(
        default=60000, ge=1000,
        description="a worker silent this long is dead; its unacked messages are requeued",
    )
    redis_maintenance_chance: int = Field(
        default=1000, ge=1, le=1_000_000,
        description="per million broker calls: how often the dead-worker requeue check runs",
    )
    redis_timeout_seconds: float = Field(
        default=2.0, gt=0, description="Redis connect/read timeout, so an append never hangs"
    )
    worker_poll_ms: int = Field(
        default=100, ge=10, le=5000,
        description="longest wait between polls of an idle queue (dramatiq backs off to it)",
    )
    projection_batch_size: int = Field(default=500, ge=1, description="events per transaction")
    projection_partitions: int = Field(
        default=1, ge=1, le=256,
        description="partitions of the cases the worker processes project in parallel "
        "(tracker worker sets it to --partitions, by default --processes)",
    )
    projection_message_limit: int = Field(
        default=5000, ge=1, description="events one projection message handles before handing on"
    )
    catch_up_seconds: float = Field(
        default=30.0, gt=0, description="how often the scheduler enqueues a healing catch-up"
    )
    page_size: int = Field(
        default=50, ge=1, le=500,
        description="rows per page of the long lists (caseload, alerts, compliance "
                    "drill-downs, access log) when the request does not ask for a size",
    )
    max_page_size: int = Field(
        default=200, ge=1, le=1000,
        description="the most rows a request may ask for in one page of a long list",
    )
    sweep_every_minutes: int = Field(
        default=15, ge=1, description="sweep cadence unless the policy file sets one"
    )
    sweep_daily_at: str = Field(
        default="07:00", description="extra sweep on working days (HH:MM, London time)"
    )
    alert_channels: str = Field(
        default="", description="comma-separated: email, webhook; empty = no delivery"
    )
    alert_email_to: str | None = Field(
        default=None, description="recipient template, e.g. '{owner}@yjs.example.gov.uk'"
    )
    alert_recipients_file: Path | None = Field(
        default=None, description="TOML: [owners] and [teams] tables mapping ids to addresses"
    )
    smtp_host: str = "localhost"
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    smtp_from: str = "tracker@localhost"
    smtp_timeout_seconds: float = Field(default=10.0, gt=0)
    webhook_url: str | None = None
    webhook_secret: str | None = Field(
        default=None, description="HMAC-SHA256 key for the X-Tracker-Signature header"
    )
    webhook_timeout_seconds: float = Field(default=10.0, gt=0)
    delivery_max_attempts: int = Field(default=8, ge=1)
    delivery_min_backoff_ms: int = Field(default=15000, ge=1)
    delivery_max_backoff_ms: int = Field(default=3_600_000, ge=1)
    delivery_claim_seconds: float = Field(
        default=300.0, gt=0, description="a send in flight longer than this is tried again"
    )
    digest_enabled: bool = Field(default=False, description="a daily e-mail per alert owner")
    digest_at: str = Field(default="07:30", description="digest time on working days (London)")
    metrics_port: int | None = Field(default=None, description="Prometheus endpoint port")
    metrics_addr: str = "0.0.0.0"  # noqa: S104 - a container's metrics port is meant to be scraped
