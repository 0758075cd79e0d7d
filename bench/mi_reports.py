"""How long the management-information reports take over an existing database (issue 13:
"KPI/report pages fold every case per request"). A script, not a test: no assertion.

``TRACKER_DATABASE_URL=sqlite:///PATH/tracker.db python -m bench.mi_reports --quarter 2026Q3``
``[--runs 3]`` (from the repository root; the key file sits beside the SQLite database).

It times, with the settings from the environment (the demo's SQLite file by default):
reading the cohort (every case's KPI facts), the KPI report (the KPI page's and
``tracker kpis``' query), the board pack (page, API and ``tracker board-pack``), and the
quarterly return's tables; with ``--login USER:PASSWORD`` (a manager, e.g. the demo's from
``tracker.db.demo-logins.json``) also the KPI page and the board-pack page, through the
real application in-process (starlette's TestClient). The first read of the cohort is
timed alone (``cold``: every case folded); then each report is run ``--runs`` times and
its median and minimum printed, one JSON line per report.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import time
from collections.abc import Callable

from fastapi.testclient import TestClient

from projections.alert_rules import read_policy
from projections.kpis import Quarter
from projections.quarterly_return import tables
from projections.queries.board_pack import board_pack
from projections.queries.kpi_reports import kpi_report, kpi_rules, read_cohort
from tracker.bootstrap import bootstrap
from tracker.edges.http import create_app
from tracker.kernel.config import Settings


def timed(fn: Callable[[], object], runs: int) -> dict[str, float]:
    seconds: list[float] = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        seconds.append(time.perf_counter() - start)
    return {"median_s": round(statistics.median(seconds), 3), "min_s": round(min(seconds), 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quarter", default="2026Q3")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--login", default="", help="USER:PASSWORD of a manager")
    args = parser.parse_args()
    app = bootstrap(Settings(), configure_logging=False)
    q = Quarter.parse(args.quarter)
    start = time.perf_counter()
    cases = len(read_cohort(app)["cases"])
    print(json.dumps({"report": "read_cohort (cold)", "cases": cases, "quarter": str(q),
                      "runs": 1, "median_s": round(time.perf_counter() - start, 3)}))

    def the_return() -> None:
        cohort = read_cohort(app)
        tables(cohort["cases"], cohort["meetings"], q, kpi_rules(read_policy(app)))

    runs: list[tuple[str, Callable[[], object]]] = [
        ("read_cohort", lambda: read_cohort(app)), ("kpi_report", lambda: kpi_report(app, q)),
        ("board_pack", lambda: board_pack(app, q)), ("return_tables", the_return)]
    if args.login:
        client = TestClient(create_app(app))
        user, password = args.login.split(":", 1)
        page = client.get("/login").text
        token = re.search(r'name="login_csrf" value="([^"]+)"', page)
        assert token is not None
        client.post("/login", data={"username": user, "password": password,
                                    "login_csrf": token.group(1)}, follow_redirects=True)

        def page_of(path: str) -> Callable[[], object]:
            def get() -> object:
                resp = client.get(path, params={"quarter": str(q)})
                if resp.status_code != 200:
                    raise SystemExit(f"{path}: {resp.status_code}")
                return resp
            return get

        runs += [("page /reports/kpis", page_of("/reports/kpis")),
                 ("page /reports/board-pack", page_of("/reports/board-pack"))]
    for name, fn in runs:
        print(json.dumps({"report": name, "cases": cases, "quarter": str(q), "runs": args.runs,
                          **timed(fn, args.runs)}))


if __name__ == "__main__":
    main()
