"""Pages under load: the caseload, the manager dashboard and a case page, by service size.

``python -m bench pages --json [--cases 200 2000] [--users 20] [--seconds 20] [--pg]``

For each size N (open cases) a throw-away database (SQLite, or PostgreSQL with ``--pg``)
is seeded with the synthetic caseload of ``tracker.services.seed`` until it holds at least
N open cases, and the read models are caught up (``bench.projections.seed_service``, the
seeding the ``projections`` bench uses too). The real app is then served by uvicorn
in a thread on loopback, and ``--users`` simulated users (threads, one httpx client each)
sign in through ``/login`` as a seeded team's manager or practitioner (alternately) and
request, for ``--seconds``, in turn: the caseload, the manager dashboard (managers only:
practitioners may not see it) and one case page of their team. A request started inside
the window is waited for and counted.

One JSON line per size and page: requests, errors (any answer but 200), and the 10th,
50th, 90th and 95th percentile latencies in milliseconds. Lines of every size but the
smallest also carry ``p95_ratio``: this size's p95 over the smallest size's p95 for the
same page, measured in the same run. Goal (issue 14): the 2,000-case p95 is at most
1.5 x the 200-case p95.

The load generator shares the process (and so the GIL) with the server, as the issue asks
for a load generator on loopback: absolute figures include its cost; the ratio between
sizes, both measured the same way, is what the goal is about.
"""

from __future__ import annotations

import argparse
import re
import secrets
import socket
import statistics
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn

from bench.common import backends, emit
from bench.projections import NOW, database, seed_service
from projections.queries import caseload
from tracker.edges.http import create_app
from tracker.services.accounts import Accounts
from tracker.services.app import App
from tracker.services.seed import TEAMS

GOAL_RATIO = 1.5
PAGES = ("caseload", "dashboard", "case")
CSRF = re.compile(r'name="login_csrf" value="([^"]+)"')


@dataclass(frozen=True)
class Login:
    """One bench account: who signs in, and the case page they will ask for."""

    role: str
    username: str
    password: str
    case_id: str


@dataclass
class Samples:
    """Latencies (seconds) and failed requests of one page."""

    took: list[float] = field(default_factory=list)
    errors: int = 0


def seed_open(app: App, open_cases: int) -> dict[str, int]:
    """Seed until at least ``open_cases`` cases are open (some of the synthetic caseload
    has closed by today): ``bench.projections.seed_service``, the benches' one seeding."""
    return seed_service(app, open_cases=open_cases, until=NOW.date())


def make_logins(app: App, users: int) -> list[Login]:
    """``users`` sign-ins, alternately a manager and a practitioner of the seeded teams
    (accounts with the seeded ids, so their caseloads are the seeded ones), each with one
    open case of their own to open."""
    accounts = Accounts(app)
    made: dict[str, tuple[str, str]] = {}
    teams = list(TEAMS)
    out: list[Login] = []
    for i in range(users):
        team = teams[(i // 2) % len(teams)]
        manager, practitioners = TEAMS[team]
        if i % 2 == 0:
            role, user_id = "manager", manager
            rows = caseload(app, team=team)
        else:
            holding = [p for p in practitioners if caseload(app, practitioner=p)]
            role = "practitioner"
            user_id = holding[(i // 6) % len(holding)] if holding else practitioners[0]
            rows = caseload(app, practitioner=user_id)
        if not rows:
            raise SystemExit(f"bench pages: {user_id} has no open case; seed more cases")
        if user_id not in made:
            username, password = f"bench.{user_id.lower()}", secrets.token_urlsafe(12)
            accounts.create_user(username, password, role, [team], user_id=user_id,
                                 display_name=f"Bench {role.title()} {user_id}")
            made[user_id] = (username, password)
        username, password = made[user_id]
        ids = sorted(r["case_id"] for r in rows)
        out.append(Login(role, username, password, ids[i % len(ids)]))
    return out


class Server:
    """The app served by uvicorn in a thread on a free loopback port (as the web tests)."""

    def __init__(self, app: App) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        config = uvicorn.Config(create_app(app), log_config=None, access_log=False,
                                lifespan="off", backlog=256)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )

    def __enter__(self) -> Server:
        self.thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise SystemExit("bench pages: the server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=60)
        self.sock.close()


def sign_in(client: httpx.Client, login: Login) -> None:
    """Sign in through the real form (its double-submit token included)."""
    form = client.get("/login")
    found = CSRF.search(form.text)
    if form.status_code != 200 or found is None:
        raise SystemExit(f"bench pages: /login answered {form.status_code}")
    done = client.post("/login", data={
        "username": login.username, "password": login.password,
        "login_csrf": found.group(1), "next": "",
    })
    if done.status_code != 303:
        raise SystemExit(f"bench pages: signing in {login.role} answered {done.status_code}")


def load(url: str, logins: Sequence[Login], seconds: float) -> dict[str, Samples]:
    """Every login in its own thread, asking for its pages in turn for ``seconds``."""
    results = [{page: Samples() for page in PAGES} for _ in logins]
    ready = threading.Barrier(len(logins) + 1)
    stop = threading.Event()
    failed: list[BaseException] = []

    def user(index: int, login: Login) -> None:
        paths = {"caseload": "/caseload", "dashboard": "/manager",
                 "case": f"/cases/{login.case_id}"}
        mine = [p for p in PAGES if login.role == "manager" or p != "dashboard"]
        with httpx.Client(base_url=url, timeout=120) as client:
            try:
                sign_in(client, login)
            except BaseException as exc:  # reported by the main thread
                failed.append(exc)
                ready.abort()
                return
            ready.wait()
            turn = index  # users start at different pages
            while not stop.is_set():
                page = mine[turn % len(mine)]
                turn += 1
                start = time.perf_counter()
                response = client.get(paths[page])
                took = time.perf_counter() - start
                # A request started inside the window counts even if it ends after it:
                # dropping it would hide exactly the slowest answers.
                if response.status_code == 200:
                    results[index][page].took.append(took)
                else:
                    results[index][page].errors += 1

    threads = [threading.Thread(target=user, args=(i, login), daemon=True)
               for i, login in enumerate(logins)]
    for thread in threads:
        thread.start()
    try:
        ready.wait()
    except threading.BrokenBarrierError:
        stop.set()
        for thread in threads:
            thread.join()
        raise SystemExit(f"bench pages: a user could not sign in: {failed[:1]}") from None
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join()
    merged = {page: Samples() for page in PAGES}
    for mine_ in results:
        for page, samples in mine_.items():
            merged[page].took.extend(samples.took)
            merged[page].errors += samples.errors
    return merged


def percentiles(took: Sequence[float]) -> dict[str, float | None]:
    """p10, p50, p90 and p95 in milliseconds (None without samples)."""
    if not took:
        return {"p10_ms": None, "p50_ms": None, "p90_ms": None, "p95_ms": None}
    ms = [t * 1000 for t in took]
    cuts = statistics.quantiles(ms, n=20, method="inclusive") if len(ms) > 1 else ms * 19
    return {"p10_ms": round(cuts[1], 2), "p50_ms": round(cuts[9], 2),
            "p90_ms": round(cuts[17], 2), "p95_ms": round(cuts[18], 2)}


def measure(backend: str, cases: int, users: int, seconds: float) -> list[dict[str, Any]]:
    """One size: seed, serve, load; one record per page."""
    with database(backend, "tracker_bench_pages", workers=False) as app:
        seeded = seed_open(app, cases)
        logins = make_logins(app, users)
        with Server(app) as server:
            merged = load(server.url, logins, seconds)
    return [{
        "bench": "pages", "backend": backend, "cases": cases,
        "open_cases": seeded["open_cases"], "events": seeded["events"], "page": page,
        "users": users, "seconds": seconds, "requests": len(merged[page].took),
        "errors": merged[page].errors, **percentiles(merged[page].took),
    } for page in PAGES]


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench pages")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--cases", type=int, nargs="+", default=[200, 2000],
                        help="service sizes (open cases); the smallest is the baseline")
    parser.add_argument("--users", type=int, default=20, help="concurrent simulated users")
    parser.add_argument("--seconds", type=float, default=20.0, help="load per size")
    parser.add_argument("--pg", action="store_true", help="PostgreSQL instead of SQLite")
    args = parser.parse_args(argv)
    if min(args.cases) < 1 or args.users < 1 or args.seconds <= 0:
        parser.error("--cases, --users and --seconds must be positive")
    sizes = sorted(set(args.cases))
    for backend in backends("postgresql" if args.pg else "sqlite", "pages"):
        records = [r for size in sizes for r in measure(backend, size, args.users, args.seconds)]
        base = {r["page"]: r["p95_ms"] for r in records if r["cases"] == sizes[0]}
        for record in records:
            ratio: float | None = None
            if record["cases"] != sizes[0] and record["p95_ms"] and base[record["page"]]:
                ratio = round(record["p95_ms"] / base[record["page"]], 3)
            record["p95_ratio"] = ratio
            record["goal_met"] = None if ratio is None else ratio <= GOAL_RATIO
            emit(record, as_json=args.json)
