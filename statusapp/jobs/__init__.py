"""Background jobs: the leader-elected runner (runner.py) and the list of periodic jobs.

Every periodic job of the app is listed in `all_jobs()`; the runner runs them in exactly one
process, in the web app's lifespan (default) or in `statusapp worker`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from statusapp.domain.monitoring import prune_checks, roll_up_checks
from statusapp.jobs.runner import Job, JobsRunner
from statusapp.monitoring.checker import Checker
from statusapp.settings import get_settings

__all__ = ["Job", "JobsRunner", "all_jobs", "jobs_lifespan", "runner"]

log = logging.getLogger(__name__)


def all_jobs(role: str = "web app") -> list[Job]:
    """Every periodic job of the app (the checker, the notification sender and the maintenance
    clock register theirs here). `role` names the kind of process, for the checker's health."""
    return [*notification_jobs(), *monitoring_jobs(role), *maintenance_jobs()]


def notification_jobs() -> list[Job]:
    """The sender (outbox -> deliveries -> channels) and the cleanup of old delivery records."""
    from statusapp.jobs import notifications

    return [
        Job("notifications", notifications.send_notifications, every_seconds=2.0),
        Job("notification-cleanup", notifications.prune_records, every_seconds=3600.0),
    ]


def monitoring_jobs(role: str) -> list[Job]:
    """The checker (long-running, its own schedule) and the daily rollup and retention of raw
    check results (run hourly: it catches up on any day it missed, and is a no-op otherwise)."""
    settings = get_settings()

    async def check_forever() -> None:
        await Checker(
            concurrency=settings.checker_concurrency, allow_private=not settings.monitor_public_only, role=role
        ).run()

    async def roll_up_and_prune() -> None:
        days = settings.check_retention_days
        await asyncio.to_thread(roll_up_checks, retention_days=days)
        await asyncio.to_thread(prune_checks, retention_days=days)

    return [
        Job("checker", check_forever, every_seconds=5, long_running=True),
        Job("check-rollups", roll_up_and_prune, every_seconds=3600),
    ]


def maintenance_jobs() -> list[Job]:
    """The maintenance clock: every second it generates series occurrences, sends reminders,
    starts due windows and completes ended ones (domain.maintenance.tick), so a window starts
    and ends within about a second of its time (the runner's every_seconds is a floor)."""
    from statusapp.jobs import maintenance

    return [Job("maintenance-clock", maintenance.run_clock, every_seconds=1.0)]


runner: JobsRunner | None = None


def get_runner(role: str = "web app") -> JobsRunner:
    global runner
    if runner is None:
        runner = JobsRunner(all_jobs(role))
    return runner


@contextlib.asynccontextmanager
async def jobs_lifespan():
    """Reflex lifespan task: every web worker campaigns; the leader runs the jobs. Off with
    STATUSAPP_JOBS_IN_APP=0 when a separate `statusapp worker` runs them."""
    if not get_settings().jobs_in_app:
        yield
        return
    task = asyncio.create_task(get_runner().run(), name="statusapp-jobs")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
