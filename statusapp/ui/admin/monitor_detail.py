"""One service's monitor in the console: the form (with "test now" before saving), the push URL
of a heartbeat monitor, the last checks with their reasons and response times, a response-time
chart and the daily rollups."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import reflex as rx

from statusapp import routes
from statusapp.domain import Actor, NotFound
from statusapp.domain import monitoring as ops
from statusapp.domain.monitor_spec import DEFAULT_INTERVAL, DEFAULT_TIMEOUT, FAILURE_STATUSES, METHODS, CheckKind
from statusapp.monitoring.tryout import TryoutResult, try_monitor
from statusapp.queries.monitoring import (
    ChartPoint,
    CheckRow,
    DailyRow,
    MonitorDetail,
    MonitorRow,
    load_console_chart,
    load_monitor_detail,
)
from statusapp.settings import get_settings
from statusapp.ui.admin.layout import console, field
from statusapp.ui.admin.monitors import REFRESH_MS, ReadingAdmin, recent_marks
from statusapp.ui.components import card, confirm_button, status_badge
from statusapp.ui.format import time_text

DEFAULT_FORM = {
    "kind": CheckKind.http.value,
    "interval_seconds": str(DEFAULT_INTERVAL),
    "url": "",
    "method": "GET",
    "expected_statuses": "200-299",
    "timeout_seconds": f"{DEFAULT_TIMEOUT:g}",
    "headers": "",
    "keyword": "",
    "keyword_must_be_absent": "",
    "degraded_above_ms": "",
    "ignore_tls_errors": "",
    "host": "",
    "port": "",
    "grace_seconds": "60",
    "failures_to_confirm": "2",
    "successes_to_recover": "1",
    "failure_status": FAILURE_STATUSES[0].value,
}
# The fields each kind sends (the others would be refused or ignored).
KIND_FIELDS = {
    CheckKind.http.value: ("url", "method", "expected_statuses", "timeout_seconds", "headers", "keyword",
                           "keyword_must_be_absent", "degraded_above_ms", "ignore_tls_errors"),
    CheckKind.tcp.value: ("host", "port", "timeout_seconds", "degraded_above_ms"),
    CheckKind.push.value: ("grace_seconds",),
}
COMMON_FIELDS = ("kind", "interval_seconds", "failures_to_confirm", "successes_to_recover", "failure_status")


def monitor_page_data(*, actor: Actor, service_id: int) -> MonitorDetail:
    detail = load_monitor_detail(actor.organization_id, service_id)
    if detail is None:
        raise NotFound("service", service_id)
    return detail


def console_chart(*, actor: Actor, service_id: int, range_: str) -> list[ChartPoint]:
    return load_console_chart(actor.organization_id, service_id, range_)


def chart_data(points: list[ChartPoint], range_: str) -> list[dict[str, Any]]:
    """Chart points as recharts takes them, labelled in UTC (like every console time)."""
    fmt = "%H:%M" if range_ == "24h" else "%a %H:%M"
    return [{**dataclasses.asdict(p), "label": dt.datetime.fromisoformat(p.at).strftime(fmt)} for p in points]


class MonitorDetailAdmin(ReadingAdmin):
    row: MonitorRow = MonitorRow()
    form: dict[str, str] = dict(DEFAULT_FORM)
    auto_incident: bool = True
    enabled: bool = True
    has_push_token: bool = False
    push_url: str = ""  # a new push URL, shown once
    tryout: TryoutResult = TryoutResult()
    tried: bool = False
    checks: list[CheckRow] = []
    daily: list[DailyRow] = []
    chart_range: str = "24h"
    chart: list[dict[str, Any]] = []  # ChartPoint as dicts: what recharts takes

    @rx.var
    def service_id(self) -> int:
        raw = routes.admin_monitor_service_id(self.router.url.path)
        return int(raw) if raw.isdigit() else 0

    @rx.event
    async def open_monitor(self):
        await self.open_console()
        self.push_url, self.tried, self.tryout = "", False, TryoutResult()
        return await self._load(reset_form=True)

    @rx.event
    async def reload(self):
        return await self._load(reset_form=False)

    async def _load(self, *, reset_form: bool):
        out = await self._read(monitor_page_data, service_id=self.service_id)
        if not out.ok:
            return out.event
        detail: MonitorDetail = out.value
        self.row, self.checks, self.daily, self.has_push_token = detail.row, detail.checks, detail.daily, detail.has_push_token
        if reset_form:
            self.form = {**DEFAULT_FORM, **detail.form}
            self.auto_incident = detail.auto_incident
            self.enabled = detail.row.enabled or not detail.row.has_monitor
        chart = await self._read(console_chart, service_id=self.service_id, range_=self.chart_range)
        if chart.ok:
            self.chart = chart_data(chart.value, self.chart_range)
        return chart.event

    @rx.event
    def set_field(self, key: str, value: str):
        self.form = {**self.form, key: value}
        self.tried = False

    @rx.event
    def set_flag(self, key: str, value: bool):
        self.form = {**self.form, key: "true" if value else ""}
        self.tried = False

    @rx.event
    def set_auto_incident(self, value: bool):
        self.auto_incident = bool(value)

    @rx.event
    def set_enabled(self, value: bool):
        self.enabled = bool(value)

    def _data(self) -> dict[str, object]:
        kind = self.form.get("kind", CheckKind.http.value)
        keys = COMMON_FIELDS + KIND_FIELDS.get(kind, ())
        return {k: self.form.get(k, "") for k in keys}

    @rx.event
    async def test_now(self):
        self.tried = False
        out = await self._call(try_monitor, data=self._data())
        if out.ok:
            self.tryout, self.tried = out.value, True
        return out.event

    @rx.event
    async def save(self):
        data = {**self._data(), "auto_incident": self.auto_incident, "enabled": self.enabled}
        out = await self._call(ops.set_monitor, service_id=self.service_id, data=data)
        if not out.ok:
            return out.event
        self.notice = "Monitor saved."
        if out.value.push_token:
            self.push_url = get_settings().public_url.rstrip("/") + routes.push_path(out.value.push_token)
        return await self._load(reset_form=True)

    @rx.event
    async def regenerate(self):
        out = await self._call(ops.regenerate_push_token, service_id=self.service_id)
        if out.ok:
            self.push_url = get_settings().public_url.rstrip("/") + routes.push_path(out.value)
            self.notice = "A new push URL was made; the old one no longer works."
        return out.event

    @rx.event
    async def delete(self):
        out = await self._call(ops.delete_monitor, service_id=self.service_id)
        if out.ok:
            self.notice, self.push_url = "Monitor removed.", ""
            return await self._load(reset_form=True)
        return out.event

    @rx.event
    async def set_chart_range(self, value: str | list[str]):
        self.chart_range = value if value in ("24h", "7d") else "24h"
        out = await self._read(console_chart, service_id=self.service_id, range_=self.chart_range)
        if out.ok:
            self.chart = chart_data(out.value, self.chart_range)
        return out.event


# ---- the form ---------------------------------------------------------------------------------


def text_input(label: str, key: str, hint: str = "", **props) -> rx.Component:
    s = MonitorDetailAdmin
    return field(label, rx.input(value=s.form[key], on_change=lambda v: s.set_field(key, v), id=f"monitor-{key}",
                                 width="100%", **props), key, hint)


def select_input(label: str, key: str, options: list[str]) -> rx.Component:
    s = MonitorDetailAdmin
    return field(label, rx.select(options, value=s.form[key], on_change=lambda v: s.set_field(key, v),
                                  id=f"monitor-{key}", aria_label=label), key)


def flag_input(label: str, key: str) -> rx.Component:
    s = MonitorDetailAdmin
    return field("", rx.checkbox(label, checked=s.form[key] == "true", on_change=lambda v: s.set_flag(key, v),
                                 id=f"monitor-{key}"), key)


def http_fields() -> rx.Component:
    return rx.vstack(
        text_input("URL", "url", "http:// or https://", placeholder="https://example.com/health"),
        rx.hstack(
            select_input("Method", "method", list(METHODS)),
            text_input("Expected status codes", "expected_statuses", "e.g. 200-299, 301"),
            text_input("Timeout (s)", "timeout_seconds"),
            width="100%",
        ),
        field("Headers", rx.text_area(value=MonitorDetailAdmin.form["headers"],
                                      on_change=lambda v: MonitorDetailAdmin.set_field("headers", v),
                                      id="monitor-headers", width="100%", rows="3"),
              "headers", "one 'Name: value' per line"),
        rx.hstack(
            text_input("Keyword", "keyword", "must appear in the body (optional)"),
            text_input("Degraded above (ms)", "degraded_above_ms", "slower than this: degraded (optional)"),
            width="100%",
        ),
        rx.hstack(
            flag_input("The keyword must NOT appear", "keyword_must_be_absent"),
            flag_input("Accept invalid TLS certificates (self-signed, expired)", "ignore_tls_errors"),
            wrap="wrap",
        ),
        width="100%",
    )


def tcp_fields() -> rx.Component:
    return rx.hstack(
        text_input("Host", "host", "name or IP address", placeholder="db.internal"),
        text_input("Port", "port"),
        text_input("Timeout (s)", "timeout_seconds"),
        text_input("Degraded above (ms)", "degraded_above_ms", "optional"),
        width="100%",
        wrap="wrap",
    )


def push_fields() -> rx.Component:
    s = MonitorDetailAdmin
    return rx.vstack(
        text_input("Grace (s)", "grace_seconds", "how late a heartbeat may be past the interval"),
        rx.text("Your job calls a secret URL (GET or POST) at least every interval; add ?status=down&msg=… "
                "to report a failure. A missed heartbeat counts as a failed check.", size="2"),
        rx.cond(
            s.has_push_token,
            rx.hstack(
                rx.text("The push URL was shown when it was made; it is stored hashed and cannot be shown again.",
                        size="1", color_scheme="gray"),
                confirm_button("New push URL", "Make a new push URL?", "The current URL stops working at once.",
                               s.regenerate, size="1", variant="soft"),
                align="center",
            ),
        ),
        width="100%",
    )


def tryout_result() -> rx.Component:
    t = MonitorDetailAdmin.tryout
    return rx.cond(
        MonitorDetailAdmin.tried,
        rx.callout(
            rx.text(rx.cond(t.ok, rx.cond(t.degraded, "Up, but slow: ", "Up: "), "Failed: "), t.reason,
                    rx.cond(t.latency_ms != None, " (" + t.latency_ms.to(int).to_string() + " ms)", "")),  # noqa: E711
            color_scheme=rx.cond(t.ok, rx.cond(t.degraded, "amber", "green"), "red"),
            id="tryout-result",
            role="status",
        ),
    )


def monitor_form() -> rx.Component:
    s = MonitorDetailAdmin
    kind = s.form["kind"]
    return card(
        rx.vstack(
            rx.heading(rx.cond(s.row.has_monitor, "Monitor", "Set up a monitor"), size="4"),
            rx.hstack(
                select_input("Kind", "kind", [k.value for k in CheckKind]),
                text_input("Every (s)", "interval_seconds", "10 s to 1 h"),
                width="100%",
            ),
            rx.match(kind, ("tcp", tcp_fields()), ("push", push_fields()), http_fields()),
            rx.heading("When to believe it", size="3"),
            rx.hstack(
                text_input("Failures to confirm", "failures_to_confirm", "in a row, 1 to 10"),
                text_input("Successes to recover", "successes_to_recover", "in a row, 1 to 10"),
                select_input("Status when down", "failure_status", [f.value for f in FAILURE_STATUSES]),
                width="100%",
                wrap="wrap",
            ),
            rx.checkbox("Open an incident when it goes down (and resolve it on recovery)", checked=s.auto_incident,
                        on_change=s.set_auto_incident, id="monitor-auto_incident"),
            rx.checkbox("Enabled (unticked: paused, its verdict withdrawn)", checked=s.enabled, on_change=s.set_enabled,
                        id="monitor-enabled"),
            tryout_result(),
            rx.hstack(
                rx.cond(kind != "push", rx.button("Test now", variant="soft", on_click=s.test_now, id="monitor-test")),
                rx.button("Save monitor", on_click=s.save, id="monitor-save"),
                rx.cond(s.row.has_monitor,
                        confirm_button("Remove monitor", "Remove this monitor?",
                                       "Its verdict is withdrawn and its raw checks deleted; daily figures stay.",
                                       s.delete, variant="soft")),
                spacing="3",
            ),
            rx.cond(
                s.push_url != "",
                rx.callout(
                    rx.vstack(
                        rx.text("Push URL (shown once: copy it now):", weight="bold"),
                        rx.code(s.push_url, id="push-url", style={"word_break": "break-all"}),
                        rx.button("Copy", size="1", variant="soft", on_click=rx.set_clipboard(s.push_url)),
                        spacing="1",
                    ),
                    color_scheme="blue",
                ),
            ),
            width="100%",
        )
    )


# ---- what it saw --------------------------------------------------------------------------------


def check_line(c) -> rx.Component:
    return rx.table.row(
        rx.table.cell(time_text(c.checked_at, "UTC"), white_space="nowrap"),
        rx.table.cell(rx.text(rx.cond(c.ok, rx.cond(c.degraded, "Slow", "Up"), "Down"), weight="medium",
                              color=rx.cond(c.ok, rx.cond(c.degraded, "var(--amber-11)", "var(--green-11)"),
                                            "var(--red-11)"))),
        rx.table.cell(c.reason, style={"word_break": "break-word"}),
        rx.table.cell(rx.cond(c.latency_ms != None, c.latency_ms.to(int).to_string() + " ms", "–")),  # noqa: E711
        class_name="check-row",
    )


def daily_line(d) -> rx.Component:
    return rx.table.row(
        rx.table.cell(d.day),
        rx.table.cell(d.checks.to_string()),
        rx.table.cell(d.failures.to_string()),
        rx.table.cell(rx.cond(d.avg_latency_ms != None, d.avg_latency_ms.to(int).to_string() + " ms", "–")),  # noqa: E711
        rx.table.cell(rx.cond(d.p95_latency_ms != None, d.p95_latency_ms.to(int).to_string() + " ms", "–")),  # noqa: E711
    )


def state_card() -> rx.Component:
    row = MonitorDetailAdmin.row
    return card(
        rx.hstack(
            rx.text("Verdict: "),
            status_badge(row.verdict_label, row.verdict_color, row.verdict_text_color),
            rx.cond(row.pending != "", rx.badge("Unconfirmed: " + row.pending, color_scheme="orange",
                                                class_name="unconfirmed")),
            recent_marks(row.recent, row.recent_words),
            rx.button("Refresh", size="1", variant="soft", on_click=MonitorDetailAdmin.reload),
            align="center",
            wrap="wrap",
            spacing="3",
        ),
    )


def chart_card() -> rx.Component:
    s = MonitorDetailAdmin
    return card(
        rx.hstack(
            rx.heading("Response time", size="4"),
            rx.segmented_control.root(
                rx.segmented_control.item("24 h", value="24h"),
                rx.segmented_control.item("7 days", value="7d"),
                value=s.chart_range,
                on_change=s.set_chart_range,
                size="1",
            ),
            justify="between",
            width="100%",
        ),
        rx.recharts.composed_chart(
            rx.recharts.line(data_key="ms", stroke="var(--accent-9)", dot={"r": 2}, name="Average (ms)",
                             is_animation_active=False),
            rx.recharts.bar(data_key="failures", fill="var(--red-9)", name="Failed checks", y_axis_id="failures"),
            rx.recharts.x_axis(data_key="label", min_tick_gap=40, tick_line=False),
            rx.recharts.y_axis(unit=" ms", width=70),
            rx.recharts.y_axis(y_axis_id="failures", orientation="right", allow_decimals=False, width=40),
            rx.recharts.cartesian_grid(stroke_dasharray="3 3", vertical=False),
            rx.recharts.graphing_tooltip(),
            data=s.chart,
            width="100%",
            height=220,
        ),
    )


def monitor_detail_page() -> rx.Component:
    s = MonitorDetailAdmin
    return console(
        "Monitor",
        rx.moment(interval=REFRESH_MS, on_change=lambda _v: s.reload(), display="none"),
        rx.hstack(
            rx.link("← Monitors", href=routes.ADMIN_MONITORS),
            rx.heading(s.row.service_name, size="5", id="monitor-service"),
            align="center",
            spacing="4",
        ),
        rx.cond(s.row.has_monitor, state_card()),
        monitor_form(),
        rx.cond(s.row.has_monitor & (s.row.kind != "push"), chart_card()),
        rx.cond(
            s.row.has_monitor,
            card(
                rx.heading("Last checks", size="4"),
                rx.table.root(
                    rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in
                                                   ("When", "Result", "Reason", "Response time")])),
                    rx.table.body(rx.foreach(s.checks, check_line)),
                    width="100%",
                    id="last-checks",
                ),
            ),
        ),
        rx.cond(
            s.daily.length() > 0,
            card(
                rx.heading("Per day (UTC)", size="4"),
                rx.table.root(
                    rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in
                                                   ("Day", "Checks", "Failures", "Average", "p95")])),
                    rx.table.body(rx.foreach(s.daily, daily_line)),
                    width="100%",
                ),
            ),
        ),
    )
