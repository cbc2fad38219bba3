"""The background jobs runner: every periodic job runs here, in ONE process at a time.

Why: Reflex runs lifespan tasks in every web worker, and an install may run several app
instances plus a separate `statusapp worker`. The checker, the notification sender and the
maintenance clock must each run exactly once, so every candidate process runs a `JobsRunner`
and only the holder of the `jobs` advisory lock (`db.AdvisoryLock`) schedules the jobs:
- PostgreSQL: a session lock on a connection of its own. A dead leader's connection closes
  and frees the lock at once; a standby retries every `standby_seconds` (5 s), so it takes
  over well within 15 s. The leader checks its connection every `check_seconds` and stops
  its jobs as soon as the lock is lost (its connection died: someone else may lead now).
- SQLite: an flock, so a single machine; released when the process dies.
Jobs are scheduled with APScheduler (interval triggers, one instance at a time, missed runs
coalesced). A database outage is logged once, then retried with back-off.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable, Sequence

from statusapp.db import AdvisoryLock, is_outage

log = logging.getLogger(__name__)

LEADER_LOCK = "jobs"


@dataclasses.dataclass(frozen=True)
class Job:
    """A coroutine run every `every_seconds` by the leader. Blocking work goes through
    `asyncio.to_thread`: the leader may be a web worker that also serves visitors.

    A `long_running` job (the checker, with its own schedule) is started once when leadership
    is won and cancelled when it is lost; should it end or fail, it is started again after
    `every_seconds`."""

    name: str
    run: Callable[[], Awaitable[object]]
    every_seconds: float
    long_running: bool = False


@dataclasses.dataclass
class JobStats:
    runs: int = 0
    failures: int = 0
    last_started: float | None = None  # time.time()
    last_duration_s: float | None = None
    last_error: str = ""


class JobsRunner:
    def __init__(
        self,
        jobs: Sequence[Job],
        *,
        lock_name: str = LEADER_LOCK,
        standby_seconds: float = 5.0,
        check_seconds: float = 5.0,
        lock_factory: Callable[[str], AdvisoryLock] = AdvisoryLock,
    ) -> None:
        self.jobs = list(jobs)
        self.lock_name = lock_name
        self.standby_seconds = standby_seconds
        self.check_seconds = check_seconds
        self._lock_factory = lock_factory
        self.leader_since: float | None = None
        self.stats: dict[str, JobStats] = {job.name: JobStats() for job in self.jobs}
        self._lock: AdvisoryLock | None = None

    @property
    def is_leader(self) -> bool:
        return self.leader_since is not None

    async def run(self) -> None:
        """Campaign for leadership forever; lead while the lock is held (cancel to stop)."""
        failures = 0
        while True:
            try:
                got = await self._try_lead()
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database is unreachable: say it once, then back off
                failures += 1
                if failures == 1:
                    log.warning("jobs runner: cannot reach the database (%s); retrying with back-off", exc)
                await asyncio.sleep(min(self.standby_seconds * 2 ** min(failures, 4), 60))
                continue
            if got:
                await self._lead()
            else:
                await asyncio.sleep(self.standby_seconds)

    async def _try_lead(self) -> bool:
        lock = self._lock_factory(self.lock_name)
        if await asyncio.to_thread(lock.acquire, wait=False):
            self._lock = lock
            return True
        return False

    async def _lead(self) -> None:
        from apscheduler.schedulers.asyncio import AsyncIOScheduler
        from apscheduler.triggers.interval import IntervalTrigger

        self.leader_since = time.time()
        log.info("jobs runner: leading (%s)", ", ".join(j.name for j in self.jobs) or "no jobs")
        scheduler = AsyncIOScheduler(event_loop=asyncio.get_running_loop())
        forever = [asyncio.create_task(self._run_long(job), name=f"job-{job.name}") for job in self.jobs if job.long_running]
        for job in [j for j in self.jobs if not j.long_running]:
            scheduler.add_job(
                self._run_job,
                IntervalTrigger(seconds=job.every_seconds),
                args=[job],
                id=job.name,
                max_instances=1,
                coalesce=True,
                misfire_grace_time=None,
                next_run_time=_now(),
            )
        scheduler.start()
        try:
            while await asyncio.to_thread(self._lock.still_held):
                await asyncio.sleep(self.check_seconds)
            log.warning("jobs runner: lost the leader lock (database connection lost); standing by")
        finally:
            scheduler.shutdown(wait=False)
            for task in forever:
                task.cancel()
            await asyncio.gather(*forever, return_exceptions=True)
            self.leader_since = None
            lock, self._lock = self._lock, None
            with contextlib.suppress(Exception):
                await asyncio.shield(asyncio.to_thread(lock.release))

    async def _run_job(self, job: Job) -> None:
        stats = self.stats[job.name]
        stats.last_started = time.time()
        started = time.monotonic()
        try:
            await job.run()
            stats.last_error = ""
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            stats.failures += 1
            if is_outage(exc):  # the database is down: said once, not with a traceback per run
                if not stats.last_error.startswith("database unreachable"):
                    log.warning("job %s: database unreachable (%s); retrying at its next run", job.name,
                                type(exc).__name__)
                stats.last_error = f"database unreachable ({type(exc).__name__})"
                return
            if stats.last_error != repr(exc):  # a failure that repeats is logged once
                log.exception("job %s failed", job.name)
            stats.last_error = repr(exc)
        finally:
            stats.runs += 1
            stats.last_duration_s = time.monotonic() - started

    async def _run_long(self, job: Job) -> None:
        while True:
            await self._run_job(job)
            await asyncio.sleep(job.every_seconds)

    def status(self) -> dict:
        """Whether this process leads, since when, and each job's last run (for the console)."""
        return {
            "leader": self.is_leader,
            "leader_since": self.leader_since,
            "jobs": {name: dataclasses.asdict(st) for name, st in self.stats.items()},
        }


def _now():
    import datetime as dt

    return dt.datetime.now(dt.timezone.utc)
