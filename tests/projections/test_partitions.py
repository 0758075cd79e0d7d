"""Partitioned projection on real SQLite and PostgreSQL: each partition of the cases has its
own checkpoints over the one global order, every event is applied exactly once, two
partitions give what one gives (incrementally and rebuilt), a partition process killed
mid-transaction loses and doubles nothing, and a change of the number of partitions is
refused until a rebuild makes it."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, select

from projections import source
from projections.projector import Partition, Projector
from projections.projector.checkpoints import LAYOUT
from projections.record import RawEvent
from tests.conftest import NOW, TEST_KEY
from tests.projections.helpers import seed, snapshot
from tracker.bootstrap import App
from tracker.db.read_models import MODEL_NAMES, case_records, checkpoints
from tracker.kernel.errors import InvalidInput, PartitionLayoutMismatch
from tracker.services import synthetic


def _rows(snap: dict[str, Any]) -> dict[str, Any]:
    """A snapshot without its checkpoints (which name the layout)."""
    return {k: v for k, v in snap.items() if k != "checkpoints"}


def _checkpoints(app: App) -> dict[str, int]:
    with app.engine.connect() as conn:
        return {r.name: int(r.position) for r in conn.execute(select(checkpoints))}


def _expected_rows(count: int, head: int) -> dict[str, int]:
    rows = {f"{m}:{i}/{count}": head for m in MODEL_NAMES for i in range(count)}
    return {**rows, LAYOUT: count} if count > 1 else dict.fromkeys(MODEL_NAMES, head)


def test_each_event_is_in_exactly_one_partition_in_sql_as_in_python(app: App) -> None:
    seed(app, 8, 3)
    head = app.store.head_position()
    with app.engine.connect() as conn:
        for count in (2, 3):
            seen: list[int] = []
            for i in range(count):
                part = Partition(i, count)
                events = source.read_after(conn, 0, 100_000, partition=part)
                assert events, f"partition {i}/{count} is empty: the split is degenerate"
                assert all(part.owns(e.stream_id) for e in events)
                assert source.streams_between(conn, 0, head, part) == sorted(
                    {e.stream_id for e in events})
                seen += [e.position for e in events]
            assert sorted(seen) == list(range(1, head + 1))


def test_two_partitions_incrementally_give_what_one_gives_rebuilt(app: App) -> None:
    accepted = synthetic.accept(synthetic.caseload(
        random.Random(21), 6, start=date(2025, 9, 1), until=date(2026, 10, 30)))
    assert Projector(app).reset(partitions=2) == 2  # an empty store, kept in two
    parts = [Projector(app, partition=Partition(i, 2)) for i in range(2)]
    for i in range(0, len(accepted), 45):  # appended and projected a little at a time
        synthetic.write(app, accepted[i : i + 45])
        parts[0].catch_up(batch_size=7)
        parts[1].catch_up(batch_size=13)
    incremental = snapshot(app)
    head = app.store.head_position()
    assert incremental["checkpoints"] == _expected_rows(2, head)
    assert {r[0] for r in incremental["records"].values()} and len(incremental["records"]) == 6
    assert all(lag.events == 0 for lag in Projector(app).lag().values())

    assert Projector(app).rebuild(partitions=1) > 0
    one = snapshot(app)
    assert one["checkpoints"] == _expected_rows(1, head)
    assert _rows(one) == _rows(incremental)
    Projector(app).rebuild(partitions=2)
    assert snapshot(app) == incremental


def test_partition_projectors_at_once_apply_every_event_exactly_once(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    accepted = synthetic.accept(synthetic.caseload(
        random.Random(8), 6, start=date(2025, 9, 1), until=date(2026, 10, 30)))
    Projector(app).reset(partitions=2)
    folded: Counter[int] = Counter()
    guard = threading.Lock()
    real = Projector._fold_batch

    def counting(self: Projector, conn: Connection, batch: list[RawEvent],
                 *args: Any) -> None:
        with guard:
            folded.update(e.position for e in batch)
        real(self, conn, batch, *args)

    monkeypatch.setattr(Projector, "_fold_batch", counting)
    done = threading.Event()
    errors: list[BaseException] = []

    def appender() -> None:
        try:
            for i in range(0, len(accepted), 50):
                synthetic.write(app, accepted[i : i + 50])
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            done.set()

    def projecting(index: int, batch: int) -> None:
        projector = Projector(app, partition=Partition(index, 2))
        try:
            while not done.is_set():
                projector.catch_up(batch_size=batch)
            projector.catch_up(batch_size=batch)
        except BaseException as exc:  # a failed transaction would fail the count too
            errors.append(exc)

    threads = [threading.Thread(target=appender)] + [
        threading.Thread(target=projecting, args=(i, b)) for i in (0, 1) for b in (11, 29)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert errors == []
    head = app.store.head_position()
    assert sorted(folded) == list(range(1, head + 1))  # every event folded ...
    assert max(folded.values()) == 1  # ... once, by one partition, in one transaction
    together = snapshot(app)
    assert together["checkpoints"] == _expected_rows(2, head)
    Projector(app).rebuild(partitions=1)
    assert _rows(snapshot(app)) == _rows(together)


def test_another_number_of_partitions_is_refused_until_a_rebuild_changes_it(app: App) -> None:
    seed(app, 3, 4)
    Projector(app).catch_up()  # one partition, as before partitions
    with pytest.raises(PartitionLayoutMismatch, match="project --rebuild --processes 2"):
        Projector(app, partition=Partition(0, 2)).catch_up()
    with pytest.raises(PartitionLayoutMismatch, match="kept in 1 partition"):
        Projector(app).check_partitions(2)
    with pytest.raises(PartitionLayoutMismatch):  # a view model alone keeps the layout
        Projector(app).rebuild("aspire", partitions=2)
    still_one = Projector(app, partition=Partition(0, 1))
    Projector(app).rebuild(partitions=2)
    assert Projector(app).partitions() == 2
    with pytest.raises(PartitionLayoutMismatch):  # one still running with the old count
        still_one.catch_up()
    seed(app, 1, 5, prefix="CS-LATE")
    assert Projector(app, partition=Partition(1, 2)).catch_up() >= 0
    Projector(app).catch_up()  # without a partition: every partition of the stored layout
    head = app.store.head_position()
    assert _checkpoints(app) == _expected_rows(2, head)
    Projector(app).check_partitions(2)
    with pytest.raises(InvalidInput, match="partition"):
        Projector(app, partition=Partition(2, 2))
    with pytest.raises(InvalidInput, match="partitions"):
        Projector(app).rebuild(partitions=0)


def test_a_fresh_store_takes_the_number_of_its_first_projector(app: App) -> None:
    seed(app, 2, 6)
    Projector(app).check_partitions(3)  # nothing projected yet: any number may start
    Projector(app, partition=Partition(2, 3)).catch_up()
    assert Projector(app).partitions() == 3
    rows = _checkpoints(app)  # the claim left no row of one partition behind
    assert rows == {LAYOUT: 3, **{f"{m}:2/3": app.store.head_position() for m in MODEL_NAMES}}
    with pytest.raises(PartitionLayoutMismatch):
        Projector(app, partition=Partition(0, 1)).catch_up()


KILLABLE = """
import sys, time
from datetime import datetime
from tracker.bootstrap import bootstrap
from tracker.kernel.clock import FixedClock
from projections.projector import Partition, Projector
from projections.projector import checkpoints
app = bootstrap(clock=FixedClock(datetime.fromisoformat(sys.argv[1])), configure_logging=False)
stall_at = int(sys.argv[3])
calls = 0
real = checkpoints.save
def save(*args, **kwargs):
    global calls
    real(*args, **kwargs)
    calls += 1
    if calls == stall_at:  # rows and checkpoints written, the transaction not committed
        print("stalled", flush=True)
        time.sleep(600)
checkpoints.save = save
print(Projector(app, partition=Partition(int(sys.argv[2]), 2)).catch_up(batch_size=10),
      flush=True)
"""


def _records_at(app: App, part: Partition) -> list[int]:
    with app.engine.connect() as conn:
        return [int(r.position) for r in conn.execute(select(case_records))
                if part.owns(r.case_id)]


def test_a_partition_process_killed_mid_transaction_loses_and_doubles_nothing(
    app: App, tmp_path: Path
) -> None:
    seed(app, 10, 12)
    head = app.store.head_position()
    Projector(app).reset(partitions=2)
    env = {**os.environ, "TRACKER_DATABASE_URL": app.settings.database_url,
           "TRACKER_MASTER_KEY": TEST_KEY, "PYTHONPATH": str(Path.cwd())}

    def start(index: int, stall_at: int, name: str) -> tuple[subprocess.Popen[bytes], Path]:
        out = tmp_path / f"{name}.out"
        with out.open("wb") as sink:
            proc = subprocess.Popen(
                [sys.executable, "-c", KILLABLE, NOW.isoformat(), str(index), str(stall_at)],
                env=env, stdout=sink, stderr=subprocess.STDOUT)
        return proc, out

    victim, victim_out = start(0, 3, "victim")
    partner, partner_out = start(1, -1, "partner")
    deadline = time.monotonic() + 120
    while "stalled" not in victim_out.read_text():
        assert victim.poll() is None, victim_out.read_text()[-3000:]
        assert time.monotonic() < deadline, "the victim never reached its third commit"
        time.sleep(0.05)
    victim.send_signal(signal.SIGKILL)
    victim.wait(30)
    part = Partition(0, 2)
    at_kill = _checkpoints(app)["records:0/2"]
    assert 0 < at_kill < head  # two transactions committed, the third died with the process
    assert max(_records_at(app, part)) <= at_kill  # nothing of the dead transaction is seen
    assert partner.wait(240) == 0, partner_out.read_text()[-3000:]
    again, again_out = start(0, -1, "again")
    assert again.wait(240) == 0, again_out.read_text()[-3000:]
    together = snapshot(app)
    assert together["checkpoints"] == _expected_rows(2, head)
    Projector(app).rebuild(partitions=1)
    assert _rows(snapshot(app)) == _rows(together)


def test_the_cli_rebuilds_in_one_process_per_partition(app: App) -> None:
    seed(app, 5, 14)
    env = {**os.environ, "TRACKER_DATABASE_URL": app.settings.database_url,
           "TRACKER_MASTER_KEY": TEST_KEY, "PYTHONPATH": str(Path.cwd())}
    # both rebuilds by the CLI, which judges as at the system clock
    single = subprocess.run([sys.executable, "-m", "tracker", "project", "--rebuild"],
                            env=env, capture_output=True, text=True, timeout=300)
    assert single.returncode == 0, single.stderr[-3000:]
    one = snapshot(app)
    run = subprocess.run([sys.executable, "-m", "tracker", "project", "--rebuild",
                          "--processes", "2", "--json"],
                         env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    assert '"processes": 2' in run.stdout
    two = snapshot(app)
    assert two["checkpoints"] == _expected_rows(2, app.store.head_position())
    assert _rows(two) == _rows(one)
    refused = subprocess.run([sys.executable, "-m", "tracker", "project", "--processes", "3"],
                             env=env, capture_output=True, text=True, timeout=300)
    assert refused.returncode == 2
    assert "--processes: the read models are kept in 2 partition(s), not 3" in (
        refused.stdout + refused.stderr)
