"""The channels an alert is sent by: plain-text e-mail over SMTP and a signed JSON webhook.

Each send carries its idempotency key (``Idempotency-Key`` header; a stable ``Message-ID``
for e-mail) so a receiver can drop a repeat after a send whose outcome was unknown. A
failed send raises ``DeliveryError``; ``permanent`` ones are not retried by the outbox.
"""

from __future__ import annotations

import hashlib
import json
import smtplib
from collections.abc import Sequence
from datetime import date
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from typing import Any, Protocol

import httpx

from tracker.kernel.clock import Clock
from tracker.kernel.config import Settings
from tracker.kernel.errors import ConfigurationError
from workers.delivery.alerts import AlertView, alert_link
from workers.delivery.recipients import Recipients
from workers.delivery.signing import IDEMPOTENCY_HEADER, SIGNATURE_HEADER, sign

EMAIL = "email"
WEBHOOK = "webhook"
CHANNELS = (EMAIL, WEBHOOK)


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
