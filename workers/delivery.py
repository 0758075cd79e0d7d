"""Alert delivery: the outbox of sends, the e-mail and webhook channels, and signing.

Flow: after the projection (or the sweep) has run, ``Outbox.create_for_open_alerts`` adds one
``deliveries`` row per configured channel for every open alert that has none yet (the key
``<alert_id>:<channel>`` is the primary key, so two workers noticing the same alert create
it once) and the caller enqueues one ``deliver(key)`` message per new row.

``deliver`` *claims* the row (a conditional UPDATE: pending and not claimed, or its claim
expired), sends, and marks it ``sent``. A second message for the same key, whether
redelivered by the broker or enqueued again by the healer, finds nothing to claim and
sends nothing. A failed send releases the claim with a backoff; after
``TRACKER_DELIVERY_MAX_ATTEMPTS`` the row is ``failed``: kept, counted by ``tracker status``
and listed by ``tracker deliveries``, never dropped.

What a delivery says: ids, rule, severity, team, times and a link. Never notes, names or
dates of birth; the case record holds those behind sign-in. Each send carries its
idempotency key (``Idempotency-Key`` header; a stable ``Message-ID`` for e-mail), so a
receiver can drop a repeat after a send whose outcome was unknown (a timeout).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import smtplib
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote
from uuid import UUID

import httpx
from sqlalchemy import (
    Connection,
    Engine,
    and_,
    exists,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from events.schema import events as events_table
from tracker.db.read_models import alerts
from tracker.db.worker_tables import FAILED, PENDING, SENT, STATUSES, deliveries
from tracker.kernel.clock import Clock
from tracker.kernel.config import Settings
from tracker.kernel.errors import ConfigurationError

EMAIL = "email"
WEBHOOK = "webhook"
CHANNELS = (EMAIL, WEBHOOK)
SIGNATURE_HEADER = "X-Tracker-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"


# -- what is said ----------------------------------------------------------------------


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


# -- channels --------------------------------------------------------------------------


class DeliveryError(Exception):
    """A send did not succeed; ``permanent`` ones are not retried."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class Channel(Protocol):
    """One way of telling an owner about an alert."""

    name: str

    def send_alert(self, key: str, alert: AlertView) -> None: ...

    def send_digest(self, key: str, owner: str, day: date, items: Sequence[AlertView]) -> None:
        ...


@dataclass(frozen=True)
class Recipients:
    """Owner or team id → e-mail address: a TOML file first, then the template.

    An alert owned by a team (owner ``team:<id>``, e.g. no case manager) goes to the team's
    address: ``[teams]`` in the file, or a template that uses ``{team}``.
    """

    template: str | None
    owners: Mapping[str, str]
    teams: Mapping[str, str]

    @classmethod
    def from_settings(cls, settings: Settings) -> Recipients:
        owners: dict[str, str] = {}
        teams: dict[str, str] = {}
        path = settings.alert_recipients_file
        if path is not None:
            owners, teams = _read_recipients(path)
        if settings.alert_email_to:
            try:
                settings.alert_email_to.format(owner="x", team="x")
            except (KeyError, IndexError, ValueError):
                raise ConfigurationError(
                    "TRACKER_ALERT_EMAIL_TO: only {owner} and {team} may be used"
                ) from None
        if not settings.alert_email_to and not owners and not teams:
            raise ConfigurationError(
                "e-mail delivery needs TRACKER_ALERT_EMAIL_TO (e.g. '{owner}@yjs.example.gov.uk') "
                "or TRACKER_ALERT_RECIPIENTS_FILE"
            )
        return cls(settings.alert_email_to, owners, teams)

    def address(self, owner: str | None, team: str | None) -> str | None:
        if owner and owner.startswith("team:"):  # owned by the team, not a person
            team = owner.removeprefix("team:")
            owner = None
        if owner and owner in self.owners:
            return self.owners[owner]
        if team and team in self.teams:
            return self.teams[team]
        if self.template and (owner or "{owner}" not in self.template):
            return self.template.format(owner=owner or "", team=team or "")
        return None


def _read_recipients(path: Path) -> tuple[dict[str, str], dict[str, str]]:
    try:
        data = tomllib.loads(path.read_text())
    except OSError as exc:
        raise ConfigurationError(f"{path}: cannot be read ({exc.strerror})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"{path}: not valid TOML ({exc})") from None
    out: list[dict[str, str]] = []
    for section in ("owners", "teams"):
        table = data.get(section, {})
        if not isinstance(table, dict) or not all(
            isinstance(k, str) and isinstance(v, str) and "@" in v for k, v in table.items()
        ):
            raise ConfigurationError(f"{path}: [{section}] must map ids to e-mail addresses")
        out.append(dict(table))
    return out[0], out[1]


class EmailChannel:
    """Plain-text e-mail over SMTP (optionally STARTTLS and login)."""

    name = EMAIL

    def __init__(self, settings: Settings, recipients: Recipients) -> None:
        self.settings = settings
        self.recipients = recipients

    def send_alert(self, key: str, alert: AlertView) -> None:
        to = self._to(alert.owner, alert.team)
        raised = alert.raised_at.strftime("%Y-%m-%d %H:%M UTC") if alert.raised_at else "-"
        body = "\n".join([
            "A new alert needs attention.",
            "",
            f"Alert:    {alert.alert_id}",
            f"Rule:     {alert.rule}",
            f"Severity: {alert.severity}",
            f"Case:     {alert.case_id}",
            f"Team:     {alert.team or '-'}",
            f"Raised:   {raised}",
            "",
            "Open it in the tracker (sign-in required):",
            alert_link(self.settings, alert),
            "",
            "This message carries ids only; the case record holds the details.",
        ])
        subject = f"[tracker] {alert.severity} alert: {alert.rule} on case {alert.case_id}"
        self._send(key, to, subject, body)

    def send_digest(self, key: str, owner: str, day: date, items: Sequence[AlertView]) -> None:
        to = self._to(owner, None)
        lines = [f"Open alerts you own on {day.isoformat()}: {len(items)}", ""]
        for a in items:
            lines.append(f"- {a.severity:<8} {a.rule:<36} case {a.case_id}")
            lines.append(f"  alert {a.alert_id}  {alert_link(self.settings, a)}")
        lines += ["", "This message carries ids only; the case records hold the details."]
        self._send(key, to, f"[tracker] daily digest: {len(items)} open alerts", "\n".join(lines))

    def _to(self, owner: str | None, team: str | None) -> str:
        address = self.recipients.address(owner, team)
        if not address:
            raise DeliveryError(
                f"no e-mail address for owner {owner or '-'} / team {team or '-'}",
                permanent=True,
            )
        return address

    def _send(self, key: str, to: str, subject: str, body: str) -> None:
        s = self.settings
        msg = EmailMessage(policy=MAIL_POLICY)
        msg["From"] = s.smtp_from
        msg["To"] = to
        msg["Subject"] = subject
        msg["Message-ID"] = f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@tracker>"
        msg["X-Tracker-Idempotency-Key"] = key
        msg.set_content(body)
        try:
            with smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout_seconds) as smtp:
                if s.smtp_starttls:
                    smtp.starttls()
                if s.smtp_user:
                    smtp.login(s.smtp_user, s.smtp_password or "")
                smtp.send_message(msg)
        except smtplib.SMTPRecipientsRefused:
            raise DeliveryError("SMTP: recipient refused", permanent=True) from None
        except smtplib.SMTPAuthenticationError as exc:
            raise DeliveryError(f"SMTP {exc.smtp_code}: authentication failed") from None
        except smtplib.SMTPResponseException as exc:
            raise DeliveryError(f"SMTP {exc.smtp_code}", permanent=exc.smtp_code >= 550) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"SMTP: {type(exc).__name__}") from None


MAIL_POLICY = SMTP_POLICY.clone(max_line_length=998)
"""Long ids stay on one header line (folding would put a space inside the key)."""

PERMANENT_HTTP = frozenset({400, 401, 403, 404, 405, 410, 413, 422})


def sign(secret: str, body: bytes) -> str:
    """The signature header value: ``sha256=`` and the hex HMAC-SHA256 of the body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, header: str | None) -> bool:
    """Whether ``header`` is the signature of ``body`` (for receivers, in constant time)."""
    return bool(header) and hmac.compare_digest(sign(secret, body), str(header))


class WebhookChannel:
    """A JSON POST signed with HMAC-SHA256 over the exact body bytes."""

    name = WEBHOOK

    def __init__(self, settings: Settings, clock: Clock) -> None:
        if not settings.webhook_url or not settings.webhook_secret:
            raise ConfigurationError(
                "webhook delivery needs TRACKER_WEBHOOK_URL and TRACKER_WEBHOOK_SECRET"
            )
        if not settings.webhook_url.startswith(("http://", "https://")):
            raise ConfigurationError("TRACKER_WEBHOOK_URL must be an http(s) URL")
        self.settings = settings
        self.url = settings.webhook_url
        self.secret = settings.webhook_secret
        self.clock = clock

    def send_alert(self, key: str, alert: AlertView) -> None:
        payload = {
            "type": "alert.raised",
            "idempotency_key": key,
            "sent_at": self.clock.now().isoformat(),
            "link": alert_link(self.settings, alert),
            **alert.as_json(),
        }
        self._post(key, payload)

    def send_digest(self, key: str, owner: str, day: date, items: Sequence[AlertView]) -> None:
        payload = {
            "type": "alerts.digest",
            "idempotency_key": key,
            "sent_at": self.clock.now().isoformat(),
            "owner": owner,
            "day": day.isoformat(),
            "alerts": [a.as_json() for a in items],
        }
        self._post(key, payload)

    def _post(self, key: str, payload: dict[str, Any]) -> None:
        body = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "tracker-workers",
            IDEMPOTENCY_HEADER: key,
            SIGNATURE_HEADER: sign(self.secret, body),
        }
        try:
            response = httpx.post(
                self.url, content=body, headers=headers,
                timeout=self.settings.webhook_timeout_seconds,
            )
        except httpx.TimeoutException:
            raise DeliveryError("webhook: timed out (outcome unknown)") from None
        except httpx.HTTPError as exc:
            raise DeliveryError(f"webhook: {type(exc).__name__}") from None
        if response.is_success or response.status_code == 409:  # 409: the key was seen
            return
        raise DeliveryError(
            f"webhook: HTTP {response.status_code}",
            permanent=response.status_code in PERMANENT_HTTP,
        )


def parse_channels(value: str) -> list[str]:
    """``TRACKER_ALERT_CHANNELS`` as a list, or a ConfigurationError naming the bad one."""
    names = [n.strip().lower() for n in value.split(",") if n.strip()]
    for name in names:
        if name not in CHANNELS:
            raise ConfigurationError(
                f"TRACKER_ALERT_CHANNELS: unknown channel {name!r} (use {', '.join(CHANNELS)})"
            )
    return list(dict.fromkeys(names))


def channels_from_settings(settings: Settings, clock: Clock) -> dict[str, Channel]:
    """The configured channels, each checked; a ConfigurationError says what is missing."""
    out: dict[str, Channel] = {}
    for name in parse_channels(settings.alert_channels):
        if name == EMAIL:
            out[name] = EmailChannel(settings, Recipients.from_settings(settings))
        else:
            out[name] = WebhookChannel(settings, clock)
    return out


def backoff_ms(settings: Settings, attempts: int) -> int:
    """Exponential backoff after ``attempts`` tries, with up to 10% jitter, capped."""
    exponent = max(0, min(attempts - 1, 30))
    base: int = min(settings.delivery_min_backoff_ms << exponent, settings.delivery_max_backoff_ms)
    return base + secrets.randbelow(max(1, base // 10))


# -- the outbox ------------------------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    """A row this worker may send now (until ``claimed_until``)."""

    key: str
    kind: str
    alert_id: str | None
    owner: str | None
    channel: str
    attempts: int
    token: str
    created_at: datetime


@dataclass(frozen=True)
class Queued:
    """A delivery to enqueue: its key and the correlation id of what caused it."""

    key: str
    correlation_id: str


class Outbox:
    """Every operation on the ``deliveries`` table."""

    def __init__(self, engine: Engine, clock: Clock, settings: Settings) -> None:
        self.engine = engine
        self.clock = clock
        self.settings = settings

    def _write(self) -> _Txn:
        """A transaction that may read then write: on SQLite it takes the write lock first
        (a deferred one would fail at once if another writer committed since its read)."""
        conn = self.engine.connect()
        if self.engine.dialect.name == "sqlite":
            conn = conn.execution_options(sqlite_begin="IMMEDIATE")
        return _Txn(conn)

    def _insert(self) -> Any:
        dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        return dialect.insert(deliveries)

    def create_for_open_alerts(self, channels: Sequence[str], correlation_id: str) -> list[Queued]:
        """One row per channel for each open alert that has none; returns the new ones."""
        if not channels:
            return []
        d = deliveries.alias("d")
        query = (
            select(alerts.c.alert_id, alerts.c.owner, alerts.c.team, alerts.c.caused_by)
            .where(alerts.c.status == "open")
            .where(~exists().where(d.c.alert_id == alerts.c.alert_id))
            .order_by(alerts.c.raised_at)
            .limit(5000)
        )
        now = self.clock.now()
        with self._write() as conn:
            found = conn.execute(query).all()
            if not found:
                return []
            cids = _correlations(conn, [_last_cause(r.caused_by) for r in found])
            rows = []
            for r in found:
                cause = _last_cause(r.caused_by)
                cid = cids.get(cause, correlation_id) if cause else correlation_id
                for channel in channels:
                    rows.append(self._row(
                        f"{r.alert_id}:{channel}", "alert", r.alert_id, r.owner, r.team,
                        channel, cid, now,
                    ))
            stmt = self._insert().values(rows).on_conflict_do_nothing(
                index_elements=["key"]
            ).returning(deliveries.c.key, deliveries.c.correlation_id)
            return [Queued(k, c) for k, c in conn.execute(stmt).all()]

    def create_digest(self, owner: str, day: date, correlation_id: str) -> Queued | None:
        """The day's digest row for one owner (None if it exists already)."""
        key = f"digest:{owner}:{day.isoformat()}:{EMAIL}"
        row = self._row(key, "digest", None, owner, None, EMAIL, correlation_id, self.clock.now())
        stmt = self._insert().values(row).on_conflict_do_nothing(index_elements=["key"])
        with self._write() as conn:
            created = conn.execute(stmt.returning(deliveries.c.key)).first()
        return Queued(key, correlation_id) if created else None

    @staticmethod
    def _row(
        key: str, kind: str, alert_id: str | None, owner: str | None, team: str | None,
        channel: str, correlation_id: str, now: datetime,
    ) -> dict[str, Any]:
        return {
            "key": key, "kind": kind, "alert_id": alert_id, "owner": owner, "team": team,
            "channel": channel, "status": PENDING, "attempts": 0, "last_error": None,
            "correlation_id": correlation_id[:64], "created_at": now, "updated_at": now,
            "next_attempt_at": now, "claim_token": None, "claimed_until": None, "sent_at": None,
        }

    def claim(self, key: str) -> Claim | None:
        """Take the row for one send, or None if it is sent, failed or in another's hands."""
        now = self.clock.now()
        token = secrets.token_hex(8)
        until = now + timedelta(seconds=self.settings.delivery_claim_seconds)
        stmt = (
            update(deliveries)
            .where(
                deliveries.c.key == key,
                deliveries.c.status == PENDING,
                or_(deliveries.c.claimed_until.is_(None), deliveries.c.claimed_until < now),
            )
            .values(
                claim_token=token, claimed_until=until, attempts=deliveries.c.attempts + 1,
                updated_at=now,
            )
        )
        with self._write() as conn:
            if conn.execute(stmt).rowcount != 1:
                return None
            r = conn.execute(select(deliveries).where(deliveries.c.key == key)).one()
        return Claim(
            key=r.key, kind=r.kind, alert_id=r.alert_id, owner=r.owner, channel=r.channel,
            attempts=r.attempts, token=token, created_at=r.created_at,
        )

    def sent(self, claim: Claim) -> bool:
        """Record the send; False if the claim had expired and another worker took it."""
        now = self.clock.now()
        return self._finish(claim, status=SENT, sent_at=now, last_error=None)

    def retry(self, claim: Claim, error: str, delay_ms: int) -> bool:
        """Release the claim; the row waits ``delay_ms`` for its next attempt."""
        when = self.clock.now() + timedelta(milliseconds=delay_ms)
        return self._finish(claim, status=PENDING, next_attempt_at=when, last_error=error[:300])

    def failed(self, claim: Claim, error: str) -> bool:
        """Give up on the row: it stays, ``failed``, with the last error."""
        return self._finish(claim, status=FAILED, last_error=error[:300])

    def _finish(self, claim: Claim, **values: Any) -> bool:
        stmt = (
            update(deliveries)
            .where(deliveries.c.key == claim.key, deliveries.c.claim_token == claim.token)
            .values(claim_token=None, claimed_until=None, updated_at=self.clock.now(), **values)
        )
        with self._write() as conn:
            return bool(conn.execute(stmt).rowcount == 1)

    def stale(self, grace: timedelta, limit: int = 500) -> list[Queued]:
        """Pending rows whose message should have run by now (lost with Redis, or a crash)."""
        now = self.clock.now()
        query = (
            select(deliveries.c.key, deliveries.c.correlation_id)
            .where(
                deliveries.c.status == PENDING,
                deliveries.c.next_attempt_at < now - grace,
                or_(deliveries.c.claimed_until.is_(None), deliveries.c.claimed_until < now),
            )
            .order_by(deliveries.c.next_attempt_at)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [Queued(k, c) for k, c in conn.execute(query).all()]

    def counts(self) -> dict[str, int]:
        """Rows per status (every status present, zero if none)."""
        query = select(deliveries.c.status, func.count()).group_by(deliveries.c.status)
        with self.engine.connect() as conn:
            found = {s: int(n) for s, n in conn.execute(query).all()}
        return {s: found.get(s, 0) for s in STATUSES}

    def oldest_pending(self) -> datetime | None:
        query = select(func.min(deliveries.c.created_at)).where(deliveries.c.status == PENDING)
        with self.engine.connect() as conn:
            value: datetime | None = conn.execute(query).scalar_one()
        return value

    def rows(self, status: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """Rows for display, newest first (no personal data is stored in them)."""
        query = select(
            deliveries.c.key, deliveries.c.kind, deliveries.c.alert_id, deliveries.c.owner,
            deliveries.c.channel, deliveries.c.status, deliveries.c.attempts,
            deliveries.c.last_error, deliveries.c.created_at, deliveries.c.updated_at,
            deliveries.c.sent_at,
        ).order_by(deliveries.c.created_at.desc(), deliveries.c.key).limit(limit)
        if status:
            query = query.where(deliveries.c.status == status)
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]

    def requeue_failed(self, keys: Iterable[str] | None) -> list[Queued]:
        """Make failed rows pending again (all, or the given keys) with fresh attempts."""
        now = self.clock.now()
        cond = [deliveries.c.status == FAILED]
        if keys is not None:
            cond.append(deliveries.c.key.in_(list(keys)))
        with self._write() as conn:
            found = conn.execute(
                select(deliveries.c.key, deliveries.c.correlation_id).where(and_(*cond))
            ).all()
            if found:
                conn.execute(
                    update(deliveries)
                    .where(deliveries.c.key.in_([k for k, _ in found]))
                    .values(status=PENDING, attempts=0, next_attempt_at=now, updated_at=now)
                )
        return [Queued(k, c) for k, c in found]


class _Txn:
    """``with`` a connection in one transaction: commit on success, roll back otherwise."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def __enter__(self) -> Connection:
        self._tx = self.conn.begin()
        return self.conn

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        try:
            if exc_type is None:
                self._tx.commit()
            else:
                self._tx.rollback()
        finally:
            self.conn.close()


def _last_cause(value: Any) -> str | None:
    """The last event id in an alert's ``caused_by`` (JSON list, or its text)."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    if isinstance(value, list) and value:
        return str(value[-1])
    return None


def _correlations(conn: Any, causes: Sequence[str | None]) -> dict[str, str]:
    ids: list[UUID] = []
    for c in causes:
        try:
            if c:
                ids.append(UUID(c))
        except ValueError:
            continue
    if not ids:
        return {}
    query = select(events_table.c.event_id, events_table.c.correlation_id).where(
        events_table.c.event_id.in_(ids)
    )
    return {str(e): str(c) for e, c in conn.execute(query).all()}
