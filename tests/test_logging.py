"""Every log record is one JSON object on one line, whatever the threads or the errors.

Before, ``print`` wrote a record and its newline separately, so records of concurrent
threads came out glued on one line (about 1% under ``tracker worker --threads 4``), and
the standard library's handler wrote worker tracebacks as raw lines.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

THREADS, RECORDS = 8, 400

SCRIPT = textwrap.dedent(f"""
    import logging, threading
    import structlog
    from tracker.kernel.logging import configure
    from workers.actors import json_stdlib_logging

    configure("INFO", json=True)
    json_stdlib_logging("INFO")
    slog = structlog.get_logger("test")
    stdlog = logging.getLogger("dramatiq.worker.WorkerThread")

    def work(n):
        for i in range({RECORDS}):
            slog.info("structlog_record", thread=n, i=i, pad="x" * (i % 300))
            try:
                raise ValueError("a failing message\\nover two lines")
            except ValueError:
                stdlog.exception("Failed to process message %s", i)

    threads = [threading.Thread(target=work, args=(n,)) for n in range({THREADS})]
    for t in threads: t.start()
    for t in threads: t.join()
    def crash():
        raise RuntimeError("uncaught in a worker thread")
    t = threading.Thread(target=crash); t.start(); t.join()
""")


def test_concurrent_threads_write_one_json_record_per_line() -> None:
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stderr.splitlines()
    records = [json.loads(line) for line in lines]  # every line parses, alone
    assert all(isinstance(r, dict) for r in records)
    assert len(records) == 2 * THREADS * RECORDS + 1
    failures = [r for r in records if r.get("event", "").startswith("Failed to process")]
    assert len(failures) == THREADS * RECORDS
    assert all("ValueError" in r["exception"] for r in failures)
    assert "RuntimeError" in records[-1]["exception"]
    assert not any(line.startswith(("Traceback", "  File")) for line in lines)
