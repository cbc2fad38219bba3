"""Formatting for people, done in the browser: the read models carry ISO 8601 UTC times and
the pages turn them into text here, so the live push sends one view for every visitor."""

from __future__ import annotations

import reflex as rx
from reflex.vars.function import FunctionStringVar

# "Nov 25, 2026 14:05 UTC": the time in `tz` (an IANA zone), with the zone's short name.
# Browsers name some zones only in some English locales ("EST" in en-US, "CET" in en-GB):
# the first that gives a name rather than a "GMT+1" offset wins.
_FORMAT_TIME_JS = """((iso, tz) => {
  if (!iso) { return ""; }
  const d = new Date(iso);
  if (isNaN(d.getTime())) { return ""; }
  const parts = (loc, opts) => {
    try { return new Intl.DateTimeFormat(loc, {timeZone: tz || "UTC", ...opts}).formatToParts(d); }
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

FORMAT_TIME = FunctionStringVar.create(_FORMAT_TIME_JS)


def time_text(iso, tz) -> rx.Var:
    """The text of an ISO time in a time zone (both may be Vars)."""
    return FORMAT_TIME.call(iso, tz).to(str)


def local_time(iso, tz, **props) -> rx.Component:
    """A <time> element showing `iso` in the zone `tz`, machine-readable in `datetime`."""
    return rx.el.time(time_text(iso, tz), date_time=iso, **props)
