"""compose.yaml, checked without Docker: its settings exist, and its commands run and are healthy.

The tracker services' commands are run here as compose would run them, against the tests'
own PostgreSQL and Redis (host names and published ports swapped for local ones), and each
one's health check URL is asked.
"""

from __future__ import annotations

import functools
import re
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.servers import PostgresServer, RedisServer, free_port
from tests.workers.fakes import MailCatcher
from tests.workers.harness import Proc, wait_until
from tracker.kernel.config import Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "compose.yaml").read_text())
TRACKER_SERVICES = ("migrate", "web", "worker", "scheduler")


def test_compose_has_every_service_with_health_checks_and_restart_policies() -> None:
    services = COMPOSE["services"]
    assert set(services) == {"postgres", "redis", "migrate", "web", "worker", "scheduler",
                             "mail"}
    for name, svc in services.items():
        assert "restart" in svc, f"{name} has no restart policy"
        if name != "migrate":
            assert "healthcheck" in svc, f"{name} has no health check"
    assert services["migrate"]["restart"] == "no"
    for name in ("web", "worker", "scheduler"):
        assert services[name]["depends_on"]["migrate"]["condition"] == (
            "service_completed_successfully")


def test_every_tracker_setting_in_compose_is_a_real_setting() -> None:
    fields = {f"TRACKER_{name.upper()}" for name in Settings.model_fields}
    for name in TRACKER_SERVICES:
        env = COMPOSE["services"][name]["environment"]
        unknown = sorted(set(env) - fields)
        assert not unknown, f"{name}: unknown settings {unknown}"


def _local_env(env: dict[str, Any], pg: PostgresServer, redis_url: str, mail: int) -> Settings:
    values: dict[str, Any] = {}
    for key, value in env.items():
        text = str(value)
        text = re.sub(r"\$\{([A-Z_]+):[?-]([^}]*)\}", lambda m: m.group(2), text)
        values[key.removeprefix("TRACKER_").lower()] = text
    values["database_url"] = pg.url("tracker")
    values["master_key"] = "Y29tcG9zZS1zbW9rZS10ZXN0LWtleS0wMDAwMDAwMDA="
    values["redis_url"] = redis_url
    values["smtp_host"], values["smtp_port"] = "127.0.0.1", mail
    values["metrics_port"] = None
    return Settings(**{k: v for k, v in values.items() if v != ""})


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.redis
def test_compose_commands_run_and_pass_their_health_checks(
    own_pg: PostgresServer, own_redis: RedisServer, tmp_path: Path
) -> None:
    own_pg.create_database("tracker")
    catcher = MailCatcher()
    services = COMPOSE["services"]
    procs: list[Proc] = []
    try:
        settings = _local_env(services["migrate"]["environment"], own_pg, own_redis.url,
                              catcher.port)
        command = services["migrate"]["command"]
        assert command[0] == "tracker"
        migrate = Proc([sys.executable, "-m", "tracker", *command[1:]], settings,
                       tmp_path / "migrate.log")
        assert migrate.popen.wait(120) == 0, migrate.text()
        for name in ("web", "worker", "scheduler"):
            svc = services[name]
            assert svc["command"][0] == "tracker"
            port = free_port()
            args = [port_for(a, port) for a in svc["command"][1:]]
            settings = _local_env(svc["environment"], own_pg, own_redis.url, catcher.port)
            proc = Proc([sys.executable, "-m", "tracker", *args], settings,
                        tmp_path / f"{name}.log")
            procs.append(proc)
            url = health_url(svc["healthcheck"]["test"], port)
            wait_until(functools.partial(_ok, url), f"{name} to be healthy", timeout=60,
                       procs=(proc,))
    finally:
        for p in procs:
            p.kill(signal.SIGTERM)
        catcher.close()
    for p in procs:  # a clean shutdown on SIGTERM, as compose stops them
        assert p.popen.returncode in (0, -signal.SIGTERM), p.text()[-2000:]


def port_for(arg: str, local: int) -> str:
    return str(local) if arg in ("8000", "9191") else arg


def health_url(test: list[str], local: int) -> str:
    found = re.search(r"http://127\.0\.0\.1:(\d+)(/\S*?)'", " ".join(test))
    assert found, f"no URL in health check {test}"
    return f"http://127.0.0.1:{local}{found.group(2)}"


def _ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return bool(resp.status == 200)
    except OSError:
        return False


def test_dockerfile_installs_the_packages_compose_runs() -> None:
    text = (ROOT / "Dockerfile").read_text()
    for package in ("events", "tracker", "projections", "workers"):
        assert f"COPY {package} ./{package}" in text
    assert "pip install ." in text and "USER tracker" in text
    done = subprocess.run([sys.executable, "-m", "tracker", "worker", "--help"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0 and "--metrics-port" in done.stdout
