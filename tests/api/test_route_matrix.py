"""The role matrix over every route of the assembled application (issue 11, Tests, first
point), on SQLite and PostgreSQL.

Every route of ``create_app`` (API and pages) is listed here: a case-scoped route is
probed for each role and each relation of the signed-in user's team to the case; a route
that is not case-scoped is probed for each role; a public route is listed with the reason
it is public. A new route without an entry fails ``test_every_route_is_in_the_matrix``.

The expected outcomes are ONE table (``CASE_FAMILIES`` and ``ROLE_FAMILIES``), rendered to
``docs/role-matrix.md``; ``test_the_doc_is_the_table`` keeps the two equal.

Probes store nothing, so one seeded service per back end serves every cell:
- a read is a plain GET; an allowed case read must leave an ``allowed`` access-log row;
- an API write carries valid data and a stale ``expected_version``: refused, it is a 403
  (the door: ``authorise``); let through, the service decides and then answers 409 (or a
  rule's 422), so it got past the door and still stored nothing;
- a page's form is posted empty but for the session's CSRF token and a stale version:
  refused, a 403; let through, the form comes back with its errors (or the clash).
After every refused write the case's stream must be unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, find, settings

from events.case import CaseOpened
from events.catalogue import EVENT_CLASSES
from events.envelope import Actor
from tests.api.conftest import PASSWORD, fast_hasher
from tests.api.test_event_properties import data_of
from tests.conftest import NOW, make_settings, truncate_all
from tests.support import opened
from tests.web.conftest import sign_in
from tracker.bootstrap import App, bootstrap
from tracker.db.migrations import upgrade
from tracker.domain.commands import RecordEvent, parse_command
from tracker.edges.http import create_app
from tracker.kernel.clock import FixedClock
from tracker.services.access_log import search
from tracker.services.accounts import Accounts
from tracker.services.app import policy_for
from tracker.services.cases import CaseService

DOC = Path(__file__).resolve().parents[2] / "docs" / "role-matrix.md"

# -- who asks, and the case's relation to their team ----------------------------------------

ROLES: dict[str, str] = {
    "practitioner": "practitioner (TEAM-A)",
    "manager": "manager (TEAM-A)",
    "auditor": "auditor",
    "qa": "qa (TEAM-A)",
    "admin": "admin",
    "keyworker": "secure keyworker, allocated",
    "keyworker-not": "secure keyworker, not allocated",
    "anonymous": "not signed in",
}
"""The rows of every table. Team roles are in TEAM-A; the allocated keyworker is
allocated to every case that exists."""

RELATIONS: dict[str, str] = {
    "own": "own team",
    "other": "other team",
    "in": "transferred in",
    "out": "transferred out, in the read period",
    "gone": "transferred out, after it",
    "hosted": "caretaking (hosted)",
    "offered": "offered to the team",
    "missing": "no such case",
}
"""The columns of a case-scoped table: the case's relation to TEAM-A."""

CASES = {rel: f"CS-MX-{rel.upper()}" for rel in RELATIONS}

OUTCOMES = {
    "A": "allowed",
    "-": "403, revealing nothing",
    "L": "401 (API) or to the sign-in page",
    "N": "404",
}

# -- THE expected table ----------------------------------------------------------------------

NOBODY = {**dict.fromkeys(ROLES, "--------"), "anonymous": "LLLLLLLL"}

CASE_FAMILIES: dict[str, tuple[str, dict[str, str]]] = {
    "read": ("Read the case (API reads, case page, replay, exports)", {
        "practitioner": "A-AA-A--",
        "manager": "A-AA-AA-",
        "auditor": "AAAAAAAN",
        "qa": "AAAAAAAN",
        "admin": "--------",
        "keyworker": "AAAAAAA-",
        "keyworker-not": "--------",
        "anonymous": "LLLLLLLL",
    }),
    "record": ("Record a practitioner's event (API; the practitioner's forms)", {
        **NOBODY, "practitioner": "A-A-----",
    }),
    "contact": ("Record a contact (what a caretaking host and a keyworker record too)", {
        **NOBODY, "practitioner": "A-A--A--", "keyworker": "AAAAAAA-",
    }),
    "custody": ("Record the custody side of a transition", {
        **NOBODY, "practitioner": "A-A-----", "keyworker": "AAAAAAA-",
    }),
    "manager": ("Record a manager's act (decisions, oversight, countersignature)", {
        **NOBODY, "manager": "A-A-----",
    }),
    "answer": ("Accept or reject a transfer", {
        **NOBODY, "manager": "------A-",
    }),
    "audit": ("Record a QA audit (no peer audit by default)", {
        **NOBODY, "qa": "-A-AAAA-",
    }),
    "bundle": ("Export the transfer bundle (the owning team)", {
        **NOBODY, "practitioner": "A-A-----", "manager": "A-A-----",
    }),
    "erase": ("Record an erasure as a case entry (the erasure service only)", NOBODY),
}
"""Route family -> (what it is, role -> one outcome per relation, in ``RELATIONS`` order)."""


# -- the seeded service ---------------------------------------------------------------------


@dataclass
class World:
    app: App
    api: TestClient
    pages: dict[str, TestClient]
    csrf: dict[str, str]
    tokens: dict[str, str]
    users: dict[str, str]
    entries: dict[str, dict[str, str]] = field(default_factory=dict)

    def headers(self, role: str) -> dict[str, str]:
        return {} if role == "anonymous" else {"Authorization": f"Bearer {self.tokens[role]}"}


PEOPLE = {
    "practitioner": ("practitioner", ["TEAM-A"], "P-MX01"),
    "manager": ("manager", ["TEAM-A"], "M-MX01"),
    "auditor": ("auditor", [], "A-MX01"),
    "qa": ("qa", ["TEAM-A"], "Q-MX01"),
    "admin": ("admin", [], "AD-MX01"),
    "keyworker": ("secure_keyworker", [], "K-MX01"),
    "keyworker-not": ("secure_keyworker", [], "K-MX02"),
}
SEEDER = Actor("seed", "system")


def _record(app: App, case_id: str, event_type: str, data: dict[str, Any]) -> str:
    command = RecordEvent(case_id=case_id, event_type=event_type, data=data,
                          occurred_at=app.clock.now())
    [recorded] = CaseService.of(app).record(command, actor=SEEDER, correlation_id="matrix")
    return str(recorded.event_id)


def _transfer(app: App, case_id: str, tid: str, to_team: str, kind: str = "full",
              answer: bool = True) -> None:
    _record(app, case_id, "transfer_requested", {"transfer_id": tid, "kind": kind,
                                                 "to_team": to_team, "reason": "synthetic"})
    if answer:
        _record(app, case_id, "transfer_accepted", {"transfer_id": tid, "team": to_team})


def seed(app: App, clock: FixedClock) -> dict[str, dict[str, str]]:
    """One case per relation to TEAM-A, each in custody with the keyworker K-MX01
    allocated, an appointment ``c-mx`` and a plan (for the routes naming an entry); the
    clock ends inside one transfer's read period and after another's. Returns the
    appointment's and the plan's event ids per relation."""
    days = timedelta(days=policy_for(app).transfers.read_access_days)
    start = NOW - days - timedelta(days=10)
    clock.set(start)
    entries: dict[str, dict[str, str]] = {}
    for n, (rel, case_id) in enumerate(CASES.items()):
        if rel == "missing":
            continue
        team = "TEAM-A" if rel in ("own", "out", "gone") else "TEAM-B"
        _record(app, case_id, "case_opened", opened(
            child_id=f"C-MX{n:05d}", team=team, setting="custody", disposal_type="dto",
            start_date=start.date().isoformat(), expected_end_date="2027-10-01"))
        _record(app, case_id, "case_manager_allocated", {
            "practitioner_id": "K-MX01", "agency": "secure_establishment",
            "role": "secure_keyworker"})
        entries[rel] = {
            "appointment": _record(app, case_id, "contact_scheduled", {
                "contact_id": "c-mx", "kind": "office",
                "scheduled_for": (NOW + timedelta(days=7)).isoformat()}),
            "plan": _record(app, case_id, "plan_agreed", {
                "objectives": [{"domain": "desistance", "description": "synthetic",
                                "target_date": "2027-06-01"}],
                "contingency_for_safety": True, "contingency_for_risk": True,
                "child_involved": True, "parent_carer_involved": False}),
        }
    _transfer(app, CASES["gone"], "T-GONE", "TEAM-B")
    _transfer(app, CASES["in"], "T-IN", "TEAM-A")
    _transfer(app, CASES["hosted"], "T-HOST", "TEAM-A", kind="caretaking")
    _transfer(app, CASES["offered"], "T-OFFER", "TEAM-A", answer=False)
    clock.set(NOW - timedelta(days=1))
    _transfer(app, CASES["out"], "T-OUT", "TEAM-B")
    clock.set(NOW)
    return entries


@pytest.fixture(scope="module",
                params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
          ) -> Iterator[World]:
    """One seeded service per back end for the whole module (not per cell)."""
    clock = FixedClock(NOW)
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('matrix') / 'tracker.db'}"
        app = bootstrap(make_settings(url), clock=clock, configure_logging=False)
        upgrade(app.engine)
    else:
        app = bootstrap(make_settings(request.getfixturevalue("pg_url")), clock=clock,
                        configure_logging=False)
        truncate_all(app)
    app.extras["password_hasher"] = fast_hasher()
    fastapi_app = create_app(app)
    accounts: Accounts = fastapi_app.state.accounts
    tokens, users = {}, {}
    for name, (role, teams, uid) in PEOPLE.items():
        user = accounts.create_user(f"mx.{name}", PASSWORD, role, teams, user_id=uid,
                                    display_name=f"Matrix {name}")
        tokens[name], _ = accounts.create_token(user.user_id, "matrix")
        users[name] = uid
    entries = seed(app, clock)
    pages, csrf = {}, {}
    # Each page client is entered, so it keeps one event-loop thread for all its requests
    # (a client used without ``with`` starts a thread and a loop per request: thousands
    # here). The app has no lifespan, so entering changes nothing the requests see.
    with ExitStack() as clients:
        api = clients.enter_context(TestClient(fastapi_app, raise_server_exceptions=False))
        for name in [*PEOPLE, "anonymous"]:
            client = clients.enter_context(
                TestClient(fastapi_app, raise_server_exceptions=False))
            if name != "anonymous":
                csrf[name] = sign_in(client, f"mx.{name}")
            pages[name] = client
        yield World(app, api, pages, csrf, tokens, users, entries)
    app.close()


# -- the routes -----------------------------------------------------------------------------


def app_routes(fastapi_app: Any) -> set[str]:
    """Every "METHOD /path" the assembled application serves (HEAD aside)."""
    found: set[str] = set()

    def walk(routes: Any) -> None:
        for route in routes:
            if hasattr(route, "original_router"):  # FastAPI keeps included routers nested
                walk(route.original_router.routes)
                continue
            methods = getattr(route, "methods", None) or {"*"}
            found.update(f"{m} {route.path}" for m in methods if m != "HEAD")

    walk(fastapi_app.routes)
    return found


EVENT_FAMILY: dict[str, str] = {
    **dict.fromkeys(("contact_scheduled", "contact_attended", "contact_missed",
                     "missed_contact_followed_up"), "contact"),
    "transition_planned": "custody",
    "transition_completed": "custody",
    **dict.fromkeys(("exceptional_circumstances_recorded", "breach_authorised",
                     "breach_declined", "intervention_level_change_agreed",
                     "management_oversight_recorded", "document_countersigned",
                     "document_returned"), "manager"),
    "transfer_accepted": "answer",
    "transfer_rejected": "answer",
    "case_audited": "audit",
    "personal_data_erased": "erase",
}
"""The family of ``POST /api/cases/{case_id}/events/<type>``; every other type: "record"."""

OVERRIDES: dict[str, dict[str, Any]] = {
    "transition_planned": {"kind": "custody_to_community"},
    "transition_completed": {"kind": "custody_to_community"},
    "transfer_accepted": {"transfer_id": "T-OFFER", "team": "TEAM-A"},
    "transfer_rejected": {"transfer_id": "T-OFFER"},
}
"""Probe data the family's rule looks at: the custody side of a transition, and the
pending offer to TEAM-A."""

CASE_ROUTE = "/api/cases/{case_id}/events/"

WEB_CASE_ROUTES: dict[str, list[tuple[str, str]]] = {
    "/cases/{case_id}": [("read", "")],
    "/cases/{case_id}/replay": [("read", "/replay")],
    "/cases/{case_id}/export": [("read", "/export")],
    "/cases/{case_id}/export.{fmt}": [("read", "/export.json"), ("read", "/export.csv")],
    "/cases/{case_id}/log/{slug}": [("record", "/log/review"), ("contact", "/log/contact"),
                                    ("custody", "/log/transition")],
    "/cases/{case_id}/act/{slug}": [("record", "/act/level")],
    "/cases/{case_id}/allocate": [("record", "/allocate")],
    "/cases/{case_id}/allocation/end": [("record", "/allocation/end")],
    "/cases/{case_id}/warning": [("record", "/warning")],
    "/cases/{case_id}/breach": [("record", "/breach")],
    "/cases/{case_id}/close": [("record", "/close")],
    "/cases/{case_id}/schedule": [("contact", "/schedule")],
    "/cases/{case_id}/follow-up": [("record", "/follow-up")],
    "/cases/{case_id}/audit-action": [("record", "/audit-action")],
    "/cases/{case_id}/transfer": [("record", "/transfer")],
    "/cases/{case_id}/retract/{event_id}": [("record", "/retract/{appointment}")],
    "/cases/{case_id}/correct/{event_id}": [("record", "/correct/{appointment}")],
    "/cases/{case_id}/appointment/{contact_id}/{outcome}": [
        ("contact", "/appointment/c-mx/contact")],
    "/cases/{case_id}/exceptional-circumstances": [("manager", "/exceptional-circumstances")],
    "/cases/{case_id}/breach/authorise": [("manager", "/breach/authorise")],
    "/cases/{case_id}/breach/decline": [("manager", "/breach/decline")],
    "/cases/{case_id}/level/agree": [("manager", "/level/agree")],
    "/cases/{case_id}/oversight": [("manager", "/oversight")],
    "/cases/{case_id}/oversight/done": [("record", "/oversight/done")],
    "/cases/{case_id}/countersign/{event_id}": [("manager", "/countersign/{plan}")],
    "/cases/{case_id}/return/{event_id}": [("manager", "/return/{plan}")],
    "/cases/{case_id}/transfer/accept": [("answer", "/transfer/accept")],
    "/cases/{case_id}/transfer/reject": [("answer", "/transfer/reject")],
    "/cases/{case_id}/audit": [("audit", "/audit")],
}
"""Page routes under ``/cases/{case_id}`` (GET shows the form, POST submits it): the
suffix probed for each family (a route taking a form slug is probed per kind of form)."""

API_CASE_READS = ("", "/history", "/replay", "/engagement", "/export")
TRANSFER_KEY = "A" * 43 + "="


@dataclass(frozen=True)
class Probe:
    family: str
    method: str
    route: str
    suffix: str
    api: bool
    body: dict[str, Any] | None = None


def case_probes() -> list[Probe]:
    """Every probe of a case-scoped route."""
    probes = [Probe("read", "GET", f"/api/cases/{{case_id}}{s}", s, True)
              for s in API_CASE_READS]
    probes.append(Probe("bundle", "POST", "/api/cases/{case_id}/bundle", "/bundle", True,
                        {"transfer_key": TRANSFER_KEY}))
    probes.append(Probe("record", "POST", "/api/cases/{case_id}/events", "/events", True,
                        {"event_type": "review_completed", "data": probe_data("review_completed"),
                         "expected_version": 1_000_000}))
    for cls in EVENT_CLASSES:
        if cls is CaseOpened:
            continue
        probes.append(Probe(
            EVENT_FAMILY.get(cls.type, "record"), "POST", CASE_ROUTE + cls.type,
            f"/events/{cls.type}", True,
            {"data": probe_data(cls.type), "expected_version": 1_000_000}))
    for route, variants in WEB_CASE_ROUTES.items():
        methods = ["GET"] if variants[0][0] == "read" else ["GET", "POST"]
        for family, suffix in variants:
            probes.extend(Probe(family, m, route, suffix, False) for m in methods)
    return probes


_DATA: dict[str, dict[str, Any]] = {}
FIND = settings(database=None, derandomize=True, max_examples=500, phases=[Phase.generate],
                suppress_health_check=list(HealthCheck))


def probe_data(event_type: str) -> dict[str, Any]:
    """Valid data for ``event_type`` (drawn once, deterministically, from the model's own
    schema as the property test draws it), with ``OVERRIDES`` on top."""
    if event_type not in _DATA:
        cls = next(c for c in EVENT_CLASSES if c.type == event_type)

        def valid(data: dict[str, Any]) -> bool:
            whole = {**data, **OVERRIDES.get(event_type, {})}
            try:
                cls.model_validate(whole)
                parse_command({"case_id": "CS-MX", "event_type": event_type,
                               "data": whole, "occurred_at": NOW})
            except Exception:  # any refusal: draw again
                return False
            return True

        drawn = find(data_of(cls), valid, settings=FIND)
        _DATA[event_type] = {**drawn, **OVERRIDES.get(event_type, {})}
    return _DATA[event_type]


def outcome(resp: Any) -> str:
    """The status class of an answer (``OUTCOMES``); "E" for anything unexpected."""
    code = resp.status_code
    if code == 401 or (code in (302, 303, 307) and "/login" in resp.headers.get("location", "")):
        return "L"
    if code == 403:
        return "-"
    if code == 404:
        return "N"
    if code in (200, 201, 409) or (code == 303 and "/login" not in resp.headers.get(
            "location", "")) or (code == 422 and not resp.headers.get(
            "content-type", "").startswith("application/json")):
        return "A"
    if code == 422 and resp.json().get("error") == "rule_violation":
        return "A"  # past the door: the service's rules answered
    return f"E{code}"


def send(world: World, probe: Probe, role: str, rel: str) -> Any:
    case_id = CASES[rel]
    suffix = probe.suffix
    for name in ("appointment", "plan"):  # a case that does not exist: an id of nothing
        suffix = suffix.replace(f"{{{name}}}", world.entries.get(rel, {}).get(
            name, str(UUID(int=7))))
    path = probe.route.split("{case_id}")[0] + case_id + suffix
    if probe.api:
        return world.api.request(probe.method, path, json=probe.body,
                                 headers=world.headers(role))
    client = world.pages[role]
    if probe.method == "GET":
        return client.get(path, follow_redirects=False)
    return client.post(path, data={"csrf_token": world.csrf.get(role, ""),
                                   "expected_version": "999999999"}, follow_redirects=False)


# -- the tests ------------------------------------------------------------------------------


def allowed_reads(world: World, role: str, case_id: str) -> int:
    return search(world.app, user_id=world.users[role], case_id=case_id, outcome="allowed",
                  limit=1).total


@pytest.mark.timeout(1200)  # one item of 8,192 probes: past the suite's 300 s at load 30+
def test_case_routes_follow_the_table(world: World) -> None:
    """Every case-scoped route x role x relation answers as the table says; an allowed case
    read leaves an access-log row; a refused write stores nothing."""
    store = world.app.store
    before = {rel: store.stream_version(case_id) for rel, case_id in CASES.items()}
    wrong: list[str] = []
    for probe in case_probes():
        table = CASE_FAMILIES[probe.family][1]
        got_rows = {}
        for role in ROLES:
            got = ""
            for rel in RELATIONS:
                case_id = CASES[rel]
                logged = (allowed_reads(world, role, case_id)
                          if role != "anonymous" and probe.family == "read" else 0)
                resp = send(world, probe, role, rel)
                cell = outcome(resp)
                got += cell[0]
                if cell == "A" and probe.family == "read" and role != "anonymous":
                    assert allowed_reads(world, role, case_id) > logged, (probe, role, rel)
                if cell.startswith("E"):
                    wrong.append(f"{probe.method} {probe.route}{probe.suffix} {role} {rel}: "
                                 f"{resp.status_code} {resp.text[:200]}")
            got_rows[role] = got
        if probe.method != "GET":  # nothing stored, refused or let through to its rules
            assert {r: store.stream_version(c) for r, c in CASES.items()} == before, probe
        for role in ROLES:
            if got_rows[role] != table[role]:
                wrong.append(f"{probe.method} {probe.route} [{probe.suffix}] {probe.family} "
                             f"{role}: want {table[role]} got {got_rows[role]}")
    assert {rel: store.stream_version(c) for rel, c in CASES.items()} == before
    assert not wrong, "\n".join(wrong)


NOTHING = "00000000-0000-0000-0000-000000000007"
"""An id of nothing (an alert, a sample)."""

ROLE_PROBES: dict[str, str] = {
    "GET /api/access-log": "", "GET /api/account-log": "", "GET /api/alerts": "",
    "POST /api/alerts/{alert_id}/acknowledge": f"/api/alerts/{NOTHING}/acknowledge",
    "POST /api/alerts/{alert_id}/resolve": f"/api/alerts/{NOTHING}/resolve",
    "GET /api/board-meetings": "", "POST /api/board-meetings": "",
    "GET /api/board-pack": "/api/board-pack?quarter=2026Q3",
    "GET /api/caseload": "", "POST /api/cases": "",
    "POST /api/children/{child_id}/erase": "/api/children/C-MX99999/erase",
    "GET /api/children/{child_id}/export": "/api/children/C-MX99999/export",
    "GET /api/compliance": "", "GET /api/engagement": "",
    "GET /api/disproportionality": "/api/disproportionality?year=2026",
    "GET /api/event-types": "", "GET /api/kpis": "/api/kpis?quarter=2026Q3", "GET /api/me": "",
    "GET /api/ratings": "",
    "POST /api/samples": "", "GET /api/samples": "",
    "GET /api/samples/{sample_id}": f"/api/samples/{NOTHING}",
    "DELETE /api/tokens/{token_id}": "/api/tokens/0000000f",
    "POST /api/users": "", "GET /api/users": "",
    "PATCH /api/users/{user_id}": "/api/users/U-MX-NONE",
    "GET /api/users/{user_id}/tokens": "/api/users/U-MX-NONE/tokens",
    "POST /api/users/{user_id}/tokens": "/api/users/U-MX-NONE/tokens",
    "GET /api/verify": "",
    "GET /": "", "GET /admin/children/{child_id}/export": "/admin/children/C-MX99999/export",
    "GET /admin/erase": "", "POST /admin/erase": "",
    "POST /admin/tokens/{token_id}/revoke": "/admin/tokens/0000000f/revoke",
    "GET /admin/users": "", "POST /admin/users": "",
    "POST /admin/users/{user_id}": "/admin/users/U-MX-NONE",
    "POST /admin/users/{user_id}/invite": "/admin/users/U-MX-NONE/invite",
    "POST /admin/users/{user_id}/token": "/admin/users/U-MX-NONE/token",
    "GET /alerts": "", "GET /alerts/{alert_id}": f"/alerts/{NOTHING}",
    "POST /alerts/{alert_id}/acknowledge": f"/alerts/{NOTHING}/acknowledge",
    "POST /alerts/{alert_id}/resolve": f"/alerts/{NOTHING}/resolve",
    "GET /audit": "", "GET /audit/access-log": "", "GET /audit/replay": "",
    "GET /audit/verify": "", "GET /board-meetings": "", "POST /board-meetings": "",
    "GET /caseload": "", "GET /cases/new": "", "POST /cases/new": "", "GET /custody": "",
    "GET /diary": "", "GET /manager": "", "GET /manager/ratings": "",
    "GET /qa/samples": "", "POST /qa/samples": "",
    "GET /qa/samples/{sample_id}": f"/qa/samples/{NOTHING}",
    "GET /reports/board-pack": "", "GET /reports/board-pack.pdf": "",
    "GET /reports/disproportionality": "", "GET /reports/kpis": "", "GET /search": "",
}


ROLE_FAMILIES: dict[str, tuple[str, dict[str, str]]] = {
    "signed-in": ("Anyone signed in", {
        "GET /": "AAAAAAAL",  # each role's home page (a redirect)
        "GET /api/me": "AAAAAAAL",
        "GET /api/event-types": "AAAAAAAL",
    }),
    "team": ("Team lists: caseload, alerts, search (own teams; auditors and QA all)", {
        "GET /api/caseload": "AAAA---L",
        "GET /api/alerts": "AAAA---L",
        "GET /search": "AAAA---L",
        "GET /caseload": "AAA----L",  # the page is not QA's (its list is the API's)
        "GET /alerts": "AAA----L",
        "GET /diary": "A------L",
        "GET /cases/new": "A------L",
        "POST /cases/new": "A------L",
        "POST /api/cases": "VVVVVVVL",  # the body first; opening: tests/api/test_roles.py
    }),
    "alert": ("One alert, and acknowledging it (an id of nothing: refused alike)", {
        "GET /alerts/{alert_id}": "-------L",
        "POST /alerts/{alert_id}/acknowledge": "-------L",
        "POST /alerts/{alert_id}/resolve": "-------L",
        "POST /api/alerts/{alert_id}/acknowledge": "VVVVVVVL",
        "POST /api/alerts/{alert_id}/resolve": "VVVVVVVL",
    }),
    "management": ("Management figures (managers of the team, auditors, QA)", {
        "GET /api/compliance": "-AAA---L",
        "GET /api/engagement": "-AAA---L",
        "GET /api/ratings": "-AAA---L",
        "GET /manager/ratings": "-AAA---L",
        "GET /manager": "-AA----L",
        "GET /api/kpis": "-AA----L",
        "GET /api/disproportionality": "-AA----L",
        "GET /api/board-pack": "-AA----L",
        "GET /reports/kpis": "-AA----L",
        "GET /reports/disproportionality": "-AA----L",
        "GET /reports/board-pack": "-AA----L",
        "GET /reports/board-pack.pdf": "-AA----L",
    }),
    "board": ("The management board's meetings (no personal data)", {
        "GET /api/board-meetings": "-AA-A--L",
        "GET /board-meetings": "-AA-A--L",
        "POST /api/board-meetings": "-V--V--L",
        "POST /board-meetings": "-A--A--L",
    }),
    "samples": ("Dip samples: QA draws, QA and auditors list (an id of nothing: 404)", {
        "GET /api/samples": "--AA---L",
        "GET /qa/samples": "--AA---L",
        "GET /api/samples/{sample_id}": "--NN---L",
        "GET /qa/samples/{sample_id}": "--NN---L",
        "POST /qa/samples": "---A---L",
        "POST /api/samples": "VVVVVVVL",  # the body first; drawing: tests/api/test_qa.py
    }),
    "audit": ("The chain and the access log (auditors; admins for the technical views)", {
        "GET /api/verify": "--A-A--L",
        "GET /audit/verify": "--A-A--L",
        "GET /api/access-log": "--A-A--L",
        "GET /audit/access-log": "--A-A--L",
        "GET /audit": "--A----L",
        "GET /audit/replay": "--A----L",
    }),
    "custody": ("The keyworker's custody list (their allocated cases only)", {
        "GET /custody": "-----AAL",
    }),
    "admin": ("Users, tokens, erasure and subject access (admins; an id of nothing: 404)", {
        "GET /api/users": "----A--L",
        "POST /api/users": "----V--L",
        "PATCH /api/users/{user_id}": "----V--L",
        "GET /api/users/{user_id}/tokens": "----A--L",
        "POST /api/users/{user_id}/tokens": "----V--L",
        "DELETE /api/tokens/{token_id}": "----V--L",
        "GET /api/account-log": "----A--L",
        "GET /api/children/{child_id}/export": "----N--L",
        "POST /api/children/{child_id}/erase": "----V--L",
        "GET /admin/users": "----A--L",
        "POST /admin/users": "----A--L",
        "POST /admin/users/{user_id}": "----A--L",
        "POST /admin/users/{user_id}/invite": "----N--L",
        "POST /admin/users/{user_id}/token": "----A--L",
        "POST /admin/tokens/{token_id}/revoke": "----A--L",
        "GET /admin/erase": "----A--L",
        "POST /admin/erase": "----A--L",
        "GET /admin/children/{child_id}/export": "----N--L",
    }),
}
"""Routes that are not case-scoped: family -> (what it is, route -> one outcome per role,
in ``ROLES`` order). "V": a 422 for an empty body, checked before the role (no case is
involved, so it reveals nothing); the role rule is then covered where the brief names."""

PUBLIC: dict[str, str] = {
    "GET /login": "the sign-in form",
    "POST /login": "signing in (its own CSRF token, rate limited)",
    "POST /logout": "signing out ends whatever session there is",
    "GET /help": "static help text",
    "GET /accessibility": "the accessibility statement",
    "GET /privacy": "the privacy notice",
    "GET /openapi.json": "the API's description, no data",
    "* /static": "GOV.UK assets",
    "GET /set-password/{secret}": "an invitation link: the secret is the credential",
    "POST /set-password/{secret}": "an invitation link: the secret is the credential",
}
"""Routes open without signing in, each with the reason; not case-scoped, no role."""


def case_route_keys() -> set[str]:
    return {f"{p.method} {p.route}" for p in case_probes()}


def role_send(world: World, key: str, role: str) -> Any:
    method, route = key.split(" ", 1)
    path = ROLE_PROBES[key] or route
    if path.startswith("/api/"):
        body: dict[str, Any] | None = None if method in ("GET", "DELETE") else {}
        return world.api.request(method, path, json=body, headers=world.headers(role))
    client = world.pages[role]
    if method == "GET":
        return client.get(path, follow_redirects=False)
    return client.post(path, data={"csrf_token": world.csrf.get(role, "")},
                       follow_redirects=False)


def role_outcome(resp: Any) -> str:
    cell = outcome(resp)
    if cell == "E422" and resp.json().get("error") == "invalid_input":
        return "V"
    return cell


def test_every_route_is_in_the_matrix() -> None:
    """A new route fails here until it has a row in the table (or a reason to be public)."""
    listed = [*case_route_keys(), *ROLE_PROBES, *PUBLIC]
    assert len(listed) == len(set(listed)), "a route is listed twice"
    roles = {k for _, rows in ROLE_FAMILIES.values() for k in rows}
    assert roles == set(ROLE_PROBES)
    clock = FixedClock(NOW)
    app = bootstrap(make_settings("sqlite://"), clock=clock, configure_logging=False)
    try:
        served = app_routes(create_app(app))
    finally:
        app.close()
    assert served == set(listed), (sorted(served - set(listed)), sorted(set(listed) - served))


def test_routes_that_are_not_case_scoped_follow_the_table(world: World) -> None:
    """Each role's answer from every route that is not about one case; nothing stored."""
    store = world.app.store
    before = {rel: store.stream_version(case_id) for rel, case_id in CASES.items()}
    wrong = []
    for _family, (_what, rows) in ROLE_FAMILIES.items():
        for key, want in rows.items():
            got = "".join(role_outcome(role_send(world, key, role))[0] for role in ROLES)
            if got != want:
                wrong.append(f"{key}: want {want} got {got}")
    assert {rel: store.stream_version(c) for rel, c in CASES.items()} == before
    assert not wrong, "\n".join(wrong)


def test_public_routes_answer_without_signing_in(world: World) -> None:
    client = world.pages["anonymous"]
    for key in PUBLIC:
        method, route = key.split(" ", 1)
        if method == "GET" and "{" not in route:
            assert client.get(route, follow_redirects=False).status_code == 200, key


# -- the document -----------------------------------------------------------------------------


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _routes_of(family: str) -> list[str]:
    """The family's routes as the doc lists them (typed event routes folded into one)."""
    probes = [p for p in case_probes() if p.family == family]
    events = sorted(p.route.removeprefix(CASE_ROUTE) for p in probes
                    if p.route.startswith(CASE_ROUTE))
    methods: dict[str, set[str]] = {}
    for p in probes:
        if not p.route.startswith(CASE_ROUTE):
            slug = f" (slug `{p.suffix.rsplit('/', 1)[-1]}`)" if "{slug}" in p.route else ""
            methods.setdefault(f"`{p.route}`{slug}", set()).add(p.method)
    out = [f"{', '.join(sorted(m))} {route}" for route, m in sorted(methods.items())]
    if events:
        out.append(f"POST `{CASE_ROUTE}<type>` for {', '.join(events)}")
    return out


def render_doc() -> str:
    """``docs/role-matrix.md``, from the tables above (the test's expectations)."""
    legend = ", ".join(f"**{k}** {v}" for k, v in OUTCOMES.items())
    lines = [
        "# The role matrix, route by route",
        "",
        "Generated from `tests/api/test_route_matrix.py` (`python -m "
        "tests.api.test_route_matrix`), which probes every route of the assembled "
        "application with these expectations on SQLite and PostgreSQL; "
        "`test_the_doc_is_the_table` fails if this file and the test's table differ.",
        "",
        f"Outcomes: {legend}, **V** 422 for an empty body, checked before the role "
        "(no case involved). A refused write stores nothing; an allowed case read is in "
        "the access log.",
        "",
        "The signed-in team roles are in TEAM-A; the allocated secure keyworker is "
        "allocated to every case that exists; QA is in TEAM-A and the policy allows no "
        "peer audit. A case transferred out stays readable for `[transfers] "
        "read_access_days` after the acceptance. Auditors and QA read every case, so "
        "for them an id of nothing is a 404; for everyone else it is the same 403 as a "
        "case they may not see.",
        "",
        "## Routes about one case: role x the case's relation to the team",
        "",
    ]
    for _family, (what, table) in CASE_FAMILIES.items():
        lines += [f"### {what}", "", *[f"- {r}" for r in _routes_of(_family)], ""]
        lines.append(_row(["", *RELATIONS.values()]))
        lines.append(_row(["---"] * (len(RELATIONS) + 1)))
        lines += [_row([ROLES[role], *table[role]]) for role in ROLES]
        lines.append("")
    lines += ["## Routes not about one case: route x role", ""]
    for _family, (what, rows) in ROLE_FAMILIES.items():
        lines += [f"### {what}", "", _row(["", *ROLES.values()]),
                  _row(["---"] * (len(ROLES) + 1))]
        lines += [_row([f"`{key}`", *want]) for key, want in rows.items()]
        lines.append("")
    lines += ["## Public routes (no sign-in, no case)", ""]
    lines += [f"- `{key}`: {why}" for key, why in PUBLIC.items()]
    return "\n".join(lines) + "\n"


def test_the_doc_is_the_table() -> None:
    assert DOC.read_text(encoding="utf-8") == render_doc(), (
        "docs/role-matrix.md differs from the test's table: python -m "
        "tests.api.test_route_matrix")


if __name__ == "__main__":
    DOC.write_text(render_doc(), encoding="utf-8")
