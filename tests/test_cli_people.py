"""The CLI for people (issue 12 §4): version, the event catalogue, help, logs, tables, dates."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import typer.main

from events.catalogue import EVENT_TYPES
from events.delivery import ContactAttended
from events.describe import describe_event
from tests.support import cli_runner, run_cli
from tracker.bootstrap import App
from tracker.edges.cli import build, plain, tidy_help
from tracker.kernel import display


@pytest.fixture
def cli(app: App, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str, str]]:
    """``tracker ARGS`` against the test database (``tests.support.cli_runner``)."""
    return cli_runner(app, monkeypatch, capsys)


@pytest.fixture
def offline(monkeypatch: Any, capsys: Any) -> Any:
    """Run commands that need no database."""

    def run(*args: str) -> tuple[int, str, str]:
        return run_cli(monkeypatch, capsys, *args)

    return run


OPEN = ["case", "open", "--case-id", "CS-PPL1", "--child-id", "C-PPL00001", "--disposal", "yro",
        "--start", "2026-01-05", "--level", "enhanced", "--service", "YJS-TEST", "--team", "T-A"]


def test_version_prints_the_package_version(offline: Any) -> None:
    from importlib.metadata import version

    code, out, _ = offline("--version")
    assert code == 0 and out.strip() == f"tracker {version('tracker')}"


def test_events_list_covers_every_catalogued_type_with_personal_fields_marked(
    offline: Any,
) -> None:
    code, out, _ = offline("events", "list", "--json")
    assert code == 0
    listed = {e["type"]: e for e in json.loads(out)}
    assert set(listed) == set(EVENT_TYPES)
    opened = {f["name"]: f for f in listed["case_opened"]["fields"]}
    assert opened["date_of_birth"]["personal"] and opened["date_of_birth"]["sealed"]
    assert opened["date_of_birth"]["tier"] == "basic"
    assert not opened["child_id"]["personal"]
    code, out, _ = offline("events", "list")
    assert code == 0 and "case_opened" in out and "date_of_birth*" in out


def test_events_show_gives_types_values_bounds_and_required(offline: Any) -> None:
    code, out, _ = offline("events", "show", "contact-attended", "--json")
    assert code == 0
    fields = {f["name"]: f for f in json.loads(out)["fields"]}
    assert set(fields) == set(ContactAttended.model_fields)  # from the model, not a list
    assert fields["kind"]["required"] and fields["kind"]["type"] == "choice"
    assert "intervention_session" in fields["kind"]["allowed"]
    assert fields["participation"]["type"] == "integer"
    assert fields["participation"]["bounds"][:2] == ["at least 1", "at most 5"]
    assert fields["barriers_noted"]["type"] == "list of choice"
    assert "at most 11 items" in fields["barriers_noted"]["bounds"]
    assert fields["note"]["personal"] and not fields["note"]["required"]
    assert "at most 4000 characters" in fields["note"]["bounds"]
    assert fields["parent_carer_present"]["default"] is False
    code, out, _ = offline("events", "show", "contact_attended")
    assert code == 0 and "home_visit" in out and "optional, sealed" in out


def test_events_show_nested_fields_and_an_unknown_type(offline: Any) -> None:
    code, out, _ = offline("events", "show", "plan_agreed", "--json")
    fields = {f["name"]: f for f in json.loads(out)["fields"]}
    assert fields["objectives"]["bounds"] == ["at least 1 items", "at most 30 items"]
    assert fields["objectives[].description"]["personal"]
    assert fields["objectives[].target_date"]["type"] == "date"
    code, _, err = offline("events", "show", "teleported")
    assert code == 2 and "unknown event type 'teleported'" in err and "Traceback" not in err


def test_every_event_type_is_described() -> None:
    for cls in EVENT_TYPES.values():
        described = describe_event(cls)
        assert described.fields or cls.model_fields == {}
        assert all(f.type and f.type != "value" for f in described.fields), cls.type


def test_record_help_points_to_the_catalogue(offline: Any) -> None:
    code, out, _ = offline("record", "--help")
    assert code == 0 and "tracker events show TYPE" in out and "tracker events list" in out


def _paths(command: Any, path: list[str]) -> list[list[str]]:
    found = [path]
    for name, sub in getattr(command, "commands", {}).items():
        found.extend(_paths(sub, [*path, name]))
    return found


def test_no_command_help_has_bool_placeholders_or_rest(offline: Any) -> None:
    paths = _paths(tidy_help(typer.main.get_command(build())), [])
    assert ["events", "show"] in paths and ["history"] in paths and len(paths) > 20
    for path in paths:
        code, out, _ = offline(*path, "--help")
        assert code == 0, path
        bad = re.findall(r"<bool>|``|:[a-z]+:`|`[^`\n]+`", out)
        assert not bad, (path, bad)


def test_plain_turns_rest_into_quotes() -> None:
    assert plain("record ``case_opened`` via :class:`X` or `tracker sample`") == (
        "record 'case_opened' via X or 'tracker sample'")


def test_human_output_has_no_log_lines_unless_verbose(cli: Any, app: App) -> None:
    assert cli(*OPEN)[0] == 0
    data = '{"kind": "phone", "participation": 3}'
    code, out, err = cli("record", "CS-PPL1", "contact_attended", "--data", data)
    assert code == 0 and "recorded contact_attended" in out
    assert err == ""  # info logs are not shown by default
    code, out, err = cli("-v", "record", "CS-PPL1", "contact_attended", "--data", data)
    assert code == 0 and "event_recorded" in err and "{" not in err  # plain, on stderr
    assert "event_recorded" not in out
    code, out, err = cli("-v", "record", "CS-PPL1", "contact_attended", "--data", data,
                         "--json")
    assert code == 0 and json.loads(out)["version"] == 4  # stdout stays pure JSON
    assert json.loads(err.splitlines()[0])["event"] == "event_recorded"


def test_history_prints_a_table_and_json_only_when_asked(cli: Any) -> None:
    assert cli(*OPEN)[0] == 0
    code, out, _ = cli("history", "CS-PPL1")
    assert code == 0 and "case_opened" in out
    assert "5 January 2026, 12:00" in out  # UK local time, month in words
    assert "{" not in out and '"' not in out  # no JSON in the human view
    code, out, _ = cli("history", "CS-PPL1", "--json")
    assert json.loads(out)["events"][0]["type"] == "case_opened"


def test_tables_fit_80_columns_and_keep_the_key_whole(cli: Any, app: App) -> None:
    long_case = "CS-A-VERY-LONG-CASE-ID-0001"
    args = [*OPEN]
    args[args.index("CS-PPL1")] = long_case
    args[args.index("T-A")] = "TEAM-WITH-A-RATHER-LONG-NAME-INDEED"
    assert cli(*args)[0] == 0
    assert cli("record", long_case, "contact-missed", "--occurred-at", "2026-02-02", "--data",
               '{"kind": "home_visit", "acceptable": false, "reason": "no_reason_given"}'
               )[0] == 0
    assert cli("project")[0] == 0
    for command in (["caseload"], ["alerts"], ["history", long_case], ["events", "list"],
                    ["events", "show", "case_audited"]):
        code, out, err = cli(*command)
        assert code == 0, err
        assert max(len(line) for line in out.splitlines()) <= 80, command
        if command[0] != "events":
            assert long_case in out, command  # the key column is never cut short


def test_tables_fit_80_columns_in_a_real_terminal_width(tmp_path: Path) -> None:
    env = dict(os.environ, COLUMNS="80")
    result = subprocess.run([sys.executable, "-m", "tracker", "events", "show",
                             "assessment_completed"], env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert any("likelihood_of_reoffending" in line for line in lines)


@pytest.mark.parametrize(("args", "option"), [
    (["seed", "--until", "28/11/2026"], "--until"),
    (["history", "CS-PPL1", "--as-of", "yesterday"], "--as-of"),
    (["ratings", "--from", "2026-13-01"], "--from"),
    ([*OPEN[:-2], "--team", "T-A", "--end", "2026-02-30"], "--end"),
    ([*OPEN[:-2], "--team", "T-A", "--dob", "1 April 2010"], "--dob"),
])
def test_a_bad_date_names_the_option_and_the_format(cli: Any, args: list[str], option: str
                                                    ) -> None:
    code, out, err = cli(*args)
    assert code == 2
    assert f"{option}:" in err and "YYYY-MM-DD" in err and "Traceback" not in err + out


def test_display_formats_dates_in_words_and_uk_time() -> None:
    assert display.day(date(2026, 11, 28)) == "28 November 2026"
    assert display.day("2026-06-30T23:30:00+00:00") == "1 July 2026"  # BST: the next day
    assert display.when(datetime(2026, 7, 1, 9, 0, tzinfo=UTC)) == "1 July 2026, 10:00"
    assert display.when("2026-11-28T10:30:00+00:00") == "28 November 2026, 10:30"
    assert display.when("2026-11-28") == "28 November 2026"
    assert display.day(date(2026, 11, 2), month="short") == "2 Nov 2026"
    assert display.when(None) == "" and display.day("not a date") == "not a date"


def test_date_options_say_their_format_in_help(offline: Any) -> None:
    for path, option in ((["case", "open"], "--start"), (["seed"], "--until"),
                         (["history"], "--as-of"), (["ratings"], "--from")):
        code, out, _ = offline(*path, "--help")
        line = next(line for line in out.splitlines() if option in line)
        assert code == 0 and "YYYY-MM-DD" in line, (path, line)
