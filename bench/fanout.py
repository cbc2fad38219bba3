#!/usr/bin/env python
"""Fan-out benchmark: one incident update to 100,000 email subscribers, while visitors watch.

    .venv/bin/python bench/fanout.py [--subscribers N] [--quick] [--visitors V] [--pg]
                                     [--concurrency C] [--changes K] [--worker]

Starts a fake Resend server (tests/support/fake_resend.py: loopback, Resend's batch API,
idempotency) in this process and the real app (`reflex run --env prod`, 1 worker, its jobs
runner inside) pointed at it with RESEND_API_KEY + RESEND_API_URL, on a throw-away SQLite (or,
with --pg, PostgreSQL) database. N confirmed subscribers are imported on the demo page (the
console's CSV import operation), V simulated visitors open the page (bench/live.py's wire
client), then ONE incident is declared from this process (a domain operation, as the API
would) and the clock runs until the fake server has accepted every email. Meanwhile an admin
changes a service's status every second through the server, and each change's arrival at the
visitors is timed: the live push p95 while the fan-out runs (and before it, for comparison).
The server's RSS (its process tree, from /proc) is sampled every 0.2 s.

With --worker the jobs (the sender) run in a separate `statusapp worker` process and the web
app only serves (STATUSAPP_JOBS_IN_APP=0), the deployment for large subscriber lists.

The raw rate is the fake server's own: batch calls of 100 emails per second over one
keep-alive connection with no SDK (`measure_raw_rate`), measured first in this process.

Resend's account limit (2 requests/s by default) is lifted with STATUSAPP_RESEND_MAX_RPS=0:
the benchmark measures the app, not the plan.

Last line:
    RESULT seconds_per_100k=<n> ratio_vs_raw=<x> rss_mb=<n> live_p95_ms=<n> ...
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402

from bench.live import (  # noqa: E402
    TEXT_MAJOR,
    Bench,
    Round,
    delta_of,
    foreign_load,
    names,
    pct,
    process_tree,
    rss_kb,
)
from tests.support.appserver import AppServer  # noqa: E402
from tests.support.fake_resend import FakeResend, measure_raw_rate  # noqa: E402

TEXT_MINOR = "Partially Degraded Service"
FANOUT_LIMIT_S = 600.0


class RssSampler:
    """Peak RSS of the server's process trees (the app, and the worker if any), sampled in a thread."""

    def __init__(self, root_pids: list[int], every: float = 0.2) -> None:
        self.root_pids = root_pids
        self.every = every
        self.peak_kb = 0
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            kb = rss_kb([pid for root in self.root_pids for pid in process_tree(root)])
            self.samples.append((time.monotonic(), kb))
            self.peak_kb = max(self.peak_kb, kb)
            self._stop.wait(self.every)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(5)


def seed(n: int) -> tuple[float, int, int]:
    """N confirmed subscribers on the demo page through the import operation; returns
    (seconds, page id, id of the service the fan-out incident will touch)."""
    from sqlmodel import select

    from statusapp.db import session_scope
    from statusapp.domain import Actor, subscribers
    from statusapp.models import Service, StatusPage

    with session_scope() as s:
        page = s.exec(select(StatusPage).where(StatusPage.slug == "demo")).one()
        services = s.exec(select(Service).where(Service.organization_id == page.organization_id)
                          .order_by(Service.position, Service.id)).all()
        page_id, org_id, target = page.id, page.organization_id, services[-1].id
    t = time.monotonic()
    csv_text = "\n".join(f"subscriber{i}@example.com" for i in range(n))
    report = subscribers.import_subscribers(actor=Actor(org_id), page_id=page_id, csv_text=csv_text)
    assert report.added == n and not report.errors, report.errors[:3]
    return time.monotonic() - t, page_id, target


def declare(service_id: int) -> int:
    from statusapp.domain import Actor, incidents

    inc = incidents.create_incident(actor=Actor(1), title="Elevated error rates on checkout", impact="minor",
                                    message="We are investigating elevated error rates. More in 30 minutes.",
                                    services={service_id: "degraded_performance"})
    return inc.id


async def one_change(bench: Bench, admin, service_id: int, idx: int, status: str, text: str) -> list[float]:
    """One status change through the admin's socket; each live visitor's latency (ms)."""
    live = [v for v in bench.visitors if v.t_live and not v.closed]
    r = Round(idx, status, f'"status_text":"{text}"', expected=len(live))
    bench.round = r
    r.t0, r.t0_wall = time.monotonic(), time.time()
    await admin.emit(bench.names["set_status"], {"service_id": service_id, "status": status})
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(r.done.wait(), 15)
    bench.round = None
    out = []
    for v in live:
        hit = v.got.get(idx)
        if hit is not None:
            view = delta_of(hit[1])[bench.names["public"]][bench.names["view"]]
            assert view["status_text"] == text
            out.append((hit[0] - r.t0) * 1000)
    missing = len(live) - len(out)
    if missing:
        bench.log(f"change {idx}: {missing} visitor(s) did not get it within 15 s")
    return out


async def run(args, server: AppServer, fake: FakeResend, n: int, target_service: int, roots: list[int]) -> dict:
    bench = Bench(server, names(), browser_wanted=False, label="fanout")
    report: dict = {}
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as bench.session:
        admin = await bench.admin_socket()
        warm = await bench.connect_one()
        if not warm.t_live:
            raise RuntimeError(f"a visitor could not go live: {warm.error}")
        changed = next(s["id"] for g in warm.view["groups"] for s in g["services"] if s["id"] != target_service)
        bench.visitors = [warm] + (await bench.ramp(args.visitors) if args.visitors > 1 else [])
        gc.collect()
        gc.freeze()
        idx = 0
        base: list[float] = []
        for i in range(args.changes):  # the same changes before the fan-out, for comparison
            status, text = ("major_outage", TEXT_MAJOR) if i % 2 == 0 else ("operational", "All Systems Operational")
            base += await one_change(bench, admin, changed, idx, status, text)
            idx += 1
            await asyncio.sleep(0.5)
        bench.log(f"live push before the fan-out: p50 {pct(base, 50):.0f} ms, p95 {pct(base, 95):.0f} ms "
                  f"({len(base)} deliveries)")
        rss_before = rss_kb([pid for root in roots for pid in process_tree(root)])
        during: list[float] = []
        with RssSampler(roots) as rss:
            t0 = time.monotonic()
            await asyncio.to_thread(declare, target_service)
            t_commit = time.monotonic()
            first_call = None
            i = 0
            while len(fake.emails) < n:
                if time.monotonic() - t0 > FANOUT_LIMIT_S:
                    raise RuntimeError(f"only {len(fake.emails)}/{n} emails after {FANOUT_LIMIT_S:.0f} s")
                if first_call is None and fake.batch_calls:
                    first_call = time.monotonic()
                if first_call is not None:  # a change every second while emails are going out
                    status, text = ("major_outage", TEXT_MAJOR) if i % 2 == 0 else ("operational", TEXT_MINOR)
                    during += await one_change(bench, admin, changed, idx, status, text)
                    idx += 1
                    i += 1
                    await asyncio.sleep(1.0)
                else:
                    await asyncio.sleep(0.05)
            t_done = time.monotonic()
        if i % 2 == 1:  # leave the page as the fan-out left it
            await one_change(bench, admin, changed, idx, "operational", TEXT_MINOR)
        gc.unfreeze()
        elapsed = t_done - t_commit
        bench.log(f"{n} emails accepted by the fake Resend {elapsed:.1f} s after the commit "
                  f"(first batch call after {(first_call or t_done) - t_commit:.1f} s); "
                  f"{fake.batch_calls} batch calls, {fake.replays} replays")
        bench.log(f"live push during the fan-out: {len(during)} deliveries over {i} changes, "
                  f"p50 {pct(during, 50):.0f} ms, p95 {pct(during, 95):.0f} ms, max {max(during, default=0):.0f} ms")
        bench.log(f"server RSS (app{' + worker' if args.worker else ''}): {rss_before / 1024:.0f} MiB before, "
                  f"peak {rss.peak_kb / 1024:.0f} MiB during")
        report.update(elapsed=elapsed, first_call=(first_call or t_done) - t_commit, calls=fake.batch_calls,
                      replays=fake.replays, base_p95=pct(base, 95), live_p50=pct(during, 50),
                      live_p95=pct(during, 95), live_max=max(during, default=float("nan")), changes=i,
                      rss_before_mb=rss_before / 1024, rss_peak_mb=rss.peak_kb / 1024)
        await admin.close()
        await asyncio.gather(*(v.close() for v in bench.visitors), return_exceptions=True)
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--quick", action="store_true", help="10,000 subscribers, 50 visitors")
    parser.add_argument("--visitors", type=int, default=200)
    parser.add_argument("--changes", type=int, default=4, help="status changes timed before the fan-out")
    parser.add_argument("--concurrency", type=int, default=4, help="STATUSAPP_EMAIL_CONCURRENCY")
    parser.add_argument("--pg", action="store_true", help="PostgreSQL (STATUSAPP_TEST_PG_URL) instead of SQLite")
    parser.add_argument("--worker", action="store_true", help="the sender in `statusapp worker`, not in the app")
    args = parser.parse_args()
    n = 10_000 if args.quick else args.subscribers
    if args.quick:
        args.visitors = min(args.visitors, 50)
    others = foreign_load()
    if others:
        print("WARNING: other servers/tests are running (figures unreliable):\n    " + "\n    ".join(others[:5]),
              flush=True)
    raw = measure_raw_rate(calls=300)
    print(f"fake Resend raw rate: {raw:.0f} batch calls/s (100 emails each, one keep-alive connection, no SDK)",
          flush=True)

    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="statusapp-fanout-")))
        if args.pg:
            from tests.support.pg import throwaway_database

            url = stack.enter_context(throwaway_database("statusapp_fanout"))
        else:
            url = f"sqlite:///{tmp / 'fanout.db'}"
        fake = stack.enter_context(FakeResend(keep_bodies=False, record_calls=False))
        server = AppServer(database_url=url, data_dir=tmp, extra_env={
            "RESEND_API_KEY": "re_bench", "RESEND_API_URL": fake.url, "STATUSAPP_RESEND_MAX_RPS": "0",
            "STATUSAPP_EMAIL_CONCURRENCY": str(args.concurrency), "STATUSAPP_EMAIL_FROM": "status@example.com",
            "STATUSAPP_JOBS_IN_APP": "0" if args.worker else "1",
        })
        t = time.monotonic()
        server.start()
        stack.callback(server.stop)
        if args.worker:
            worker_log = open(tmp / "worker.log", "w")
            worker = subprocess.Popen([str(ROOT / ".venv" / "bin" / "statusapp"), "worker"], env=server.env(),
                                      cwd=tmp / "app", stdout=worker_log, stderr=subprocess.STDOUT)
            stack.callback(lambda: (worker.terminate(), worker.wait(20), worker_log.close()))
        print(f"app started in {time.monotonic() - t:.1f} s at {server.url} ({'PostgreSQL' if args.pg else 'SQLite'}; "
              f"sender {'in `statusapp worker`' if args.worker else 'inside the app'})", flush=True)
        # This process writes the subscribers and the incident to the server's database.
        os.environ["STATUSAPP_DATABASE_URL"] = url
        os.environ["STATUSAPP_DATA_DIR"] = str(tmp)  # the server's secret key: the same links
        from statusapp.settings import get_settings

        get_settings.cache_clear()
        seconds, _page_id, target = seed(n)
        print(f"imported {n} confirmed subscribers in {seconds:.1f} s", flush=True)
        try:
            roots = [server.proc.pid] + ([worker.pid] if args.worker else [])
            report = asyncio.run(run(args, server, fake, n, target, roots))
        finally:
            log = (tmp / "server.log").read_text(errors="replace")
            if args.worker:
                log += (tmp / "worker.log").read_text(errors="replace")
            for line in log.splitlines():
                if "sender:" in line:
                    print("server: " + line.strip(), flush=True)
            if "Traceback" in log or "ERROR" in log:
                at = log.find("Traceback") if "Traceback" in log else log.find("ERROR")
                print("server log has errors; the first:\n" + log[max(0, at - 500):at + 3000], flush=True)
    per_100k = report["elapsed"] * 100_000 / n
    achieved = report["calls"] / report["elapsed"]
    ratio = achieved / raw
    if foreign_load():
        print("WARNING: other servers/tests ran during this benchmark: figures unreliable", flush=True)
    print(f"summary: {n} subscribers, {report['calls']} batch calls in {report['elapsed']:.1f} s "
          f"({achieved:.0f} calls/s = {ratio:.2f} x the fake's raw {raw:.0f}/s); "
          f"{per_100k:.1f} s per 100k (target < 60 s: {'met' if per_100k < 60 else 'MISSED'}); "
          f"live push p95 {report['base_p95']:.0f} ms before, {report['live_p95']:.0f} ms during; "
          f"server RSS {report['rss_before_mb']:.0f} -> peak {report['rss_peak_mb']:.0f} MiB", flush=True)
    print(f"RESULT seconds_per_100k={per_100k:.1f} ratio_vs_raw={ratio:.2f} rss_mb={report['rss_peak_mb']:.0f} "
          f"live_p95_ms={report['live_p95']:.0f} subscribers={n} raw_calls_per_s={raw:.0f} "
          f"rss_growth_mb={report['rss_peak_mb'] - report['rss_before_mb']:.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
