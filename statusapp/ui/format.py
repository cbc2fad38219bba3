"""Formatting for people, done in the browser: the read models carry ISO 8601 UTC times and
the pages turn them into text here, so the live push sends one view for every visitor and
each visitor reads times in their own time zone, with the zone named ("14:05 CET").

The page's configured zone is the fallback when a browser does not tell its own (no Intl
time zone). Relative times ("12 minutes ago") tick every 30 seconds without any server work.
"""

from __future__ import annotations

import reflex as rx
from reflex.vars.base import VarData
from reflex.vars.function import FunctionStringVar

# "Nov 25, 2026 14:05 CET": the time in the visitor's zone (else `fallbackTz`), with the zone's
# short name. Browsers name some zones only in some English locales ("EST" in en-US, "CET" in
# en-GB): the first that gives a name rather than a "GMT+1" offset wins.
_FORMAT_TIME_JS = """((iso, fallbackTz, forceTz) => {
  if (!iso) { return ""; }
  const d = new Date(iso);
  if (isNaN(d.getTime())) { return ""; }
  let tz = forceTz || "";
  if (!tz) {
    try { tz = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { tz = ""; }
  }
  tz = tz || fallbackTz || "UTC";
  const parts = (loc, opts) => {
    try { return new Intl.DateTimeFormat(loc, {timeZone: tz, ...opts}).formatToParts(d); }
    catch (e) { return new Intl.DateTimeFormat(loc, {timeZone: "UTC", ...opts}).formatToParts(d); }
  };
  const p = {};
  for (const x of parts("en-US", {year: "numeric", month: "short", day: "2-digit", hour: "2-digit",
                                  minute: "2-digit", hourCycle: "h23"})) { p[x.type] = x.value; }
  let zone = "";
  for (const loc of ["en-US", "en-GB"]) {
    const z = parts(loc, {timeZoneName: "short"}).find((x) => x.type === "timeZoneName");
    if (z) {
      if (!zone) { zone = z.value; }
      if (!/^GMT[+-]/.test(z.value)) { zone = z.value; break; }
    }
  }
  return `${p.month} ${p.day}, ${p.year} ${p.hour}:${p.minute} ${zone}`;
})"""

# "12 minutes ago", "in 3 hours", "just now": relative to `now` (ms since the epoch).
_RELATIVE_TIME_JS = """((iso, now) => {
  if (!iso) { return ""; }
  const t = new Date(iso).getTime();
  if (isNaN(t)) { return ""; }
  const seconds = Math.round((t - now) / 1000);
  if (Math.abs(seconds) < 45) { return "just now"; }
  const units = [["year", 31536000], ["month", 2592000], ["week", 604800], ["day", 86400],
                 ["hour", 3600], ["minute", 60]];
  const rtf = new Intl.RelativeTimeFormat("en", {numeric: "auto"});
  for (const [unit, size] of units) {
    if (Math.abs(seconds) >= size) { return rtf.format(Math.round(seconds / size), unit); }
  }
  return rtf.format(Math.round(seconds / 60), "minute");
})"""

FORMAT_TIME = FunctionStringVar.create(_FORMAT_TIME_JS)
RELATIVE_TIME = FunctionStringVar.create(_RELATIVE_TIME_JS)

# A clock shared by the relative times of a component: it re-renders them every 30 s.
_NOW = rx.Var(
    "rxStatusNow",
    _var_data=VarData(
        imports={"react": ["useState", "useEffect"]},
        hooks={
            "const [rxStatusNow, setRxStatusNow] = useState(() => Date.now());": None,
            "useEffect(() => { const t = setInterval(() => setRxStatusNow(Date.now()), 30000); "
            "return () => clearInterval(t); }, []);": None,
        },
    ),
)


# The visitor's own zone, e.g. "Europe/Paris", for saying which zone times are shown in.
BROWSER_ZONE = rx.Var(
    "((() => { try { return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC'; } "
    "catch (e) { return 'UTC'; } })())"
).to(str)


def time_text(iso, fallback_tz="UTC") -> rx.Var:
    """The text of an ISO time in the visitor's zone (`fallback_tz` when the browser has none)."""
    return FORMAT_TIME.call(iso, fallback_tz, "").to(str)


def time_text_in(iso, tz) -> rx.Var:
    """The text of an ISO time in a given zone (e.g. a page's own zone, for a date heading)."""
    return FORMAT_TIME.call(iso, "UTC", tz).to(str)


def relative_text(iso) -> rx.Var:
    return RELATIVE_TIME.call(iso, _NOW).to(str)


def local_time(iso, fallback_tz="UTC", **props) -> rx.Component:
    """A <time> element: the exact time in the visitor's zone, machine-readable in `datetime`."""
    return rx.el.time(time_text(iso, fallback_tz), date_time=iso, **props)


def recent_time(iso, fallback_tz="UTC", **props) -> rx.Component:
    """For recency: "12 minutes ago · Nov 25, 2026 14:05 CET", the exact time also on hover."""
    exact = time_text(iso, fallback_tz)
    return rx.el.time(relative_text(iso), " · ", exact, date_time=iso, title=exact, **props)


# "99.95%": two decimals, rounded down so that any downtime never shows as 100%.
_FORMAT_PERCENT_JS = """((v) => {
  if (v === null || v === undefined || isNaN(v)) { return "No data"; }
  if (v >= 100) { return "100%"; }
  return (Math.floor(v * 100) / 100).toFixed(2) + "%";
})"""
FORMAT_PERCENT = FunctionStringVar.create(_FORMAT_PERCENT_JS)


def percent_text(value) -> rx.Var:
    """An uptime percentage as text ("99.95%", "100%", "No data")."""
    return FORMAT_PERCENT.call(value).to(str)
