"""The CLI end to end, in-process through ``tracker.edges.cli.main`` on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import TEST_KEY
from tests.support import cli_runner
from tracker.bootstrap import App


@pytest.fixture
def cli(app: App, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str, str]]:
    """``tracker ARGS`` against the test database (``tests.support.cli_runner``)."""
    return cli_runner(app, monkeypatch, capsys)


OPEN = ["case", "open", "--case-id", "CS-CLI1", "--child-id", "C-CLI00001", "--disposal", "yro",
        "--start", "2026-01-05", "--level", "enhanced", "--service", "YJS-TEST", "--team", "T-A",
        "--dob", "2010-04-01"]


def test_open_record_history_verify(cli, app: App) -> None:  # type: ignore[no-untyped-def]
    assert cli(*OPEN)[0] == 0
    code, out, _ = cli("record", "CS-CLI1", "contact-missed", "--occurred-at", "2026-02-02",
                       "--data", '{"kind": "home_visit", "acceptable": false, '
                       '"reason": "no_reason_given"}', "--json")
    assert code == 0 and json.loads(out)["version"] == 2
    code, out, _ = cli("history", "CS-CLI1", "--json")
    events = json.loads(out)["events"]
    assert [e["type"] for e in events] == ["case_opened", "contact_missed"]
    assert events[0]["data"]["date_of_birth"] == "2010-04-01"  # unsealed for the reader
    assert cli("verify")[0] == 0
    from tracker.services.access_log import search

    code, _, err = cli("case", "show", "CS-CLI1", "--json")
    assert code == 0, err
    logged = search(app, case_id="CS-CLI1").entries  # every read of a case is logged
    assert sorted((e.user_id, e.action) for e in logged) == [
        ("P-CLI01", "cli: tracker case show"), ("P-CLI01", "cli: tracker history")]


@pytest.mark.parametrize(("args", "field"), [
    (["--data", "{oops"], "--data"),
    (["--data", '{"kind": "office", "acceptable": "perhaps", "reason": "other"}'],
     "data.acceptable"),
    (["--data", '{"kind": "office", "reason": "other"}'], "data.acceptable"),
    (["--data", '{"kind": "office", "acceptable": true, "reason": "other", "extra": 1}'],
     "data.extra"),
    (["--data", '{"kind": "office", "acceptable": true, "reason": "other"}',
      "--occurred-at", "2025-12-01"], "occurred_at"),
    (["--data", '{"kind": "office", "acceptable": true, "reason": "other"}',
      "--occurred-at", "yesterday"], "--occurred-at"),
])
def test_bad_input_names_the_field_and_writes_nothing(cli, app: App, args, field) -> None:  # type: ignore[no-untyped-def]
    cli(*OPEN)
    code, out, err = cli("record", "CS-CLI1", "contact_missed", *args)
    assert code == 2
    assert field in err and "Traceback" not in err + out
    assert app.store.stream_version("CS-CLI1") == 1


def test_unknown_type_and_stale_version_are_clear(cli, app: App) -> None:  # type: ignore[no-untyped-def]
    cli(*OPEN)
    code, _, err = cli("record", "CS-CLI1", "teleported", "--data", "{}")
    assert code == 2 and "unknown event type 'teleported'" in err
    code, _, err = cli("record", "CS-CLI1", "contact_attended", "--expected-version", "0",
                       "--data", '{"kind": "phone", "participation": 3}', "--json")
    assert code == 2
    body = json.loads(err)
    assert body["expected_version"] == 0 and body["actual_version"] == 1
    assert app.store.stream_version("CS-CLI1") == 1


def test_import_is_all_or_nothing_and_names_the_line(cli, app: App, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cli(*OPEN)
    good = {"case_id": "CS-CLI1", "event_type": "contact_attended",
            "occurred_at": "2026-02-03T10:00:00+00:00",
            "data": {"kind": "office", "participation": 4}}
    bad = dict(good, data={"kind": "office", "participation": 11})
    file = tmp_path / "events.jsonl"
    file.write_text("\n".join(json.dumps(x) for x in (good, good, bad)) + "\n")
    code, _, err = cli("import", str(file))
    assert code == 2 and "line 3" in err and "data.participation" in err
    assert app.store.stream_version("CS-CLI1") == 1
    file.write_text(json.dumps(good) + "\n" + "not json\n")
    code, _, err = cli("import", str(file))
    assert code == 2 and "line 2" in err and "not valid JSON" in err
    file.write_text("\n".join(json.dumps(good) for _ in range(3)) + "\n")
    code, out, _ = cli("import", str(file), "--json")
    assert code == 0 and json.loads(out)["events_appended"] == 3
    assert app.store.stream_version("CS-CLI1") == 4


def test_seed_is_deterministic_and_idempotent(cli, app: App) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = cli("seed", "--cases", "8", "--seed", "7", "--until", "2026-10-30", "--json")
    assert code == 0
    first = json.loads(out)
    assert first["cases"] == 8 and first["events"] > 100
    code, out, _ = cli("seed", "--cases", "8", "--seed", "7", "--until", "2026-10-30", "--json")
    assert json.loads(out) == {"cases": 0, "skipped_existing": 8, "events": 0}
    code, out, _ = cli("verify", "--json")
    assert json.loads(out)["ok"] is True and json.loads(out)["events"] == first["events"]


def test_broken_chain_exits_non_zero(cli, app: App) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import text

    cli(*OPEN)
    with app.engine.begin() as conn:
        if app.engine.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE events DISABLE TRIGGER events_append_only"))
        else:
            conn.execute(text("DROP TRIGGER events_no_update"))
        conn.execute(text("UPDATE events SET recorded_by = 'someone-else'"))
    code, out, _ = cli("verify")
    assert code == 1 and "CS-CLI1 version 1: content_altered" in out


def test_the_installed_entry_point_reports_errors_without_a_traceback(tmp_path: Path) -> None:
    env = dict(os.environ, TRACKER_DATABASE_URL=f"sqlite:///{tmp_path}/t.db",
               TRACKER_MASTER_KEY=TEST_KEY, TRACKER_USER="A-CLI01", TRACKER_ROLE="auditor")
    result = subprocess.run([sys.executable, "-m", "tracker", "history", "CS-X"],
                            env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "tracker db upgrade" in result.stderr and "Traceback" not in result.stderr


def test_every_cli_build_has_its_groups_even_after_earlier_apps_are_collected() -> None:
    """A new app must never find the sub-command groups of a collected one (ids are reused)."""
    import gc

    import typer.main

    from tracker.edges.cli import build

    for _ in range(20):
        command = typer.main.get_command(build())
        assert {"show", "open"} <= set(command.commands["case"].commands)  # type: ignore[attr-defined]
        del command
        gc.collect()


@pytest.mark.parametrize(("unset", "named"), [
    (("TRACKER_USER",), "set TRACKER_USER:"),
    (("TRACKER_ROLE",), "set TRACKER_ROLE:"),
    (("TRACKER_USER", "TRACKER_ROLE"), "set TRACKER_USER and TRACKER_ROLE:"),
])
def test_the_operator_must_say_who_they_are(cli, app: App, monkeypatch, unset, named) -> None:  # type: ignore[no-untyped-def]
    """No default identity: a write or a read names a person in a role, or is refused."""
    assert cli(*OPEN)[0] == 0
    for name in unset:
        monkeypatch.delenv(name)
    for args in (["history", "CS-CLI1"], ["record", "CS-CLI1", "case_closed", "--data",
                                          '{"reason": "order_completed"}']):
        code, _, err = cli(*args)
        assert code == 2 and named in err and "Traceback" not in err
        assert len(err.strip().splitlines()) == 1
    assert app.store.stream_version("CS-CLI1") == 1
    monkeypatch.setenv("TRACKER_USER", "P-CLI01")
    monkeypatch.setenv("TRACKER_ROLE", "boss")
    code, _, err = cli("history", "CS-CLI1")
    assert code == 2 and "TRACKER_ROLE must be one of" in err


def test_caseload_and_alerts_log_every_case_they_list(cli, app: App) -> None:  # type: ignore[no-untyped-def]
    from tracker.services.access_log import search

    assert cli(*OPEN)[0] == 0
    cli("record", "CS-CLI1", "contact-missed", "--occurred-at", "2026-02-02", "--data",
        '{"kind": "home_visit", "acceptable": false, "reason": "no_reason_given"}')
    assert cli("project")[0] == 0
    code, out, err = cli("caseload", "--json")
    assert code == 0, err
    code, out, err = cli("alerts", "--json")
    assert code == 0, err
    alerted = {a["case_id"] for a in json.loads(out)}
    actions = [e.action for e in search(app, case_id="CS-CLI1").entries]
    assert "cli: tracker caseload" in actions
    assert "CS-CLI1" in alerted  # an unacceptable missed contact raises one
    assert "cli: tracker alerts" in actions


def test_a_cli_read_of_a_missing_case_is_logged_not_found(cli, app: App) -> None:  # type: ignore[no-untyped-def]
    from tracker.services.access_log import search

    for args in (["case", "show", "CS-NOPE1"], ["history", "CS-NOPE1"]):
        code, _out, err = cli(*args)
        assert code == 2 and "not found" in err
    logged = search(app, case_id="CS-NOPE1").entries
    assert sorted((e.action, e.outcome) for e in logged) == [
        ("cli: tracker case show", "not_found"), ("cli: tracker history", "not_found")]


def test_child_erase_is_for_admins_and_takes_a_reason_code(  # type: ignore[no-untyped-def]
    cli, app: App, monkeypatch
) -> None:
    assert cli(*OPEN)[0] == 0
    code, _out, err = cli("child", "erase", "C-CLI00001", "--reason", "erasure_request")
    assert code == 2 and "access" in err.lower() and "Traceback" not in err
    monkeypatch.setenv("TRACKER_ROLE", "admin")
    code, _out, err = cli("child", "erase", "C-CLI00001", "--reason", "asked on the phone")
    assert code == 2 and "reason" in err and len(err.strip().splitlines()) == 1
    code, out, _err = cli("child", "erase", "C-CLI00001", "--reason", "erasure_request")
    assert code == 0 and "key destroyed" in out and "1 of 1 case" in out
    assert app.store.read_stream("CS-CLI1")[0].event.date_of_birth is None  # type: ignore[attr-defined]


def test_manager_decisions_on_the_command_line_need_the_manager_role(  # type: ignore[no-untyped-def]
        cli, app: App, monkeypatch) -> None:
    """``tracker case oversight`` as a practitioner is refused; as a manager it records the
    operator as the manager (no typed id); the practitioner marks the action done."""
    assert cli(*OPEN)[0] == 0
    args = ["case", "oversight", "CS-CLI1", "--category", "risk_review", "--note", "Discussed.",
            "--action", "Review the plan.", "--due", "2026-12-01", "--oversight-id", "OV-C1",
            "--occurred-at", "2026-10-01", "--json"]
    code, _, err = cli(*args)
    assert code == 2 and "you do not have access to this" in err, err
    assert app.store.stream_version("CS-CLI1") == 1
    monkeypatch.setenv("TRACKER_USER", "M-CLI01")
    monkeypatch.setenv("TRACKER_ROLE", "manager")
    code, out, err = cli(*args)
    assert code == 0, err
    assert json.loads(out)["type"] == "management_oversight_recorded"
    stored = app.store.read_stream("CS-CLI1")[-1]
    assert (stored.recorded_by, stored.recorded_role) == ("M-CLI01", "manager")
    code, _, err = cli("case", "oversight-done", "CS-CLI1", "--oversight", "OV-C1")
    assert code == 2 and "you do not have access" in err  # the practitioner's act
    monkeypatch.setenv("TRACKER_USER", "P-CLI01")
    monkeypatch.setenv("TRACKER_ROLE", "practitioner")
    code, _, err = cli("case", "oversight-done", "CS-CLI1", "--oversight", "OV-C1",
                       "--occurred-at", "2026-10-05")
    assert code == 0, err
