"""Real network servers that stand in for a service's mail relay and webhook receiver.

``MailCatcher`` speaks enough SMTP for smtplib (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP,
QUIT) and keeps every message; ``WebhookReceiver`` is an HTTP server that checks the
signature and, like a well-behaved receiver, acts once per ``Idempotency-Key``. Either can
be told to stall its first few connections, to make the sender time out.
"""

from __future__ import annotations

import email
import socketserver
import threading
import time
from dataclasses import dataclass, field
from email.message import Message
from email.policy import default
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from workers.delivery import IDEMPOTENCY_HEADER, SIGNATURE_HEADER, verify


@dataclass
class _Stall:
    count: int = 0
    seconds: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self) -> float:
        with self.lock:
            if self.count <= 0:
                return 0.0
            self.count -= 1
            return self.seconds


class MailCatcher:
    """An SMTP server on a free port; ``messages`` holds what it accepted."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.stall = _Stall()
        catcher = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                delay = catcher.stall.take()
                if delay:
                    time.sleep(delay)  # stall before the greeting: the client times out
                    return
                self._say("220 catcher ESMTP")
                while True:
                    line = self.rfile.readline()
                    if not line:
                        return
                    verb = line.decode(errors="replace").strip().split(" ")[0].upper()
                    if verb in ("EHLO", "HELO"):
                        self._say("250 catcher")
                    elif verb in ("MAIL", "RCPT", "RSET", "NOOP"):
                        self._say("250 ok")
                    elif verb == "DATA":
                        self._say("354 go ahead")
                        data = []
                        while (chunk := self.rfile.readline()) not in (b".\r\n", b".\n", b""):
                            data.append(chunk[1:] if chunk.startswith(b"..") else chunk)
                        catcher.messages.append(
                            email.message_from_bytes(b"".join(data), policy=default)
                        )
                        self._say("250 queued")
                    elif verb == "QUIT":
                        self._say("221 bye")
                        return
                    else:
                        self._say("502 not implemented")

            def _say(self, text: str) -> None:
                self.wfile.write(text.encode() + b"\r\n")

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = int(self.server.server_address[1])
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class WebhookReceiver:
    """An HTTP endpoint: checks the HMAC, acts once per idempotency key, records requests."""

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.requests: list[dict[str, Any]] = []
        self.accepted: dict[str, bytes] = {}
        self.stall = _Stall()
        self.status = 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                key = self.headers.get(IDEMPOTENCY_HEADER, "")
                signed = verify(receiver.secret, body, self.headers.get(SIGNATURE_HEADER))
                receiver.requests.append({"key": key, "body": body, "signed": signed})
                if signed and receiver.status < 300:
                    receiver.accepted.setdefault(key, body)  # a repeat of a key is ignored
                delay = receiver.stall.take()
                if delay:
                    time.sleep(delay)  # acted on it, but answers too late for the sender
                self.send_response(receiver.status if signed else 401)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = int(self.server.server_address[1])
        self.url = f"http://127.0.0.1:{self.port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
