"""Dramatiq middleware that carries the correlation id of a request into every message.

The id travels as the message option ``correlation_id``: set when the message is enqueued
(from the bound structlog context, unless the sender set it explicitly), kept across
retries (a retry re-enqueues the same options), and bound for the worker's logs together
with the message id and the actor's name while the message is processed.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from contextvars import Token
from typing import Any

import structlog
from dramatiq import Broker, Middleware
from dramatiq.message import Message

from tracker.kernel import logging as tlog

OPTION = "correlation_id"


class Correlation(Middleware):
    """Put the current correlation id on each outgoing message; bind it while processing."""

    def __init__(self) -> None:
        self._local = threading.local()

    def before_enqueue(self, broker: Broker, message: Message[Any], delay: int | None) -> None:
        if not message.options.get(OPTION):
            message.options[OPTION] = tlog.current_correlation_id()

    def before_process_message(self, broker: Broker, message: Any) -> None:
        tokens = structlog.contextvars.bind_contextvars(
            correlation_id=str(message.options.get(OPTION) or tlog.new_correlation_id()),
            message_id=str(message.message_id),
            actor_name=str(message.actor_name),
        )
        self._local.tokens = tokens

    def after_process_message(
        self,
        broker: Broker,
        message: Any,
        *,
        result: Any = None,
        exception: BaseException | None = None,
    ) -> None:
        self._reset()

    def after_skip_message(self, broker: Broker, message: Any) -> None:
        self._reset()

    def _reset(self) -> None:
        tokens: Mapping[str, Token[Any]] | None = getattr(self._local, "tokens", None)
        if tokens is not None:
            structlog.contextvars.reset_contextvars(**tokens)
            self._local.tokens = None
