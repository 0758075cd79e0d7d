"""Helpers shared by the benchmarks: throw-away databases, timing, rounds, output.

The machines these run on are shared and noisy, so every benchmark takes several rounds
and, within a round, runs each implementation once, rotating which goes first. A ratio
is computed *within* a round (the implementations saw the same noise) and the report
gives the median over rounds, of the rates and of the ratios.
"""

from __future__ import annotations

import gc
import json
import os
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def pg_admin_url() -> str:
    """The PostgreSQL server to benchmark on (``TRACKER_BENCH_PG_URL``), as a psycopg URL."""
    url = make_url(os.environ.get("TRACKER_BENCH_PG_URL", DEFAULT_PG_URL))
    if url.drivername in ("postgresql", "postgres", "postgresql+psycopg2"):
        url = url.set(drivername="postgresql+psycopg")
    return url.render_as_string(hide_password=False)


def pg_unreachable(admin_url: str | None = None) -> str | None:
    """Why the benchmark server cannot be used (None when it can)."""
    admin = create_engine(admin_url or pg_admin_url(), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # any failure to reach the server means "not there"
        return f"{make_url(admin_url or pg_admin_url()).host}: {type(exc).__name__}"
    finally:
        admin.dispose()
    return None


def backends(choice: str, bench: str) -> Iterator[str]:
    """The backends to run (``all``, ``sqlite`` or ``postgresql``). An unreachable
    PostgreSQL is skipped with a note under ``all``, and is an error when asked for."""
    for backend in ["sqlite", "postgresql"] if choice == "all" else [choice]:
        if backend == "postgresql":
            why = pg_unreachable()
            if why is not None:
                message = (
                    f"bench {bench}: PostgreSQL not reachable ({why}); set TRACKER_BENCH_PG_URL"
                )
                if choice == "postgresql":
                    sys.exit(message)
                print(message + "; skipped", file=sys.stderr)
                continue
        yield backend


@contextmanager
def pg_database(prefix: str = "tracker_bench") -> Iterator[str]:
    """A fresh, empty PostgreSQL database on the benchmark server; dropped afterwards."""
    admin_url = pg_admin_url()
    name = f"{prefix}_{os.getpid()}_{secrets.token_hex(3)}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def libpq_params(url: str | URL) -> dict[str, Any]:
    """Keyword arguments for ``psycopg.connect`` from an SQLAlchemy URL."""
    parsed = make_url(url)
    params: dict[str, Any] = {
        "host": parsed.host or "127.0.0.1",
        "port": parsed.port or 5432,
        "user": parsed.username or "postgres",
        "dbname": parsed.database or "postgres",
    }
    if parsed.password:
        params["password"] = parsed.password
    return params


@contextmanager
def temp_dir(prefix: str = "tracker-bench-") -> Iterator[Path]:
    """A temporary directory (for SQLite files), removed afterwards."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def timed(work: Callable[[], object]) -> float:
    """Seconds ``work`` takes by ``time.perf_counter``, after a full garbage collection."""
    gc.collect()
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


@dataclass
class Rounds:
    """Rates of several implementations, measured in alternating order, round by round.

    ``run_sliced`` cuts each round into slices; in each slice every implementation does
    one share of its work, the order rotating from slice to slice and round to round, and
    each slice is a paired sample. A burst of noise from a neighbour then spoils a few
    samples, which the medians ignore, instead of one implementation's whole round.
    """

    names: Sequence[str]
    rates: dict[str, list[float]] = field(default_factory=dict)

    def run(self, rounds: int, measure: Callable[[str, int], float]) -> None:
        """Call ``measure(name, round)`` -> rate for every implementation in every round.

        Round ``r`` starts with implementation ``r mod n`` and goes on in order, so every
        implementation runs first, second and last equally often.
        """
        n = len(self.names)
        for r in range(rounds):
            order = [self.names[(r + i) % n] for i in range(n)]
            for name in order:
                self.rates.setdefault(name, []).append(measure(name, r))

    def run_sliced(
        self, rounds: int, slices: int, measure: Callable[[str], tuple[int, float]]
    ) -> None:
        """Call ``measure(name)`` -> (events, seconds) ``slices`` times a round for each.

        Every slice is one paired sample: the implementations ran back to back, so their
        rates in it saw the same neighbours. ``rates`` then holds one rate per slice,
        in the same order for every implementation.
        """
        n = len(self.names)
        for r in range(rounds):
            for s in range(slices):
                for i in range(n):
                    name = self.names[(r + s + i) % n]
                    done, took = measure(name)
                    self.rates.setdefault(name, []).append(done / took)

    def spread(self, name: str, baseline: str) -> tuple[float, float]:
        """The 10th and 90th percentiles of the paired ratios."""
        deciles = statistics.quantiles(self.ratios(name, baseline), n=10, method="inclusive")
        return deciles[0], deciles[-1]

    def median(self, name: str) -> float:
        """The median rate of one implementation."""
        return statistics.median(self.rates[name])

    def ratios(self, name: str, baseline: str) -> list[float]:
        """``name``'s rate over ``baseline``'s, round by round."""
        return [a / b for a, b in zip(self.rates[name], self.rates[baseline], strict=True)]

    def ratio(self, name: str, baseline: str) -> float:
        """The median of the per-round ratios."""
        return statistics.median(self.ratios(name, baseline))


def emit(record: Mapping[str, Any], *, as_json: bool) -> None:
    """One JSON line, or a readable line when not asked for JSON."""
    if as_json:
        print(json.dumps(record, separators=(",", ":")), flush=True)
        return
    print("  ".join(f"{k}={_fmt(v)}" for k, v in record.items()), flush=True)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3f}" if value < 100 else f"{value:.0f}"
    return str(value)
