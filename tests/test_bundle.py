"""The transfer bundle (issue 11 §4): export a case from one database, verify and import it
into another (its own master key; SQLite to PostgreSQL too), continue it there; a tampered
bundle, or one opened with another transfer key, is refused and nothing is written."""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from events.chain import GENESIS, ChainFields, link_hash
from tests.conftest import NOW
from tests.support import as_operator, at, open_case, record, run_cli
from tracker.bootstrap import App, bootstrap
from tracker.db.migrations import upgrade
from tracker.domain.access import Principal
from tracker.domain.commands import RecordEvent
from tracker.kernel.clock import FixedClock
from tracker.kernel.config import Settings
from tracker.kernel.errors import BundleRejected, CaseAlreadyExists
from tracker.services.bundle import _digest, export_bundle, import_bundle
from tracker.services.cases import CaseService
from tracker.services.verify import verify

KEY = bytes(range(32))
OTHER_MASTER = base64.urlsafe_b64encode(b"another-service-master-key-32by!").decode()


@pytest.fixture
def target(tmp_path: Path, clock: FixedClock) -> Iterator[App]:
    """The receiving service: another database, another master key."""
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'receiving.db'}",
                        master_key=OTHER_MASTER, log_json=True)
    app = bootstrap(settings, clock=clock, configure_logging=False)
    upgrade(app.engine)
    yield app
    app.close()


def a_case_sent_to_another_service(app: App) -> None:
    open_case(app)
    record(app, "CS-TEST1", "contact_attended",
           {"kind": "office", "participation": 4, "note": "synthetic: talked about college"},
           at("2026-03-02"))
    record(app, "CS-TEST1", "transfer_requested",
           {"transfer_id": "T-1", "kind": "full", "to_service": "YJS-OTHER",
            "reason": "synthetic: the family moved away"}, at("2026-10-01"))


def continue_there(app: App, version: int) -> None:
    """The receiving team's manager accepts; a practitioner there records the next contact."""
    manager = Principal("M-THERE1", "manager", frozenset({"TEAM-X"}), service="YJS-OTHER")
    service = CaseService.of(app)
    service.record(RecordEvent(case_id="CS-TEST1", event_type="transfer_accepted",
                               data={"transfer_id": "T-1", "team": "TEAM-X"},
                               occurred_at=at("2026-10-20")), actor=manager,
                   correlation_id="test")
    practitioner = Principal("P-THERE1", "practitioner", frozenset({"TEAM-X"}))
    [next_one] = service.record(
        RecordEvent(case_id="CS-TEST1", event_type="contact_attended",
                    data={"kind": "home_visit", "participation": 3}, occurred_at=at("2026-10-21")),
        actor=practitioner, correlation_id="test")
    assert next_one.stream_version == version + 2
    assert service.state("CS-TEST1").team == "TEAM-X"


def exported_then_imported(source: App, receiving: App) -> dict[str, Any]:
    a_case_sent_to_another_service(source)
    bundle = export_bundle(source, "CS-TEST1", KEY, "AD-EXPORT1")
    text = json.dumps(bundle)
    assert "talked about college" not in text and "moved away" not in text  # sealed
    assert "2010-05-17" not in text  # the date of birth too
    imported = import_bundle(receiving, json.loads(text), KEY)
    mine = source.store.read_stream("CS-TEST1")
    assert [(r.event_id, r.hash, r.recorded_by) for r in imported] == [
        (r.event_id, r.hash, r.recorded_by) for r in mine]
    # The personal fields open there, under the receiving service's own master key.
    assert imported[1].event.note == "synthetic: talked about college"  # type: ignore[attr-defined]
    assert verify(receiving.engine, case_id="CS-TEST1").ok
    return bundle


def test_a_bundle_imports_into_another_database_and_the_case_continues(
    app: App, target: App
) -> None:
    bundle = exported_then_imported(app, target)
    manifest = bundle["manifest"]
    assert (manifest["case_id"], manifest["count"], manifest["exported_by"]) == (
        "CS-TEST1", 3, "AD-EXPORT1")
    assert manifest["first_hash"] == app.store.read_stream("CS-TEST1")[0].hash
    assert manifest["exported_at"].startswith(NOW.date().isoformat())
    assert manifest["policy_version"]
    continue_there(target, 3)
    report = verify(target.engine, case_id="CS-TEST1")
    assert report.ok and report.events == 5
    assert target.store.read_stream("CS-TEST1")[3].prev_hash == manifest["last_hash"]


@pytest.mark.postgres
def test_sqlite_to_postgresql(sqlite_app: App, pg_app: App) -> None:
    exported_then_imported(sqlite_app, pg_app)
    continue_there(pg_app, 3)
    assert verify(pg_app.engine, case_id="CS-TEST1").ok


def rehashed(bundle: dict[str, Any]) -> dict[str, Any]:
    """What someone holding the transfer key could do: re-chain and re-sign after an edit."""
    prev = GENESIS
    for event in bundle["events"]:
        event["prev_hash"] = prev
        row = {**event, "event_type": event["type"]}
        for name in ("occurred_at", "recorded_at"):
            row[name] = datetime.fromisoformat(event[name])
        event["hash"] = link_hash(prev, ChainFields.from_row(row))
        prev = event["hash"]
    bundle["digest"] = _digest(KEY, bundle)
    return bundle


def test_a_tampered_bundle_is_refused_and_nothing_is_written(app: App, target: App) -> None:
    a_case_sent_to_another_service(app)
    bundle = export_bundle(app, "CS-TEST1", KEY, "AD-EXPORT1")
    altered = copy.deepcopy(bundle)
    altered["events"][1]["recorded_by"] = "P-SOMEONE-ELSE"
    with pytest.raises(BundleRejected, match="digest does not match"):
        import_bundle(target, altered, KEY)
    dropped = copy.deepcopy(bundle)
    del dropped["events"][1]
    with pytest.raises(BundleRejected, match="digest"):
        import_bundle(target, dropped, KEY)
    with pytest.raises(BundleRejected, match="transfer key"):
        import_bundle(target, bundle, bytes(32))
    # Re-signed after the edit, the chain still gives it away.
    resigned = copy.deepcopy(bundle)
    resigned["events"][1]["recorded_by"] = "P-SOMEONE-ELSE"
    resigned["digest"] = _digest(KEY, resigned)
    with pytest.raises(BundleRejected, match="event 2: its content does not match its hash"):
        import_bundle(target, resigned, KEY)
    # Re-chained as well, the manifest's hashes no longer match.
    with pytest.raises(BundleRejected, match="manifest"):
        import_bundle(target, rehashed(copy.deepcopy(resigned)), KEY)
    assert target.store.stream_version("CS-TEST1") == 0
    assert target.keyring.data_keys("C-TEST0001") is None
    # The genuine bundle still imports, once.
    import_bundle(target, bundle, KEY)
    with pytest.raises(CaseAlreadyExists):
        import_bundle(target, bundle, KEY)


def test_export_and_import_on_the_command_line(
    app: App, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    clock: FixedClock,
) -> None:
    a_case_sent_to_another_service(app)
    key_file = tmp_path / "transfer.key"
    key_file.write_text(base64.b64encode(KEY).decode())
    out = tmp_path / "CS-TEST1.bundle.json"
    as_operator(monkeypatch, app)
    code, text, err = run_cli(monkeypatch, capsys, "export-bundle", "CS-TEST1", "--out", str(out),
                              "--key-file", str(key_file))
    assert code == 0, err
    assert "exported 3 event(s)" in text
    receiving = bootstrap(Settings(database_url=f"sqlite:///{tmp_path / 'cli.db'}",
                                   master_key=app.settings.master_key, log_json=True),
                          clock=clock, configure_logging=False)
    upgrade(receiving.engine)
    try:
        tampered = tmp_path / "tampered.json"
        doc = json.loads(out.read_text())
        doc["manifest"]["exported_by"] = "AD-NOBODY"
        tampered.write_text(json.dumps(doc))
        as_operator(monkeypatch, receiving)
        code, _, err = run_cli(monkeypatch, capsys, "import-bundle", str(tampered),
                               "--key-file", str(key_file))
        assert code == 2
        assert "digest does not match" in err
        assert "Traceback" not in err
        code, text, err = run_cli(monkeypatch, capsys, "import-bundle", str(out),
                                  "--key-file", str(key_file))
        assert code == 0, err
        assert "imported case CS-TEST1: 3 event(s), chain verified" in text
        code, text, err = run_cli(monkeypatch, capsys, "transfer", "accept", "CS-TEST1", "T-1",
                                  "--team", "TEAM-X")
        assert code == 0, err
        assert receiving.store.stream_version("CS-TEST1") == 4
        assert verify(receiving.engine, case_id="CS-TEST1").ok
    finally:
        receiving.close()
