#!/usr/bin/env python
"""Live-page benchmark: how fast a committed change reaches N open public pages.

    .venv/bin/python bench/live.py [--visitors N] [--quick] [--no-redis] [--no-browser] [--services N]

Starts the real app (`statusapp serve`, tests/support/appserver.py) on a throw-away
SQLite database, opens N simulated visitors of /status/demo plus one real Chromium tab, then
commits changes THROUGH THE SERVER (an admin's websocket calls
DashboardAdmin.set_manual_status, exactly as the dashboard's select does) and records when
each visitor receives the pushed view. See docs/BENCHMARKS.md for figures and method.

A simulated visitor is what a browser tab is on the wire: one websocket to /_event
(Engine.IO 4 / Socket.IO 5, namespace /_event, query token=<uuid>), whose CONNECT packet
carries the hydrate event (`hydrate_and_load` with the page's router_data, the compiled
initial-state hashes and state schema, as .web/utils/state.js sends them). The server then
runs the page's on_load (PublicPageState.load), which joins the socket to the page's room.
The client is a minimal Engine.IO/Socket.IO speaker on aiohttp, so each message is
timestamped as soon as its frame is read, before any JSON decoding.

Latency of a change = time a visitor receives the delta showing it - t0, where t0 is taken
just before the admin's event is sent, so it includes the admin's round trip into the
server, the commit and the rebuild of the view: conservative (the commit time itself is not
observable from outside).

The server's Python processes get bench/servergc/ on their PYTHONPATH: its sitecustomize logs
every full (generation-2) garbage collection, which stalls the event loop while it runs, so each
change's line says whether one landed inside it. `--server-gc-threshold A,B,C` runs the server with
gc.set_threshold(A, B, C) to try a collector setting without touching the app; `--profile DIR`
samples the server with py-spy around each change.

`--services N` makes the demo page a page of N services with 90 days of synthetic status history
(bench/uptime_data.py), so every service shows its uptime bars: the finished days go to each
visitor once (on load), each push carries today's bars and the percentages. Bytes per push = the
length of the message a visitor receives for a change (and per load, the one that makes it live).

The last line printed is machine-readable:
    RESULT visitors=<N> p95_ms=<n> join_ms=<n> redis_p95_ms=<n> kb_per_visitor=<n> [push_bytes=<n> load_bytes=<n>]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import re
import resource
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
import httpx  # noqa: E402

from tests.support.appserver import ADMIN_EMAIL, ADMIN_PASSWORD, AppServer  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]
PAGE_PATH = "/status/demo"
NAMESPACE = "/_event"
CONNECT_CONCURRENCY = 100  # visitors connecting at once during the ramp
LIVE_TIMEOUT_S = 60.0  # a visitor that is not live by then counts as failed
DELIVERY_DEADLINE_S = 5.0  # "did not receive it within 5 s"
ROUND_WAIT_S = 10.0  # how long a round waits for stragglers (they are reported as late)
JOIN_PROBES = 20
TEXT_MAJOR = "Major System Outage"
TEXT_OK = "All Systems Operational"


def names() -> dict[str, str]:
    """Full Reflex names the wire protocol uses (importing state classes does not build the app)."""
    from reflex_base import constants

    from statusapp.live.protocol import field_key
    from statusapp.ui.admin.dashboard import DashboardAdmin
    from statusapp.ui.public import PAGE_TARGET

    root = PAGE_TARGET.state_name.split(".")[0]
    return {
        "public": PAGE_TARGET.state_name,
        "view": field_key(PAGE_TARGET.var_name),
        "hydrate": root + ".hydrate_and_load",
        "set_status": DashboardAdmin.get_full_name() + ".set_manual_status",
        "version": constants.Reflex.VERSION,
        "auth_event": constants.CompileVars.CONNECT_AUTH_EVENT,
        "auth_schema": constants.CompileVars.CONNECT_AUTH_STATE_SCHEMA,
    }


def compiled_hydrate_extras(server: AppServer) -> tuple[list[str] | None, str | None]:
    """The initial-state hashes and state schema a browser sends on its first connect, from the
    frontend the server compiled (in its private copy of the app when AppServer makes one)."""
    candidates = [server.data_dir / "app" / ".web", ROOT / ".web"]
    ctx = next((d / "utils" / "context.jsx" for d in candidates if (d / "utils" / "context.jsx").exists()), None)
    if ctx is None:
        return None, None
    text = ctx.read_text()
    hashes = re.search(r"export const initialStateHashes = (\[.*?\])", text)
    schema = re.search(r'export const stateSchema = "([0-9a-f]+)"', text)
    return (json.loads(hashes.group(1)) if hashes else None), (schema.group(1) if schema else None)


# ---- server process measurements (/proc, no psutil) ---------------------------------------------
def process_tree(root_pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat.rpartition(")")[2].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [root_pid]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


def rss_kb(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
    return total


def cpu_seconds(pids: list[int]) -> float:
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            with open(f"/proc/{pid}/stat") as f:
                fields_ = f.read().rpartition(")")[2].split()
            total += int(fields_[11]) + int(fields_[12])  # utime, stime
    return total / tick


def connections_per_process(pids: list[int], port: int) -> dict[int, int]:
    """Established TCP connections to `port` held by each process (which worker got which visitors)."""
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            with open(table) as f:
                next(f)
                for line in f:
                    cols = line.split()
                    if int(cols[1].rsplit(":", 1)[1], 16) == port and cols[3] == "01":
                        inodes.add(cols[9])
    out = {}
    for pid in pids:
        n = 0
        with contextlib.suppress(OSError):
            for fd in os.listdir(f"/proc/{pid}/fd"):
                with contextlib.suppress(OSError):
                    link = os.readlink(f"/proc/{pid}/fd/{fd}")
                    n += link.startswith("socket:[") and link[8:-1] in inodes
        if n:
            out[pid] = n
    return out


def foreign_load() -> list[str]:
    """Other app servers, test runs or browsers on this machine (not started by this benchmark):
    they share the 2 cores, and a concurrent `reflex run` / `statusapp serve` in the same directory
    rebuilds the shared .web (with its own port baked in) under our server's feet."""
    ours = set(process_tree(os.getpid()))
    pid = os.getppid()
    while pid > 1:  # and our parents (`timeout ... bench/live.py`)
        ours.add(pid)
        try:
            with open(f"/proc/{pid}/stat") as f:
                pid = int(f.read().rpartition(")")[2].split()[1])
        except OSError:
            break
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) in ours:
            continue
        with contextlib.suppress(OSError):
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
            if any(k in cmd for k in ("reflex run", "statusapp serve", "pytest", "bench/live.py",
                                      "bench/faults.py", "chromium --type=renderer")):
                found.append(f"{entry}: {cmd[:90]}")
    return found


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    k = max(0, min(len(s) - 1, round(q / 100 * (len(s) - 1))))
    return s[k]


def client_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


# ---- the wire client ----------------------------------------------------------------------------
@dataclass
class Round:
    idx: int
    status: str
    needle: str  # substring of the pushed delta that shows the change
    t0: float = 0.0  # time.monotonic() just before the admin's event is sent
    t0_wall: float = 0.0  # time.time() at the same moment (for Chromium's Date.now())
    received: int = 0
    expected: int = 0
    done: asyncio.Event = field(default_factory=asyncio.Event)


class Socket:
    """One Reflex websocket: Engine.IO 4 over a websocket, Socket.IO namespace /_event."""

    def __init__(self, bench: "Bench", path: str, *, headers: dict[str, str] | None = None):
        self.bench = bench
        self.path = path
        self.headers = headers or {}
        self.token = str(uuid.uuid4())
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.ready = asyncio.Event()
        self.error = ""
        self.t_start = 0.0
        self.t_live = 0.0
        self.closed = False
        self.task: asyncio.Task | None = None

    def connect_packet(self) -> str:
        n = self.bench.names
        router = {"pathname": self.path, "asPath": self.path}
        parts = self.path.strip("/").split("/")
        if len(parts) == 2 and parts[0] == "status":
            router["query"] = {"slug": parts[1]}
        payload = {"hashes": self.bench.hashes} if self.bench.hashes else {}
        event = {"name": n["hydrate"], "payload": payload, "router_data": router}
        auth = {n["auth_event"]: event}
        if self.bench.schema:
            auth[n["auth_schema"]] = self.bench.schema
        return f"40{NAMESPACE}," + json.dumps(auth, separators=(",", ":"))

    def start(self) -> asyncio.Task:
        self.task = asyncio.create_task(self.run())
        return self.task

    async def run(self) -> None:
        self.t_start = time.monotonic()
        try:
            self.ws = await self.bench.session.ws_connect(
                self.bench.ws_url + self.token, protocols=(self.bench.names["version"],), headers=self.headers,
                autoping=True, max_msg_size=0, timeout=aiohttp.ClientWSTimeout(ws_receive=None, ws_close=5),
            )
            opened = await asyncio.wait_for(self.ws.receive(), 30)
            if opened.type != aiohttp.WSMsgType.TEXT or not opened.data.startswith("0"):
                raise RuntimeError(f"no Engine.IO open packet: {opened!r:.200}")
            await self.ws.send_str(self.connect_packet())
            async for msg in self.ws:
                t = time.monotonic()
                if msg.type != aiohttp.WSMsgType.TEXT:
                    break
                data = msg.data
                if data == "2":
                    await self.ws.send_str("3")
                elif data.startswith("42"):
                    self.on_event(t, data)
                elif data.startswith("44"):
                    raise RuntimeError(f"connect refused: {data[:200]}")
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - any failure is reported as this visitor's error
            self.error = self.error or f"{type(exc).__name__}: {exc}"[:300]
        finally:
            self.closed = True
            self.ready.set()

    def on_event(self, t: float, data: str) -> None:  # overridden
        pass

    async def emit(self, name: str, payload: dict) -> None:
        event = {"name": name, "payload": payload, "router_data": {"pathname": self.path, "asPath": self.path}}
        await self.ws.send_str(f"42{NAMESPACE}," + json.dumps(["event", event], separators=(",", ":")))

    async def close(self) -> None:
        if self.ws is not None and not self.ws.closed:
            with contextlib.suppress(Exception):
                await self.ws.send_str(f"41{NAMESPACE},")
                await self.ws.close()
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(BaseException):
                await self.task


def delta_of(data: str) -> dict:
    return json.loads(data[data.index(",") + 1:])[1].get("delta") or {}


class Visitor(Socket):
    def __init__(self, bench: "Bench"):
        super().__init__(bench, PAGE_PATH)
        self.view: dict | None = None
        self.got: dict[int, tuple[float, str]] = {}  # round -> (arrival, raw message)
        self.load_bytes = 0  # length of the message that made it live (view + finished days)

    def on_event(self, t: float, data: str) -> None:
        r = self.bench.round
        if r is not None and r.idx not in self.got and r.needle in data:
            self.got[r.idx] = (t, data)
            r.received += 1
            if r.received >= r.expected:
                r.done.set()
            return
        if self.t_live:
            return
        view = delta_of(data).get(self.bench.names["public"], {}).get(self.bench.names["view"])
        if view and view.get("found"):
            self.view = view
            self.load_bytes = len(data.encode())
            self.t_live = t
            self.ready.set()

    @property
    def join_ms(self) -> float:
        return (self.t_live - self.t_start) * 1000


class Admin(Socket):
    def __init__(self, bench: "Bench", cookie: str):
        super().__init__(bench, "/admin", headers={"Cookie": cookie, "Origin": bench.url})
        self.messages: list[str] = []

    def on_event(self, t: float, data: str) -> None:
        self.messages.append(data)
        if not self.ready.is_set() and '"services_rx_state_"' in data:
            self.ready.set()


# ---- one benchmark run against one server ---------------------------------------------------------
class Bench:
    def __init__(self, server: AppServer, names_: dict[str, str], *, browser_wanted: bool, label: str):
        self.server = server
        self.url = server.url
        self.ws_url = server.url.replace("http://", "ws://") + "/_event/?EIO=4&transport=websocket&token="
        self.names = names_
        self.hashes, self.schema = compiled_hydrate_extras(server)
        self.browser_wanted = browser_wanted
        self.label = label
        self.session: aiohttp.ClientSession | None = None
        self.round: Round | None = None
        self.visitors: list[Visitor] = []
        self.page = None  # Playwright page
        self.report: dict = {"label": label}
        self.profile_dir: str | None = None
        self.gc_log = str(server.data_dir / "gc.log")

    def log(self, msg: str) -> None:
        print(f"[{self.label}] {msg}", flush=True)

    async def connect_one(self, sem: asyncio.Semaphore | None = None) -> Visitor:
        v = Visitor(self)
        async with sem or contextlib.nullcontext():
            v.start()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(v.ready.wait(), LIVE_TIMEOUT_S)
            if not v.t_live and not v.error:
                v.error = f"not live after {LIVE_TIMEOUT_S:.0f} s"
        return v

    async def ramp(self, n: int) -> list[Visitor]:
        sem = asyncio.Semaphore(CONNECT_CONCURRENCY)
        t = time.monotonic()
        out = await asyncio.gather(*(self.connect_one(sem) for _ in range(n)))
        elapsed = time.monotonic() - t
        live = [v for v in out if v.t_live]
        failed = [v for v in out if not v.t_live]
        joins = [v.join_ms for v in live]
        self.log(f"{len(live)}/{n} visitors live in {elapsed:.1f} s ({len(live) / elapsed:.0f}/s, "
                 f"{CONNECT_CONCURRENCY} connecting at once); connect->live under ramp p50 {pct(joins, 50):.0f} ms, "
                 f"p95 {pct(joins, 95):.0f} ms")
        if failed:
            errors: dict[str, int] = {}
            for v in failed:
                errors[v.error] = errors.get(v.error, 0) + 1
            self.log(f"{len(failed)} visitors failed: {errors}")
        self.report.update(ramp_s=elapsed, ramp_failed=len(failed), ramp_join_p50=pct(joins, 50),
                           ramp_join_p95=pct(joins, 95))
        return out

    async def admin_socket(self) -> Admin:
        async with httpx.AsyncClient(base_url=self.url, follow_redirects=False) as http:
            r = await http.post("/auth/login", data={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD},
                                headers={"Origin": self.url})
        token = r.cookies.get("statusapp_session")
        if r.status_code != 303 or not token:
            raise RuntimeError(f"admin login failed: {r.status_code} {r.text[:200]}")
        admin = Admin(self, f"statusapp_session={token}")
        admin.start()
        await asyncio.wait_for(admin.ready.wait(), 30)
        if admin.error:
            raise RuntimeError(f"admin socket: {admin.error}")
        return admin

    async def open_browser(self, pw):
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = await (await browser.new_context()).new_page()
        await page.goto(self.url + PAGE_PATH)
        await page.wait_for_selector(f"#overall-status:has-text('{TEXT_OK}')", timeout=30_000)
        await page.evaluate("window.__not_reloaded = true")
        self.page = page
        return browser

    async def watch_browser(self, text: str) -> None:
        """Record (Date.now()) when the banner first shows `text`, from a MutationObserver."""
        await self.page.evaluate("""(text) => {
            window.__seen = null;
            const check = () => {
                const el = document.querySelector('#overall-status');
                if (window.__seen === null && el && el.textContent === text) window.__seen = Date.now();
            };
            if (window.__obs) window.__obs.disconnect();
            window.__obs = new MutationObserver(check);
            window.__obs.observe(document.body, {subtree: true, childList: true, characterData: true});
            check();
        }""", text)

    async def rounds(self, admin: Admin, service_id: int, count: int) -> None:
        live = [v for v in self.visitors if v.t_live and not v.closed]
        pids = process_tree(self.server.proc.pid)
        lat: list[float] = []
        late = missing = 0
        browser_ms: list[float] = []
        server_cpu: list[float] = []
        client_cpu_s: list[float] = []
        gc_ms: list[float] = []
        push_bytes: list[int] = []
        spreads: list[float] = []
        round_p95: list[float] = []
        for i in range(count):
            status = "major_outage" if i % 2 == 0 else "operational"
            text = TEXT_MAJOR if status == "major_outage" else TEXT_OK
            r = Round(i, status, f'"status_text":"{text}"', expected=len(live))
            if self.page is not None:
                await self.watch_browser(text)
            profilers = await self.start_profilers(pids, i)
            cpu_s, cpu_c = cpu_seconds(pids), client_cpu()
            self.round = r
            r.t0, r.t0_wall = time.monotonic(), time.time()
            await admin.emit(self.names["set_status"], {"service_id": service_id, "status": status})
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(r.done.wait(), ROUND_WAIT_S)
            got_all = time.monotonic() - r.t0
            self.round = None
            b_ms = None
            if self.page is not None:
                with contextlib.suppress(Exception):
                    await self.page.wait_for_function("window.__seen !== null", timeout=ROUND_WAIT_S * 1000)
                seen = await self.page.evaluate("window.__seen")
                if seen is not None:
                    b_ms = seen - r.t0_wall * 1000
                    browser_ms.append(b_ms)
            server_cpu.append(cpu_seconds(pids) - cpu_s)
            client_cpu_s.append(client_cpu() - cpu_c)
            for proc in profilers:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(proc.wait(), 30)
            # Check, outside the timed path, that what matched really shows the change.
            r_lat = []
            for v in live:
                hit = v.got.get(i)
                if hit is None:
                    missing += 1
                    continue
                view = delta_of(hit[1])[self.names["public"]][self.names["view"]]
                svc = [s for g in view["groups"] for s in g["services"] if s["id"] == service_id]
                assert svc and svc[0]["status"] == status, f"matched a delta without the change: {svc}"
                ms = (hit[0] - r.t0) * 1000
                r_lat.append(ms)
                push_bytes.append(len(hit[1].encode()))
                late += ms > DELIVERY_DEADLINE_S * 1000
            lat.extend(r_lat)
            pauses = self.gc_pauses(r.t0_wall, r.t0_wall + got_all)
            gc_ms.append(sum(pauses))
            spreads.append(max(r_lat, default=0) - min(r_lat, default=0))
            round_p95.append(pct(r_lat, 95))
            self.log(f"change {i + 1}/{count} ({status}): {len(r_lat)}/{len(live)} visitors got it, "
                     f"first {min(r_lat, default=0):.0f} ms, p50 {pct(r_lat, 50):.0f} ms, p95 {pct(r_lat, 95):.0f} ms, "
                     f"max {max(r_lat, default=0):.0f} ms; "
                     f"last after {got_all * 1000:.0f} ms; Chromium "
                     + (f"{b_ms:.0f} ms" if b_ms is not None else "n/a" if self.page is None else "NOT SEEN")
                     + f"; server CPU {server_cpu[-1] * 1000:.0f} ms, bench CPU {client_cpu_s[-1] * 1000:.0f} ms"
                     + (f"; server full GC during it: {' + '.join(f'{x:.0f}' for x in pauses)} ms" if pauses else ""))
            await asyncio.sleep(1.0)
        admin_errors = [m for m in admin.messages if "rror" in m and "errors_rx_state_" not in m]
        if admin_errors:
            self.log(f"the admin socket received {len(admin_errors)} error message(s), first: {admin_errors[0][:300]}")
        not_reloaded = None
        if self.page is not None:
            not_reloaded = await self.page.evaluate("window.__not_reloaded === true")
        within_1s = sum(ms <= 1000 for ms in lat)
        self.report.update(
            visitors=len(live), changes=count, p50=pct(lat, 50), p95=pct(lat, 95), max=max(lat, default=float("nan")),
            late=late, missing=missing, within_1s=within_1s, deliveries=len(lat),
            browser_ms=browser_ms, browser_not_reloaded=not_reloaded,
            server_cpu_ms=statistics.mean(server_cpu) * 1000, client_cpu_ms=statistics.mean(client_cpu_s) * 1000,
            admin_errors=len(admin_errors), gc_ms_per_change=gc_ms, spread_ms=statistics.mean(spreads),
            round_p95=round_p95, push_bytes=statistics.median(push_bytes) if push_bytes else 0,
            load_bytes=statistics.median([v.load_bytes for v in live]) if live else 0,
        )

    def gc_pauses(self, start: float, end: float) -> list[float]:
        """Full-collection pauses (ms) of any server process that overlap [start, end] (epoch)."""
        out = []
        with contextlib.suppress(OSError):
            for line in Path(self.gc_log).read_text().splitlines():
                _pid, began, took = line.split()
                if float(began) < end and float(began) + float(took) / 1000 > start:
                    out.append(float(took))
        return out

    async def start_profilers(self, pids: list[int], i: int) -> list:
        """With --profile DIR: py-spy samples every server process for 3 s around change i."""
        if not self.profile_dir:
            return []
        out = []
        for pid in pids:
            path = Path(self.profile_dir) / f"{self.label.replace(' ', '_')}-change{i + 1}-pid{pid}.txt"
            out.append(await asyncio.create_subprocess_exec(
                str(ROOT / ".venv" / "bin" / "py-spy"), "record", "-p", str(pid), "-r", "100", "-d", "3",
                "--native", "--format", "raw", "-o", str(path),
                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL))
        await asyncio.sleep(1.0)  # let py-spy attach
        return out

    async def join_probe(self) -> None:
        joins = []
        for _ in range(JOIN_PROBES):
            v = await self.connect_one()
            self.visitors.append(v)
            if v.t_live:
                joins.append(v.join_ms)
        self.log(f"join while {len(self.visitors) - JOIN_PROBES} are connected: {len(joins)}/{JOIN_PROBES} live, "
                 f"p50 {pct(joins, 50):.0f} ms, p95 {pct(joins, 95):.0f} ms, max {max(joins, default=0):.0f} ms")
        self.report.update(join_p50=pct(joins, 50), join_p95=pct(joins, 95), join_failed=JOIN_PROBES - len(joins))

    async def run(self, n: int, changes: int, *, measure_memory: bool) -> dict:
        connector = aiohttp.TCPConnector(limit=0, force_close=False)
        async with aiohttp.ClientSession(connector=connector) as self.session:
            pw_cm = browser = None
            try:
                if self.browser_wanted:
                    from playwright.async_api import async_playwright

                    pw_cm = async_playwright()
                    pw = await pw_cm.__aenter__()
                    browser = await self.open_browser(pw)
                    self.log("Chromium tab live on " + PAGE_PATH)
                admin = await self.admin_socket()
                warm = await self.connect_one()  # warm the server's code paths and the page cache
                if not warm.t_live:
                    raise RuntimeError(f"a single visitor could not go live: {warm.error}")
                view = warm.view
                if view["status_text"] != TEXT_OK:
                    raise RuntimeError(f"the demo page is not all-operational to start with: {view['status_text']}")
                service_id = view["groups"][0]["services"][0]["id"]
                self.visitors.append(warm)
                pids = process_tree(self.server.proc.pid)
                await asyncio.sleep(1.0)
                rss0 = rss_kb(pids)
                self.visitors += await self.ramp(n)
                await asyncio.sleep(2.0)
                pids = process_tree(self.server.proc.pid)
                rss1, conns = rss_kb(pids), connections_per_process(pids, self.server.port)
                live = sum(1 for v in self.visitors if v.t_live and not v.closed) - 1
                kb = (rss1 - rss0) / max(live, 1)
                self.log(f"server RSS {rss0 / 1024:.0f} MiB -> {rss1 / 1024:.0f} MiB with {live} more visitors: "
                         f"{kb:.1f} KiB per visitor" + ("" if measure_memory else " (state in Redis, not counted)"))
                self.log("websocket connections per server process (visitors, Chromium, admin): " + ", ".join(
                    f"pid {p}: {c}" for p, c in conns.items()))
                self.report.update(rss0_mib=rss0 / 1024, rss1_mib=rss1 / 1024, kb_per_visitor=kb,
                                   connections_per_process=list(conns.values()))
                # A full collection of this process's heap (2,000 sockets) takes ~0.3 s: never let one
                # delay the receive timestamps. Nothing allocated during the rounds needs collecting.
                gc.collect()
                gc.freeze()
                gc.disable()
                await asyncio.sleep(0.5)
                try:
                    await self.rounds(admin, service_id, changes)
                finally:
                    gc.enable()
                    gc.unfreeze()
                await self.join_probe()
                dropped = [v for v in self.visitors if v.t_live and v.closed]
                if dropped:
                    self.log(f"{len(dropped)} visitors were disconnected during the run: {dropped[0].error}")
                self.report["dropped"] = len(dropped)
                await admin.close()
            finally:
                await asyncio.gather(*(v.close() for v in self.visitors), return_exceptions=True)
                if browser is not None:
                    with contextlib.suppress(Exception):
                        await browser.close()
                if pw_cm is not None:
                    with contextlib.suppress(Exception):
                        await pw_cm.__aexit__(None, None, None)
        return self.report


def seed_page_with_bars(database_url: str, n_services: int) -> None:
    """Make the demo page a page of `n_services` services (the demo's plus new ones) whose status
    histories span the last 90 days (bench/uptime_data.py), all operational now. Services are
    made through the domain; their past is written straight into the history table."""
    import datetime as dt

    from sqlalchemy import text
    from sqlmodel import select

    from bench.uptime_data import synthetic_history
    from statusapp import db as app_db
    from statusapp.db import session_scope
    from statusapp.domain import Actor, pages, services
    from statusapp.models import StatusPage, StatusPageService
    from statusapp.settings import get_settings

    get_settings().database_url = database_url
    actor = Actor(1)
    with session_scope() as s:
        page = s.exec(select(StatusPage).where(StatusPage.slug == "demo")).one()
        ids = list(s.exec(select(StatusPageService.service_id).where(StatusPageService.page_id == page.id)
                          .order_by(StatusPageService.position)))
    for i in range(len(ids), n_services):
        ids.append(services.create_service(actor=actor, name=f"Service {i}", slug=f"bench-{i}").id)
    pages.update_page(actor=actor, page_id=page.id, service_ids=ids)
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    histories = synthetic_history(len(ids), 90, seed=11, end=now - dt.timedelta(minutes=5))
    with app_db.get_engine(database_url).begin() as conn:
        for i, sid in enumerate(ids):
            timeline = histories[i]
            if timeline[-1][1] != "operational":
                timeline.append((now - dt.timedelta(minutes=2), "operational"))
            conn.execute(text("DELETE FROM service_status_change WHERE service_id = :s"), {"s": sid})
            prev = None
            for at, status in timeline:
                conn.execute(text(
                    "INSERT INTO service_status_change (organization_id, service_id, service_name, from_status,"
                    " to_status, cause, changed_at) VALUES (1, :s, 'bench', :f, :t, 'monitor', :at)"),
                    {"s": sid, "f": prev, "t": status, "at": at.strftime("%Y-%m-%d %H:%M:%S.%f")})
                prev = status
            conn.execute(text("UPDATE service SET created_at = :c WHERE id = :s"),
                         {"c": timeline[0][0].strftime("%Y-%m-%d %H:%M:%S.%f"), "s": sid})
    app_db.get_engine(database_url).dispose()


def redis_used_memory(url: str) -> int | None:
    with contextlib.suppress(Exception):
        import redis

        return int(redis.Redis.from_url(url).info("memory")["used_memory"])
    return None


def run_server_bench(args, names_: dict, *, label: str, n: int, redis_url: str, workers: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="statusapp-bench-") as tmp:
        data = Path(tmp)
        server = AppServer(database_url=f"sqlite:///{data / 'bench.db'}", data_dir=data, redis_url=redis_url,
                           workers=workers,
                           # Every simulated visitor connects from 127.0.0.1: lift the per-address cap.
                           extra_env={"STATUSAPP_MAX_SOCKETS_PER_IP": "1000000"})
        # The server's Python processes log their full-GC pauses (bench/servergc/sitecustomize.py).
        saved = {k: os.environ.get(k) for k in ("PYTHONPATH", "BENCH_GC_LOG", "BENCH_GC_THRESHOLD")}
        os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "bench" / "servergc"), saved["PYTHONPATH"]]))
        os.environ["BENCH_GC_LOG"] = str(data / "gc.log")
        if args.server_gc_threshold:
            os.environ["BENCH_GC_THRESHOLD"] = args.server_gc_threshold
        others = foreign_load()
        if others:
            print(f"[{label}] WARNING: other servers/tests are running (figures unreliable; a concurrent "
                  f"server in the same directory also rebuilds the shared .web):\n    " + "\n    ".join(others[:5]), flush=True)
        t = time.monotonic()
        try:
            server.start()
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        print(f"[{label}] app started in {time.monotonic() - t:.1f} s at {server.url} "
              f"({workers} worker{'s' if workers > 1 else ''}{', REDIS_URL=' + redis_url if redis_url else ''})",
              flush=True)
        if args.services:
            seed_page_with_bars(server.database_url, args.services)
            print(f"[{label}] the demo page now has {args.services} services with 90 days of status history",
                  flush=True)
        try:
            bench = Bench(server, names_, browser_wanted=not args.no_browser, label=label)
            bench.profile_dir = args.profile
            r0 = redis_used_memory(redis_url) if redis_url else None
            report = asyncio.run(bench.run(n, args.changes, measure_memory=not redis_url))
            others = foreign_load()
            report["foreign_load"] = bool(others)
            if others:
                print(f"[{label}] WARNING: other servers/tests ran during this benchmark: figures unreliable",
                      flush=True)
            all_pauses = bench.gc_pauses(0, float("inf"))
            report["gc_pauses"] = len(all_pauses)
            report["gc_max_ms"] = max(all_pauses, default=0)
            print(f"[{label}] server full GCs over the whole run: {len(all_pauses)}, longest "
                  f"{max(all_pauses, default=0):.0f} ms", flush=True)
            r1 = redis_used_memory(redis_url) if redis_url else None
            if r0 is not None and r1 is not None:
                report["redis_kb_per_visitor"] = (r1 - r0) / 1024 / max(report.get("visitors", 1), 1)
                print(f"[{label}] Redis used_memory grew {(r1 - r0) / 2**20:.1f} MiB "
                      f"({report['redis_kb_per_visitor']:.1f} KiB per visitor)", flush=True)
            return report
        finally:
            server.stop()
            log = (data / "server.log").read_text(errors="replace")
            errors = [line for line in log.splitlines() if "Traceback" in line or " ERROR " in line or
                      line.startswith("ERROR")]
            if errors:
                print(f"[{label}] server log has {len(errors)} error line(s); last lines:\n" + log[-2500:], flush=True)


def summary(one: dict, multi: dict | None, n: int, services: int = 0) -> bool:
    """Print the summary; False if a change was not delivered (a failure, not a missed target)."""
    def line(r: dict, head: str) -> None:
        print(f"{head}: {r['visitors']} visitors x {r['changes']} changes = {r['deliveries']} deliveries; "
              f"p50 {r['p50']:.0f} ms, p95 {r['p95']:.0f} ms, max {r['max']:.0f} ms; "
              f"within 1 s {r['within_1s']}/{r['deliveries']}; later than 5 s {r['late']}, never {r['missing']}; "
              f"dropped {r['dropped']}")
        b = r["browser_ms"]
        if r["browser_not_reloaded"] is not None:
            print(f"    Chromium tab: change shown after {', '.join(f'{x:.0f}' for x in b) or 'NEVER'} ms; "
                  f"no reload: {r['browser_not_reloaded']}")
        print(f"    join (connect->live, {JOIN_PROBES} one at a time while connected): p50 {r['join_p50']:.0f} ms, "
              f"p95 {r['join_p95']:.0f} ms; during the ramp p95 {r['ramp_join_p95']:.0f} ms; "
              f"ramp {r['ramp_s']:.1f} s, {r['ramp_failed']} failed")
        print(f"    per change: p95 {', '.join(f'{x:.0f}' for x in r['round_p95'])} ms; fan-out spread "
              f"(last - first visitor) {r['spread_ms']:.0f} ms on average; server full-GC pause inside the "
              f"change {', '.join(f'{x:.0f}' for x in r['gc_ms_per_change'])} ms")
        print(f"    CPU per change: server {r['server_cpu_ms']:.0f} ms, bench client {r['client_cpu_ms']:.0f} ms; "
              f"server full GCs in the run: {r['gc_pauses']}, longest {r['gc_max_ms']:.0f} ms")
        print(f"    bytes per push (one visitor's message for a change): {r['push_bytes']:.0f}; "
              f"per load (the message that makes a visitor live): {r['load_bytes']:.0f}")

    print("\n==== summary ====")
    line(one, "1 worker")
    print(f"    memory: server RSS {one['rss0_mib']:.0f} -> {one['rss1_mib']:.0f} MiB, "
          f"{one['kb_per_visitor']:.1f} KiB per visitor")
    if multi:
        line(multi, "2 workers + Redis")
        print(f"    connections per worker process: {multi['connections_per_process']}")
    ok = (one["p95"] < 500 and one["within_1s"] == one["deliveries"] and one["join_p95"] < 500
          and one["late"] == 0 and one["missing"] == 0)
    if any(r.get("foreign_load") for r in filter(None, [one, multi])):
        print("WARNING: other servers/tests ran on this machine during the benchmark: figures unreliable")
    print(f"targets (p95 < 500 ms, all within 1 s, join < 500 ms, none missed): {'MET' if ok else 'MISSED'}")
    parts = [f"visitors={n}", f"p95_ms={round(one['p95'])}", f"join_ms={round(one['join_p95'])}"]
    if multi:
        parts.append(f"redis_p95_ms={round(multi['p95'])}")
    parts.append(f"kb_per_visitor={round(one['kb_per_visitor'])}")
    if services:
        parts += [f"push_bytes={round(one['push_bytes'])}", f"load_bytes={round(one['load_bytes'])}"]
    print("RESULT " + " ".join(parts))
    return all(r["late"] == 0 and r["missing"] == 0 and r["browser_not_reloaded"] is not False
               and (r["browser_not_reloaded"] is None or len(r["browser_ms"]) == r["changes"])
               for r in filter(None, [one, multi]))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--visitors", type=int, default=None, help="simulated visitors (default 2000; 500 with --quick)")
    ap.add_argument("--quick", action="store_true", help="500 visitors; well under 5 minutes")
    ap.add_argument("--no-redis", action="store_true", help="skip the 2-worker Redis run")
    ap.add_argument("--no-browser", action="store_true", help="no Chromium tab")
    ap.add_argument("--changes", type=int, default=3, help="changes committed per run (alternating outage/ok)")
    ap.add_argument("--profile", metavar="DIR", help="py-spy (pip install py-spy) each server process around "
                    "each change; collapsed stacks go to DIR (figures are then slower)")
    ap.add_argument("--server-gc-threshold", metavar="A,B,C",
                    help="run the server with gc.set_threshold(A, B, C) (an experiment; the app is unchanged)")
    ap.add_argument("--services", type=int, default=0,
                    help="make the demo page a page of N services with 90 days of history (uptime bars)")
    ap.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    ap.add_argument("--redis-visitors", type=int, default=None, help="visitors in the Redis run (default: same)")
    args = ap.parse_args()
    n = args.visitors or (500 if args.quick else 2000)
    n_redis = args.redis_visitors or n

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = max(soft, min(hard, 4 * n + 1024)) if hard != resource.RLIM_INFINITY else 4 * n + 1024
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))  # inherited by the server
    if resource.getrlimit(resource.RLIMIT_NOFILE)[0] < 2 * n + 256:
        print(f"open-files limit {resource.getrlimit(resource.RLIMIT_NOFILE)[0]} is too low for {n} visitors")
        return 2
    if not args.no_browser and not Path(CHROMIUM).exists():
        print(f"{CHROMIUM} not found: use --no-browser")
        return 2

    if args.profile:
        Path(args.profile).mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    names_ = names()
    one = run_server_bench(args, names_, label="1 worker", n=n, redis_url="", workers=1)
    multi = None
    if not args.no_redis:
        multi = run_server_bench(args, names_, label="2 workers+redis", n=n_redis, redis_url=args.redis_url, workers=2)
    print(f"total time {time.monotonic() - started:.0f} s")
    return 0 if summary(one, multi, n, args.services) else 1


if __name__ == "__main__":
    sys.exit(main())
