"""Alert delivery: the outbox of sends (``outbox``), the e-mail and webhook channels
(``channels``), their signing (``signing``), the recipients (``recipients``) and what a
delivery says (``alerts``).

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

from workers.delivery.alerts import AlertView, alert_link, load_alert, open_alerts_of
from workers.delivery.channels import (
    CHANNELS,
    EMAIL,
    MAIL_POLICY,
    PERMANENT_HTTP,
    WEBHOOK,
    Channel,
    DeliveryError,
    EmailChannel,
    WebhookChannel,
    channels_from_settings,
    parse_channels,
)
from workers.delivery.outbox import Claim, Outbox, Queued, backoff_ms
from workers.delivery.recipients import Recipients
from workers.delivery.signing import IDEMPOTENCY_HEADER, SIGNATURE_HEADER, sign, verify

__all__ = [
    "CHANNELS", "EMAIL", "IDEMPOTENCY_HEADER", "MAIL_POLICY", "PERMANENT_HTTP",
    "SIGNATURE_HEADER", "WEBHOOK", "AlertView", "Channel", "Claim", "DeliveryError",
    "EmailChannel", "Outbox", "Queued", "Recipients", "WebhookChannel", "alert_link",
    "backoff_ms", "channels_from_settings", "load_alert", "open_alerts_of", "parse_channels",
    "sign", "verify",
]
