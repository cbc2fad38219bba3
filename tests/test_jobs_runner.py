"""The jobs runner: exactly one leader runs the jobs; a standby takes over when it dies.
Also the change signal a separate jobs process sends to the web workers."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import text

from statusapp import db as app_db
from statusapp.db import AdvisoryLock
from statusapp.domain import Change
from statusapp.domain.events import ServiceUpdated
from statusapp.jobs.runner import Job, JobsRunner
from statusapp.live import signal
from statusapp.settings import get_settings
from tests.support.aio import run
from tests.test_live_hub import REDIS_URL, _redis_available


def _runner(name: str, lock_name: str, ran: list[str]) -> JobsRunner:
    async def tick() -> None:
        ran.append(name)

    return JobsRunner([Job("tick", tick, every_seconds=0.05)], lock_name=lock_name, standby_seconds=0.1,
                      check_seconds=0.1)


async def _wait_for(predicate, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.02)


def test_one_leader_runs_the_jobs_and_a_standby_takes_over_when_it_dies(db):
    lock_name = f"jobs-test-{uuid.uuid4().hex[:8]}"
    ran: list[str] = []
    a, b = _runner("a", lock_name, ran), _runner("b", lock_name, ran)

    async def scenario():
        tasks = {"a": asyncio.create_task(a.run()), "b": asyncio.create_task(b.run())}
        await _wait_for(lambda: len(ran) >= 5)
        assert len(set(ran)) == 1, f"both runners ran jobs: {set(ran)}"
        assert a.is_leader != b.is_leader
        leader, standby = (a, b) if a.is_leader else (b, a)
        leader_name = "a" if leader is a else "b"
        # The leader dies: its process (and so its lock connection / file) goes away.
        tasks[leader_name].cancel()
        await asyncio.gather(tasks[leader_name], return_exceptions=True)
        ran.clear()
        await _wait_for(lambda: standby.is_leader and ran)
        assert set(ran) == {"b" if leader is a else "a"}
        for t in tasks.values():
            t.cancel()
        await asyncio.gather(*tasks.values(), return_exceptions=True)

    run(scenario(), timeout=60)


def test_a_leader_whose_database_connection_dies_stops_and_another_takes_over(db):
    if not db.startswith("postgresql"):
        pytest.skip("a lost database connection is a PostgreSQL case (SQLite uses a file lock)")
    lock_name = f"jobs-test-{uuid.uuid4().hex[:8]}"
    ran: list[str] = []
    a, b = _runner("a", lock_name, ran), _runner("b", lock_name, ran)

    async def scenario():
        tasks = [asyncio.create_task(a.run()), asyncio.create_task(b.run())]
        await _wait_for(lambda: a.is_leader or b.is_leader)
        leader, standby = (a, b) if a.is_leader else (b, a)
        # The holder's backend, found from pg_locks (not on the lock's own connection, which the
        # leader's check may be using at this moment from its thread).
        key = app_db._lock_key(lock_name) & 0xFFFFFFFFFFFFFFFF
        with app_db.get_engine().connect() as conn:  # the server drops the leader's connection
            pid = conn.execute(text(
                "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1 "
                "AND classid = :hi AND objid = :lo"), {"hi": key >> 32, "lo": key & 0xFFFFFFFF}).scalar_one()
            conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
        await _wait_for(lambda: standby.is_leader, timeout=15)
        await _wait_for(lambda: not leader.is_leader, timeout=5)
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    run(scenario(), timeout=60)


def test_a_failing_job_is_recorded_and_the_runner_goes_on(db):
    calls = []

    async def boom() -> None:
        calls.append(1)
        raise RuntimeError("target unreachable")

    runner = JobsRunner([Job("boom", boom, every_seconds=0.05)], lock_name=f"jobs-test-{uuid.uuid4().hex[:8]}",
                        standby_seconds=0.1, check_seconds=0.1)

    async def scenario():
        task = asyncio.create_task(runner.run())
        await _wait_for(lambda: len(calls) >= 3)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    run(scenario(), timeout=30)
    stats = runner.status()["jobs"]["boom"]
    assert stats["failures"] >= 3 and "target unreachable" in stats["last_error"]


def test_advisory_lock_try_variant(db):
    name = f"lock-test-{uuid.uuid4().hex[:8]}"
    first, second = AdvisoryLock(name), AdvisoryLock(name)
    assert first.acquire(wait=False)
    assert not second.acquire(wait=False)
    assert first.still_held()
    first.release()
    assert second.acquire(wait=False)
    second.release()


@pytest.mark.parametrize("transport", ["postgresql", "redis"])
def test_a_change_committed_elsewhere_is_signalled_to_the_web_workers(db, monkeypatch, transport):
    if transport == "postgresql" and not db.startswith("postgresql"):
        pytest.skip("PostgreSQL NOTIFY needs PostgreSQL")
    if transport == "redis":
        if not _redis_available():
            pytest.skip(f"Redis not reachable at {REDIS_URL}")
        monkeypatch.setattr(get_settings(), "redis_url", REDIS_URL)
    else:
        monkeypatch.setattr(get_settings(), "redis_url", "")
    assert signal.signal_transport() == transport
    got: list[tuple[int, list[int]]] = []

    async def scenario():
        ready = asyncio.Event()
        listener = asyncio.create_task(signal.listen(lambda org, ids: got.append((org, ids)), ready))
        await asyncio.wait_for(ready.wait(), 10)
        await asyncio.to_thread(signal.publish_change, Change(7, ServiceUpdated(service_id=1), event_id=42))
        await _wait_for(lambda: got, timeout=5)
        listener.cancel()
        await asyncio.gather(listener, return_exceptions=True)

    run(scenario(), timeout=30)
    assert got == [(7, [42])]


def test_a_long_running_job_runs_in_the_leader_only_and_stops_with_its_leadership(db):
    """The checker is one long-running job: started when leadership is won, cancelled when lost,
    so a standby that takes over never runs it twice at once."""
    lock_name = f"jobs-test-{uuid.uuid4().hex[:8]}"
    running: dict[str, int] = {"a": 0, "b": 0}
    peak = {"n": 0}

    def runner_for(name: str) -> JobsRunner:
        async def forever() -> None:
            running[name] += 1
            peak["n"] = max(peak["n"], sum(running.values()))
            try:
                await asyncio.sleep(3600)
            finally:
                running[name] -= 1

        return JobsRunner([Job("checker", forever, every_seconds=0.1, long_running=True)], lock_name=lock_name,
                          standby_seconds=0.1, check_seconds=0.1)

    a, b = runner_for("a"), runner_for("b")

    async def scenario():
        tasks = {"a": asyncio.create_task(a.run()), "b": asyncio.create_task(b.run())}
        await _wait_for(lambda: sum(running.values()) == 1)
        leader = "a" if running["a"] else "b"
        other = "b" if leader == "a" else "a"
        tasks[leader].cancel()
        await asyncio.gather(tasks[leader], return_exceptions=True)
        assert running[leader] == 0  # cancelled with the leadership
        await _wait_for(lambda: running[other] == 1)
        tasks[other].cancel()
        await asyncio.gather(tasks[other], return_exceptions=True)

    run(scenario(), timeout=60)
    assert peak["n"] == 1
