"""The sender as a job of the runner: a long run outlives a tick without blocking the scheduler,
and cancelling the tick (leadership lost) cancels the run."""

from __future__ import annotations

import asyncio

from statusapp.jobs import all_jobs, notifications


class SlowSender:
    def __init__(self) -> None:
        self.runs = 0
        self.cancelled = False

    async def run_once(self) -> None:
        self.runs += 1
        try:
            await asyncio.sleep(3)
        except asyncio.CancelledError:
            self.cancelled = True
            raise


def test_the_sender_is_a_job():
    assert [j.name for j in all_jobs()][:2] == ["notifications", "notification-cleanup"]


def test_a_long_run_outlives_ticks_and_a_cancelled_tick_cancels_it(monkeypatch):
    slow = SlowSender()
    monkeypatch.setattr(notifications, "get_sender", lambda: slow)
    monkeypatch.setattr(notifications, "TICK_WAIT_S", 0.2)
    monkeypatch.setattr(notifications, "_run", None)

    async def scenario():
        started = asyncio.get_running_loop().time()
        await notifications.send_notifications()  # returns while the run goes on
        await notifications.send_notifications()  # waits on the same run, does not start another
        assert asyncio.get_running_loop().time() - started < 1 and slow.runs == 1
        tick = asyncio.create_task(notifications.send_notifications())
        await asyncio.sleep(0.05)
        tick.cancel()
        await asyncio.gather(tick, return_exceptions=True)
        await asyncio.sleep(0.05)

    asyncio.run(scenario())
    assert slow.cancelled
