#!/usr/bin/env python
"""Checker benchmark: throughput with database writes, start-up, lag while the app serves visitors.

    .venv/bin/python bench/checker.py [--db postgresql|sqlite] [--quick] [--parts 1,2,3]

Part 1, throughput (in this process): the real `Checker` (statusapp/monitoring/checker.py) runs
`--monitors` HTTP monitors whose interval is shortened to 1 s, more than it can check, against a
local target on loopback (a minimal asyncio HTTP server in its own process), results written in
batches through `domain.monitoring.record_check_results` to a throw-away database. Checks per
second = results written per second, measured over `--seconds` after a warm-up. In the same run
and against the same target: a bare httpx asyncio loop (one AsyncClient, the same concurrency,
no database) and the original sequential loop (one check after the other, sync httpx).

Part 2, 1,000 monitors at 30 s while the app serves visitors: the real app (reflex run --env prod,
tests/support/appserver.py, jobs inside the web app) with `--app-monitors` monitors at a 30 s
interval and `--visitors` simulated visitors on /status/demo (bench/live.py's wire client).
start_s = the last monitor's first check minus the moment the checker started (both from the
database: the checker's heartbeat row and the first stored result of each monitor). Lag = how late
checks start against their due time, from the checker's heartbeat (p95 over the last minute),
sampled every 10 s for `--app-seconds` from one minute after the visitors connected (their ramp,
100 connecting at once, stalls the event loop for seconds: that minute is left out); the worst
sample is reported. Memory: RSS of the app's
process tree (from /proc) with the monitors and visitors; then, the app stopped, the same monitors
checked by a `statusapp worker` alone (its RSS: the checker's own footprint).

Part 3, a change the checker makes reaching open pages, with the checker inside the app and in a
separate `statusapp worker` process (PostgreSQL: the worker signals its commits with NOTIFY): a
monitored service on /status/demo whose target (served by this process) flips between 200 and 503,
`--push-visitors` simulated visitors, `--push-changes` flips. Latency = when a visitor receives
the delta showing the change - when the checker committed it (the status history row's time; one
machine, one clock). The checker's own detection delay (up to the 10 s interval) is not in it.

The last line:
    RESULT checks_per_s=<n> ratio_vs_bare=<x> start_s=<n> lag_p95_ms=<n> rss_mb=<n> worker_rss_mb=<n>
           push_p95_ms=<n> worker_push_p95_ms=<n>
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TARGET_RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok"
CONCURRENCY = 100
# Every simulated visitor connects from 127.0.0.1: lift the per-address socket cap (issue 12).
BENCH_ENV = {"STATUSAPP_MAX_SOCKETS_PER_IP": "1000000"}


# ---- the target: a minimal keep-alive HTTP server in its own process ---------------------------
def serve_target(port: int, delay_ms: float = 0.0) -> None:
    """Answers every request with 200 "ok", after `delay_ms` (a real service takes some time)."""
    delay = delay_ms / 1000

    class Protocol(asyncio.Protocol):
        def connection_made(self, transport):
            self.transport, self.buffer = transport, b""

        def answer(self):
            if not self.transport.is_closing():
                self.transport.write(TARGET_RESPONSE)

        def data_received(self, data):
            self.buffer += data
            while b"\r\n\r\n" in self.buffer:
                _head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
                if delay:
                    asyncio.get_running_loop().call_later(delay, self.answer)
                else:
                    self.transport.write(TARGET_RESPONSE)

    async def main():
        server = await asyncio.get_running_loop().create_server(Protocol, "127.0.0.1", port, backlog=1024)
        await server.serve_forever()

    asyncio.run(main())


@contextlib.contextmanager
def target_process(delay_ms: float = 0.0):
    from tests.support.appserver import free_port

    port = free_port()
    proc = subprocess.Popen([sys.executable, __file__, "--serve-target", str(port), "--target-delay-ms", str(delay_ms)])
    try:
        deadline = time.monotonic() + 10
        import socket

        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                break
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/health", proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=10)


# ---- measurements ------------------------------------------------------------------------------
def rss_mb(root_pid: int) -> float:
    from bench.live import process_tree, rss_kb

    return rss_kb(process_tree(root_pid)) / 1024


def machine() -> str:
    model = ""
    with contextlib.suppress(OSError):
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{os.cpu_count()} CPU ({model}), load average {os.getloadavg()[0]:.1f} at start"


async def bare_loop(url: str, seconds: float) -> float:
    """A bare httpx asyncio loop: one client, CONCURRENCY requests in flight, no database."""
    import httpx

    done = 0
    stop = time.monotonic() + seconds
    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=CONCURRENCY)) as client:
        async def worker():
            nonlocal done
            while time.monotonic() < stop:
                r = await client.get(url)
                assert r.status_code == 200
                done += 1

        started = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        return done / (time.monotonic() - started)


def sequential_loop(url: str, seconds: float) -> float:
    """The original checker: one service after the other, a blocking request each."""
    import httpx

    done = 0
    started = time.monotonic()
    with httpx.Client(timeout=5) as client:
        while time.monotonic() - started < seconds:
            client.get(url)
            done += 1
    return done / (time.monotonic() - started)


def create_monitors(n: int, url: str, interval: int) -> list[int]:
    from statusapp.domain import Actor
    from statusapp.domain import monitoring, organizations, services

    org = Actor(organizations.create_organization(name="Bench").id)
    ids = []
    for i in range(n):
        svc = services.create_service(actor=org, name=f"Service {i}", slug=f"svc-{i}")
        ids.append(monitoring.set_monitor(actor=org, service_id=svc.id, data={
            "kind": "http", "url": url, "interval_seconds": str(interval)}).monitor.id)
    return ids


async def checker_throughput(n: int, seconds: float, warmup: float) -> dict:
    from statusapp.monitoring import checker as checker_module
    from statusapp.monitoring.checker import Checker
    from statusapp.queries import monitoring as queries

    def fast():  # more demand than capacity: every monitor due every second
        return [dataclasses.replace(m, spec=dataclasses.replace(m.spec, interval_seconds=1)) for m in
                queries.load_active_monitors()]

    checker_module.load_active_monitors = fast
    checker = Checker(concurrency=CONCURRENCY, allow_private=True, batch_seconds=0.5, max_batch=1000)
    task = asyncio.create_task(checker.run())
    await asyncio.sleep(warmup)
    w0, c0, t0 = checker.results_written, checker.checks_done, time.monotonic()
    cpu0 = time.process_time()
    await asyncio.sleep(seconds)
    w1, c1, t1 = checker.results_written, checker.checks_done, time.monotonic()
    cpu1 = time.process_time()
    pending = len(checker._pending)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    return {"written_per_s": (w1 - w0) / (t1 - t0), "checked_per_s": (c1 - c0) / (t1 - t0), "pending": pending,
            "cpu_share": (cpu1 - cpu0) / (t1 - t0)}


@contextlib.contextmanager
def database(kind: str, tmp: Path):
    from statusapp import db
    from statusapp.settings import get_settings

    if kind == "postgresql":
        from tests.support.pg import throwaway_database

        with throwaway_database("statusapp_bench") as url:
            db.migrate(url)
            get_settings().database_url = url
            yield url
            db.get_engine(url).dispose()
    else:
        url = f"sqlite:///{tmp / 'bench.db'}"
        db.migrate(url)
        get_settings().database_url = url
        yield url


def part_one(args, url: str) -> dict:
    with tempfile.TemporaryDirectory(prefix="statusapp-bench-checker-") as tmp, database(args.db, Path(tmp)):
        print(f"creating {args.monitors} monitors on {args.db} ...", flush=True)
        create_monitors(args.monitors, url, 10)
        bare = asyncio.run(bare_loop(url, args.seconds))
        print(f"bare httpx asyncio loop ({CONCURRENCY} in flight, no database): {bare:.0f} requests/s", flush=True)
        result = asyncio.run(checker_throughput(args.monitors, args.seconds, args.warmup))
        print(f"checker ({CONCURRENCY} in flight, {args.monitors} monitors due every second, results written to "
              f"{args.db}): {result['written_per_s']:.0f} checks/s written ({result['checked_per_s']:.0f} checked; "
              f"{result['pending']} waiting to be written at the end; checker process CPU "
              f"{result['cpu_share'] * 100:.0f}% of one core)", flush=True)
        bare2 = asyncio.run(bare_loop(url, args.seconds))
        print(f"bare httpx asyncio loop again: {bare2:.0f} requests/s", flush=True)
        seq = sequential_loop(url, min(args.seconds, 10))
        print(f"original sequential loop (one check after the other): {seq:.0f} checks/s", flush=True)
    bare_mean = statistics.mean([bare, bare2])
    return {"checks_per_s": result["written_per_s"], "bare": bare_mean, "ratio": result["written_per_s"] / bare_mean,
            "sequential": seq}


# ---- part 2: the app with 1,000 monitors and visitors ------------------------------------------
def part_two(args, url: str) -> dict:
    from sqlmodel import func, select

    from bench.live import Bench, names
    from statusapp import db
    from statusapp.db import session_scope
    from statusapp.models import CheckerHeartbeat, MonitorCheck
    from statusapp.settings import get_settings
    from tests.support.appserver import AppServer

    with tempfile.TemporaryDirectory(prefix="statusapp-bench-app-") as tmp, contextlib.ExitStack() as stack:
        data = Path(tmp)
        if args.db == "postgresql":
            from tests.support.pg import throwaway_database

            db_url = stack.enter_context(throwaway_database("statusapp_bench_app"))
        else:
            db_url = f"sqlite:///{data / 'app.db'}"
        server = AppServer(database_url=db_url, data_dir=data, extra_env=BENCH_ENV)
        env = server.env()
        subprocess.run([str(ROOT / ".venv" / "bin" / "statusapp"), "bootstrap"], env=env, check=True,
                       capture_output=True, timeout=120)
        get_settings().database_url = db_url
        print(f"creating {args.app_monitors} monitors at a 30 s interval ...", flush=True)
        create_monitors(args.app_monitors, url, 30)
        server.start()
        stack.callback(server.stop)
        print(f"app started at {server.url}", flush=True)

        async def run() -> dict:
            bench = Bench(server, names(), browser_wanted=False, label="app")
            import aiohttp

            async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as bench.session:
                visitors = await bench.ramp(args.visitors) if args.visitors else []
                # The heartbeat's lag is over the last minute: start once the ramp (100 visitors
                # connecting at once, which does stall the loop) has left that window.
                print("  visitors connected; watching the checker after a minute", flush=True)
                await asyncio.sleep(60)
                samples = []
                deadline = time.monotonic() + args.app_seconds
                while time.monotonic() < deadline:
                    await asyncio.sleep(10)
                    beat = await asyncio.to_thread(_heartbeat)
                    if beat is not None:
                        samples.append(beat)
                        print(f"  checker: {beat['checks_per_minute']} checks in the last minute, lag p95 "
                              f"{beat['lag_p95_ms']} ms, max {beat['lag_max_ms']} ms, {beat['pending_writes']} "
                              f"waiting; app RSS {rss_mb(server.proc.pid):.0f} MiB", flush=True)
                live = sum(1 for v in visitors if v.t_live and not v.closed)
                await asyncio.gather(*(v.close() for v in visitors), return_exceptions=True)
                return {"samples": samples, "visitors_live": live}

        def _heartbeat():
            with session_scope() as s:
                row = s.get(CheckerHeartbeat, 1)
                return None if row is None else {k: getattr(row, k) for k in (
                    "checks_per_minute", "lag_p95_ms", "lag_max_ms", "pending_writes", "leader_since")}

        out = asyncio.run(run())
        rss = rss_mb(server.proc.pid)
        with session_scope() as s:
            since = s.get(CheckerHeartbeat, 1).leader_since
            firsts = s.exec(select(func.min(MonitorCheck.checked_at)).group_by(MonitorCheck.monitor_id)).all()
        # The same monitors checked by a `statusapp worker` alone (the app stopped): the checker's
        # own memory, comparable to a monitoring tool's process.
        server.stop()
        worker = subprocess.Popen([str(ROOT / ".venv" / "bin" / "statusapp"), "worker"], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            time.sleep(args.worker_seconds)
            worker_rss = rss_mb(worker.pid)
            beat = _heartbeat()
        finally:
            worker.terminate()
            worker.wait(timeout=30)
        print(f"statusapp worker alone after {args.worker_seconds:.0f} s: {beat['checks_per_minute']} checks in the "
              f"last minute, lag p95 {beat['lag_p95_ms']} ms; RSS {worker_rss:.0f} MiB", flush=True)
        db.get_engine(db_url).dispose()
    start_s = (max(firsts) - since).total_seconds() if len(firsts) == args.app_monitors else float("nan")
    lags = [s["lag_p95_ms"] for s in out["samples"] if s["lag_p95_ms"] is not None]
    print(f"{len(firsts)}/{args.app_monitors} monitors checked; the last one's first check came {start_s:.1f} s after "
          f"the checker started; lag p95 samples {lags} ms; {out['visitors_live']} visitors live "
          f"to the end; app RSS {rss:.0f} MiB", flush=True)
    return {"start_s": start_s, "lag_p95_ms": max(lags) if lags else float("nan"), "rss_mb": rss,
            "worker_rss_mb": worker_rss}


# ---- part 3: checker changes reaching open pages ------------------------------------------------
class FlipTarget:
    """An HTTP target in this process: 200 while `up`, else 503."""

    def __init__(self) -> None:
        self.up = True
        self.port = 0

    async def start(self) -> None:
        target = self

        class Protocol(asyncio.Protocol):
            def connection_made(self, transport):
                self.transport, self.buffer = transport, b""

            def data_received(self, data):
                self.buffer += data
                while b"\r\n\r\n" in self.buffer:
                    _head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
                    status = b"200 OK" if target.up else b"503 Unavailable"
                    self.transport.write(b"HTTP/1.1 " + status + b"\r\nContent-Length: 2\r\n\r\nok")

        self.server = await asyncio.get_running_loop().create_server(Protocol, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]


def part_three(args, *, worker: bool) -> dict:
    from sqlmodel import select

    from bench.live import TEXT_MAJOR, TEXT_OK, Bench, Round, names, pct
    from statusapp import db
    from statusapp.db import session_scope
    from statusapp.domain import Actor, monitoring, pages, services
    from statusapp.models import ServiceStatusChange, StatusPage, StatusPageService
    from statusapp.settings import get_settings
    from tests.support.appserver import ROOT as APP_ROOT
    from tests.support.appserver import AppServer
    from tests.support.pg import throwaway_database

    label = "worker" if worker else "app"
    with tempfile.TemporaryDirectory(prefix="statusapp-bench-push-") as tmp, contextlib.ExitStack() as stack:
        data = Path(tmp)
        db_url = stack.enter_context(throwaway_database("statusapp_bench_push"))
        os.environ["STATUSAPP_JOBS_IN_APP"] = "0" if worker else "1"
        try:
            server = AppServer(database_url=db_url, data_dir=data, extra_env=BENCH_ENV)
            env = server.env()
        finally:
            os.environ.pop("STATUSAPP_JOBS_IN_APP", None)
        subprocess.run([str(APP_ROOT / ".venv" / "bin" / "statusapp"), "bootstrap"], env=env, check=True,
                       capture_output=True, timeout=120)
        get_settings().database_url = db_url

        async def run() -> list[float]:
            target = FlipTarget()
            await target.start()
            actor = Actor(1)
            svc = await asyncio.to_thread(services.create_service, actor=actor, name="Checked", slug="checked")

            def add_to_demo():
                with session_scope() as s:
                    page = s.exec(select(StatusPage).where(StatusPage.slug == "demo")).one()
                    ids = list(s.exec(select(StatusPageService.service_id).where(StatusPageService.page_id == page.id)))
                pages.update_page(actor=actor, page_id=page.id, service_ids=[*ids, svc.id])
                monitoring.set_monitor(actor=actor, service_id=svc.id, data={
                    "kind": "http", "url": f"http://127.0.0.1:{target.port}/", "interval_seconds": "10",
                    "failures_to_confirm": "1", "auto_incident": False})

            await asyncio.to_thread(add_to_demo)
            await asyncio.to_thread(server.start)
            stack.callback(server.stop)
            if worker:
                proc = subprocess.Popen([str(APP_ROOT / ".venv" / "bin" / "statusapp"), "worker"], env=env,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                stack.callback(lambda: (proc.terminate(), proc.wait(timeout=20)))
            print(f"[{label}] app at {server.url}" + (" + statusapp worker" if worker else ""), flush=True)
            bench = Bench(server, names(), browser_wanted=False, label=label)
            import aiohttp

            latencies: list[float] = []
            async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as bench.session:
                visitors = await bench.ramp(args.push_visitors)
                live = [v for v in visitors if v.t_live]
                offset = time.time() - time.monotonic()
                for i in range(args.push_changes):
                    down = i % 2 == 0
                    text = TEXT_MAJOR if down else TEXT_OK
                    r = Round(i, "major_outage" if down else "operational", f'"status_text":"{text}"',
                              expected=len(live))
                    bench.round = r
                    target.up = not down
                    with contextlib.suppress(asyncio.TimeoutError):
                        await asyncio.wait_for(r.done.wait(), 40)
                    bench.round = None

                    def committed():
                        with session_scope() as s:
                            return s.exec(select(ServiceStatusChange.changed_at).where(
                                ServiceStatusChange.service_id == svc.id).order_by(ServiceStatusChange.id.desc())).first()

                    at = (await asyncio.to_thread(committed)).timestamp()
                    got = [(v.got[i][0] + offset - at) * 1000 for v in live if i in v.got]
                    latencies += got
                    print(f"[{label}] change {i + 1}: {len(got)}/{len(live)} visitors got it; after the commit p50 "
                          f"{pct(got, 50):.0f} ms, p95 {pct(got, 95):.0f} ms, max {max(got, default=0):.0f} ms", flush=True)
                await asyncio.gather(*(v.close() for v in visitors), return_exceptions=True)
            return latencies

        lat = asyncio.run(run())
        db.get_engine(db_url).dispose()
    within = sum(x <= 1000 for x in lat)
    print(f"[{label}] {len(lat)} deliveries: p50 {pct(lat, 50):.0f} ms, p95 {pct(lat, 95):.0f} ms, within 1 s "
          f"{within}/{len(lat)}", flush=True)
    return {"p95": pct(lat, 95)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--serve-target", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--target-delay-ms", type=float, default=0.0,
                    help="the target answers after this delay (0: at once; the original sequential loop's rate "
                         "is then bounded by 1/delay, the concurrent checker's is not)")
    ap.add_argument("--db", choices=["postgresql", "sqlite"], default="postgresql")
    ap.add_argument("--monitors", type=int, default=2000, help="monitors in part 1 (each due every second)")
    ap.add_argument("--seconds", type=float, default=20.0, help="measured time of each loop in part 1")
    ap.add_argument("--warmup", type=float, default=8.0)
    ap.add_argument("--app-monitors", type=int, default=1000)
    ap.add_argument("--visitors", type=int, default=500, help="simulated visitors on /status/demo in part 2")
    ap.add_argument("--app-seconds", type=float, default=90.0, help="how long part 2 watches the checker")
    ap.add_argument("--worker-seconds", type=float, default=75.0, help="how long part 2's worker-only run lasts")
    ap.add_argument("--push-visitors", type=int, default=200, help="simulated visitors in part 3")
    ap.add_argument("--push-changes", type=int, default=6, help="target flips in part 3 (each run)")
    ap.add_argument("--parts", default="1,2,3", help="which parts to run, e.g. 1 or 1,3")
    ap.add_argument("--quick", action="store_true", help="shorter: 10 s loops, 60 s of part 2, 200 visitors")
    args = ap.parse_args()
    if args.serve_target:
        serve_target(args.serve_target, args.target_delay_ms)
        return 0
    if args.quick:
        args.seconds, args.warmup, args.app_seconds, args.visitors = 10.0, 5.0, 60.0, 200
        args.push_visitors, args.push_changes, args.worker_seconds = 100, 4, 45.0
    print(f"machine: {machine()}; database: {args.db}; target answers after {args.target_delay_ms:g} ms", flush=True)
    parts = {int(p) for p in args.parts.split(",") if p.strip()}
    nan = float("nan")
    one = {"checks_per_s": nan, "ratio": nan, "bare": nan, "sequential": nan}
    two = {"start_s": nan, "lag_p95_ms": nan, "rss_mb": nan, "worker_rss_mb": nan}
    with target_process(args.target_delay_ms) as (url, _pid):
        if 1 in parts:
            one = part_one(args, url)
        if 2 in parts:
            two = part_two(args, url)
    in_app = part_three(args, worker=False) if 3 in parts else {"p95": nan}
    in_worker = part_three(args, worker=True) if 3 in parts else {"p95": nan}
    ok = (one["checks_per_s"] >= 500 or 1 not in parts) and (one["ratio"] >= 0.7 or 1 not in parts) \
        and (two["start_s"] <= 30 or 2 not in parts) and all(r["p95"] <= 1000 for r in (in_app, in_worker) if 3 in parts)
    print(f"\nthroughput {one['checks_per_s']:.0f} checks/s = {one['ratio'] * 100:.0f}% of the bare loop "
          f"({one['bare']:.0f}/s); sequential baseline {one['sequential']:.0f}/s; targets (>= 500/s, >= 70%, "
          f"all checked within 30 s, pushed within 1 s p95): {'MET' if ok else 'MISSED'}")
    print(f"RESULT checks_per_s={one['checks_per_s']:.0f} ratio_vs_bare={one['ratio']:.2f} start_s={two['start_s']:.1f} "
          f"lag_p95_ms={two['lag_p95_ms']:.0f} rss_mb={two['rss_mb']:.0f} worker_rss_mb={two['worker_rss_mb']:.0f} "
          f"push_p95_ms={in_app['p95']:.0f} "
          f"worker_push_p95_ms={in_worker['p95']:.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
