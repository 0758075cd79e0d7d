"""E-mail and webhook channels against real local servers; configuration errors are clear."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.workers.conftest import worker_settings
from tests.workers.fakes import MailCatcher, WebhookReceiver
from tracker.kernel.clock import FixedClock
from tracker.kernel.errors import ConfigurationError
from workers.delivery import (
    AlertView,
    DeliveryError,
    EmailChannel,
    Recipients,
    WebhookChannel,
    channels_from_settings,
    sign,
    verify,
)

ALERT = AlertView(
    alert_id="AL-0001", rule="review_overdue", severity="high", case_id="CS-0042",
    owner="M-NORTH", team="TEAM-NORTH", status="open",
    raised_at=datetime(2026, 11, 2, 7, 0, tzinfo=UTC),
)
CLOCK = FixedClock(datetime(2026, 11, 2, 7, 1, tzinfo=UTC))


@pytest.fixture
def catcher() -> Iterator[MailCatcher]:
    c = MailCatcher()
    yield c
    c.close()


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    r = WebhookReceiver("s3cret")
    yield r
    r.close()


def _email_settings(tmp_path: Path, port: int, **extra: Any) -> Any:
    return worker_settings(
        f"sqlite:///{tmp_path / 't.db'}", alert_channels="email", smtp_host="127.0.0.1",
        smtp_port=port, smtp_timeout_seconds=1.0, alert_email_to="{owner}@yjs.example.org",
        smtp_from="tracker@yjs.example.org", **extra,
    )


def test_email_carries_ids_and_a_link_and_a_stable_message_id(
    tmp_path: Path, catcher: MailCatcher
) -> None:
    channel = channels_from_settings(_email_settings(tmp_path, catcher.port), CLOCK)["email"]
    channel.send_alert("AL-0001:email", ALERT)
    channel.send_alert("AL-0001:email", ALERT)
    first, second = catcher.messages
    assert first["To"] == "M-NORTH@yjs.example.org"
    assert first["Message-ID"] == second["Message-ID"]  # a repeat can be recognised
    assert first["X-Tracker-Idempotency-Key"] == "AL-0001:email"
    body = first.get_payload()
    for value in ("AL-0001", "review_overdue", "high", "CS-0042", "TEAM-NORTH",
                  "http://localhost:8000/cases/CS-0042"):
        assert value in body or value in first["Subject"]


def test_digest_lists_each_open_alert(tmp_path: Path, catcher: MailCatcher) -> None:
    channel = channels_from_settings(_email_settings(tmp_path, catcher.port), CLOCK)["email"]
    second = AlertView(**{**ALERT.__dict__, "alert_id": "AL-0002", "rule": "contact_shortfall"})
    channel.send_digest("digest:M-NORTH:2026-11-02:email", "M-NORTH", date(2026, 11, 2),
                        [ALERT, second])
    (message,) = catcher.messages
    assert "2 open alerts" in message["Subject"]
    assert "AL-0001" in message.get_payload() and "AL-0002" in message.get_payload()


def test_email_to_an_unreachable_relay_is_a_transient_error(tmp_path: Path) -> None:
    from tests.servers import free_port

    channel = channels_from_settings(_email_settings(tmp_path, free_port()), CLOCK)["email"]
    with pytest.raises(DeliveryError) as caught:
        channel.send_alert("k", ALERT)
    assert not caught.value.permanent


def test_recipients_file_maps_owners_then_teams(tmp_path: Path) -> None:
    path = tmp_path / "recipients.toml"
    path.write_text('[owners]\n"M-NORTH" = "north.manager@yjs.example.org"\n'
                    '[teams]\n"TEAM-SOUTH" = "south@yjs.example.org"\n')
    r = Recipients.from_settings(worker_settings("sqlite://", alert_recipients_file=path))
    assert r.address("M-NORTH", "TEAM-NORTH") == "north.manager@yjs.example.org"
    assert r.address("M-OTHER", "TEAM-SOUTH") == "south@yjs.example.org"
    assert r.address("M-OTHER", "TEAM-EAST") is None
    channel = EmailChannel(worker_settings("sqlite://"), r)
    with pytest.raises(DeliveryError) as caught:
        channel.send_alert("k", AlertView(**{**ALERT.__dict__, "owner": "M-X", "team": "T-X"}))
    assert caught.value.permanent and "M-X" in str(caught.value)


def test_webhook_is_signed_over_the_body_and_carries_the_key(
    tmp_path: Path, receiver: WebhookReceiver
) -> None:
    settings = worker_settings(f"sqlite:///{tmp_path / 't.db'}", alert_channels="webhook",
                               webhook_url=receiver.url, webhook_secret="s3cret")
    channels_from_settings(settings, CLOCK)["webhook"].send_alert("AL-0001:webhook", ALERT)
    (request,) = receiver.requests
    assert request["signed"] and request["key"] == "AL-0001:webhook"
    payload = json.loads(request["body"])
    assert set(payload) == {"type", "idempotency_key", "sent_at", "link", "alert_id", "rule",
                            "severity", "case_id", "owner", "team", "status", "raised_at"}
    assert payload["alert_id"] == "AL-0001" and payload["idempotency_key"] == "AL-0001:webhook"


def test_signature_check() -> None:
    body = b'{"a":1}'
    assert verify("k", body, sign("k", body))
    assert not verify("k", body + b" ", sign("k", body))
    assert not verify("other", body, sign("k", body))
    assert not verify("k", body, None)


@pytest.mark.parametrize(("status", "permanent"), [(500, False), (503, False), (404, True),
                                                    (401, True)])
def test_webhook_error_statuses(
    tmp_path: Path, receiver: WebhookReceiver, status: int, permanent: bool
) -> None:
    receiver.status = status
    channel = WebhookChannel(worker_settings("sqlite://", webhook_url=receiver.url,
                                             webhook_secret="s3cret"), CLOCK)
    with pytest.raises(DeliveryError) as caught:
        channel.send_alert("k", ALERT)
    assert caught.value.permanent is permanent and str(status) in str(caught.value)


def test_webhook_timeout_is_transient(receiver: WebhookReceiver) -> None:
    receiver.stall.count, receiver.stall.seconds = 1, 1.5
    channel = WebhookChannel(worker_settings("sqlite://", webhook_url=receiver.url,
                                             webhook_secret="s3cret",
                                             webhook_timeout_seconds=0.3), CLOCK)
    with pytest.raises(DeliveryError) as caught:
        channel.send_alert("k", ALERT)
    assert not caught.value.permanent and "timed out" in str(caught.value)


@pytest.mark.parametrize(("extra", "message"), [
    ({"alert_channels": "email,sms"}, "unknown channel 'sms'"),
    ({"alert_channels": "webhook"}, "TRACKER_WEBHOOK_URL and TRACKER_WEBHOOK_SECRET"),
    ({"alert_channels": "webhook", "webhook_url": "ftp://x", "webhook_secret": "s"},
     "http(s) URL"),
    ({"alert_channels": "email"}, "TRACKER_ALERT_EMAIL_TO"),
    ({"alert_channels": "email", "alert_email_to": "{name}@x.org"}, "only {owner} and {team}"),
])
def test_bad_delivery_settings_are_one_clear_error(extra: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        channels_from_settings(worker_settings("sqlite://", **extra), CLOCK)
    assert message in str(caught.value)


def test_bad_recipients_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "r.toml"
    path.write_text("[owners]\nM = 3\n")
    with pytest.raises(ConfigurationError, match=r"\[owners\] must map ids to e-mail"):
        Recipients.from_settings(worker_settings("sqlite://", alert_recipients_file=path))
    path.write_text("[owners\n")
    with pytest.raises(ConfigurationError, match="not valid TOML"):
        Recipients.from_settings(worker_settings("sqlite://", alert_recipients_file=path))
