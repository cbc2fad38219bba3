"""Background jobs: the leader-elected runner (runner.py) and the list of periodic jobs.

Every periodic job of the app is listed in `all_jobs()`; the runner runs them in exactly one
process, in the web app's lifespan (default) or in `statusapp worker`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from statusapp.jobs.runner import Job, JobsRunner
from statusapp.settings import get_settings

__all__ = ["Job", "JobsRunner", "all_jobs", "jobs_lifespan", "runner"]

log = logging.getLogger(__name__)


def all_jobs() -> list[Job]:
    """Every periodic job of the app (the checker, the notification sender and the maintenance
    clock register theirs here)."""
    from statusapp.jobs import notifications

    return [
        Job("notifications", notifications.send_notifications, every_seconds=2.0),
        Job("notification-cleanup", notifications.prune_records, every_seconds=3600.0),
    ]


runner: JobsRunner | None = None


def get_runner() -> JobsRunner:
    global runner
    if runner is None:
        runner = JobsRunner(all_jobs())
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
