"""Two projector *processes* at once against one database give what one gives."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from projections.projector import Projector
from tests.conftest import NOW, TEST_KEY
from tests.projections.helpers import seed, snapshot
from tracker.bootstrap import App

SCRIPT = """
import sys
from datetime import datetime
from tracker.bootstrap import bootstrap
from tracker.kernel.clock import FixedClock
from projections.projector import Projector
app = bootstrap(clock=FixedClock(datetime.fromisoformat(sys.argv[1])), configure_logging=False)
total = 0
for _ in range(3):
    total += Projector(app).catch_up(batch_size=int(sys.argv[2]))
print(total)
"""


def test_two_projector_processes_at_once(app: App) -> None:
    accepted = seed(app, 6, 9)
    env = {**os.environ, "TRACKER_DATABASE_URL": app.settings.database_url,
           "TRACKER_MASTER_KEY": TEST_KEY, "PYTHONPATH": str(Path.cwd())}
    procs = [
        subprocess.Popen([sys.executable, "-c", SCRIPT, NOW.isoformat(), str(batch)], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for batch in (11, 17)
    ]
    results = [p.communicate(timeout=240) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [err[-2000:] for _out, err in results]
    applied = [int(out.strip().splitlines()[-1]) for out, _err in results]
    assert sum(applied) >= len(accepted)  # between them they applied every event once
    together = snapshot(app)
    assert set(together["checkpoints"].values()) == {len(accepted)}
    Projector(app).rebuild()
    assert snapshot(app) == together
