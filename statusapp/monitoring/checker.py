"""The checker: every enabled monitor checked on its own schedule, results handed to the domain
in batches. It runs as one long-running job of the leader-elected jobs runner (statusapp.jobs).

Why its own due-time scheduler (a heap ticking at most every second), not one APScheduler job per
monitor: thousands of monitors each with their own interval, reloaded while running, and a
measure of how late each check starts (the lag).

Async throughout, so it can share a web worker's event loop with visitors: one `CheckClients`
(pooled httpx clients, built in the leader's loop), at most `concurrency` checks at once (a slot
is taken before a check's timeout starts: waiting for a slot is lag, not a failed check), and
one writer task that hands the results to `domain.monitoring.record_check_results` every
`batch_seconds` (or `max_batch` results) in a worker thread. One slow target delays nobody.

A monitor is checked every `interval` seconds counted from its previous *due* time, so checks
keep their cadence whatever they take; a check still running when its next one is due skips
that one. After a restart (or a change of leader) a monitor checked recently keeps its cadence;
new ones start spread over the first `min(interval, STARTUP_SPREAD_S)` seconds.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import datetime as dt
import heapq
import logging
import os
import socket
import time

from statusapp import outbound
from statusapp.domain.monitor_spec import HttpCheck, MonitorSpec, TcpCheck
from statusapp.domain.monitoring import CheckOutcome, record_check_results, record_checker_heartbeat, record_missed_beats
from statusapp.monitoring.checks import CheckClients, CheckResult, run_http_check, run_tcp_check
from statusapp.queries.monitoring import ActiveMonitor, load_active_monitors, monitors_version

log = logging.getLogger(__name__)

STARTUP_SPREAD_S = 25.0  # a 30 s monitor is first checked within 25 s of start-up, plus its check
MAX_PENDING = 100_000
ERROR_SHOWN_S = 300.0  # results kept for writing while the database is unreachable
_GOLDEN = 0.6180339887498949


async def run_check(clients: CheckClients, spec: MonitorSpec) -> CheckResult:
    """One check of an HTTP or TCP monitor (push monitors are judged on their heartbeats)."""
    check = spec.check
    if isinstance(check, HttpCheck):
        return await run_http_check(clients, check)
    if isinstance(check, TcpCheck):
        return await run_tcp_check(check, allow_private=clients.allow_private, policy=clients.policy)
    raise ValueError(f"{spec.kind.value} monitors are not checked actively")


def _utc(ts: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(ts, dt.timezone.utc)


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(q / 100 * (len(s) - 1))))]


@dataclasses.dataclass
class _Entry:
    monitor: ActiveMonitor
    generation: int


class Checker:
    def __init__(
        self,
        *,
        concurrency: int = 100,
        allow_private: bool = True,
        policy: outbound.Policy | None = None,
        role: str = "web app",
        reload_seconds: float = 2.0,
        batch_seconds: float = 0.5,
        max_batch: int = 1000,
        push_seconds: float = 5.0,
        heartbeat_seconds: float = 10.0,
    ) -> None:
        self.concurrency = concurrency
        self.allow_private = allow_private
        self.policy = policy
        self.role = role
        self.reload_seconds = reload_seconds
        self.batch_seconds = batch_seconds
        self.max_batch = max_batch
        self.push_seconds = push_seconds
        self.heartbeat_seconds = heartbeat_seconds
        self.clients: CheckClients | None = None
        self.started_at: float | None = None
        self._entries: dict[int, _Entry] = {}
        self._heap: list[tuple[float, int, int]] = []  # (due, monitor id, generation)
        self._generation = 0
        self._in_flight: set[int] = set()
        self._tasks: set[asyncio.Task] = set()
        self._pending: list[CheckOutcome] = []
        self._flush = asyncio.Event()
        self._wake = asyncio.Event()
        self._version: tuple | None = None
        # Last minute of activity, for the heartbeat: (finished at, lag ms) per check.
        self._recent: collections.deque[tuple[float, float]] = collections.deque()
        self.checks_done = 0
        self.results_written = 0
        self._error: tuple[float, str] = (0.0, "")  # (when, what): shown for ERROR_SHOWN_S

    # ---- running ---------------------------------------------------------------------------
    async def run(self) -> None:
        """Check forever (cancel to stop). Creates the shared clients in the running loop."""
        self.started_at = time.time()
        self._flush, self._wake = asyncio.Event(), asyncio.Event()
        self.clients = CheckClients(allow_private=self.allow_private, max_concurrent=self.concurrency, policy=self.policy)
        self._slots = asyncio.Semaphore(self.concurrency)
        loops = [self._schedule_loop(), self._reload_loop(), self._write_loop(), self._push_loop(), self._heartbeat_loop()]
        tasks = [asyncio.create_task(c) for c in loops]
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in [*tasks, *self._tasks]:
                task.cancel()
            await asyncio.gather(*tasks, *self._tasks, return_exceptions=True)
            with contextlib.suppress(Exception):
                await asyncio.shield(self._write(final=True))
            await self.clients.aclose()

    # ---- the monitor list --------------------------------------------------------------------
    async def _reload_loop(self) -> None:
        failures = 0
        while True:
            try:
                version = await asyncio.to_thread(monitors_version)
                if version != self._version:
                    self.apply_monitors(await asyncio.to_thread(load_active_monitors))
                    self._version = version
                failures = 0
            except Exception as exc:
                failures += 1
                self._note_error(f"cannot load monitors: {exc}", first=failures == 1)
            await asyncio.sleep(self.reload_seconds if not failures else min(self.reload_seconds * 2**failures, 30))

    def apply_monitors(self, monitors: list[ActiveMonitor]) -> None:
        """Adopt the current monitor list: new ones are scheduled, changed ones rescheduled
        (checked within a second: whoever changed it wants to see the effect), gone ones dropped."""
        now = time.time()
        seen = set()
        for mon in monitors:
            seen.add(mon.id)
            old = self._entries.get(mon.id)
            if old is not None and old.monitor.spec == mon.spec:
                continue
            self._generation += 1
            self._entries[mon.id] = _Entry(mon, self._generation)
            due = now + 1.0 if old is not None else self._first_due(mon, now)
            heapq.heappush(self._heap, (due, mon.id, self._generation))
        for gone in set(self._entries) - seen:
            del self._entries[gone]
        self._wake.set()

    @staticmethod
    def _first_due(mon: ActiveMonitor, now: float) -> float:
        interval = mon.spec.interval_seconds
        if mon.last_checked_at is not None:
            due = mon.last_checked_at.timestamp() + interval
            if now - interval < due:  # checked within the last interval: keep its cadence
                return max(due, now)
        return now + ((mon.id * _GOLDEN) % 1.0) * min(interval, STARTUP_SPREAD_S)

    # ---- scheduling and checking -------------------------------------------------------------
    async def _schedule_loop(self) -> None:
        while True:
            now = time.time()
            while self._heap and self._heap[0][0] <= now:
                due, mid, gen = heapq.heappop(self._heap)
                entry = self._entries.get(mid)
                if entry is None or entry.generation != gen:
                    continue  # removed or rescheduled since
                interval = entry.monitor.spec.interval_seconds
                next_due = due + interval
                if next_due <= now:  # far behind (the loop was blocked): do not catch up in a burst
                    next_due = now + interval
                heapq.heappush(self._heap, (next_due, mid, gen))
                if mid in self._in_flight:
                    continue  # the previous check is still running: skip this one
                self._in_flight.add(mid)
                task = asyncio.create_task(self._check(entry.monitor, due))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            self._wake.clear()
            delay = min(1.0, self._heap[0][0] - time.time()) if self._heap else 1.0
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), max(delay, 0.0))

    async def _check(self, mon: ActiveMonitor, due: float) -> None:
        try:
            async with self._slots:
                started = time.time()
                lag_ms = max(0.0, (started - due) * 1000)
                try:
                    result = await run_check(self.clients, mon.spec)
                except Exception as exc:  # a check never raises; should one, it is a failed check
                    result = CheckResult(False, f"check failed: {type(exc).__name__}: {str(exc)[:200]}", None)
            self._pending.append(CheckOutcome(
                mon.id, _utc(started), result.ok, result.reason, result.latency_ms, result.status_code, result.degraded,
            ))
            self.checks_done += 1
            self._recent.append((time.time(), lag_ms))
            if len(self._pending) >= self.max_batch:
                self._flush.set()
        finally:
            self._in_flight.discard(mon.id)

    # ---- writing -----------------------------------------------------------------------------
    async def _write_loop(self) -> None:
        failures = 0
        while True:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._flush.wait(), self.batch_seconds if not failures else min(2**failures, 30))
            self._flush.clear()
            try:
                await self._write()
                failures = 0
            except Exception as exc:
                failures += 1
                self._note_error(f"cannot write check results: {exc}", first=failures == 1)

    async def _write(self, final: bool = False) -> None:
        while self._pending:
            batch = self._pending[: self.max_batch]
            try:
                await asyncio.to_thread(record_check_results, batch)
            except Exception:
                if len(self._pending) > MAX_PENDING:  # the database is away for long: keep the newest
                    del self._pending[: len(self._pending) - MAX_PENDING]
                raise
            del self._pending[: len(batch)]
            self.results_written += len(batch)
            if not final and len(self._pending) < self.max_batch:
                return

    # ---- push monitors and the heartbeat -------------------------------------------------------
    async def _push_loop(self) -> None:
        while True:
            await asyncio.sleep(self.push_seconds)
            try:
                await asyncio.to_thread(record_missed_beats)
            except Exception as exc:
                self._note_error(f"cannot judge push monitors: {exc}")

    def health(self) -> dict:
        """Checks in the last minute, their start lag (p95, max), and what waits to be written."""
        cutoff = time.time() - 60
        while self._recent and self._recent[0][0] < cutoff:
            self._recent.popleft()
        lags = [lag for _t, lag in self._recent]
        return {
            "monitors": len(self._entries),
            "checks_per_minute": len(lags),
            "lag_p95_ms": None if not lags else round(_pct(lags, 95), 1),
            "lag_max_ms": None if not lags else round(max(lags), 1),
            "pending_writes": len(self._pending),
        }

    async def _heartbeat_loop(self) -> None:
        leader = f"{socket.gethostname()} pid {os.getpid()} ({self.role})"
        since = _utc(self.started_at or time.time())
        while True:
            try:
                await asyncio.to_thread(record_checker_heartbeat, leader=leader, leader_since=since,
                                        last_error=self.last_error, **self.health())
            except Exception as exc:
                self._note_error(f"cannot write the heartbeat: {exc}")
            await asyncio.sleep(self.heartbeat_seconds)

    @property
    def last_error(self) -> str:
        """The last problem the checker met, for ERROR_SHOWN_S after it."""
        when, message = self._error
        return message if time.time() - when < ERROR_SHOWN_S else ""

    def _note_error(self, message: str, *, first: bool = False) -> None:
        """Log a problem once (a repeat of the same one is not logged again)."""
        if first or message != self._error[1]:
            log.warning("checker: %s", message)
        self._error = (time.time(), message[:500])
