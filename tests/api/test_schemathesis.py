"""Schemathesis against the served OpenAPI document of a real server: every operation, as
each role, with generated input. No answer may be a 500, and every answer must match the
document (status code, content type, headers, body schema); an operation that answers
without credentials fails too."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from tests.api.conftest import fast_hasher, make_people
from tests.conftest import NOW, make_settings
from tests.support import open_case, opened
from tests.web.live import LiveServer
from tracker.bootstrap import bootstrap
from tracker.db.migrations import upgrade
from tracker.edges.http import create_app
from tracker.kernel.clock import FixedClock


@dataclass
class Live:
    url: str
    tokens: dict[str, str]


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    path: Path = tmp_path_factory.mktemp("fuzz") / "tracker.db"
    app = bootstrap(make_settings(f"sqlite:///{path}"), clock=FixedClock(NOW),
                    configure_logging=False)
    upgrade(app.engine)
    app.extras["password_hasher"] = fast_hasher()
    api = create_app(app)
    people = make_people(api.state.accounts)
    open_case(app, "CS-2026-0001", **{k: v for k, v in opened().items() if k == "team"})
    with LiveServer(api) as server:
        yield Live(server.url, {p.user.role: p.token for p in people.values()
                                if p.user.user_id in ("P-TEST01", "M-TEST01", "A-TEST01",
                                                      "AD-TEST01")})
    app.close()


@pytest.fixture(scope="module")
def live_schema(live: Live) -> schemathesis.schemas.BaseSchema:
    schemathesis.experimental.OPEN_API_3_1.enable()  # FastAPI serves OpenAPI 3.1
    return schemathesis.from_uri(f"{live.url}/openapi.json", base_url=live.url)


schema = schemathesis.from_pytest_fixture("live_schema")


@schema.parametrize()
@settings(max_examples=12, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@pytest.mark.slow
def test_every_operation_conforms_as_every_role(case: schemathesis.Case, live: Live) -> None:
    for role in ("practitioner", "manager", "auditor", "admin"):
        case.call_and_validate(headers={"Authorization": f"Bearer {live.tokens[role]}"},
                               timeout=30)
