#!/usr/bin/env python
"""Uptime-history benchmark: one page's 90-day bars from the status history, against the original
algorithm (load every check, group in Python), on PostgreSQL and on SQLite.

    .venv/bin/python bench/uptime_history.py [--db postgresql|sqlite|both] [--services 100] [--quick]

Data (bench/uptime_data.py): `--services` services on one page, each with a synthetic status
history over the last 90 days ending now (a few outages a month: degraded, partial, major,
maintenance spells, log-normal lengths; some services created inside the window), written as
ServiceStatusChange rows, and what a 1-minute monitor would have stored for the same history:
one MonitorCheck row per service per minute (100 services x 90 days = 12.96 million rows),
bulk-loaded (COPY on PostgreSQL).

bars_ms: one page's bars computed cold, as a visitor's first arrival of the day makes them:
`queries.uptime` finished days (89) + today + the 90-day percentages for every service of the
page, cache emptied before each run; the median of `--runs`. The seed's algorithm: read every
check of the page's services in the window and count the good ones per service per local day in
Python. speedup_vs_seed = seed time / bars_ms (both measured on the same database, same data).

The last line (the first database given; with --db both, PostgreSQL):
    RESULT bars_ms=<n> speedup_vs_seed=<x>
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import io
import os
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.uptime_data import minute_checks, synthetic_history  # noqa: E402

DAYS = 90
NULL = "\\N"  # COPY's text format
TZ = "Europe/Paris"  # a page time zone with DST inside the window, for realism


def setup(n_services: int, now: dt.datetime) -> tuple[int, list[int], list[int]]:
    """A page with n services and their monitors, through the domain; returns (page id,
    service ids, monitor ids)."""
    from statusapp.domain import Actor, monitoring, organizations, pages, services

    org = Actor(organizations.create_organization(name="Bench").id)
    svc_ids, mon_ids = [], []
    for i in range(n_services):
        svc = services.create_service(actor=org, name=f"Service {i}", slug=f"svc-{i}")
        svc_ids.append(svc.id)
        mon_ids.append(monitoring.set_monitor(actor=org, service_id=svc.id, data={
            "kind": "http", "url": f"https://svc-{i}.example.com/health"}).monitor.id)
    page = pages.create_page(actor=org, name="Bench", slug="bench", service_ids=svc_ids, time_zone=TZ)
    return page.id, svc_ids, mon_ids


def load_history(url: str, svc_ids: list[int], mon_ids: list[int], now: dt.datetime) -> int:
    """Replace each service's history with a synthetic one and store its minute checks."""
    from sqlalchemy import text

    from statusapp.db import get_engine

    start = now - dt.timedelta(days=DAYS)
    histories = synthetic_history(len(svc_ids), DAYS, seed=7, end=now)
    engine = get_engine(url)
    pg = url.startswith("postgresql")

    def stored(at: dt.datetime):  # SQLite keeps times as text: the app's own format, so they sort
        return at if pg else at.strftime("%Y-%m-%d %H:%M:%S.%f")

    with engine.begin() as conn:
        conn.execute(text("DELETE FROM service_status_change"))
        rows = []
        for i, sid in enumerate(svc_ids):
            timeline = histories[i]
            prev = None
            for at, status in timeline:
                rows.append({"org": 1, "sid": sid, "name": f"Service {i}", "frm": prev, "to": status, "at": stored(at)})
                prev = status
            conn.execute(text("UPDATE service SET status = :s, created_at = :c WHERE id = :id"),
                         {"s": timeline[-1][1], "c": stored(timeline[0][0]), "id": sid})
        conn.execute(text(
            "INSERT INTO service_status_change (organization_id, service_id, service_name, from_status, to_status,"
            " cause, changed_at) VALUES (:org, :sid, :name, :frm, :to, 'monitor', :at)"), rows)
    total = 0
    down = {"major_outage", "partial_outage"}
    if pg:
        raw = engine.raw_connection()
        try:
            with raw.cursor() as cur:
                for i, mid in enumerate(mon_ids):
                    buf = io.StringIO()
                    for at, status in minute_checks(histories[i], start, now):
                        ok = status not in down
                        buf.write(f"{mid}\t{at.isoformat()}\t{'t' if ok else 'f'}\t"
                                  f"{'t' if status == 'degraded_performance' else 'f'}\t{120.0 if ok else NULL}\t{NULL}\t\n")
                        total += 1
                    buf.seek(0)
                    with cur.copy("COPY monitor_check (monitor_id, checked_at, ok, degraded, latency_ms, status_code,"
                                  " reason) FROM STDIN") as copy:
                        copy.write(buf.read())
            raw.commit()
        finally:
            raw.close()
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    else:
        raw = engine.raw_connection()
        try:
            cur = raw.cursor()
            cur.execute("BEGIN")
            for i, mid in enumerate(mon_ids):
                batch = []
                for at, status in minute_checks(histories[i], start, now):
                    ok = status not in down
                    batch.append((mid, at.strftime("%Y-%m-%d %H:%M:%S.%f"), ok, status == "degraded_performance",
                                  120.0 if ok else None, None, ""))
                cur.executemany("INSERT INTO monitor_check (monitor_id, checked_at, ok, degraded, latency_ms,"
                                " status_code, reason) VALUES (?, ?, ?, ?, ?, ?, ?)", batch)
                total += len(batch)
            cur.execute("COMMIT")
            cur.execute("ANALYZE")
        finally:
            raw.close()
    return total


def bars_once(page_id: int) -> float:
    """One page's bars, cold: finished days + today + percentages (ms)."""
    from statusapp.db import session_scope
    from statusapp.models import StatusPage
    from statusapp.queries import uptime
    from statusapp.queries.public import page_services

    uptime._finished.clear()
    uptime._latest_key.clear()
    started = time.perf_counter()
    with session_scope() as session:
        page = session.get(StatusPage, page_id)
        services = page_services(session, page)
        finished = uptime.finished_bars(session, page, services)
        today = uptime.today_uptime(session, page, services)
    took = (time.perf_counter() - started) * 1000
    assert len(finished.bars) == len(services) and all(len(b) == DAYS - 1 for b in finished.bars.values())
    assert len(today) == len(services)
    return took


def seed_algorithm(mon_ids: list[int], now: dt.datetime) -> float:
    """The original: every check of the window into Python, good ones counted per local day (ms)."""
    from sqlalchemy import text

    from statusapp.db import session_scope

    zone = ZoneInfo(TZ)
    start = now - dt.timedelta(days=DAYS)
    started = time.perf_counter()
    per_day: dict[tuple[int, dt.date], list[int]] = defaultdict(lambda: [0, 0])
    with session_scope() as session:
        rows = session.execute(
            text("SELECT monitor_id, checked_at, ok FROM monitor_check WHERE monitor_id IN :ids AND checked_at >= :start")
            .bindparams(__import__("sqlalchemy").bindparam("ids", expanding=True)),
            {"ids": mon_ids, "start": start},
        )
        for mid, at, ok in rows:
            if isinstance(at, str):
                at = dt.datetime.fromisoformat(at).replace(tzinfo=dt.timezone.utc)
            counts = per_day[(mid, at.astimezone(zone).date())]
            counts[0] += 1
            counts[1] += bool(ok)
    bars = {key: 100.0 * good / total for key, (total, good) in per_day.items()}
    took = (time.perf_counter() - started) * 1000
    assert len(bars) >= len(mon_ids) * (DAYS - 10)
    return took


@contextlib.contextmanager
def database(kind: str, tmp: Path):
    from statusapp import db
    from statusapp.settings import get_settings

    if kind == "postgresql":
        from tests.support.pg import throwaway_database

        with throwaway_database("statusapp_bench_uptime") as url:
            db.migrate(url)
            get_settings().database_url = url
            yield url
            db.get_engine(url).dispose()
    else:
        url = f"sqlite:///{tmp / 'uptime.db'}"
        db.migrate(url)
        get_settings().database_url = url
        yield url
        db.get_engine(url).dispose()


def run_one(kind: str, args) -> dict:
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    with tempfile.TemporaryDirectory(prefix="statusapp-bench-uptime-") as tmp, database(kind, Path(tmp)) as url:
        t = time.monotonic()
        page_id, svc_ids, mon_ids = setup(args.services, now)
        rows = load_history(url, svc_ids, mon_ids, now)
        print(f"[{kind}] {args.services} services, {rows:,} minute checks loaded in {time.monotonic() - t:.0f} s",
              flush=True)
        bars = [bars_once(page_id) for _ in range(args.runs)]
        print(f"[{kind}] bars (finished days + today + percentages, cold): "
              + ", ".join(f"{b:.1f}" for b in bars) + " ms", flush=True)
        seed = [seed_algorithm(mon_ids, now) for _ in range(args.seed_runs)]
        print(f"[{kind}] seed algorithm (every check into Python): " + ", ".join(f"{s:.0f}" for s in seed) + " ms",
              flush=True)
    bars_ms = statistics.median(bars)
    return {"bars_ms": bars_ms, "seed_ms": statistics.median(seed), "speedup": statistics.median(seed) / bars_ms,
            "rows": rows}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", choices=["postgresql", "sqlite", "both"], default="both")
    ap.add_argument("--services", type=int, default=100)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--seed-runs", type=int, default=2)
    ap.add_argument("--quick", action="store_true", help="10 services (1.3 million checks)")
    args = ap.parse_args()
    if args.quick:
        args.services = 10
    print(f"machine: {os.cpu_count()} CPU, load average {os.getloadavg()[0]:.1f} at start", flush=True)
    kinds = ["postgresql", "sqlite"] if args.db == "both" else [args.db]
    results = {kind: run_one(kind, args) for kind in kinds}
    for kind, r in results.items():
        ok = "met" if r["bars_ms"] < 50 else "MISSED"
        print(f"{kind}: bars {r['bars_ms']:.1f} ms (target < 50 ms: {ok}); seed {r['seed_ms']:.0f} ms; "
              f"{r['speedup']:.0f}x faster over {r['rows']:,} checks")
    first = results[kinds[0]]
    print(f"RESULT bars_ms={first['bars_ms']:.1f} speedup_vs_seed={first['speedup']:.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
