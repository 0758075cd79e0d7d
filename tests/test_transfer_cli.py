"""``tracker transfer request|accept|reject|end-caretaking`` (issue 11 §4), on both back ends:
each records its event as the operator; a rule's refusal is one line naming the field."""

from __future__ import annotations

import pytest

from tests.support import as_operator, open_case, run_cli
from tracker.bootstrap import App


def test_request_reject_then_caretaking_on_the_command_line(
    app: App, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    open_case(app)
    as_operator(monkeypatch, app, user="P-CLI01", role="practitioner")

    def cli(*args: str) -> tuple[int, str, str]:
        return run_cli(monkeypatch, capsys, *args)

    code, out, err = cli("transfer", "request", "CS-TEST1", "T-1", "--to-team", "TEAM-B",
                         "--reason", "synthetic: moved")
    assert code == 0, err
    assert "recorded transfer_requested on case CS-TEST1 (version 2)" in out
    code, _out, err = cli("transfer", "request", "CS-TEST1", "T-2", "--to-team", "TEAM-C",
                          "--reason", "again")
    assert code == 2
    assert "data.transfer_id: another transfer is still awaiting an answer" in err
    # The answer is the receiving team's manager's: a practitioner operator is refused.
    code, _out, err = cli("transfer", "reject", "CS-TEST1", "T-1", "--reason", "no capacity")
    assert code == 2
    assert app.store.stream_version("CS-TEST1") == 2
    as_operator(monkeypatch, app, user="M-CLI01", role="manager")
    code, _out, err = cli("transfer", "reject", "CS-TEST1", "T-1", "--reason", "no capacity")
    assert code == 0, err
    as_operator(monkeypatch, app, user="P-CLI01", role="practitioner")
    code, _out, err = cli("transfer", "request", "CS-TEST1", "T-3", "--to-team", "TEAM-B",
                          "--caretaking", "--reason", "synthetic: staying with an aunt")
    assert code == 0, err
    as_operator(monkeypatch, app, user="M-CLI01", role="manager")
    code, _out, err = cli("transfer", "accept", "CS-TEST1", "T-3", "--team", "TEAM-C")
    assert code == 2
    assert "data.team: must be the receiving team (TEAM-B)" in err
    code, _out, err = cli("transfer", "accept", "CS-TEST1", "T-3", "--team", "TEAM-B")
    assert code == 0, err
    as_operator(monkeypatch, app, user="P-CLI01", role="practitioner")
    code, _out, err = cli("transfer", "end-caretaking", "CS-TEST1", "T-3")
    assert code == 0, err
    types = [r.type for r in app.store.read_stream("CS-TEST1")]
    assert types == ["case_opened", "transfer_requested", "transfer_rejected",
                     "transfer_requested", "transfer_accepted", "caretaking_ended"]
    assert app.store.read_stream("CS-TEST1")[-1].recorded_by == "P-CLI01"
