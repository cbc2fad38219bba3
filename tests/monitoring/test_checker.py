"""The checker end to end: real targets on loopback, the real scheduler, batches written through
the domain, services whose status changes by itself (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import dataclasses
import time

import pytest

from statusapp.domain import monitoring as mon_ops
from statusapp.domain import services
from statusapp.models import CheckerHeartbeat, Monitor, MonitorCheck
from statusapp.monitoring import checker as checker_module
from statusapp.monitoring.checker import Checker
from statusapp.queries import monitoring as monitor_queries
from tests.domain.helpers import DEG, MAJOR, OP, fresh, load, status_of
from tests.monitoring.support import (
    closed_port,
    http_handler,
    read_request,
    reset,
    response,
    self_signed,
    serve,
)
from tests.support.aio import run

INTERVAL = 1.0  # the tests shorten the monitors' intervals (the form allows 10 s at least)


def add(org, slug: str, **fields) -> Monitor:
    svc = services.create_service(actor=org, name=slug.upper(), slug=slug)
    data = {"kind": "http", "failures_to_confirm": 2, "auto_incident": False, **fields}
    return mon_ops.set_monitor(actor=org, service_id=svc.id, data=data).monitor


def fast_monitors(monkeypatch):
    """The checker loads the stored monitors with their intervals shortened to INTERVAL."""
    real = monitor_queries.load_active_monitors

    def load():
        return [dataclasses.replace(m, spec=dataclasses.replace(m.spec, interval_seconds=INTERVAL)) for m in real()]

    monkeypatch.setattr(checker_module, "load_active_monitors", load)


async def run_checker(seconds: float, until=None, at_least: float = 0.0, **kwargs) -> Checker:
    """Run a checker for `seconds`, or, given `until` (a check of the database), until it holds
    after at least `at_least` s (at most `seconds`): a loaded machine makes the run longer, not
    the test fail."""
    checker = Checker(reload_seconds=0.2, batch_seconds=0.1, heartbeat_seconds=0.5, **kwargs)
    task = asyncio.create_task(checker.run())
    if until is None:
        await asyncio.sleep(seconds)
    else:
        await asyncio.sleep(at_least)
        deadline = asyncio.get_running_loop().time() + seconds
        while asyncio.get_running_loop().time() < deadline and not await asyncio.to_thread(until):
            await asyncio.sleep(0.2)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    return checker


def checks_of(monitor_id: int) -> list[MonitorCheck]:
    from sqlmodel import select

    with fresh() as s:
        return list(s.exec(select(MonitorCheck).where(MonitorCheck.monitor_id == monitor_id).order_by(MonitorCheck.id)))


def test_every_kind_of_target_becomes_a_status_by_itself(db, org, monkeypatch, tmp_path):
    fast_monitors(monkeypatch)
    flip = {"n": 0}

    def flapping(_head):
        flip["n"] += 1
        return response(200 if flip["n"] % 2 else 500, b"ok")

    async def slow(_head):
        await asyncio.sleep(0.25)
        return response(200, b"ok")

    async def endless(reader, writer):
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nSTART")
        while True:
            writer.write(b"y" * 65536)
            await writer.drain()

    async def resets(reader, writer):
        await read_request(reader)
        reset(writer)

    async def hangs(reader, writer):
        await read_request(reader)
        await asyncio.sleep(30)

    cert = self_signed(tmp_path, names=["localhost"])

    async def scenario():
        async with (
            serve(http_handler(lambda head: response(200, b"all good"))) as up,
            serve(http_handler(flapping)) as flaps,
            serve(http_handler(slow)) as slowly,
            serve(http_handler(lambda head: response(200, b"maintenance page"))) as wrong_body,
            serve(endless) as endless_body,
            serve(resets) as resetting,
            serve(hangs) as hanging,
            serve(http_handler(lambda head: response(200, b"ok")), ssl_context=cert.server_context()) as tls,
        ):
            m = {
                "up": add(org, "up", url=f"http://127.0.0.1:{up.port}/health"),
                "down": add(org, "down", url=f"http://127.0.0.1:{closed_port()}/"),
                "flapping": add(org, "flapping", url=f"http://127.0.0.1:{flaps.port}/"),
                "slow": add(org, "slow", url=f"http://127.0.0.1:{slowly.port}/", degraded_above_ms=100),
                "keyword": add(org, "keyword", url=f"http://127.0.0.1:{wrong_body.port}/", keyword="all good"),
                "endless": add(org, "endless", url=f"http://127.0.0.1:{endless_body.port}/", keyword="END"),
                "reset": add(org, "reset", url=f"http://127.0.0.1:{resetting.port}/"),
                "hangs": add(org, "hangs", url=f"http://127.0.0.1:{hanging.port}/", timeout_seconds=1),
                "tls": add(org, "tls", url=f"https://localhost:{tls.port}/"),
                "tcp": add(org, "tcp", kind="tcp", host="127.0.0.1", port=up.port),
            }
            # At least 5.5 s (the flapping target must have flipped many times), then until settled.
            checker = await run_checker(20, until=lambda: settled(m), at_least=5.5)
            return m, checker

    expected = {
        "up": OP, "down": MAJOR, "flapping": OP, "slow": DEG, "keyword": MAJOR, "endless": MAJOR,
        "reset": MAJOR, "hangs": MAJOR, "tls": MAJOR, "tcp": OP,
    }

    def settled(m) -> bool:
        return {k: status_of(mon.service_id) for k, mon in m.items()} == expected

    m, checker = run(scenario(), timeout=90)
    assert {k: status_of(mon.service_id) for k, mon in m.items()} == expected
    reasons = {k: load(Monitor, mon.id).last_reason for k, mon in m.items()}
    assert reasons["up"] == "HTTP 200"
    assert reasons["down"].startswith("connection refused by 127.0.0.1:")
    assert reasons["slow"].startswith("slow: ") and reasons["slow"].endswith("> 100 ms")
    assert reasons["keyword"] == "keyword 'all good' not found in the body"
    assert reasons["endless"] == "keyword 'END' not found in the first 1024 KiB of the body"
    assert reasons["reset"] in ("connection reset by the server", "server closed the connection without a response")
    assert reasons["hangs"] == "timed out after 1 s"
    assert reasons["tls"].startswith("TLS certificate not valid")
    assert reasons["tcp"] == f"port {load(Monitor, m['tcp'].id).check['port']} open"
    flaps = checks_of(m["flapping"].id)
    assert {c.ok for c in flaps} == {True, False}  # it failed, unconfirmed, and never reached the page
    # One target hanging for its whole timeout delays nobody: the others kept their cadence.
    assert len(checks_of(m["up"].id)) >= 4
    assert checker.checks_done >= 40
    with fresh() as s:
        beat = s.get(CheckerHeartbeat, 1)
    assert beat is not None and beat.monitors == len(m) and "web app" in beat.leader


def test_a_target_going_down_and_up_again_is_followed(db, org, monkeypatch):
    fast_monitors(monkeypatch)
    state = {"up": True}

    def respond(_head):
        return response(200 if state["up"] else 503, b"x")

    async def scenario():
        async with serve(http_handler(respond)) as target:
            mon = add(org, "api", url=f"http://127.0.0.1:{target.port}/", auto_incident=True)
            checker = Checker(reload_seconds=0.2, batch_seconds=0.1)
            task = asyncio.create_task(checker.run())
            try:
                seen = []
                for wanted, flip_to in ((OP, False), (MAJOR, True), (OP, None)):
                    deadline = time.monotonic() + 10
                    while await asyncio.to_thread(status_of, mon.service_id) != wanted:
                        assert time.monotonic() < deadline, f"never became {wanted}"
                        await asyncio.sleep(0.1)
                    seen.append(wanted)
                    if flip_to is not None:
                        state["up"] = flip_to
                return seen, mon
            finally:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)

    seen, mon = run(scenario(), timeout=60)
    assert seen == [OP, MAJOR, OP]
    reasons = [c.reason for c in checks_of(mon.id)]
    assert "HTTP 503, expected 200-299" in reasons


def test_changes_to_monitors_are_picked_up_while_running(db, org, monkeypatch):
    fast_monitors(monkeypatch)

    async def scenario():
        async with serve(http_handler(lambda head: response(200, b"ok"))) as target:
            first = add(org, "one", url=f"http://127.0.0.1:{target.port}/")
            checker = Checker(reload_seconds=0.2, batch_seconds=0.1)
            task = asyncio.create_task(checker.run())
            try:
                await asyncio.sleep(1.5)
                second = await asyncio.to_thread(add, org, "two", url=f"http://127.0.0.1:{target.port}/")
                await asyncio.to_thread(mon_ops.delete_monitor, actor=org, service_id=first.service_id)
                await asyncio.sleep(2.0)
                return second, set(checker._entries)
            finally:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)

    second, scheduled = run(scenario(), timeout=30)
    assert scheduled == {second.id}
    assert checks_of(second.id)


@pytest.mark.parametrize("public_only", [True, False])
def test_private_targets_follow_the_setting(db, org, monkeypatch, public_only):
    fast_monitors(monkeypatch)

    async def scenario():
        async with serve(http_handler(lambda head: response(200, b"ok"))) as target:
            mon = add(org, "internal", url=f"http://127.0.0.1:{target.port}/", failures_to_confirm=1)
            def decided() -> bool:
                last = load(Monitor, mon.id).last_reason
                return bool(last) and (not public_only or status_of(mon.service_id) == MAJOR)

            await run_checker(15, until=decided, allow_private=not public_only)
            return mon

    mon = run(scenario(), timeout=30)
    reason = load(Monitor, mon.id).last_reason
    if public_only:
        assert reason == "refused: 127.0.0.1 is a loopback address"
        assert status_of(mon.service_id) == MAJOR
    else:
        assert reason == "HTTP 200"
