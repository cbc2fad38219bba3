"""Recurrence rules of maintenance series: RFC 5545 RRULEs expanded in a time zone.

Pure functions (no database). A series is "every <rule> at <DTSTART's wall-clock time> in
<zone>": the rule is expanded on naive local times with python-dateutil, and each occurrence
is then placed in the zone with zoneinfo and converted to UTC. So "Sunday 02:00
Europe/Berlin" stays 02:00 local on both sides of a DST change (its UTC time moves by an
hour), a local time that does not exist on the day clocks go forward (02:30 on the last
Sunday of March) moves forward by the gap (03:30 summer time), and one that happens twice
(the night clocks go back) means its first occurrence.

Cost: only DAILY or coarser rules are accepted and the time of day comes from DTSTART
(no BYHOUR/BYMINUTE/BYSECOND), so expansion works day by day. A rule that never matches
(February 30th) would make dateutil scan to the year 9999 (seconds of CPU): `check_rule`
runs its first expansion in a worker thread with a deadline, one at a time, and refuses the
rule when it does not answer in time.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Iterator
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.rrule import rrule, rrulestr

RRULE_MAX = 500
ALLOWED_FREQS = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")
ALLOWED_PARTS = ("FREQ", "INTERVAL", "COUNT", "UNTIL", "BYDAY", "BYMONTHDAY", "BYYEARDAY", "BYWEEKNO",
                 "BYMONTH", "BYSETPOS", "WKST")
INTERVAL_MAX = 1000
YEAR_MIN, YEAR_MAX = 2000, 2100
CHECK_OCCURRENCES = 20  # occurrences expanded when a rule is checked (overlaps, first one)
CHECK_DEADLINE_S = 1.0
_UNTIL_RE = re.compile(r"^(\d{8})(T(\d{6})(Z?))?$")
_LOCAL_FMT = "%Y-%m-%dT%H:%M:%S"
_check_slot = threading.Semaphore(2)  # rules checked at once (a runaway holds one for seconds)


class RuleError(ValueError):
    """The rule (or its start, zone, duration) is unusable; the message says why, for a person."""


def zone_of(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
        raise RuleError(f"Unknown time zone {name!r}.") from exc


def parse_local(value: object) -> dt.datetime:
    """A naive wall-clock time from "YYYY-MM-DDTHH:MM[:SS]" (or a naive datetime), in the years
    YEAR_MIN..YEAR_MAX: expanding a rule walks from its start, so the start bounds the cost."""
    if isinstance(value, dt.datetime):
        parsed = value
    else:
        text = str(value or "").strip().replace(" ", "T")
        if len(text) > 40:
            raise RuleError("Use a local date and time like 2026-03-01T02:00.")
        try:
            parsed = dt.datetime.fromisoformat(text)
        except ValueError as exc:
            raise RuleError("Use a local date and time like 2026-03-01T02:00.") from exc
    if parsed.tzinfo is not None:
        raise RuleError("Give the start as a local time (without an offset): the series' time zone places it.")
    if not YEAR_MIN <= parsed.year <= YEAR_MAX:
        raise RuleError(f"Use a start between the years {YEAR_MIN} and {YEAR_MAX}.")
    return parsed.replace(microsecond=0)


def format_local(value: dt.datetime) -> str:
    return value.strftime(_LOCAL_FMT)


def normalize_rule(text: object, zone: ZoneInfo) -> str:
    """The rule as stored: upper case, without "RRULE:", parts checked; a UTC UNTIL (…Z) is
    turned into the zone's local time (dateutil expands naive local times)."""
    raw = str(text or "").strip()
    if not raw:
        raise RuleError("A recurrence rule is required (e.g. FREQ=WEEKLY;BYDAY=SU).")
    if len(raw) > RRULE_MAX:
        raise RuleError(f"At most {RRULE_MAX} characters.")
    raw = raw.upper()
    if raw.startswith("RRULE:"):
        raw = raw[len("RRULE:"):]
    parts: dict[str, str] = {}
    for chunk in raw.split(";"):
        if not chunk:
            continue
        key, sep, value = chunk.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not value:
            raise RuleError(f"{chunk[:40]!r} is not NAME=VALUE.")
        if key not in ALLOWED_PARTS:
            raise RuleError(f"{key[:40]!r} is not supported here (use {', '.join(ALLOWED_PARTS)}).")
        if key in parts:
            raise RuleError(f"{key} is given twice.")
        parts[key] = value
    if parts.get("FREQ") not in ALLOWED_FREQS:
        raise RuleError(f"FREQ must be one of {', '.join(ALLOWED_FREQS)} (the time of day comes from the start).")
    if "COUNT" in parts and "UNTIL" in parts:
        raise RuleError("Use COUNT or UNTIL, not both.")
    for key in ("INTERVAL", "COUNT"):
        if key in parts:
            if not parts[key].isdigit() or not 1 <= int(parts[key]) <= INTERVAL_MAX:
                raise RuleError(f"{key} must be a whole number from 1 to {INTERVAL_MAX}.")
    if "UNTIL" in parts:
        m = _UNTIL_RE.match(parts["UNTIL"])
        if not m:
            raise RuleError("UNTIL must look like 20261231 or 20261231T235959Z.")
        try:
            if m.group(2) is None:
                dt.datetime.strptime(m.group(1), "%Y%m%d")
            else:
                until = dt.datetime.strptime(m.group(1) + m.group(3), "%Y%m%d%H%M%S")
                if m.group(4):  # UTC: the same moment in the zone's wall-clock time
                    until = until.replace(tzinfo=dt.timezone.utc).astimezone(zone).replace(tzinfo=None)
                    parts["UNTIL"] = until.strftime("%Y%m%dT%H%M%S")
        except (ValueError, OverflowError) as exc:
            raise RuleError("UNTIL is not a valid date.") from exc
    _check_month_days(parts)
    return ";".join(f"{k}={v}" for k, v in parts.items())


_MONTH_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _check_month_days(parts: dict[str, str]) -> None:
    """February 30th and the like: refused at once (dateutil would scan to the year 9999)."""
    if "BYMONTH" not in parts or "BYMONTHDAY" not in parts:
        return
    try:
        months = [int(v) for v in parts["BYMONTH"].split(",")]
        days = [int(v) for v in parts["BYMONTHDAY"].split(",")]
    except ValueError:
        return  # dateutil says what is wrong
    longest = max((_MONTH_DAYS[m - 1] for m in months if 1 <= m <= 12), default=31)
    if days and all(abs(d) > longest for d in days):
        raise RuleError("This rule never happens: those months do not have that day.")


def build_rule(rule_text: str, dtstart_local: dt.datetime) -> rrule:
    try:
        return rrulestr("RRULE:" + rule_text, dtstart=dtstart_local)
    except (ValueError, TypeError, OverflowError) as exc:
        raise RuleError(f"Invalid recurrence rule: {str(exc)[:120]}.") from exc


def to_utc(local: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    """A naive wall-clock time in `zone` as aware UTC (fold=0: a missing time moves forward by
    the gap, a repeated time means its first occurrence)."""
    return local.replace(tzinfo=zone, fold=0).astimezone(dt.timezone.utc)


def to_local(moment: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    return moment.astimezone(zone).replace(tzinfo=None)


def occurrences_after(rule: rrule, zone: ZoneInfo, after: dt.datetime) -> Iterator[dt.datetime]:
    """UTC starts of the rule's occurrences strictly after the UTC moment `after`, in order."""
    # Start a day early on the local side: the UTC comparison below is the exact one.
    local_after = to_local(after, zone) - dt.timedelta(days=1)
    for local in rule.xafter(local_after, inc=False):
        start = to_utc(local, zone)
        if start > after:
            yield start


def check_rule(rule_text: str, dtstart_local: dt.datetime, zone: ZoneInfo, duration: dt.timedelta) -> list[dt.datetime]:
    """The first occurrences (UTC) of a new or edited rule; RuleError when the rule has none,
    does not answer within the deadline, or its windows would overlap each other."""
    rule = build_rule(rule_text, dtstart_local)
    result: dict[str, object] = {}

    def expand() -> None:
        try:
            out = []
            for local in rule:
                out.append(to_utc(local, zone))
                if len(out) >= CHECK_OCCURRENCES:
                    break
            result["starts"] = out
        except Exception as exc:  # dateutil's own complaints about the rule
            result["error"] = exc
        finally:
            _check_slot.release()

    if not _check_slot.acquire(timeout=CHECK_DEADLINE_S):
        raise RuleError("Another recurrence rule is being checked; try again in a few seconds.")
    worker = threading.Thread(target=expand, name="rrule-check", daemon=True)
    worker.start()
    worker.join(CHECK_DEADLINE_S)
    if worker.is_alive():
        raise RuleError("This rule has no occurrence in the foreseeable future.")
    if "error" in result:
        raise RuleError(f"Invalid recurrence rule: {str(result['error'])[:120]}.")
    starts: list[dt.datetime] = result.get("starts", [])  # type: ignore[assignment]
    if not starts:
        raise RuleError("This rule has no occurrence.")
    for earlier, later in zip(starts, starts[1:]):
        if earlier + duration > later:
            raise RuleError("Occurrences would overlap: make the window shorter than the time between them.")
    return starts
