"""CLI for the read models: project, case show, caseload, alerts, ratings."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import date, datetime
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from projections import queries
from projections.alerts import AlertView
from projections.projector import Projector, rebuild_txn_events
from projections.ratings import StandardRating
from projections.source import Partition
from tracker.edges.cli import context as ctx
from tracker.kernel.errors import FieldProblem, InvalidInput, PartitionLayoutMismatch

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
AsAtOption = Annotated[str | None, typer.Option(
    "--as-at", help="Judge as at this date (end of day) or date-time (default: now).")]

STATUS_STYLE = {
    "overdue": "bold red", "due": "yellow", "done_late": "magenta", "done_on_time": "green",
    "done_not_countersigned": "yellow",
    "not_due": "dim",
}


def register(app: typer.Typer) -> None:
    app.command("project")(project)
    case = ctx.group(app, "case", "Open and inspect cases.")
    case.command("show")(show_case)
    app.command("caseload")(caseload)
    alerts = typer.Typer(help="Alerts raised by the read models.", invoke_without_command=True)
    alerts.callback()(list_alerts)
    alerts.command("ack")(ack)
    app.add_typer(alerts, name="alerts")
    app.command("ratings")(ratings)


def _as_at(value: str | None) -> date | datetime | None:
    if value is None:
        return None
    if len(value) == 10:
        return ctx.parse_date(value, "--as-at")
    return ctx.parse_moment(value, "--as-at")


def project(
    rebuild: Annotated[bool, typer.Option("--rebuild", help="Empty and rebuild from event 1.")
                       ] = False,
    only: Annotated[str | None, typer.Option(
        "--only", help="One read model: records, aspire, engagement, continuity, enforcement, "
                       "audits or alerts.")] = None,
    batch_size: Annotated[int, typer.Option(min=1, max=100_000, help="Events per read.")
                          ] = 2000,
    retry_quarantined: Annotated[bool, typer.Option(
        "--retry-quarantined", help="Fold the quarantined cases again (after a fix).")] = False,
    processes: Annotated[int | None, typer.Option(
        "--processes", min=1, max=64,
        help="Project in this many processes, one per partition of the cases; with "
             "--rebuild this sets the number of partitions the store keeps.")] = None,
    partition: Annotated[str | None, typer.Option(
        "--partition", hidden=True, help="Catch up one partition only: i/N.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Catch the read models up with the log (or rebuild them), with a progress bar."""
    app = ctx.app()
    if partition is not None:
        _project_partition(_partition(partition), only, batch_size, rebuild, as_json)
        return
    if processes is not None:
        _project_in_processes(processes, only, batch_size, rebuild, as_json)
        return
    projector = Projector(app)
    if retry_quarantined:
        projector.retry_quarantined()
    lag = projector.lag()
    names = [only] if only else list(lag)
    if only is not None and only not in lag:
        projector.catch_up(only=only)  # raises UnknownReadModel with the known names
    behind = max((lag[n].events for n in names if n in lag), default=0)
    head_total = behind
    started = time.perf_counter()
    progress = Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
        TimeElapsedColumn(), console=ctx.err_console, disable=as_json, transient=False,
    )
    with progress:
        task = progress.add_task("rebuilding" if rebuild else "catching up", total=None)

        def advance(done: int, remaining: int) -> None:
            completed = int(progress.tasks[0].completed) + done
            progress.update(task, completed=completed, total=max(completed + remaining, 1))

        if rebuild:
            applied = projector.rebuild(only, on_progress=advance, batch_size=batch_size)
        else:
            progress.update(task, total=max(head_total, 1))
            applied = projector.catch_up(only=only, batch_size=batch_size, txn_events=50_000,
                                         on_progress=advance)
    elapsed = time.perf_counter() - started
    quarantined = projector.quarantined()
    result = {
        "rebuilt": rebuild, "only": only, "events": applied,
        "seconds": round(elapsed, 3),
        "events_per_second": round(applied / elapsed, 1) if elapsed > 0 and applied else None,
        "policy_version": projector.policy.version,
        "lag": {name: {"events": value.events, "seconds": value.seconds}
                for name, value in projector.lag().items()},
        "quarantined": quarantined,
    }
    if as_json:
        ctx.emit_json(result)
        return
    ctx.console.print(
        f"{'rebuilt' if rebuild else 'caught up'}: {applied} events in {elapsed:.2f}s "
        f"(policy {projector.policy.version})"
    )
    for q in quarantined:
        ctx.console.print(f"quarantined case {q['case_id']}: {q['message']}", highlight=False)


def _partition(text: str) -> Partition:
    index, _, count = text.partition("/")
    if not (index.isdigit() and count.isdigit()):
        raise InvalidInput([FieldProblem("--partition", "must be i/N, e.g. 0/2")])
    return Partition(int(index), int(count))


def _project_partition(part: Partition, only: str | None, batch_size: int, rebuild: bool,
                       as_json: bool) -> None:
    """One process of ``--processes``: catch one partition up (the parent has reset the
    checkpoints if it is a rebuild, so a rebuild is a catch-up in large transactions)."""
    app = ctx.app()
    projector = Projector(app, partition=part)
    started = time.perf_counter()
    applied = projector.catch_up(
        only=only, batch_size=batch_size,
        txn_events=rebuild_txn_events(app) if rebuild else 50_000)
    result = {"partition": f"{part.index}/{part.count}", "events": applied,
              "seconds": round(time.perf_counter() - started, 3)}
    if as_json:
        ctx.emit_json(result)
    else:
        ctx.console.print(f"partition {part.index}/{part.count}: {applied} events "
                          f"in {result['seconds']}s")


def _project_in_processes(processes: int, only: str | None, batch_size: int, rebuild: bool,
                          as_json: bool) -> None:
    """``--processes N``: one child ``tracker project --partition i/N`` per partition,
    after the reset if it is a rebuild; fails (naming the child) if any child fails."""
    app = ctx.app()
    projector = Projector(app)
    if rebuild:
        projector.reset(only, partitions=processes)
    elif (stored := projector.partitions()) != processes:
        raise PartitionLayoutMismatch(
            f"--processes: the read models are kept in {stored} partition(s), not "
            f"{processes}; use --processes {stored}, or --rebuild --processes {processes}")
    started = time.perf_counter()
    base = [sys.executable, "-m", "tracker", "project", "--json", "--batch-size",
            str(batch_size)] + (["--only", only] if only else []) + (
        ["--rebuild"] if rebuild else [])
    children = [subprocess.Popen([*base, "--partition", f"{i}/{processes}"],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                for i in range(processes)]
    outcomes = [c.communicate() for c in children]
    elapsed = time.perf_counter() - started
    for i, (child, (_out, err)) in enumerate(zip(children, outcomes, strict=True)):
        if child.returncode != 0:
            last = (err.strip().splitlines() or ["no output"])[-1]
            raise InvalidInput([FieldProblem(
                "--processes", f"the process of partition {i}/{processes} failed: {last}")])
    lag = projector.lag()
    result = {
        "rebuilt": rebuild, "only": only, "processes": processes,
        "seconds": round(elapsed, 3), "policy_version": projector.policy.version,
        "lag": {name: {"events": value.events, "seconds": value.seconds}
                for name, value in lag.items()},
        "quarantined": projector.quarantined(),
    }
    if as_json:
        ctx.emit_json(result)
        return
    ctx.console.print(f"{'rebuilt' if rebuild else 'caught up'} in {processes} processes "
                      f"in {elapsed:.2f}s (policy {projector.policy.version})")


def show_case(
    case_id: Annotated[str, typer.Argument(help="The case.")],
    as_at: AsAtOption = None,
    as_json: JsonFlag = False,
) -> None:
    """A case's ASPIRE compliance, engagement, continuity, enforcement and open alerts."""
    ctx.log_one_case_read(case_id, "tracker case show")  # before anything is shown
    view = queries.case_view(ctx.app(), case_id, as_at=_as_at(as_at))
    if as_json:
        ctx.emit_json(view)
        return
    h = view["case"]
    c = ctx.console
    c.print(f"[bold]{view['case_id']}[/] {h['disposal']} ({h['intervention_level']}), "
            f"team {h['team']}, case manager {h['case_manager'] or '[red]none[/]'}, "
            f"{h['setting']}, {'open' if h['open'] else 'closed ' + ctx.day(h['closed_on'])}")
    c.print(f"as at {ctx.when(view['as_at'])} · policy {view['policy_version']}", style="dim")
    stages = ctx.table("ASPIRE", ("stage", "status", "due", "open items"),
                       whole=("due",))
    for name, stage in view["aspire"].get("stages", {}).items():
        items = [o for o in stage["obligations"] if o["status"] in ("due", "overdue")]
        stages.add_row(name, _status(stage["status"]), ctx.day(stage["due"]),
                       ", ".join(f"{o['kind']} {ctx.day(o['due'])}" for o in items[:4])
                       + (" …" if len(items) > 4 else ""))
    c.print(stages)
    eng = view["engagement"]
    att = eng.get("attendance", {})
    c.print(f"Engagement: attended {att.get('attended')}, missed {att.get('missed_unacceptable')} "
            f"unacceptable / {att.get('missed_acceptable')} acceptable, rate {att.get('rate')} "
            f"({att.get('rate_label')}), of required "
            f"{att.get('of_required', {}).get('rate')} "
            f"({att.get('of_required', {}).get('label')}); "
            f"last contact {eng.get('days_since_contact')} days ago; participation "
            f"{eng.get('participation', {}).get('trend')}")
    cont = view["continuity"]
    c.print(f"Continuity: {cont.get('changes')} case-manager changes, "
            f"{len(cont.get('changes_at_transition', []))} at a transition, "
            f"{len(cont.get('gaps', []))} gaps; probation: "
            f"{cont.get('probation', {}).get('status')}")
    enf = view["enforcement"]
    c.print(f"Enforcement: {enf.get('status')}, {enf.get('warnings_in_period')} warnings in "
            f"the warned period, {len(enf.get('breach_due', []))} breach due")
    _print_alerts(view["alerts"], title="Open alerts")


def _status(status: str | None) -> str:
    style = STATUS_STYLE.get(status or "", "")
    return f"[{style}]{status}[/]" if style else str(status)


def caseload(
    practitioner: Annotated[str | None, typer.Option(help="Only this case manager's cases.")
                            ] = None,
    team: Annotated[str | None, typer.Option(help="Only this team's cases.")] = None,
    as_at: AsAtOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Open cases with what is due and overdue, most overdue first."""
    rows = queries.caseload(ctx.app(), practitioner=practitioner, team=team, as_at=_as_at(as_at))
    ctx.log_case_read([r["case_id"] for r in rows], "tracker caseload")  # before it is shown
    if as_json:
        ctx.emit_json(rows)
        return
    table = ctx.table(f"Caseload ({len(rows)} open cases)",
                      ("case", "team", "case manager", "stages due or overdue", "overdue",
                       "next due", "alerts"), whole=("next due",))
    for r in rows:
        s = r["stages"]
        open_stages = [f"{k} {_status(s[k]['status'])}"
                       for k in ("assessment", "planning", "delivery", "review")
                       if s[k]["status"] in ("due", "overdue")]
        table.add_row(r["case_id"], r["team"], r["practitioner"] or "-",
                      ", ".join(open_stages) or "-", str(r["overdue"]),
                      ctx.day(r["next_due"]), str(r["open_alerts"]))
    ctx.console.print(table)


def list_alerts(
    context: typer.Context,
    open_only: Annotated[bool, typer.Option("--open", help="Only open alerts.")] = False,
    team: Annotated[str | None, typer.Option(help="Only this team's alerts.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """List alerts (all, or only open ones); 'alerts ack ID --note TEXT' acknowledges one."""
    if context.invoked_subcommand is not None:
        return

    rows = queries.list_alerts(ctx.app(), open_only=open_only, team=team)
    ctx.log_case_read([r["case_id"] for r in rows], "tracker alerts")  # before it is shown
    if as_json:
        ctx.emit_json(rows)
        return
    _print_alerts(rows, title=f"Alerts ({len(rows)})")


def _print_alerts(rows: list[AlertView], *, title: str) -> None:
    table = ctx.table(title, ("case", "what", "severity", "status", "raised", "alert id"),
                      fold=("alert id",), whole=("raised",))
    for a in rows:
        status = a["status"]
        if a["owner"]:
            status += f"\nowner {a['owner']}"
        if a["acknowledged_by"]:
            status += f"\nack {a['acknowledged_by']}"
        table.add_row(a["case_id"], a["title"], a["severity"], status,
                      ctx.day(a["raised_at"]), a["alert_id"])
    ctx.console.print(table)


def ack(
    alert_id: Annotated[str, typer.Argument(help="The alert id (from 'tracker alerts').")],
    note: Annotated[str, typer.Option("--note", help="What was done or decided.")],
    as_json: JsonFlag = False,
) -> None:
    """Acknowledge an alert with a note (a manager's action; idempotent)."""
    row = queries.acknowledge_alert(ctx.app(), alert_id, note=note, actor=ctx.actor())
    if as_json:
        ctx.emit_json(row)
        return
    ctx.console.print(f"acknowledged {row['alert_id']} by {row['acknowledged_by']} at "
                      f"{ctx.when(row['acknowledged_at'])}")


def ratings(
    start: Annotated[str | None, typer.Option("--from", metavar=ctx.DATE, help="First day.")
                     ] = None,
    end: Annotated[str | None, typer.Option("--to", metavar=ctx.DATE, help="Last day.")] = None,
    team: Annotated[str | None, typer.Option(help="Only this team.")] = None,
    sample_seed: Annotated[int | None, typer.Option(
        "--sample-seed", min=0, max=2**63 - 1,
        help="Rate the sample `tracker sample --seed` draws, not every case in scope.")
    ] = None,
    sample_id: Annotated[str | None, typer.Option(
        "--sample", help="Rate only the cases of this recorded sample (`tracker samples`).")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Inspection-style ratings from the audits, beside what the records show, over the
    cases that commenced supervision in the window (or a drawn sample of them)."""
    result = queries.ratings(ctx.app(), start=ctx.parse_date(start, "--from"),
                             end=ctx.parse_date(end, "--to"), team=team,
                             sample_seed=sample_seed, sample_id=sample_id)
    if as_json:
        ctx.emit_json(result)
        return
    period = result["period"]
    ctx.console.print(f"Ratings {ctx.day(period['from'])} to {ctx.day(period['to'])}"
                      + (f", team {team}" if team else "")
                      + f" · policy {result['policy_version']}")
    for domain in ("court", "out_of_court"):
        table = ctx.table(f"{domain.replace('_', '-')} cases "
                          f"(audited {result['audits']['sample'][domain]}, "
                          f"records {result['records']['sample'][domain]})",
                          ("standard", "audits", "lowest (audits)", "records",
                           "lowest (records)"))
        for standard, a in result["audits"]["domains"][domain].items():
            r = result["records"]["domains"][domain][standard]
            table.add_row(standard, _band(a), _lowest(a), _band(r), _lowest(r))
        ctx.console.print(table)


def _band(entry: StandardRating) -> str:
    if entry.get("rating") is None:
        return f"[dim]not rated[/] ({entry.get('not_rated')})"
    flag = " [yellow](small sample)[/]" if entry.get("small_sample") else ""
    return f"{entry['rating']}{flag}"


def _lowest(entry: StandardRating) -> str:
    lowest = entry.get("lowest")
    if lowest is None:
        return ""
    q = entry["questions"][lowest]
    return f"{lowest} {q['pct']}% of {q['judged']}"
