#!/usr/bin/env python
"""Fault benchmark: how long the app takes to serve again after a fault.

    .venv/bin/python bench/faults.py [--fault worker|database] [--quick] [--reps N] [--no-redis] [--outage-s S]

Each fault is one scenario in FAULTS (a function that starts its own servers, injects the
fault several times and returns its RESULT fields); `--fault` picks them (default: all).

worker: SIGKILL of one backend worker (what the OOM killer does) of the app started the way
`make run` starts it (`statusapp serve`, through tests/support/appserver.py, on a throw-away
SQLite database):
- 1 worker: time from the SIGKILL to the first 200 from /ping and from /status/demo, each
  polled on fresh connections every 10 ms by its own thread; the worker killed is always older
  than 6 s, so each kill is a plain respawn. Then once a worker crash loop: the replacement is
  killed again at once, Granian gives up (its 5.5 s rule) and `statusapp serve` starts it again
  after its back-off; time from the second kill to the first 200 from /status/demo.
- 2 workers + Redis: /ping polled every 20 ms on fresh connections while one worker is killed
  between two polls (a request in flight on the dying worker is lost whatever the server does);
  counts failed polls from the kill until 1 s after the replacement serves, and the time until
  the replacement serves (Granian logs "Started worker-N" once its lifespan start-up is done).

database: PostgreSQL cut off for a few seconds by a TCP proxy on loopback between the app and
the server (a throw-away database; the shared server is never touched), then restored: the time
from the restore to /readyz answering 200 and to the first admin change (the dashboard's manual
status handler over the admin's websocket, which stayed open through the outage) that is saved,
read back from the database directly. A change tried during the outage must not be saved.

The last line printed is machine-readable:
    RESULT worker_restart_s=<p50> worker_restart_max_s=<max> ping_restart_s=<p50>
           crashloop_restart_s=<s> redis_failed_requests=<n> redis_worker_replaced_s=<p50>
           db_admin_change_s=<p50> db_admin_change_max_s=<max> db_ready_s=<p50>
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for path in (ROOT, ROOT / "bench"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import httpx  # noqa: E402

from live import foreign_load  # noqa: E402  (bench/live.py)
from tests.support.appserver import AppServer  # noqa: E402

POLL_S = 0.01
GIVE_UP_S = 60.0  # a fault not recovered by then is reported as a failure
CRASH_LOOP_SAFE_AGE_S = 6.0  # Granian gives up if a respawned worker dies within 5.5 s


def log(label: str, msg: str) -> None:
    print(f"[{label}] {msg}", flush=True)


@contextlib.contextmanager
def app(label: str, *, workers: int = 1, redis_url: str = ""):
    with tempfile.TemporaryDirectory(prefix="statusapp-faults-") as tmp:
        data = Path(tmp)
        others = foreign_load()
        if others:
            log(label, "WARNING: other servers/tests are running (figures unreliable):\n    " + "\n    ".join(others[:5]))
        server = AppServer(database_url=f"sqlite:///{data / 'faults.db'}", data_dir=data, redis_url=redis_url,
                           workers=workers)
        started = time.monotonic()
        server.start()
        log(label, f"app started in {time.monotonic() - started:.1f} s at {server.url} ({workers} worker(s)"
                   f"{', REDIS_URL=' + redis_url if redis_url else ''})")
        try:
            yield server
        finally:
            server.stop()
            text = server.log_path.read_text(errors="replace")
            log(label, f"server log: {text.count('Unexpected exit from worker')} worker deaths, "
                       f"{text.count('statusapp serve: Granian stopped')} Granian restart(s) by statusapp serve")


# ---- /proc helpers ------------------------------------------------------------------------------
def age_s(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        start_ticks = int(f.read().rpartition(")")[2].split()[19])
    with open("/proc/uptime") as f:
        return float(f.read().split()[0]) - start_ticks / os.sysconf("SC_CLK_TCK")


def gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rpartition(")")[2].split()[0] in ("Z", "X")
    except OSError:
        return True


def kill(pid: int) -> float:
    """SIGKILL; returns the moment it was sent, once the process is dead (sockets released)."""
    t0 = time.monotonic()
    os.kill(pid, signal.SIGKILL)
    while not gone(pid) and time.monotonic() - t0 < 5:
        time.sleep(0.001)
    return t0


def log_size(server: AppServer) -> int:
    return server.log_path.stat().st_size


def replacement(server: AppServer, old: set[int], count: int, since: float, log_offset: int) -> tuple[int, float]:
    """The new worker once it serves (Granian logs "Started worker-N" after the worker's
    lifespan start-up, when it accepts requests), and the seconds from `since`."""
    while time.monotonic() - since < GIVE_UP_S:
        pids = server.worker_pids()
        new = pids - old
        if len(pids) == count and new:
            with open(server.log_path, "rb") as f:
                f.seek(log_offset)
                if b"Started worker-" in f.read():
                    return next(iter(new)), time.monotonic() - since
        time.sleep(POLL_S)
    raise RuntimeError(f"no replacement worker within {GIVE_UP_S:.0f} s; see {server.log_path}")


def first_ok(url: str, since: float, out: dict, key: str) -> None:
    """Polls `url` on fresh connections; out[key] = seconds from `since` to the first 200."""
    while time.monotonic() - since < GIVE_UP_S:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=1).status_code == 200:
                out[key] = time.monotonic() - since
                return
        time.sleep(POLL_S)


def time_to_serving(server: AppServer, victim: int, paths: tuple[str, ...]) -> dict[str, float]:
    out: dict[str, float] = {}
    t0 = kill(victim)
    threads = [threading.Thread(target=first_ok, args=(server.url + p, t0, out, p)) for p in paths]
    for t in threads:
        t.start()
    for t in threads:
        t.join(GIVE_UP_S + 5)
    missing = [p for p in paths if p not in out]
    if missing:
        raise RuntimeError(f"{missing} did not answer within {GIVE_UP_S:.0f} s; see {server.log_path}")
    return out


def oldest_worker(server: AppServer, count: int) -> int:
    """A worker old enough that killing it is a plain respawn (waits for one if needed)."""
    deadline = time.monotonic() + GIVE_UP_S
    while time.monotonic() < deadline:
        pids = server.worker_pids()
        if len(pids) == count:
            pid = max(pids, key=age_s)
            wait = CRASH_LOOP_SAFE_AGE_S - age_s(pid)
            if wait <= 0:
                return pid
            time.sleep(wait)
        else:
            time.sleep(0.1)
    raise RuntimeError(f"never had {count} workers; see {server.log_path}")


# ---- the worker fault ---------------------------------------------------------------------------
def worker_one(reps: int) -> dict:
    label = "worker, 1 worker"
    restart, ping = [], []
    with app(label) as server:
        for i in range(reps):
            victim = oldest_worker(server, 1)
            out = time_to_serving(server, victim, ("/ping", "/status/demo"))
            restart.append(max(out.values()))
            ping.append(out["/ping"])
            log(label, f"kill {i + 1}/{reps}: /ping {out['/ping']:.2f} s, /status/demo {out['/status/demo']:.2f} s")
        victim = oldest_worker(server, 1)
        offset = log_size(server)
        t0 = kill(victim)
        second, _ = replacement(server, {victim}, 1, t0, offset)
        out = time_to_serving(server, second, ("/status/demo",))  # within 5.5 s: Granian gives up
        crashloop = out["/status/demo"]
        log(label, f"crash loop (replacement killed {time.monotonic() - t0 - crashloop:.2f} s after the first kill): "
                   f"/status/demo again after {crashloop:.2f} s")
    return {"restart": restart, "ping": ping, "crashloop": crashloop}


def worker_two(reps: int, redis_url: str) -> dict:
    label = "worker, 2 workers+redis"
    failed, polls, replaced = 0, 0, []
    with app(label, workers=2, redis_url=redis_url) as server:
        for i in range(reps):
            victim = oldest_worker(server, 2)
            gate, stop = threading.Lock(), threading.Event()
            results: list[tuple[float, bool]] = []

            def poll() -> None:
                while not stop.is_set():
                    with gate:
                        try:
                            ok = httpx.get(server.url + "/ping", timeout=5).status_code == 200
                        except httpx.HTTPError:
                            ok = False
                        results.append((time.monotonic(), ok))
                    time.sleep(0.02)

            poller = threading.Thread(target=poll)
            poller.start()
            try:
                time.sleep(0.5)
                with gate:
                    offset = log_size(server)
                    t0 = kill(victim)
                _, took = replacement(server, {victim}, 2, t0, offset)
                time.sleep(1)
            finally:
                stop.set()
                poller.join(10)
            window = [ok for t, ok in results if t >= t0]
            failed += window.count(False)
            polls += len(window)
            replaced.append(took)
            log(label, f"kill {i + 1}/{reps}: replacement serving after {took:.2f} s; "
                       f"{window.count(False)} of {len(window)} polls failed")
    return {"failed": failed, "polls": polls, "replaced": replaced}


def fault_worker(args: argparse.Namespace) -> dict[str, object]:
    reps = args.reps or (5 if args.quick else 20)
    one = worker_one(reps)
    r = {
        "worker_restart_s": round(statistics.median(one["restart"]), 2),
        "worker_restart_max_s": round(max(one["restart"]), 2),
        "ping_restart_s": round(statistics.median(one["ping"]), 2),
        "crashloop_restart_s": round(one["crashloop"], 2),
    }
    print(f"\n== worker: 1 worker, {reps} kills: serving again (both /ping and /status/demo) after "
          f"p50 {r['worker_restart_s']} s, max {r['worker_restart_max_s']} s; /ping alone p50 "
          f"{r['ping_restart_s']} s; after a crash loop {r['crashloop_restart_s']} s", flush=True)
    if not args.no_redis:
        two = worker_two(reps, args.redis_url)
        r["redis_failed_requests"] = two["failed"]
        r["redis_worker_replaced_s"] = round(statistics.median(two["replaced"]), 2)
        print(f"== worker: 2 workers + Redis, {reps} kills: {two['failed']} of {two['polls']} polls failed "
              f"after the kills; replacement serving after p50 {r['redis_worker_replaced_s']} s, "
              f"max {max(two['replaced']):.2f} s\n", flush=True)
    return r


# ---- database: an outage of PostgreSQL, through a TCP proxy on loopback -------------------------
class AdminSocket:
    """An admin's console websocket (the session cookie in its handshake), kept open through
    the outage, which calls the dashboard's manual-status handler as the select does."""

    def __init__(self, url: str, cookie: str) -> None:
        import asyncio
        import uuid

        import socketio

        self.url, self.cookie = url, cookie
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, daemon=True).start()
        self.client = socketio.AsyncClient(reconnection=True)
        self.replies = asyncio.Queue()
        self.client.on("event", lambda data: self.replies.put_nowait(data), namespace="/_event")
        self._run(self.client.connect(f"{url}?token={uuid.uuid4()}", socketio_path="/_event", namespaces=["/_event"],
                                      transports=["websocket"], headers={"Cookie": cookie, "Origin": url},
                                      wait_timeout=10))

    def _run(self, coro, timeout: float = 30):
        import asyncio

        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def set_status(self, handler: str, service_id: int, status: str) -> None:
        """Send the event and wait (bounded) for the server's answer to it."""
        import asyncio

        async def go() -> None:
            while not self.replies.empty():
                self.replies.get_nowait()
            await self.client.emit("event", {"name": handler, "payload": {"service_id": service_id, "status": status},
                                             "router_data": {"pathname": "/admin", "asPath": "/admin"}},
                                   namespace="/_event")
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.replies.get(), 10)

        self._run(go())

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._run(self.client.disconnect(), timeout=10)
        self.loop.call_soon_threadsafe(self.loop.stop)


def fault_database(args: argparse.Namespace) -> dict[str, object]:
    """PostgreSQL cut for `--outage-s` seconds between the app and the server (the proxy drops
    every connection and refuses new ones), then restored: time from the restore to /readyz
    answering 200 and to the first admin change that is saved (read back from the database
    directly), `reps` times."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from statusapp.ui.admin.dashboard import DashboardAdmin
    from tests.support.appserver import ADMIN_EMAIL, ADMIN_PASSWORD
    from tests.support.pg import PostgresUnavailable, throwaway_database
    from tests.support.tcp_proxy import TcpProxy

    reps = args.reps or (5 if args.quick else 20)
    label = "database"
    handler = DashboardAdmin.get_full_name() + ".set_manual_status"
    try:
        db_cm = throwaway_database("statusapp_faults")
        direct_url = db_cm.__enter__()
    except PostgresUnavailable as exc:
        log(label, f"skipped: {exc}")
        return {}
    try:
        url = make_url(direct_url)
        with TcpProxy(url.host or "127.0.0.1", url.port or 5432) as proxy, \
                tempfile.TemporaryDirectory(prefix="statusapp-faults-") as tmp:
            proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
            server = AppServer(database_url=proxied, data_dir=Path(tmp))
            server.start()
            engine = create_engine(direct_url)
            try:
                r = httpx.post(server.url + "/auth/login", data={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD},
                               headers={"Origin": server.url}, follow_redirects=False, timeout=30)
                admin = AdminSocket(server.url, f"statusapp_session={r.cookies['statusapp_session']}")
                with engine.connect() as c:
                    service_id = c.execute(text("SELECT id FROM service WHERE slug = 'api'")).scalar()

                def status() -> str:
                    with engine.connect() as c:
                        return c.execute(text("SELECT manual_status FROM service WHERE id = :i"), {"i": service_id}).scalar()

                change_s, ready_s = [], []
                statuses = ["degraded_performance", "operational"]
                for i in range(reps):
                    want = statuses[i % 2]
                    proxy.cut()
                    time.sleep(args.outage_s)
                    admin.set_status(handler, service_id, want)  # refused: "Database unavailable"
                    assert status() != want, "a change was saved during the outage"
                    proxy.restore()
                    t0 = time.monotonic()
                    ready = None
                    while time.monotonic() - t0 < GIVE_UP_S:
                        if ready is None:
                            with contextlib.suppress(httpx.HTTPError):
                                if httpx.get(server.url + "/readyz", timeout=5).status_code == 200:
                                    ready = time.monotonic() - t0
                        admin.set_status(handler, service_id, want)
                        if status() == want:
                            break
                        time.sleep(POLL_S * 5)
                    else:
                        raise RuntimeError("no admin change saved within a minute of the database's return")
                    change_s.append(time.monotonic() - t0)
                    ready_s.append(ready if ready is not None else change_s[-1])
                    log(label, f"outage {i + 1}/{reps} ({args.outage_s:.0f} s): /readyz 200 after {ready_s[-1]:.2f} s, "
                               f"first saved admin change after {change_s[-1]:.2f} s")
                admin.close()
                text_log = server.log_path.read_text(errors="replace")
                log(label, f"server log: {text_log.count('database unreachable')} 'database unreachable' lines, "
                           f"{text_log.count('Traceback')} tracebacks")
                if "Traceback" in text_log:
                    at = text_log.index("Traceback")
                    log(label, "first traceback:\n" + text_log[max(0, at - 300):at + 2500])
            finally:
                engine.dispose()
                server.stop()
    finally:
        db_cm.__exit__(None, None, None)
    r = {
        "db_admin_change_s": round(statistics.median(change_s), 2),
        "db_admin_change_max_s": round(max(change_s), 2),
        "db_ready_s": round(statistics.median(ready_s), 2),
    }
    print(f"\n== database: {reps} outages of {args.outage_s:.0f} s: first saved admin change after p50 "
          f"{r['db_admin_change_s']} s (max {r['db_admin_change_max_s']} s); /readyz 200 after p50 {r['db_ready_s']} s\n",
          flush=True)
    return r


FAULTS: dict[str, Callable[[argparse.Namespace], dict[str, object]]] = {
    "worker": fault_worker,
    "database": fault_database,
}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--fault", action="append", choices=sorted(FAULTS), help="fault to inject (default: all)")
    ap.add_argument("--quick", action="store_true", help="5 repetitions per case (under 5 minutes)")
    ap.add_argument("--reps", type=int, help="repetitions per case (default 20; 5 with --quick)")
    ap.add_argument("--no-redis", action="store_true", help="skip the 2-worker Redis cases")
    ap.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    ap.add_argument("--outage-s", type=float, default=5.0, help="length of each database outage")
    args = ap.parse_args()
    started = time.monotonic()
    result: dict[str, object] = {}
    for name in args.fault or list(FAULTS):
        result.update(FAULTS[name](args))
    print(f"total time {time.monotonic() - started:.0f} s")
    if foreign_load():
        print("WARNING: other servers/tests ran on this machine during the benchmark: figures unreliable")
    print("RESULT " + " ".join(f"{k}={v}" for k, v in result.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
