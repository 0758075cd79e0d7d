"""``tracker status``, the metrics endpoint and the worker commands' configuration errors."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.servers import RedisServer, env_for, free_port
from tests.support import open_case, run_cli
from tests.workers.conftest import worker_settings
from tracker.db.migrations import upgrade
from tracker.edges.cli import context as ctx
from tracker.kernel.config import Settings
from workers import metrics


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Any:
    """Run ``tracker ARGS`` with the environment of ``settings``: (exit code, out, err)."""

    def run(settings: Settings, *args: str) -> tuple[int, str, str]:
        for key, value in env_for(settings).items():
            if key.startswith("TRACKER_"):
                monkeypatch.setenv(key, value)
        ctx.set_app(None)
        capsys.readouterr()  # only this command's output
        return run_cli(monkeypatch, capsys, *args)

    return run


@pytest.mark.redis
def test_status_reports_lag_queue_depth_and_deliveries(
    own_redis: RedisServer, tmp_path: Path, make_app: Any, cli: Any
) -> None:
    settings = worker_settings(f"sqlite:///{tmp_path / 't.db'}", own_redis.url)
    app = make_app(settings)
    upgrade(app.engine)
    open_case(app, "CS-ST1")
    code, out, _ = cli(settings, "status", "--json")
    assert code == 0
    found = json.loads(out)
    assert found["broker"] == "redis"
    assert found["projections"]["records"]["events"] == 1  # nothing has projected it yet
    assert found["queues"]["projection"]["ready"] == 1  # the one hint, waiting
    assert found["deliveries"] == {"pending": 0, "sent": 0, "failed": 0}
    assert found["errors"] == {}
    code, out, _ = cli(settings, "status")
    assert code == 0 and "records" in out and "deliveries: 0 waiting" in out
    own_redis.stop()
    code, out, _ = cli(settings, "status", "--json")
    assert code == 0
    found = json.loads(out)
    assert "queues" in found["errors"] and found["projections"]["records"]["events"] == 1


@pytest.mark.redis
def test_metrics_endpoint_serves_the_same_figures(
    own_redis: RedisServer, tmp_path: Path, make_app: Any
) -> None:
    settings = worker_settings(f"sqlite:///{tmp_path / 't.db'}", own_redis.url)
    app = make_app(settings)
    upgrade(app.engine)
    open_case(app, "CS-MET1")
    port = free_port()
    server = metrics.start(app, port, "127.0.0.1")
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as resp:
            body = resp.read().decode()
    finally:
        server.shutdown()
    assert 'tracker_projection_lag_events{projection="records"} 1.0' in body
    assert 'tracker_queue_depth{queue="projection"} 1.0' in body
    assert 'tracker_deliveries{status="failed"} 0.0' in body
    assert 'tracker_status_errors{part="queues"} 0.0' in body


@pytest.mark.parametrize(("command", "extra", "message"), [
    ("worker", {}, "TRACKER_REDIS_URL is not set"),
    ("scheduler", {}, "TRACKER_REDIS_URL is not set"),
    ("worker", {"redis_url": "redis://127.0.0.1:1/0", "alert_channels": "pager"},
     "unknown channel 'pager'"),
    ("scheduler", {"redis_url": "redis://127.0.0.1:1/0", "sweep_daily_at": "25:00"},
     "expected HH:MM"),
])
def test_worker_commands_refuse_bad_settings_in_one_line(
    tmp_path: Path, cli: Any, command: str, extra: dict[str, Any], message: str
) -> None:
    settings = worker_settings(f"sqlite:///{tmp_path / 't.db'}", **extra)
    code, out, err = cli(settings, command)
    assert code == 2
    assert message in err and "Traceback" not in err + out


@pytest.mark.parametrize(("args", "message"), [
    (["deliveries", "list", "--status", "lost"], "--status: must be one of"),
    (["deliveries", "retry"], "name at least one key, or --all-failed"),
    (["deliveries", "retry", "no-such-key"], "not a failed delivery: no-such-key"),
])
def test_deliveries_commands_explain_bad_input(
    tmp_path: Path, cli: Any, make_app: Any, args: list[str], message: str
) -> None:
    settings = worker_settings(f"sqlite:///{tmp_path / 't.db'}")
    upgrade(make_app(settings).engine)
    code, _, err = cli(settings, *args)
    assert code == 2 and message in err
