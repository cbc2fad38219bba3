"""Synthetic status histories for uptime benchmarks (a helper module, not a benchmark).

    from bench.uptime_data import synthetic_history, minute_checks
    history = synthetic_history(100, 365, seed=1)   # {service_index: [(changed_at, to_status), ...]}

Each timeline has the shape of ServiceStatusChange rows: sorted, aware UTC, whole seconds, the
first entry is the creation (operational), consecutive entries differ. Per service a few
incidents a month at random (Poisson) times: degraded performance, partial or major outages of
log-normal length (median ~25 min, 2 min .. 8 h), some escalating one step before recovering,
plus occasional under_maintenance spells. Most services exist for the whole period; a share is
created somewhere inside it. Deterministic: the same arguments give the same history, and
service i's history does not depend on n_services.

`minute_checks` expands a timeline into what a 1-minute monitor would have stored (one row per
minute with the status then in effect), for the naive "load every check and group in Python"
side of the comparison.
"""

from __future__ import annotations

import bisect
import datetime as dt
import random
from collections.abc import Iterator, Sequence

OP = "operational"
MAINT = "under_maintenance"
DEG = "degraded_performance"
PART = "partial_outage"
MAJOR = "major_outage"

DEFAULT_END = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)
_KINDS = (DEG, PART, MAJOR, MAINT)
_KIND_WEIGHTS = (40, 30, 20, 10)
_ESCALATE = {DEG: PART, PART: MAJOR}

Timeline = list[tuple[dt.datetime, str]]


def _service_history(
    rng: random.Random, start: float, end: float, outages_per_month: float, late_share: float
) -> Timeline:
    created = start
    if rng.random() < late_share:
        created = start + rng.random() * (end - start) * 0.9
    created = float(int(created))
    out: list[tuple[float, str]] = [(created, OP)]
    mean_gap = 30 * 86400 / outages_per_month
    t = created
    while True:
        t += rng.expovariate(1.0 / mean_gap)
        if t >= end:
            break
        kind = rng.choices(_KINDS, _KIND_WEIGHTS)[0]
        if kind == MAINT:
            length = rng.choice((30, 60, 120)) * 60.0
        else:
            length = min(max(rng.lognormvariate(7.3, 1.0), 120.0), 8 * 3600.0)  # e^7.3 s ~ 25 min
        begin = float(int(t))
        out.append((begin, kind))
        if kind in _ESCALATE and rng.random() < 0.2:
            out.append((float(int(begin + length * rng.uniform(0.2, 0.6))), _ESCALATE[kind]))
        t = float(int(begin + length))
        if t >= end:
            break  # still going at the end of the period
        out.append((t, OP))
    # Whole seconds may collapse two changes onto one instant: keep the later, drop repeats.
    timeline: Timeline = []
    for ts, status in out:
        when = dt.datetime.fromtimestamp(ts, dt.timezone.utc)
        if timeline and timeline[-1][0] >= when:
            timeline.pop()
        if timeline and timeline[-1][1] == status:
            continue
        timeline.append((when, status))
    return timeline


def synthetic_history(
    n_services: int,
    days: int,
    *,
    seed: int = 0,
    end: dt.datetime = DEFAULT_END,
    outages_per_month: float = 4.0,
    late_share: float = 0.1,
) -> dict[int, Timeline]:
    """`n_services` status timelines over the `days` days before `end`, keyed 0..n-1."""
    hi = end.timestamp()
    lo = hi - days * 86400.0
    return {
        i: _service_history(random.Random(f"{seed}:{i}"), lo, hi, outages_per_month, late_share)
        for i in range(n_services)
    }


def minute_checks(
    timeline: Sequence[tuple[dt.datetime, str]],
    start: dt.datetime,
    end: dt.datetime,
    step: dt.timedelta = dt.timedelta(minutes=1),
) -> Iterator[tuple[dt.datetime, str]]:
    """One (checked_at, status) per `step` in [start, end) while the service exists."""
    times = [t for t, _ in timeline]
    t = max(start, times[0]) if times else end
    while t < end:
        i = bisect.bisect_right(times, t) - 1
        yield t, timeline[i][1]
        t += step
