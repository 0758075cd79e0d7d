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

import pytest
import structlog
from pydantic import BaseModel, ConfigDict, ValidationError

from tracker.kernel.logging import configure

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


def test_a_logged_exception_keeps_its_type_and_place_but_not_its_values(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A validation error quotes the input and a driver error its SQL parameters: the
    traceback field named them. Now it holds the types and frames only, on one line."""
    configure("INFO", json=True)
    log = structlog.get_logger("test")
    try:
        try:
            EventNote.model_validate({"note": 7, "n": "ZQX-NOTE-IN-PAYLOAD"})
        except ValidationError as exc:
            raise RuntimeError("while storing ZQX-NOTE-IN-PAYLOAD") from exc
    except RuntimeError:
        log.exception("append_failed", case_id="CS-1")
    finally:
        structlog.reset_defaults()
    [line] = capsys.readouterr().err.splitlines()
    record = json.loads(line)
    assert "ZQX" not in line
    assert record["exception"].startswith("builtins.RuntimeError at test_logging.py:")
    assert "pydantic_core._pydantic_core.ValidationError" in record["exception"]


class EventNote(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str
