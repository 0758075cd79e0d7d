"""The scheduler process: enqueue the sweep, the healing catch-up and the digest on time.

Jobs (APScheduler 3.x triggers, London time):

- ``sweep``: every ``N`` minutes on a grid from midnight (policy, default 15) and at the
  policy's morning time on working days (default 07:00; weekends and England and Wales bank
  holidays skipped). The message carries the scheduled moment as the sweep's ``as_at``.
- ``heal``: every ``TRACKER_CATCH_UP_SECONDS`` (default 30): catch up from the checkpoints
  and re-enqueue deliveries whose message was lost. This is what heals a lag left while
  Redis was down, with no manual step.
- ``retention``: daily at the policy's ``[retention] run_at``: erase, or ask admins to
  approve erasing, the children whose retention ran out (``tracker.services.retention``).
- ``digest`` (``TRACKER_DIGEST_ENABLED``): at ``TRACKER_DIGEST_AT`` on working days.

Several schedulers may run at once (one per host, or a restart overlapping the old one):
each fire takes a Redis key for its *slot*, the scheduled moment it belongs to
(``<ns>:workers:scheduler:<job>:<slot ms>``, ``SET NX`` with an expiry), and only the one
that sets it enqueues. Every trigger here is a fixed grid, so schedulers started at
different times compute the same slots.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import structlog
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from redis import Redis

from tracker.domain.policy import load_policy
from tracker.domain.workdays import WorkingDays as Calendar
from tracker.kernel.clock import LONDON, local_date
from tracker.kernel.errors import ConfigurationError

if TYPE_CHECKING:
    from tracker.services.app import App
    from workers.runtime import Workers

log = structlog.get_logger("workers.scheduler")

GRID_START = datetime(2000, 1, 1, tzinfo=LONDON)
"""Every interval is counted from here, so every scheduler fires on the same grid."""

TICK = timedelta(microseconds=1)


class Grid(BaseTrigger):  # type: ignore[misc]
    """The earliest fire time of any part, strictly after the previous one, statelessly."""
    def __init__(self, *parts: BaseTrigger) -> None:
        self.parts = parts

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        start = now if previous_fire_time is None else max(now, previous_fire_time + TICK)
        times = [t for p in self.parts if (t := p.get_next_fire_time(None, start)) is not None]
        return min(times) if times else None

    def __str__(self) -> str:
        return "grid[" + ", ".join(str(p) for p in self.parts) + "]"


class WorkingDays(BaseTrigger):  # type: ignore[misc]
    """A trigger's fire times on working days only (weekends and bank holidays skipped)."""
    def __init__(self, inner: BaseTrigger, is_working_day: Callable[[date], bool]) -> None:
        self.inner = inner
        self.is_working_day = is_working_day

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        start = now if previous_fire_time is None else max(now, previous_fire_time + TICK)
        for _ in range(60):
            when: datetime | None = self.inner.get_next_fire_time(None, start)
            if when is None:
                return None
            if self.is_working_day(local_date(when)):
                return when
            start = when + TICK
        return None

    def __str__(self) -> str:
        return f"working days[{self.inner}]"


def working_day(app: App) -> Callable[[date], bool]:
    """The policy's calendar: weekdays that are not bank holidays or service closures."""
    return Calendar(load_policy(app.settings.policy_file).calendar).is_working_day


def _hhmm(value: str, name: str) -> tuple[int, int]:
    try:
        hour, minute = (int(p) for p in value.split(":"))
    except ValueError:
        raise ConfigurationError(f"{name}: expected HH:MM, got {value!r}") from None
    if not (0 <= hour < 24 and 0 <= minute < 60):
        raise ConfigurationError(f"{name}: expected HH:MM, got {value!r}")
    return hour, minute


def sweep_cadence(app: App) -> tuple[int, str]:
    """(every N minutes, daily HH:MM): the policy's ``[sweep]`` if it has one, else settings."""
    section = getattr(load_policy(app.settings.policy_file), "sweep", None)
    every = getattr(section, "every_minutes", app.settings.sweep_every_minutes)
    daily = getattr(section, "daily_at", app.settings.sweep_daily_at)
    return int(every), str(daily)


def sweep_trigger(app: App) -> BaseTrigger:
    every, daily = sweep_cadence(app)
    if every < 1:
        raise ConfigurationError(f"sweep cadence: every {every} minutes is not possible")
    hour, minute = _hhmm(daily, "sweep daily time")
    return Grid(
        IntervalTrigger(minutes=every, start_date=GRID_START, timezone=LONDON),
        WorkingDays(CronTrigger(hour=hour, minute=minute, timezone=LONDON), working_day(app)),
    )


def latest_fire(trigger: BaseTrigger, now: datetime, lookback: timedelta) -> datetime | None:
    """The last fire time of ``trigger`` at or before ``now`` (None if older than lookback)."""
    when: datetime | None = trigger.get_next_fire_time(None, now - lookback)
    if when is None or when > now:
        return None
    while True:
        following: datetime | None = trigger.get_next_fire_time(when, when)
        if following is None or following > now:
            return when
        when = following


@dataclass(frozen=True)
class Job:
    """One scheduled job: its trigger, how far back its slot may lie, what it enqueues."""
    name: str
    trigger: BaseTrigger
    lookback: timedelta
    enqueue: Callable[[datetime], Any]


class RedisSlotLock:
    """One Redis key per (job, slot): the first scheduler to set it does the work."""
    def __init__(self, client: Redis, namespace: str) -> None:
        self.client = client
        self.prefix = f"{namespace}:workers:scheduler"
        self.owner = f"{socket.gethostname()}:{os.getpid()}".encode()

    def key(self, job: str, slot: datetime) -> str:
        return f"{self.prefix}:{job}:{int(slot.timestamp() * 1000)}"

    def acquire(self, job: str, slot: datetime, ttl: timedelta) -> bool:
        ttl_s = max(60, int(ttl.total_seconds()))
        return bool(self.client.set(self.key(job, slot), self.owner, nx=True, ex=ttl_s))

    def release(self, job: str, slot: datetime) -> None:
        self.client.delete(self.key(job, slot))


class LocalSlotLock:
    """The same in one process (the in-process demo has one scheduler)."""
    def __init__(self) -> None:
        self._taken: dict[str, datetime] = {}
        self._mu = threading.Lock()

    def acquire(self, job: str, slot: datetime, ttl: timedelta) -> bool:
        with self._mu:
            if self._taken.get(job) == slot:
                return False
            self._taken[job] = slot
            return True

    def release(self, job: str, slot: datetime) -> None:
        with self._mu:
            if self._taken.get(job) == slot:
                del self._taken[job]


SlotLock = RedisSlotLock | LocalSlotLock


class Scheduler:
    """The jobs of one App on an APScheduler, each fire guarded by the slot lock."""
    def __init__(self, w: Workers, *, lock: SlotLock | None = None) -> None:
        self.w = w
        if lock is None:
            lock = (
                RedisSlotLock(w.redis, w.app.settings.redis_namespace)
                if w.redis is not None else LocalSlotLock()
            )
        self.lock = lock
        self.jobs = {job.name: job for job in build_jobs(w)}
        self._aps: BackgroundScheduler | BlockingScheduler | None = None

    def fire(self, name: str, now: datetime | None = None) -> bool:
        """Enqueue job ``name`` for the slot ``now`` belongs to, unless another did."""
        job = self.jobs[name]
        now = now or datetime.now(UTC)
        slot = latest_fire(job.trigger, now, job.lookback) or now.replace(microsecond=0)
        try:
            if not self.lock.acquire(name, slot, job.lookback * 2):
                log.info("schedule_taken", job=name, slot=slot.isoformat())
                return False
        except Exception as exc:
            log.warning("schedule_lock_failed", job=name, error=type(exc).__name__)
            return False
        try:
            job.enqueue(slot)
        except Exception as exc:
            log.warning("schedule_enqueue_failed", job=name, error=type(exc).__name__)
            try:
                self.lock.release(name, slot)
            except Exception as release_exc:
                log.warning("schedule_release_failed", job=name,
                            error=type(release_exc).__name__)
            return False
        log.info("scheduled", job=name, slot=slot.isoformat())
        return True

    def start(self, *, background: bool) -> None:
        """Run the jobs (blocks until ``stop`` unless ``background``)."""
        aps: BackgroundScheduler | BlockingScheduler = (
            BackgroundScheduler(timezone=UTC) if background else BlockingScheduler(timezone=UTC)
        )
        for job in self.jobs.values():
            aps.add_job(
                self.fire, trigger=job.trigger, args=[job.name], id=job.name, name=job.name,
                coalesce=True, max_instances=1,
                misfire_grace_time=max(1, int(job.lookback.total_seconds())),
            )
        self._aps = aps
        try:  # start from a caught-up state, whatever happened while no scheduler ran
            self.w.actors.heal.send(None)
        except Exception as exc:
            log.warning("schedule_enqueue_failed", job="heal", error=type(exc).__name__)
        log.info("scheduler_started", jobs={j.name: str(j.trigger) for j in self.jobs.values()})
        aps.start()

    def stop(self) -> None:
        if self._aps is not None and self._aps.running:
            self._aps.shutdown(wait=False)
        self._aps = None


def build_jobs(w: Workers) -> list[Job]:
    settings = w.app.settings
    every, _ = sweep_cadence(w.app)
    heal_every = settings.catch_up_seconds
    jobs = [
        Job("sweep", sweep_trigger(w.app), timedelta(minutes=2 * every),
            lambda slot: w.actors.sweep.send(slot.isoformat())),
        Job("heal",
            IntervalTrigger(seconds=heal_every, start_date=GRID_START, timezone=LONDON),
            timedelta(seconds=2 * heal_every),
            lambda slot: w.actors.heal.send(slot.isoformat())),
    ]
    run_at = load_policy(w.app.settings.policy_file).retention.run_at
    hour, minute = _hhmm(run_at, "[retention] run_at")
    jobs.append(Job(
        "retention", CronTrigger(hour=hour, minute=minute, timezone=LONDON), timedelta(days=2),
        lambda slot: w.actors.retention.send(local_date(slot).isoformat()),
    ))
    if settings.digest_enabled:
        hour, minute = _hhmm(settings.digest_at, "TRACKER_DIGEST_AT")
        jobs.append(Job(
            "digest",
            WorkingDays(CronTrigger(hour=hour, minute=minute, timezone=LONDON),
                        working_day(w.app)),
            timedelta(days=5),
            lambda slot: w.actors.digest.send(local_date(slot).isoformat()),
        ))
    return jobs
