"""Throw-away Redis and PostgreSQL servers on free ports, for fault tests and the benchmark.

They never touch a server someone else runs: each lives in its own temporary directory,
listens on 127.0.0.1 on a port nobody holds, and is removed when stopped. PostgreSQL runs
as the ``postgres`` OS user when this process is root (it refuses to run as root).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

PG_BIN = Path(os.environ.get("TRACKER_PG_BIN", "/usr/lib/postgresql/15/bin"))


def env_for(settings: Any) -> dict[str, str]:
    """The environment that gives a child process these settings (``TRACKER_*``)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
    for name, value in settings.model_dump().items():
        if value is not None:
            env[f"TRACKER_{name.upper()}"] = str(value)
    env["PYTHONUNBUFFERED"] = "1"
    return env


class ServerUnavailable(RuntimeError):
    """The server's binaries are missing or it would not start."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_port(port: int, timeout: float, proc: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise ServerUnavailable(f"server on port {port} exited with {proc.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.02)
    raise ServerUnavailable(f"nothing listening on port {port} after {timeout}s")


class RedisServer:
    """A redis-server with no persistence; ``stop``/``start`` keep the same port."""

    def __init__(self, port: int | None = None) -> None:
        if shutil.which("redis-server") is None:
            raise ServerUnavailable("redis-server is not installed")
        self.port = port or free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="tracker-redis-"))
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.dir), "--loglevel", "warning"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        _wait_port(self.port, 10, self.proc)
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self.proc = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class PostgresServer:
    """A PostgreSQL cluster in a temporary directory (fsync off: it is thrown away)."""

    def __init__(self, port: int | None = None) -> None:
        if not (PG_BIN / "initdb").exists():
            raise ServerUnavailable(f"PostgreSQL binaries not found in {PG_BIN}")
        self.port = port or free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="tracker-pg-"))
        self.data = self.dir / "data"
        self._as_user: list[str] = []
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(self.dir, user.pw_uid, user.pw_gid)
            self._as_user = ["runuser", "-u", "postgres", "--"]
        self._run([str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres",
                   "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C"])

    def _run(self, args: list[str]) -> None:
        done = subprocess.run([*self._as_user, *args], capture_output=True, check=False)
        if done.returncode != 0:
            raise ServerUnavailable(
                f"{Path(args[0]).name} failed: {done.stderr.decode(errors='replace')[-500:]}"
            )

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> PostgresServer:
        options = (f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 "
                   "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
                   "-c max_connections=200")
        self._run([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-o", options,
                   "-l", str(self.dir / "log"), "-w", "-t", "30", "start"])
        return self

    def stop(self, mode: str = "fast") -> None:
        with contextlib.suppress(ServerUnavailable):
            self._run([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop"])

    def create_database(self, name: str) -> str:
        """A new empty database; returns its SQLAlchemy URL."""
        from sqlalchemy import create_engine, text

        admin = create_engine(self.url(), isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        finally:
            admin.dispose()
        return self.url(name)

    def close(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)
