"""The process entry points: the ``tracker`` CLI, dramatiq's worker processes, the metrics fork.

Each builds the app with ``tracker.bootstrap`` and hands it down: this module and the
bootstrap are the composition root, the only code allowed to import every layer.
"""

from __future__ import annotations

import os
import signal
import sys
import threading

import dramatiq

from tracker.bootstrap import bootstrap
from tracker.edges import cli as cli_edge
from tracker.edges.cli import context
from tracker.kernel.errors import ConfigurationError, TrackerError
from workers import jobs, metrics
from workers.actors import json_stdlib_logging
from workers.runtime import workers_of


def cli(argv: list[str] | None = None) -> None:
    """The ``tracker`` command: the CLI with the app built from the environment on first use."""
    context.use_factory(bootstrap)
    cli_edge.main(argv)


def worker_setup() -> None:
    """Entry point for the dramatiq CLI (``dramatiq tracker.main:worker_setup``)."""
    try:
        app = bootstrap()
        if app.workers is None or app.workers.in_process:
            raise ConfigurationError(
                "TRACKER_REDIS_URL is not set: separate workers need Redis "
                "(the embedded demo runs its workers inside the web process)"
            )
        workers = workers_of(app)
        workers.check()
    except TrackerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    json_stdlib_logging(app.settings.log_level)
    jobs.make_projector(app)  # load the read side now, not on the first message
    dramatiq.set_broker(workers.broker)


def metrics_serve() -> int:
    """Entry point for a dramatiq fork process (``--fork tracker.main:metrics_serve``)."""
    app = bootstrap()
    port = app.settings.metrics_port or int(os.environ.get("TRACKER_METRICS_PORT", "9191"))
    metrics.start(app, port, app.settings.metrics_addr)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    return 0


if __name__ == "__main__":  # pragma: no cover
    cli()
