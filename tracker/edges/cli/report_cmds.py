"""Management information on the command line (issue 13 §2).

``tracker kpis --quarter 2026Q3 [--json]``: the ten YJB KPIs (docs/kpis.md).
``tracker return --quarter 2026Q3 --out DIR [--include-personal]``: the case-level
quarterly return as CSV files and a manifest (docs/quarterly-return.md); validated first,
written to a temporary directory beside DIR and renamed into place only when every file is
complete, so nothing is left half-done. Personal data only when asked, with a warning.
``tracker disproportionality --year 2026 [--json]``: counts and RRIs by ethnic group.
``tracker board-pack --quarter 2026Q3 --out DIR``: the board pack as HTML (and PDF when
WeasyPrint is installed).

Listing the cases a KPI counted, or writing them into a return, is a read of those cases:
the access log gets one row per case first.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from projections.alert_rules import read_policy
from projections.kpis import Quarter
from projections.quarterly_return import (
    LAYOUT,
    MANIFEST,
    PERSONAL_FIELDS,
    PERSONAL_LAYOUT,
    tables,
    validate,
)
from projections.queries.board_pack import board_pack, population_text
from projections.queries.kpi_reports import disproportionality as dispro_query
from projections.queries.kpi_reports import kpi_report, kpi_rules, read_cohort
from tracker.edges.cli import context as ctx
from tracker.edges.web.mi_pages import board_pack_document, board_pack_pdf
from tracker.kernel.errors import ConfigurationError, FieldProblem, InvalidInput

QuarterOpt = Annotated[str, typer.Option("--quarter", help="A calendar quarter, e.g. 2026Q3.")]
OutOpt = Annotated[Path, typer.Option("--out", help="The directory to create.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def register(app: typer.Typer) -> None:
    app.command("kpis")(kpis)
    app.command("return")(quarterly_return)
    app.command("disproportionality")(disproportionality)
    app.command("board-pack")(board_pack_cmd)


def kpis(quarter: QuarterOpt, team: Annotated[str | None, typer.Option(
        help="Only this team's cases.")] = None, as_json: JsonOpt = False) -> None:
    """The ten YJB key performance indicators for a quarter, with the cases counted."""
    q = Quarter.parse(quarter)
    report = kpi_report(ctx.app(), q, {team} if team else None)
    ctx.log_case_read(sorted({i for k in report["kpis"] for i in k["case_ids"]}),
                      "tracker kpis")
    if as_json:
        ctx.emit_json(report)
        return
    print(f"KPIs {q} ({report['period']['from']} to {report['period']['to']}; YJB "
          f"{q.yjb}) · policy {report['policy_version']}" + (f" · team {team}" if team else ""))
    for k in report["kpis"]:
        pct = "—" if k["percent"] is None else f"{k['percent']}%"
        print(f"{k['number']:>2}. {k['title']:<52} {k['numerator']:>4} / {k['denominator']:<4} "
              f"{pct}")
        for s in k["steps"]:
            spct = "—" if s["percent"] is None else f"{s['percent']}%"
            print(f"      {s['label']}: {s['numerator']} / {s['denominator']} {spct}")
        if k["case_ids"]:
            print(f"      cases: {', '.join(k['case_ids'])}")
    if report["skipped"]:
        print(f"{report['skipped']} case(s) could not be read and are not counted")


def _fresh_out(out: Path) -> None:
    if out.exists():
        raise InvalidInput([FieldProblem("--out", f"{out} already exists; choose a new "
                                                  "directory")])
    if not out.parent.is_dir():
        raise InvalidInput([FieldProblem("--out", f"{out.parent} is not a directory")])


def _publish(tmp: Path, out: Path) -> None:
    """Move the finished directory into place in one rename (same file system)."""
    os.replace(tmp, out)


PERSONAL_WARNING = (
    "WARNING: this return contains PERSONAL DATA ({fields}) of {n} child(ren) in "
    "personal.csv. Keep it on the service's secure channel to the YJB; do not email, copy "
    "or keep it longer than the submission needs.")


def quarterly_return(quarter: QuarterOpt, out: OutOpt, include_personal: Annotated[
        bool, typer.Option("--include-personal", help="Also write personal.csv: each "
                           "child's ethnicity, sex and ages, unsealed (personal data).")
        ] = False) -> None:
    """Write the case-level quarterly return (CSV files) to a new directory OUT."""
    q = Quarter.parse(quarter)
    _fresh_out(out)
    app = ctx.app()
    policy = read_policy(app)
    cohort = read_cohort(app, personal=include_personal)
    problems = validate(cohort["cases"], q, personal=include_personal)
    if problems:
        raise InvalidInput(problems)
    rows = tables(cohort["cases"], cohort["meetings"], q, kpi_rules(policy),
                  personal=include_personal)
    ctx.log_case_read(sorted({r[0] for r in rows["cases.csv"]}),
                      "tracker return --include-personal" if include_personal
                      else "tracker return")
    layout = {**LAYOUT, **PERSONAL_LAYOUT} if include_personal else LAYOUT
    manifest = {
        "return": "quarterly", "quarter": str(q), "yjb_quarter": q.yjb,
        "produced_at": app.clock.now().isoformat(), "policy_version": policy.version,
        "files": {name: len(rows[name]) for name in layout},
        "contains_personal_data": include_personal,
        "personal_fields": list(PERSONAL_FIELDS) if include_personal else [],
    }
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        for name, header in layout.items():
            with (tmp / name).open("w", newline="", encoding="utf-8") as handle:
                writer = csv.writer(handle, lineterminator="\n")
                writer.writerow(header)
                writer.writerows(rows[name])
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        _publish(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if include_personal:
        print(PERSONAL_WARNING.format(fields=", ".join(PERSONAL_FIELDS),
                                      n=len(rows["personal.csv"])))
    counts = ", ".join(f"{name} {len(rows[name])}" for name in layout)
    print(f"return {q} written to {out}: {counts}")


def disproportionality(
    year: Annotated[int, typer.Option("--year", min=2000, max=2100, help="Calendar year.")],
    comparison: Annotated[str | None, typer.Option(
        help="Comparison group (default: the policy's).")] = None,
    population: Annotated[Path | None, typer.Option(
        help="The local 10-17 population CSV (default: TRACKER_POPULATION_FILE).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Counts and relative rate indices by ethnic group at each stage of the year."""
    app = ctx.app()
    if population is not None:
        try:
            text: str | None = population.read_text(encoding="utf-8")
        except OSError:
            raise InvalidInput([FieldProblem("--population", "cannot be read")]) from None
        note = f"population file {population.name}"
    else:
        text, note = population_text(app)
    if text is None:
        raise ConfigurationError(note)
    report = dispro_query(app, year, text, comparison=comparison)
    if as_json:
        ctx.emit_json({"population": note, "report": report})
        return
    print(f"disproportionality {year} · {note} · comparison {report['comparison_group']} · "
          f"counts below {report['suppress_below']} suppressed")
    for s in report["stages"]:
        total = "withheld" if s["total"] is None else str(s["total"])
        print(f"\n{s['label']} (total {total})")
        print(f"  {'group':<10} {'children':>8} {'pop 10-17':>10} {'per 1,000':>10} {'RRI':>6}")
        for r in s["rows"]:
            rate = "—" if r["rate_per_1000"] is None else f"{r['rate_per_1000']:.2f}"
            rri = "—" if r["rri"] is None else f"{r['rri']:.2f}"
            pop = "—" if r["population"] is None else str(r["population"])
            print(f"  {r['group']:<10} {r['shown']:>8} {pop:>10} {rate:>10} {rri:>6}")
        if s["note"]:
            print(f"  ({s['note']})")


def board_pack_cmd(quarter: QuarterOpt, out: OutOpt, pdf: Annotated[bool, typer.Option(
        "--pdf/--no-pdf", help="Also write the PDF (needs WeasyPrint).")] = True) -> None:
    """Write the management board's quarterly pack (HTML, and PDF) to a new directory."""
    q = Quarter.parse(quarter)
    _fresh_out(out)
    html = board_pack_document(board_pack(ctx.app(), q))
    document = board_pack_pdf(html) if pdf else None
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        (tmp / f"board-pack-{q}.html").write_text(html, encoding="utf-8")
        if document is not None:
            (tmp / f"board-pack-{q}.pdf").write_bytes(document)
        _publish(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    print(f"board pack {q} written to {out}" + (" (HTML and PDF)" if document else " (HTML)"))
