"""API fixtures: one user per role (two practitioners in different teams), their tokens,
and a client of the real FastAPI application over the ``app`` fixture's store."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from tracker.bootstrap import App
from tracker.edges.http import create_app
from tracker.services.accounts import Accounts, User

PASSWORD = "correct-horse-battery-staple"


@dataclass
class Person:
    user: User
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class Env:
    app: App
    client: TestClient
    accounts: Accounts
    people: dict[str, Person]

    def __getitem__(self, key: str) -> Person:
        return self.people[key]


def fast_hasher() -> PasswordHasher:
    """Still argon2id, with cheaper parameters so the suite stays quick."""
    return PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)


def make_people(accounts: Accounts) -> dict[str, Person]:
    specs = {
        "prac_a": ("practitioner", ["TEAM-A"], "P-TEST01"),
        "prac_b": ("practitioner", ["TEAM-B"], "P-TEST02"),
        "manager_a": ("manager", ["TEAM-A"], "M-TEST01"),
        "manager_b": ("manager", ["TEAM-B"], "M-TEST02"),
        "auditor": ("auditor", [], "A-TEST01"),
        "admin": ("admin", [], "AD-TEST01"),
    }
    people = {}
    for name, (role, teams, uid) in specs.items():
        user = accounts.create_user(name.replace("_", "."), PASSWORD, role, teams, user_id=uid)
        secret, _ = accounts.create_token(user.user_id, "tests")
        people[name] = Person(user, secret)
    return people


@pytest.fixture
def env(app: App) -> Iterator[Env]:
    app.extras["password_hasher"] = fast_hasher()
    fastapi_app = create_app(app)
    accounts: Accounts = fastapi_app.state.accounts
    people = make_people(accounts)
    with TestClient(fastapi_app, raise_server_exceptions=False) as client:
        yield Env(app, client, accounts, people)


def add_qa(env: Env, name: str, teams: list[str], uid: str) -> Person:
    """A QA account (the people above predate the role; most tests need none)."""
    user = env.accounts.create_user(name, PASSWORD, "qa", teams, user_id=uid,
                                    display_name=f"QA {uid}")
    secret, _ = env.accounts.create_token(user.user_id, "tests")
    person = Person(user, secret)
    env.people[name] = person
    return person
