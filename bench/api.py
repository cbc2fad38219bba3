#!/usr/bin/env python
"""Public API benchmark: summary.json and badge.svg against Reflex's own /ping, side by side.

    .venv/bin/python bench/api.py [--seconds 10] [--rounds 2] [--connections 32] [--no-browser]

Starts the real app (`reflex run --env prod`, tests/support/appserver.py, 1 worker, a throw-away
SQLite database), creates a page of 50 services (5 groups of 8 + 10 alone) with 20 incidents
(3 active, each incident with 3 updates) through the domain operations, and a page of 1,000
services in another organization, waits for the server to settle, then:

1. Throughput: a load generator in a SECOND PROCESS hits each URL for `--seconds`, in turns
   (/ping, summary.json, badge.svg, repeated `--rounds` times), on loopback, keep-alive.
   It is `wrk` when installed (Debian: `apt-get install wrk`), else a small asyncio generator in
   this file (`--loadgen`, also forced with `--python-loadgen`); the generator used is printed.
   Ratios are of the mean requests/s over the rounds.
2. After a change: a service status is changed through the REST API (so through the server,
   whose hub then drops the page's cached documents), and 50 concurrent requests for
   summary.json are fired at once: they share one rebuild. Their latencies are reported next to
   the same burst on a warm cache. The rebuild itself (load + summary.json for 50 services and
   20 incidents) is timed in process on the same database: `rebuild_ms` (median of 20).
3. A page of 1,000 services (40 groups): Chromium opens it in a fresh context; time from the
   navigation until the overall status is shown, on the first (cold) and a second visit.

The last line printed is machine-readable:
    RESULT summary_ratio_vs_ping=<x> badge_ratio_vs_ping=<x> ping_rps=<n> summary_rps=<n>
           badge_rps=<n> rebuild_ms=<n> cold_burst_max_ms=<n> warm_burst_max_ms=<n> big_page_ms=<n>
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
SLUG = "bench"
BIG_SLUG = "big"
SETTLE_SECONDS = 6


# ---- the load generator (a second process) ------------------------------------------------------
async def _loadgen(url: str, seconds: float, connections: int) -> tuple[int, int]:
    """HTTP/1.1 keep-alive GETs of `url` on `connections` sockets for `seconds`: (ok, errors)."""
    parts = httpx.URL(url)
    request = (f"GET {parts.raw_path.decode()} HTTP/1.1\r\nHost: {parts.host}:{parts.port}\r\n"
               "Accept-Encoding: identity\r\n\r\n").encode()
    deadline = time.monotonic() + seconds
    ok = errors = 0

    async def worker():
        nonlocal ok, errors
        reader, writer = await asyncio.open_connection(parts.host, parts.port)
        try:
            while time.monotonic() < deadline:
                writer.write(request)
                status = await reader.readline()
                length = 0
                while True:
                    line = await reader.readline()
                    if line in (b"\r\n", b""):
                        break
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value.strip())
                await reader.readexactly(length)
                if status.split(b" ", 2)[1] == b"200":
                    ok += 1
                else:
                    errors += 1
        finally:
            writer.close()

    await asyncio.gather(*[worker() for _ in range(connections)])
    return ok, errors


def measure_rps(url: str, seconds: float, connections: int, use_wrk: bool) -> float:
    if use_wrk:
        out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", url], capture_output=True,
                             text=True, timeout=seconds + 60, check=True).stdout
        non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        if non2xx:
            raise RuntimeError(f"{url}: {non2xx.group(1)} error responses\n{out}")
        return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    out = subprocess.run([sys.executable, __file__, "--loadgen", url, "--seconds", str(seconds),
                          "--connections", str(connections)], capture_output=True, text=True,
                         timeout=seconds + 60, check=True).stdout
    ok, errors = map(int, out.split())
    if errors:
        raise RuntimeError(f"{url}: {errors} error responses")
    return ok / seconds


# ---- data ---------------------------------------------------------------------------------------
def build_pages(database_url: str) -> tuple[str, int]:
    """The 50-service page with 20 incidents, the 1,000-service page; returns (API key, a service id)."""
    from statusapp.domain import Actor, incidents, organizations, pages, services
    from statusapp.domain.apikeys import create_api_key
    from statusapp.settings import get_settings

    get_settings().database_url = database_url
    actor = Actor(1)
    ids = []
    for g in range(5):
        group = services.create_group(actor=actor, name=f"Region {g}")
        ids += [services.create_service(actor=actor, name=f"Service {g}-{i}", slug=f"s-{g}-{i}", group_id=group.id,
                                        description=f"Component {i} of region {g}").id for i in range(8)]
    ids += [services.create_service(actor=actor, name=f"Standalone {i}", slug=f"alone-{i}").id for i in range(10)]
    pages.create_page(actor=actor, name="Bench", slug=SLUG, service_ids=ids)
    for n in range(20):
        affected = {ids[(n * 3 + k) % len(ids)]: "partial_outage" for k in range(3)}
        inc = incidents.create_incident(actor=actor, title=f"Incident {n}: errors on <api>", impact="minor",
                                        message="Investigating elevated errors.", services=affected)
        incidents.post_update(actor=actor, incident_id=inc.id, status="identified", message="Cause found.")
        if n >= 3:
            incidents.resolve_incident(actor=actor, incident_id=inc.id, message="Resolved.")
        else:
            incidents.post_update(actor=actor, incident_id=inc.id, status="monitoring", message="Watching.")
    # The big page belongs to another organization: a change on the 50-service page rebuilds the
    # live views of its own organization only.
    other = Actor(organizations.create_organization(name="Big Co").id)
    big = []
    for g in range(40):
        group = services.create_group(actor=other, name=f"Cluster {g}")
        big += [services.create_service(actor=other, name=f"Node {g}-{i}", slug=f"node-{g}-{i}", group_id=group.id).id
                for i in range(25)]
    pages.create_page(actor=other, name="Big", slug=BIG_SLUG, service_ids=big)
    return create_api_key(actor=actor, name="bench").token, ids[-1]


def rebuild_ms() -> float:
    """Load + summary.json of the 50-service page, in process (median of 20)."""
    from statusapp.api.v2 import build_document
    from statusapp.queries.statuspage import load_statuspage

    times = []
    for _ in range(20):
        t0 = time.perf_counter()
        data = load_statuspage(SLUG, None)
        build_document("summary.json", data)
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def single_flight_loads() -> int:
    from statusapp.api.cache import PageDocuments

    cache = PageDocuments()

    async def burst():
        await asyncio.gather(*[cache.get(SLUG) for _ in range(50)])

    asyncio.run(burst())
    return cache.loads


async def burst(url: str, n: int = 50) -> list[float]:
    async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=n)) as client:
        await client.get(url.replace("/api/v2/summary.json", "/api/v2/status.json"))  # open connections

        async def one() -> float:
            t0 = time.perf_counter()
            r = await client.get(url)
            r.raise_for_status()
            return (time.perf_counter() - t0) * 1000

        return await asyncio.gather(*[one() for _ in range(n)])


def big_page_ms(base: str) -> tuple[float, float]:
    from playwright.sync_api import sync_playwright

    times = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for _ in range(2):
            ctx = browser.new_context()
            page = ctx.new_page()
            t0 = time.perf_counter()
            page.goto(f"{base}/status/{BIG_SLUG}", wait_until="commit")
            page.wait_for_function("document.querySelector('#overall-status')?.textContent?.length > 0", timeout=60_000)
            times.append((time.perf_counter() - t0) * 1000)
            assert page.locator(".service").count() == 1000
            ctx.close()
        browser.close()
    return times[0], times[1]


def other_load() -> list[str]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        with contextlib.suppress(OSError):
            cmd = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            if any(k in cmd for k in ("pytest", "bench/live.py", "chromium --type=renderer")):
                found.append(cmd[:80])
    return found


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--python-loadgen", action="store_true", help="use the asyncio generator even if wrk is installed")
    ap.add_argument("--no-browser", action="store_true")
    ap.add_argument("--loadgen", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.loadgen:
        ok, errors = asyncio.run(_loadgen(args.loadgen, args.seconds, args.connections))
        print(ok, errors)
        return 0

    from tests.support.appserver import AppServer

    use_wrk = bool(shutil.which("wrk")) and not args.python_loadgen
    print(f"load generator: {'wrk -t1' if use_wrk else 'python asyncio (bench/api.py --loadgen)'}, "
          f"{args.connections} connections, {args.seconds:g} s per run, {args.rounds} rounds")
    if other_load():
        print("WARNING: other tests/benchmarks are running: figures unreliable")
    with tempfile.TemporaryDirectory(prefix="bench-api-") as tmp:
        data_dir = Path(tmp)
        server = AppServer(database_url=f"sqlite:///{data_dir / 'bench.db'}", data_dir=data_dir, demo=False)
        server.start()
        try:
            t0 = time.perf_counter()
            token, service_id = build_pages(server.database_url)
            print(f"data: 50 + 1,000 services, 20 incidents created in {time.perf_counter() - t0:.0f} s")
            time.sleep(SETTLE_SECONDS)  # the server's outbox watcher pushes what this process wrote
            base = server.url
            urls = {"ping": f"{base}/ping", "summary": f"{base}/status/{SLUG}/api/v2/summary.json",
                    "badge": f"{base}/status/{SLUG}/badge.svg"}
            size = len(httpx.get(urls["summary"], timeout=10).content)
            print(f"summary.json: {size / 1024:.0f} KiB")
            for url in urls.values():  # warm every cache
                httpx.get(url, timeout=10).raise_for_status()
            rps: dict[str, list[float]] = {k: [] for k in urls}
            for r in range(args.rounds):
                for name, url in urls.items():
                    rps[name].append(measure_rps(url, args.seconds, args.connections, use_wrk))
                    print(f"  round {r + 1} {name:8s} {rps[name][-1]:8.0f} req/s")
            mean = {k: statistics.mean(v) for k, v in rps.items()}
            ratio_summary, ratio_badge = mean["summary"] / mean["ping"], mean["badge"] / mean["ping"]
            print(f"mean req/s: ping {mean['ping']:.0f}, summary.json {mean['summary']:.0f} ({ratio_summary:.2f}x), "
                  f"badge.svg {mean['badge']:.0f} ({ratio_badge:.2f}x)")

            warm = asyncio.run(burst(urls["summary"]))
            cold_runs = []
            for status in ("major_outage", "operational", "degraded_performance", "operational"):
                httpx.put(f"{base}/api/v1/services/{service_id}/status", json={"status": status},
                          headers={"Authorization": f"Bearer {token}"}, timeout=10).raise_for_status()
                time.sleep(0.3)  # the hub's push has dropped the cached documents by now
                cold_runs.append(asyncio.run(burst(urls["summary"])))
                seen = httpx.get(urls["summary"], timeout=10).json()
                shown = next(c["status"] for c in seen["components"] if c["id"] == str(service_id))
                assert shown == status, (shown, status)
            cold_max = statistics.median(max(run) for run in cold_runs)
            print(f"50 concurrent summary.json: warm max {max(warm):.1f} ms (p50 {statistics.median(warm):.1f}); "
                  f"right after a change max {cold_max:.1f} ms (median of {len(cold_runs)} bursts)")
            from statusapp.settings import get_settings

            get_settings().database_url = server.database_url
            rebuild = rebuild_ms()
            loads = single_flight_loads()
            print(f"rebuild (load + summary.json, 50 services, 20 incidents): {rebuild:.1f} ms median; "
                  f"50 concurrent cold requests made {loads} load(s)")

            big_cold = big_warm = float("nan")
            if not args.no_browser and Path(CHROMIUM).exists():
                big_cold, big_warm = big_page_ms(base)
                print(f"1,000-service page, overall status shown in Chromium: {big_cold:.0f} ms (first visit), "
                      f"{big_warm:.0f} ms (second)")
        finally:
            server.stop()
    if other_load():
        print("WARNING: other tests/benchmarks ran during the benchmark: figures unreliable")
    print(f"RESULT summary_ratio_vs_ping={ratio_summary:.2f} badge_ratio_vs_ping={ratio_badge:.2f} "
          f"ping_rps={mean['ping']:.0f} summary_rps={mean['summary']:.0f} badge_rps={mean['badge']:.0f} "
          f"rebuild_ms={rebuild:.1f} cold_burst_max_ms={cold_max:.0f} warm_burst_max_ms={max(warm):.0f} "
          f"big_page_ms={big_cold:.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
