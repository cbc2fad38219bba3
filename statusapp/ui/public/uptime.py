"""The public page's uptime: 90 daily bars per service with the 90-day percentage, and the
response-time chart of monitored services.

Bars: the 89 finished days come from the page state's `history` (compact, sent once per visit,
never pushed); today's bar and the percentage are in the live view. Each bar shows its details
(date, uptime, worst status, incidents) on hover, on tap and on keyboard focus: the strip is
one tab stop (today's bar) and the arrow keys move between days (assets/uptime-bars.js), so
90 bars never mean 90 tab stops. What a bar means is always written out (its label, read by
screen readers and shown as its tooltip), never told by colour alone.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
from typing import Any
from zoneinfo import ZoneInfo

import reflex as rx

from statusapp import routes
from statusapp.db import is_outage
from statusapp.live import UNCHANGED, hub
from statusapp.queries.monitoring import CHART_RANGES, load_public_chart
from statusapp.queries.public import load_page_bars
from statusapp.queries.uptime import LEVEL_CODES, PageHistory, cached_finished_bars
from statusapp.ui.format import percent_text

log = logging.getLogger(__name__)

LEVEL_COLORS = {
    "none": "#15803d",
    "minor": "#a16207",
    "major": "#c2410c",
    "critical": "#b91c1c",
    "nodata": "var(--gray-5)",
}

# A bar is one element: its words are its aria-label, and its tooltip is that label shown by CSS
# on hover, tap (focus) and keyboard focus. No per-bar markup or script: 50 services are 4,500
# bars, re-rendered by the browser at every push.
BARS_CSS = """
.uptime-bars{display:flex;gap:2px;height:32px;align-items:stretch;width:100%;position:relative}
.uptime-bar{flex:1 1 0;min-width:2px;border-radius:2px;position:relative;cursor:pointer;outline:none}
""" + "".join(
    f".uptime-bar[data-level=\"{k}\"],.uptime-bar[data-level=\"{LEVEL_CODES[k]}\"]{{background:{v}}}"
    for k, v in LEVEL_COLORS.items()
) + """
.uptime-bar:focus{box-shadow:0 0 0 2px var(--color-background),0 0 0 4px var(--accent-9)}
.uptime-bar:hover::after,.uptime-bar:focus::after{content:attr(aria-label);white-space:pre-line;
  position:absolute;bottom:calc(100% + 8px);left:50%;transform:translateX(-50%);z-index:20;width:max-content;
  max-width:16rem;padding:.5em .7em;border-radius:var(--radius-2);background:var(--gray-12);color:var(--gray-1);
  font-size:12px;line-height:1.4;text-align:left;pointer-events:none}
.uptime-bar:nth-child(-n+10):hover::after,.uptime-bar:nth-child(-n+10):focus::after{left:0;transform:none}
.uptime-bar:nth-last-child(-n+10):hover::after,.uptime-bar:nth-last-child(-n+10):focus::after{left:auto;right:0;transform:none}
"""


# ---- bars -------------------------------------------------------------------------------------


async def ensure_bars(page_id: int) -> None:
    """Have the page's finished days in this process (one load at a time per page: a crowd
    arriving at once shares it). A failure leaves the bars empty; the page still works."""
    if cached_finished_bars(page_id) is not None:
        return
    pending = _loading.get(page_id)
    if pending is None:
        pending = asyncio.ensure_future(asyncio.to_thread(load_page_bars, page_id))
        _loading[page_id] = pending
        pending.add_done_callback(lambda _f: _loading.pop(page_id, None))
    try:
        await asyncio.shield(pending)
    except Exception as exc:
        if is_outage(exc):  # the database is down: the page says so; bars come with the next load
            return
        log.exception("uptime bars of page %s could not be loaded", page_id)


_loading: dict[int, asyncio.Future] = {}


_history_sent: dict[int, PageHistory] = {}


def history_projection(view: dict) -> Any:
    """What the page's `history` target pushes with a rebuilt view: the finished days, only when
    they differ from what this process last pushed or served for the page (a service added to
    the page, a new day); a plain status change sends nothing here."""
    page_id = view.get("id")
    bars = cached_finished_bars(page_id)
    if bars is None:
        return UNCHANGED
    compact = bars.compact()
    if _history_sent.get(page_id) == compact:
        return UNCHANGED
    _history_sent[page_id] = compact
    return dataclasses.asdict(compact)


def history_of(page_id: int | None) -> PageHistory:
    """The page's finished days, compact, from this process's cache (no I/O). A PageHistory
    object, not its dict: Reflex logs (and renders) the whole value as an error when a computed
    var returns anything but its declared type, which costs more than serializing it."""
    bars = cached_finished_bars(page_id)
    if bars is None:
        return PageHistory()
    compact = bars.compact()
    _history_sent.setdefault(page_id, compact)  # what visitors now have: pushed again only if it changes
    return compact


def finished_bar(level, index, strip, dates) -> rx.Component:
    key = index.to_string()
    label = rx.cond(
        strip.labels.contains(key),
        strip.labels[key],
        dates[index] + rx.cond(level == LEVEL_CODES["nodata"], ": no data", ": 100% uptime"),
    )
    return rx.box(class_name="uptime-bar", data_level=level, tab_index=-1, aria_label=label, role="listitem")


def uptime_strip(svc, history) -> rx.Component:
    """The service's 90 bars (oldest first, today last) and its 90-day uptime in words."""
    strip = history.services[svc.id.to_string()]
    return rx.vstack(
        rx.box(
            rx.cond(
                history.services.contains(svc.id.to_string()),
                rx.foreach(strip.levels.split(""), lambda level, i: finished_bar(level, i, strip, history.dates)),
            ),
            rx.box(class_name="uptime-bar", data_level=svc.today_level, tab_index=0, role="listitem",
                   aria_label=rx.cond(svc.today_label != "", svc.today_label, "Today: 100% uptime")),
            class_name="uptime-bars",
            role="list",
            aria_label=svc.name + ": " + percent_text(svc.uptime) + " uptime over the last 90 days",
        ),
        rx.hstack(
            rx.text("90 days ago", size="1", color_scheme="gray"),
            rx.text(
                rx.cond(svc.today_level == "nodata", "No data yet", percent_text(svc.uptime) + " uptime"),
                size="1", color_scheme="gray", class_name="uptime-percent",
            ),
            rx.text("Today", size="1", color_scheme="gray"),
            justify="between",
            width="100%",
        ),
        spacing="1",
        width="100%",
        class_name="uptime",
    )


def bars_assets() -> rx.Component:
    """The bars' styles and their keyboard script (once per page)."""
    return rx.fragment(rx.el.style(BARS_CSS), rx.script(src="/uptime-bars.js"))


# ---- response-time chart ----------------------------------------------------------------------


@dataclasses.dataclass
class ChartPointView:
    label: str = ""  # the bucket's start in the page's time zone
    ms: float | None = None
    failures: int = 0


RANGE_WORDS = {"24h": "the last 24 hours", "7d": "the last 7 days"}


class ResponseChartState(rx.State):
    """The one response-time chart a visitor has open (loaded on demand, not pushed)."""

    service_id: int = 0  # 0: none open
    range: str = "24h"
    points: list[dict[str, Any]] = []  # ChartPointView as dicts: what recharts takes
    summary: str = ""

    @rx.event
    async def toggle(self, service_id: int):
        if self.service_id == int(service_id):
            self.service_id, self.points, self.summary = 0, [], ""
            return
        self.service_id = int(service_id)
        await self._load()

    @rx.event
    async def set_range(self, value: str | list[str]):
        if value in CHART_RANGES:
            self.range = value
            await self._load()

    async def _load(self) -> None:
        slug = routes.public_slug(self.router.url.path)
        host = self.router.headers.host if slug is None else None
        page_id = await hub.load_page(slug=slug, host=host)
        view = hub.cached_view(page_id) or {}
        points = None
        if page_id is not None:
            points = await asyncio.to_thread(load_public_chart, page_id, self.service_id, self.range)
        if points is None:  # not a chart this page shows
            self.service_id, self.points, self.summary = 0, [], ""
            return
        zone = ZoneInfo(view.get("time_zone") or "UTC")
        fmt = "%H:%M" if self.range == "24h" else "%a %H:%M"
        self.points = [
            dataclasses.asdict(ChartPointView(dt.datetime.fromisoformat(p.at).astimezone(zone).strftime(fmt), p.ms,
                                              p.failures))
            for p in points
        ]
        timed = [p.ms for p in points if p.ms is not None]
        failures = sum(p.failures for p in points)
        average = f"average {sum(timed) / len(timed):.0f} ms" if timed else "no successful checks"
        self.summary = (f"Response time over {RANGE_WORDS[self.range]}: {average}"
                        + (f"; {failures} failed check{'s' if failures != 1 else ''}." if failures else "."))


def chart_toggle(svc) -> rx.Component:
    open_ = ResponseChartState.service_id == svc.id
    return rx.button(
        rx.cond(open_, "Hide response time", "Response time"),
        size="1",
        variant="ghost",
        on_click=ResponseChartState.toggle(svc.id),
        aria_expanded=rx.cond(open_, "true", "false"),
        class_name="chart-toggle",
    )


def response_chart(svc) -> rx.Component:
    s = ResponseChartState
    return rx.cond(
        s.service_id == svc.id,
        rx.vstack(
            rx.segmented_control.root(
                rx.segmented_control.item("24 h", value="24h"),
                rx.segmented_control.item("7 days", value="7d"),
                value=s.range,
                on_change=s.set_range,
                size="1",
            ),
            rx.recharts.line_chart(
                rx.recharts.line(data_key="ms", stroke="var(--accent-9)", dot={"r": 2}, connect_nulls=False,
                                 name="Response time (ms)", is_animation_active=False),
                rx.recharts.x_axis(data_key="label", min_tick_gap=40, tick_line=False),
                rx.recharts.y_axis(unit=" ms", width=70),
                rx.recharts.cartesian_grid(stroke_dasharray="3 3", vertical=False),
                rx.recharts.graphing_tooltip(),
                data=s.points,
                width="100%",
                height=180,
            ),
            rx.text(s.summary, size="1", color_scheme="gray", class_name="chart-summary"),
            width="100%",
            spacing="2",
            class_name="response-chart",
        ),
    )
