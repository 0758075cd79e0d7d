"""The scheduler: policy cadence on a fixed grid, working days, and one enqueue per slot."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest
import redis

from tests.servers import RedisServer
from tests.workers.conftest import worker_settings
from tracker.kernel.clock import LONDON
from workers.broker import PROJECTION_QUEUE
from workers.scheduler import Scheduler, latest_fire, sweep_trigger


def london(year: int, month: int, day: int, hour: int = 0, minute: int = 0,
           second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=LONDON).astimezone(UTC)


def _fires(trigger: Any, start: datetime, n: int) -> list[datetime]:
    out, prev = [], None
    now = start
    for _ in range(n):
        prev = trigger.get_next_fire_time(prev, now)
        out.append(prev.astimezone(LONDON).replace(tzinfo=None))
        now = prev
    return out


def test_sweep_fires_every_15_minutes_and_at_seven_on_working_days(
    tmp_path: Any, make_app: Any
) -> None:
    app = make_app(worker_settings(f"sqlite:///{tmp_path / 't.db'}",
                                   sweep_every_minutes=60, sweep_daily_at="07:10"))
    trigger = sweep_trigger(app)
    # Thursday 24 Dec 2026: hourly, plus 07:10 (a working day)
    got = _fires(trigger, london(2026, 12, 24, 5, 30), 4)
    assert got == [datetime(2026, 12, 24, 6), datetime(2026, 12, 24, 7),
                   datetime(2026, 12, 24, 7, 10), datetime(2026, 12, 24, 8)]
    # Christmas, a weekend and the Boxing Day substitute (Mon 28th) have no 07:10 sweep
    daily = [t for t in _fires(trigger, london(2026, 12, 24, 8, 30), 24 * 6)
             if t.minute == 10]
    assert daily[0] == datetime(2026, 12, 29, 7, 10)


def test_default_cadence_is_every_15_minutes(tmp_path: Any, make_app: Any) -> None:
    app = make_app(worker_settings(f"sqlite:///{tmp_path / 't.db'}"))
    got = _fires(sweep_trigger(app), london(2026, 11, 2, 6, 50), 3)
    assert got == [datetime(2026, 11, 2, 7), datetime(2026, 11, 2, 7, 15),
                   datetime(2026, 11, 2, 7, 30)]


def test_latest_fire_is_the_slot_a_late_fire_belongs_to(tmp_path: Any, make_app: Any) -> None:
    app = make_app(worker_settings(f"sqlite:///{tmp_path / 't.db'}"))
    trigger = sweep_trigger(app)
    slot = latest_fire(trigger, london(2026, 11, 2, 7, 0, 0) + timedelta(seconds=3),
                       timedelta(minutes=30))
    assert slot == london(2026, 11, 2, 7, 0)
    slot = latest_fire(trigger, london(2026, 11, 2, 10, 14, 59), timedelta(minutes=30))
    assert slot == london(2026, 11, 2, 10, 0)


def _messages(client: redis.Redis, ns: str, actor: str) -> list[dict[str, Any]]:
    stored = cast(dict[bytes, bytes], client.hgetall(f"{ns}:{PROJECTION_QUEUE}.msgs"))
    found = [json.loads(v) for v in stored.values()]
    return [m for m in found if m["actor_name"] == actor]


@pytest.mark.redis
def test_two_schedulers_enqueue_each_sweep_once(
    own_redis: RedisServer, tmp_path: Any, make_app: Any
) -> None:
    settings = worker_settings(f"sqlite:///{tmp_path / 't.db'}", own_redis.url)
    a, b = make_app(settings), make_app(settings)
    first, second = Scheduler(a.workers), Scheduler(b.workers)
    seven = london(2026, 11, 2, 7, 0)
    assert first.fire("sweep", seven + timedelta(milliseconds=40)) is True
    assert second.fire("sweep", seven + timedelta(seconds=2)) is False  # same slot: taken
    assert second.fire("sweep", seven + timedelta(minutes=15, seconds=1)) is True
    assert first.fire("sweep", seven + timedelta(minutes=15, seconds=2)) is False
    client = redis.Redis.from_url(own_redis.url)
    slots = sorted(m["args"][0] for m in _messages(client, settings.redis_namespace, "sweep"))
    assert slots == [seven.isoformat(), (seven + timedelta(minutes=15)).isoformat()]
    client.close()


@pytest.mark.redis
@pytest.mark.slow
def test_two_running_schedulers_never_double_a_slot(
    own_redis: RedisServer, tmp_path: Any, make_app: Any
) -> None:
    settings = worker_settings(f"sqlite:///{tmp_path / 't.db'}", own_redis.url,
                               catch_up_seconds=0.5)
    schedulers = [Scheduler(make_app(settings).workers) for _ in range(2)]
    for s in schedulers:
        s.start(background=True)
    time.sleep(3.2)
    for s in schedulers:
        s.stop()
    client = redis.Redis.from_url(own_redis.url)
    slots = [m["args"][0] for m in _messages(client, settings.redis_namespace, "heal")]
    timed = [s for s in slots if s is not None]  # each scheduler also heals once at start
    assert len(timed) >= 3
    assert len(timed) == len(set(timed)), "a slot was enqueued by both schedulers"
    client.close()


@pytest.mark.redis
def test_scheduler_survives_redis_being_down(
    own_redis: RedisServer, tmp_path: Any, make_app: Any, json_logs: Any
) -> None:
    settings = worker_settings(f"sqlite:///{tmp_path / 't.db'}", own_redis.url)
    sched = Scheduler(make_app(settings).workers)
    own_redis.stop()
    assert sched.fire("sweep", london(2026, 11, 2, 7, 0)) is False
    assert any(e["event"] == "schedule_lock_failed" for e in json_logs())
    own_redis.start()
    assert sched.fire("sweep", london(2026, 11, 2, 7, 0)) is True
