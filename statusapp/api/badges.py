"""SVG status badges (shields.io's flat look) for READMEs and dashboards.

`<page url>/badge.svg`: the page's overall status. `<page url>/services/<id or slug>/badge.svg`:
one service's status, or with `?metric=uptime` its uptime over the page's last 90 days.
Bodies are cached per page entry (rebuilt after a change) with an ETag; an uptime figure is
recomputed at most once a minute per service and worker (it moves with time, not only with
changes). Every text is XML-escaped; the colours are the accessible status fills.
"""

from __future__ import annotations

import asyncio
import time
from typing import Literal
from xml.sax.saxutils import escape, quoteattr

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response

from statusapp import routes
from statusapp.api.cache import Rendered, Unavailable
from statusapp.api.v2 import PUBLIC_HEADERS, PlainRoute, cached_response, page_entry
from statusapp.enums import PageIndicator, ServiceStatus
from statusapp.queries.statuspage import UPTIME_DAYS, load_service_uptime

SVG_TYPE = "image/svg+xml; charset=utf-8"
LABEL_COLOR = "#555"
NO_DATA_COLOR = "#6b7280"
UPTIME_TTL_SECONDS = 60.0

# Short words for the overall status (the banner's sentences are too long for a badge).
INDICATOR_WORDS = {
    PageIndicator.none: "operational",
    PageIndicator.maintenance: "maintenance",
    PageIndicator.minor: "degraded",
    PageIndicator.major: "partial outage",
    PageIndicator.critical: "major outage",
}
# Uptime colour: the fill of the status such an uptime suggests (lowest bound first that fits).
UPTIME_COLORS = ((99.9, ServiceStatus.operational), (99.0, ServiceStatus.degraded_performance),
                 (95.0, ServiceStatus.partial_outage), (0.0, ServiceStatus.major_outage))
MAX_TEXT = 60  # characters of a name shown on a badge

# Approximate advance widths of Verdana 11px (what shields measures), by character class.
_NARROW = set("fijlrtI.,:;!|'()[] ")
_WIDE = set("mwMW@%")


def _text_width(text: str) -> float:
    width = 0.0
    for ch in text:
        if ch in _NARROW:
            width += 4.0
        elif ch in _WIDE:
            width += 10.5
        elif ch.isupper() or ch.isdigit():
            width += 7.5
        else:
            width += 6.6
    return width


def _shorten(text: str) -> str:
    text = "".join(ch for ch in text if ch.isprintable())
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


def badge_svg(label: str, message: str, color: str) -> bytes:
    """A flat two-part badge: grey `label`, coloured `message` (both escaped)."""
    label, message = _shorten(label), _shorten(message)
    lw = round(_text_width(label) + 10)
    mw = round(_text_width(message) + 10)
    width = lw + mw
    title = escape(f"{label}: {message}")
    lx, mx = lw / 2, lw + mw / 2
    el, em = escape(label), escape(message)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="20" role="img" '
        f"aria-label={quoteattr(f'{label}: {message}')}><title>{title}</title>"
        '<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/>'
        '<stop offset="1" stop-opacity=".1"/></linearGradient>'
        f'<clipPath id="r"><rect width="{width}" height="20" rx="3" fill="#fff"/></clipPath>'
        f'<g clip-path="url(#r)"><rect width="{lw}" height="20" fill="{LABEL_COLOR}"/>'
        f'<rect x="{lw}" width="{mw}" height="20" fill="{color}"/>'
        f'<rect width="{width}" height="20" fill="url(#s)"/></g>'
        '<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" '
        'text-rendering="geometricPrecision" font-size="11">'
        f'<text x="{lx:g}" y="15" fill="#010101" fill-opacity=".3">{el}</text><text x="{lx:g}" y="14">{el}</text>'
        f'<text x="{mx:g}" y="15" fill="#010101" fill-opacity=".3">{em}</text><text x="{mx:g}" y="14">{em}</text>'
        "</g></svg>"
    ).encode("utf-8", "replace")


def uptime_text(uptime: float | None) -> tuple[str, str]:
    """(message, colour) of an uptime badge."""
    if uptime is None:
        return "no data", NO_DATA_COLOR
    color = next(status.color for bound, status in UPTIME_COLORS if uptime >= bound)
    return ("100%" if uptime >= 99.995 else f"{uptime:.2f}%"), color


class UptimeFigures:
    """Per worker: a service's uptime, recomputed at most every `ttl` seconds, one load at a time."""

    def __init__(self, ttl: float = UPTIME_TTL_SECONDS) -> None:
        self.ttl = ttl
        self._values: dict[tuple[int, str], tuple[float, float | None]] = {}
        self._flights: dict[tuple[int, str], asyncio.Future] = {}

    async def get(self, service_id: int, time_zone: str) -> float | None:
        key = (service_id, time_zone)
        found = self._values.get(key)
        if found is not None and time.monotonic() - found[0] < self.ttl:
            return found[1]
        flight = self._flights.get(key)
        if flight is None:
            flight = asyncio.ensure_future(asyncio.to_thread(load_service_uptime, service_id, time_zone))
            self._flights[key] = flight
            flight.add_done_callback(lambda _f: self._flights.pop(key, None))
        try:
            value = await asyncio.shield(flight)
        except Exception as exc:  # database unreachable: the last figure, else 503
            if found is None:
                raise Unavailable(str(exc)) from exc
            self._values[key] = (time.monotonic(), found[1])
            return found[1]
        self._values[key] = (time.monotonic(), value)
        return value


uptime_figures = UptimeFigures()
router = APIRouter(tags=["badges"], route_class=PlainRoute)
BADGE_RESPONSES = {200: {"content": {"image/svg+xml": {}}}, 304: {"description": "Not modified"},
                   404: {"description": "No such public page or service"}}


def _not_found(what: str) -> Response:
    return JSONResponse({"error": "not_found", "message": f"There is no {what} here."}, status_code=404,
                        headers=PUBLIC_HEADERS)


async def serve_page_badge(request: Request) -> Response:
    entry = await page_entry(request)
    if entry is None:
        return _not_found("public status page")

    def build(data) -> bytes:
        indicator = PageIndicator(data.indicator)
        return badge_svg("status", INDICATOR_WORDS[indicator], indicator.color)

    return cached_response(request, entry.render(("badge",), build), SVG_TYPE)


async def serve_service_badge(request: Request, service: str) -> Response:
    metric = request.query_params.get("metric", "status")
    if metric not in METRICS:
        return JSONResponse({"error": "invalid", "message": "Invalid input.",
                             "errors": [{"field": "metric", "reason": f"Use one of: {', '.join(METRICS)}."}]},
                            status_code=422, headers=PUBLIC_HEADERS)
    entry = await page_entry(request)
    component = entry.data.service_by_key(service) if entry is not None else None
    if component is None:
        return _not_found("service on a public status page")
    if metric == "uptime":
        value = await uptime_figures.get(int(component.id), entry.data.time_zone)
        message, color = uptime_text(value)
        svg = badge_svg(f"{component.name} uptime", message, color)
        return cached_response(request, Rendered.of(svg), SVG_TYPE)
    status = ServiceStatus(component.status)
    rendered = entry.render(("badge", component.id),
                            lambda _d: badge_svg(component.name, status.label.lower(), status.color))
    return cached_response(request, rendered, SVG_TYPE)


METRICS = ("status", "uptime")
Metric = Literal["status", "uptime"]
METRIC_QUERY = Query("status", description=f"`status`, or `uptime` for the last {UPTIME_DAYS} days")

_svc_page, _svc_host = routes.page_patterns("services/{service}/badge.svg")


@router.get(_svc_page, response_class=Response, responses=BADGE_RESPONSES, summary="A service's badge")
async def service_badge(request: Request, slug: str, service: str, metric: Metric = METRIC_QUERY) -> Response:
    return await serve_service_badge(request, service)  # PlainRoute: `metric` is read from the request


@router.get(_svc_host, response_class=Response, responses=BADGE_RESPONSES, summary="A service's badge (Host's page)")
async def host_service_badge(request: Request, service: str, metric: Metric = METRIC_QUERY) -> Response:
    return await serve_service_badge(request, service)
