"""Helpers for the end-to-end worker tests: processes, waiting, read-model snapshots."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, MetaData, select

from tests.servers import env_for
from tracker.bootstrap import App
from tracker.kernel.config import Settings

READ_MODELS = ("rm_case_records", "rm_aspire", "rm_engagement", "rm_continuity",
               "rm_enforcement", "rm_audits", "alerts", "projection_checkpoints")
VOLATILE = {"updated_at", "evaluated_at", "raised_at", "resolved_at"}
"""Columns that record *when* a row was computed, which a rebuild necessarily changes."""


class Proc:
    """A child process in its own session (so SIGKILL reaches all of its children)."""

    def __init__(self, args: list[str], settings: Settings, log: Path) -> None:
        self.log = log
        self._out = log.open("ab")
        self.popen = subprocess.Popen(
            args, env=env_for(settings), stdout=self._out, stderr=subprocess.STDOUT,
            start_new_session=True, cwd=Path(__file__).resolve().parents[2],
        )

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """SIGKILL: the whole process group at once (a crash). SIGTERM: the leader only, as
        ``docker stop`` does, and it stops its children; anything left is then killed."""
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                if sig == signal.SIGKILL:
                    os.killpg(self.popen.pid, sig)
                else:
                    self.popen.send_signal(sig)
            try:
                self.popen.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(10)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGKILL)  # nothing of it may outlive the test
        self._out.close()

    def text(self) -> str:
        return self.log.read_text(errors="replace")


def tracker_worker(settings: Settings, log: Path, threads: int = 2, processes: int = 1
                   ) -> Proc:
    return Proc([sys.executable, "-m", "tracker", "worker", "--threads", str(threads),
                 "--processes", str(processes)], settings, log)


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (Linux ``/proc``)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                stat = (entry / "stat").read_text()
                if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
    return sorted(found)


def dramatiq_worker(settings: Settings, log: Path, threads: int = 2) -> Proc:
    return Proc([sys.executable, "-m", "dramatiq", "tracker.main:worker_setup", "--processes", "1",
                 "--threads", str(threads)], settings, log)


def tracker_scheduler(settings: Settings, log: Path) -> Proc:
    return Proc([sys.executable, "-m", "tracker", "scheduler"], settings, log)


def wait_until(check: Callable[[], Any], what: str, timeout: float = 60.0,
               procs: tuple[Proc, ...] = ()) -> Any:
    """Poll ``check`` until it returns something truthy; fail with ``what`` otherwise."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = check()
        except Exception:  # the server under test may be down for a moment
            value = None
        if value:
            return value
        for p in procs:
            if p.popen.poll() is not None:
                raise AssertionError(f"{what}: {p.popen.args!r} exited\n{p.text()[-3000:]}")
        if time.monotonic() > deadline:
            logs = "\n".join(p.text()[-3000:] for p in procs)
            raise AssertionError(f"timed out waiting for {what}\n{logs}")
        time.sleep(0.05)


def lag_events(app: App) -> int:
    from projections.projector import Projector

    return sum(lag.events for lag in Projector(app).lag().values())


def caught_up(app: App) -> bool:
    return app.store.head_position() > 0 and lag_events(app) == 0


def checkpoint(engine: Engine, name: str = "records") -> int:
    from tracker.db.read_models import checkpoints

    with engine.connect() as conn:
        value = conn.execute(
            select(checkpoints.c.position).where(checkpoints.c.name == name)
        ).scalar()
    return int(value or 0)


SEALED = re.compile(r"sealed:v1:[^:\"]+:(?:detail:)?[A-Za-z0-9+/=_-]+")


def snapshot(app: App) -> dict[str, list[tuple[Any, ...]]]:
    """Every read-model row, without the columns that say when it was computed, sorted.

    A sealed value is compared by what it opens to (each sealing uses a fresh nonce).
    """
    from projections.projector import KeyringDob

    dob = KeyringDob(app.keyring)

    def plain(value: Any) -> Any:
        if isinstance(value, str) and "sealed:v1:" in value:
            return SEALED.sub(lambda m: f"opened:{dob.open(m.group(0))}", value)
        return value

    meta = MetaData()
    meta.reflect(app.engine, only=list(READ_MODELS))
    out: dict[str, list[tuple[Any, ...]]] = {}
    with app.engine.connect() as conn:
        for name in READ_MODELS:
            table = meta.tables[name]
            cols = [c for c in table.columns if c.name not in VOLATILE]
            rows = conn.execute(select(*cols)).all()
            out[name] = sorted((tuple(plain(v) for v in r) for r in rows), key=repr)
    return out


def assert_equals_rebuild(app: App) -> dict[str, list[tuple[Any, ...]]]:
    """The read models as the workers left them equal a clean rebuild, row for row."""
    from projections.projector import Projector

    before = snapshot(app)
    Projector(app).rebuild()
    after = snapshot(app)
    for name in READ_MODELS:
        assert len(before[name]) == len(after[name]), f"{name}: rows lost or doubled"
        assert before[name] == after[name], f"{name} differs from a clean rebuild"
    return before
