"""A real uvicorn server in a thread, on a free port, for browser and schema tests."""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType
from typing import Any

import uvicorn
from fastapi import FastAPI


class LiveServer:
    """Serve ``api`` on 127.0.0.1 until closed; ``url`` is its base address."""

    def __init__(self, api: FastAPI) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(api, log_config=None, access_log=False, lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
        self.sock.close()


def fill_date(page: Any, name: str, value: str) -> None:
    """Type an ISO date (``2026-03-27``) or moment (``2026-03-27T14:30``) into GOV.UK's
    three-field date input called ``name``, part by part, as a person would."""
    day_part, _, clock = value.partition("T")
    year, month, day = day_part.split("-")
    page.fill(f"#{name}-day", str(int(day)))
    page.fill(f"#{name}-month", str(int(month)))
    page.fill(f"#{name}-year", year)
    if clock:
        hour, minute = clock.split(":")[:2]
        page.fill(f"#{name}-hour", hour)
        page.fill(f"#{name}-minute", minute)


def error_text(page: Any, name: str) -> str:
    """The message beside field ``name``, without GOV.UK's visually hidden "Error:" prefix."""
    text: str = page.locator(f"#{name}-error").inner_text()
    return " ".join(text.replace("Error:", "", 1).split())
