"""CLI for the background workers: ``worker``, ``scheduler``, ``status``, ``deliveries``."""

from __future__ import annotations

import os
import signal
from typing import Annotated, Any

import typer
from dramatiq.cli import main as dramatiq_main
from dramatiq.cli import make_argument_parser
from rich.table import Table

from projections.projector import Projector
from tracker.db.worker_tables import STATUSES
from tracker.edges.cli import context as ctx
from tracker.kernel.errors import ConfigurationError, FieldProblem, InvalidInput
from workers import metrics
from workers.actors import json_stdlib_logging
from workers.broker import QUEUES
from workers.jobs import send_deliveries
from workers.runtime import workers_of
from workers.scheduler import Scheduler
from workers.status import collect

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]
MetricsPort = Annotated[
    int | None,
    typer.Option("--metrics-port", min=1, max=65535,
                 help="Serve Prometheus metrics on this port (default TRACKER_METRICS_PORT)."),
]


def register(app: typer.Typer) -> None:
    app.command("worker")(worker)
    app.command("scheduler")(scheduler)
    app.command("status")(status)
    deliveries = typer.Typer(help="Alert deliveries: list them, retry failed ones.",
                             no_args_is_help=True)
    deliveries.command("list")(deliveries_list)
    deliveries.command("retry")(deliveries_retry)
    app.add_typer(deliveries, name="deliveries")


def _redis_app() -> Any:
    app = ctx.app()
    if app.workers is None or app.workers.in_process:
        raise ConfigurationError(
            "TRACKER_REDIS_URL is not set: separate worker and scheduler processes need Redis "
            "(the embedded demo runs its workers inside the web process)"
        )
    workers_of(app).check()
    return app


def worker(
    processes: Annotated[int, typer.Option(min=1, max=64, help="Worker processes.")] = 1,
    partitions: Annotated[int | None, typer.Option(
        min=1, max=256,
        help="Partitions of the cases projected in parallel (default: --processes; the "
             "same on every host).")] = None,
    threads: Annotated[int, typer.Option(min=1, max=256, help="Threads per process.")] = 8,
    queues: Annotated[
        list[str] | None, typer.Option("--queue", help="Only these queues (repeatable).")
    ] = None,
    metrics_port: MetricsPort = None,
) -> None:
    """Run the dramatiq workers (the same as ``dramatiq tracker.main:worker_setup``).

    The cases are projected in ``--partitions`` partitions (default: one per process); a
    store kept in another number refuses to start until ``tracker project --rebuild
    --processes N`` changes it."""
    app = _redis_app()
    count = partitions or processes
    Projector(app).check_partitions(count)
    os.environ["TRACKER_PROJECTION_PARTITIONS"] = str(count)
    for q in queues or []:
        if q not in QUEUES:
            raise InvalidInput([FieldProblem("--queue", f"{q!r} is not one of {list(QUEUES)}")])
    port = metrics_port or app.settings.metrics_port
    level = app.settings.log_level
    ctx.close()  # the worker processes build their own; nothing shared across the fork
    argv = ["tracker.main:worker_setup", "--processes", str(processes), "--threads", str(threads),
            "--skip-logging"]
    if queues:
        argv += ["--queues", *queues]
    if port:
        os.environ["TRACKER_METRICS_PORT"] = str(port)
        argv += ["--fork", "tracker.main:metrics_serve"]
    json_stdlib_logging(level)
    parsed = make_argument_parser().parse_args(argv)  # type: ignore[no-untyped-call]
    code = dramatiq_main(parsed)  # type: ignore[no-untyped-call]
    raise typer.Exit(int(code or 0))


def scheduler(metrics_port: MetricsPort = None) -> None:
    """Enqueue the sweep, the healing catch-up and the digest on time (one or more hosts)."""
    app = _redis_app()
    port = metrics_port or app.settings.metrics_port
    if port:
        metrics.start(app, port, app.settings.metrics_addr)
    sched = Scheduler(app.workers)

    def stop(_signum: int, _frame: object) -> None:
        sched.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    sched.start(background=False)


def status(as_json: JsonFlag = False) -> None:
    """Projection lag, queue depth, deliveries waiting and failed, last scheduled runs."""
    found = collect(ctx.app())
    if as_json:
        ctx.emit_json(found.as_json())
        return
    console = ctx.console
    table = Table(title="read models")
    table.add_column("projection")
    table.add_column("lag (events)", justify="right")
    table.add_column("lag (seconds)", justify="right")
    for name, lag in sorted(found.projections.items()):
        seconds = lag["seconds"]
        table.add_row(name, str(lag["events"]), "-" if seconds is None else f"{seconds:.1f}")
    console.print(table)
    for q in found.quarantined:
        console.print(f"[red]quarantined case {q['case_id']}: {q['message']} "
                      f"(since {q['quarantined_at']}, {q['attempts']} attempts)[/]",
                      highlight=False)
    queues = Table(title=f"queues ({found.broker})")
    for col in ("queue", "ready", "unacked", "delayed", "dead"):
        queues.add_column(col, justify="left" if col == "queue" else "right")
    for name, q in sorted(found.queues.items()):
        queues.add_row(name, str(q["ready"]), str(q["unacked"]), str(q["delayed"]),
                       str(q["dead"]))
    console.print(queues)
    d = found.deliveries
    oldest = found.oldest_pending_seconds
    console.print(
        f"deliveries: {d.get('pending', 0)} waiting"
        + (f" (oldest {oldest:.0f}s)" if oldest is not None else "")
        + f", {d.get('failed', 0)} failed, {d.get('sent', 0)} sent"
    )
    for job, info in sorted(found.jobs.items()):
        console.print(f"last {job}: {info['last_finished_at']:%Y-%m-%d %H:%M:%S} UTC "
                      f"({info['runs']} runs)")
    for part, reason in found.errors.items():
        console.print(f"[yellow]{part}: unavailable ({reason})[/]", highlight=False)


def deliveries_list(
    status_filter: Annotated[
        str | None, typer.Option("--status", help="pending, sent or failed.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 50,
    as_json: JsonFlag = False,
) -> None:
    """The newest deliveries (ids, channel, status, attempts, last error)."""
    if status_filter is not None and status_filter not in STATUSES:
        raise InvalidInput([FieldProblem("--status", f"must be one of {', '.join(STATUSES)}")])
    app = ctx.app()
    rows = workers_of(app).outbox.rows(status_filter, limit)
    if as_json:
        ctx.emit_json(rows)
        return
    table = Table(title=f"deliveries ({len(rows)})")
    for col in ("key", "status", "attempts", "last error", "updated"):
        table.add_column(col)
    for r in rows:
        table.add_row(r["key"], r["status"], str(r["attempts"]), r["last_error"] or "",
                      f"{r['updated_at']:%Y-%m-%d %H:%M:%S}")
    ctx.console.print(table)


def deliveries_retry(
    keys: Annotated[list[str] | None, typer.Argument(help="Keys of failed deliveries.")] = None,
    all_failed: Annotated[bool, typer.Option("--all-failed", help="Every failed one.")] = False,
) -> None:
    """Send failed deliveries again (attempts start afresh)."""
    if not keys and not all_failed:
        raise InvalidInput([FieldProblem("keys", "name at least one key, or --all-failed")])
    app = ctx.app()
    queued = workers_of(app).outbox.requeue_failed(None if all_failed else keys)
    if keys and not all_failed:
        missing = sorted(set(keys) - {q.key for q in queued})
        if missing:
            raise InvalidInput([FieldProblem("keys", f"not a failed delivery: {missing[0]}")])
    send_deliveries(workers_of(app), queued)
    ctx.console.print(f"{len(queued)} deliveries queued again")
