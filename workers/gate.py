"""Coalesce projection hints: at most one waits in the queue, however fast events arrive.

An appender sends a hint only if it can *open* the gate (no hint is pending). The worker
*clears* the gate before it reads the log, so an append that commits after the clear opens
it again and sends a new hint, while one that committed before is read by this catch-up.
The mark expires (``TTL``) so a hint lost with Redis costs at most a short wait, and the
periodic catch-up heals whatever is left.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol

from redis import Redis

TTL_SECONDS = 10.0


class Gate(Protocol):
    """Whether a projection hint is already waiting."""

    def open(self) -> bool:
        """Mark a hint as pending; True if none was (the caller then sends one)."""
        ...

    def clear(self) -> None:
        """Forget the pending mark (the worker is about to read the log)."""
        ...


class RedisGate:
    """The mark is one Redis key shared by every process of the namespace."""

    def __init__(self, client: Redis, namespace: str, ttl: float = TTL_SECONDS,
                 suffix: str = "") -> None:
        self.client = client
        self.key = f"{namespace}:workers:projection-hint{suffix}"
        self.ttl_ms = int(ttl * 1000)

    def open(self) -> bool:
        return bool(self.client.set(self.key, b"1", nx=True, px=self.ttl_ms))

    def clear(self) -> None:
        self.client.delete(self.key)


class LocalGate:
    """The mark lives in this process (the in-process broker is in this process too)."""

    def __init__(self, ttl: float = TTL_SECONDS) -> None:
        self._lock = threading.Lock()
        self._until = 0.0
        self._ttl = ttl

    def open(self) -> bool:
        now = time.monotonic()
        with self._lock:
            if now < self._until:
                return False
            self._until = now + self._ttl
            return True

    def clear(self) -> None:
        with self._lock:
            self._until = 0.0
