"""``tracker demo --no-serve`` (idempotent seeding, one login per role) and ``tracker users``,
in-process through ``tracker.edges.cli.main`` on a fresh SQLite file."""

from __future__ import annotations

import re
import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import TEST_KEY
from tests.support import run_cli
from tracker.bootstrap import bootstrap
from tracker.edges.cli import context as ctx
from tracker.kernel.config import Settings
from tracker.services.accounts import Accounts

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> Run:
    monkeypatch.setenv("TRACKER_DATABASE_URL", f"sqlite:///{tmp_path / 'demo.db'}")
    monkeypatch.setenv("TRACKER_MASTER_KEY", TEST_KEY)
    monkeypatch.setenv("TRACKER_LOG_JSON", "true")
    monkeypatch.setenv("COLUMNS", "200")

    def run(*args: str) -> tuple[int, str, str]:
        ctx.set_app(None)
        return run_cli(monkeypatch, capsys, *args)

    return run


def logins(out: str) -> dict[str, str]:
    return dict(re.findall(r"│ \w[\w ]*?\s+│ (demo\.\w+)\s+│ (\S+)\s+│", out))


def test_demo_seeds_once_and_prints_a_working_login_per_role(
    cli: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = cli("demo", "--no-serve", "--cases", "6")
    assert code == 0, out
    assert "seeded now: 6 cases; already there: 0" in out
    assert "hash chain: intact" in out
    first = logins(out)
    assert set(first) == {"demo.practitioner", "demo.manager", "demo.manager_south",
                          "demo.keyworker", "demo.auditor", "demo.admin", "demo.qa"}

    monkeypatch.setenv("COLUMNS", "80")  # a narrow terminal cuts no login short
    code, out, _ = cli("demo", "--no-serve", "--cases", "6")
    assert code == 0
    assert "seeded now: 0 cases; already there: 6" in out
    assert max(len(line) for line in out.splitlines()) <= 80
    second = logins(out)
    assert set(second) == set(first)
    app = bootstrap(Settings(), configure_logging=False, workers=False)
    try:
        accounts = Accounts(app)
        for username, password in second.items():
            user = accounts.authenticate(username, password)
            assert user is not None, username
            expected_role = {"manager_south": "manager", "keyworker": "secure_keyworker"}
            name = username.split(".")[1]
            assert user.role == expected_role.get(name, name)
        assert second == first  # a demo already running keeps working
        assert len(app.store.stream_ids()) == 6
        # A password changed since (or a lost file) gives that login a new one.
        accounts.update_user("A-DEMO", password="changed by someone else")
    finally:
        app.close()
    code, out, _ = cli("demo", "--no-serve", "--cases", "6")
    third = logins(out)
    assert third["demo.auditor"] != first["demo.auditor"]
    assert third["demo.practitioner"] == first["demo.practitioner"]


def test_demo_refuses_a_busy_port_before_changing_anything(cli: Run, tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        code, _out, err = cli("demo", "--port", str(port), "--cases", "3")
    assert code == 2
    assert f"port {port} on 127.0.0.1 is in use: choose another with --port" in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "demo.db").exists() or (tmp_path / "demo.db").stat().st_size == 0


def test_users_add_list_token(cli: Run) -> None:
    code, out, err = cli("users", "add", "sam.jones", "--role", "practitioner", "--team",
                         "TEAM-A", "--user-id", "P-0001", "--password", "a long passphrase")
    assert code == 0, err
    assert "added sam.jones: P-0001, practitioner, teams TEAM-A" in out
    code, out, err = cli("users", "add", "bad", "--role", "boss", "--password", "short")
    assert code == 2
    assert "role: must be one of" in err
    assert "password: must be at least 12 characters" in err
    code, out, _ = cli("users", "list", "--json")
    assert '"user_id": "P-0001"' in out
    code, out, err = cli("users", "token", "sam.jones", "--name", "laptop")
    assert code == 0
    secret = out.strip()
    assert secret.startswith("trk_")
    app = bootstrap(Settings(), configure_logging=False, workers=False)
    try:
        user = Accounts(app).token_user(secret)
        assert user is not None
        assert user.user_id == "P-0001"
    finally:
        app.close()
