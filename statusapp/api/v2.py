"""Statuspage-compatible public JSON (`<page url>/api/v2/*.json`), so the exporters, chat bots,
dashboards and aggregators that read Statuspage's documents read ours unchanged.

Shapes: /work/shared/notes/statuspage-api-v2.md (keys, nesting, enums, timestamps with the
page's UTC offset and milliseconds). Ids are our integer ids as strings; a group's id is
`g<id>`. `summary.json` is the one document a frontend needs (page, components, unresolved
incidents, upcoming and in-progress maintenances, overall status).

A scheduled maintenance is Statuspage's scheduled incident: the incident object with impact
"maintenance", status scheduled / in_progress / verifying / completed, and `scheduled_for` /
`scheduled_until`. `upcoming.json` lists the scheduled ones (soonest first), `active.json` those
in progress or verifying, `scheduled-maintenances.json` every one (latest start first: the open
ones and the 50 most recent completed). A cancelled maintenance is left out of every document:
Statuspage has no cancelled status (a called-off window is deleted there), so a client that
knows only its four statuses never meets a fifth; the calendar (feeds.py) marks it CANCELLED.

Bodies come from the per-worker cache (api/cache.py) with a strong ETag (If-None-Match -> 304),
a short Cache-Control and `Access-Control-Allow-Origin: *` (public data, no credentials).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response
from fastapi.routing import APIRoute

from statusapp import routes
from statusapp.api.cache import PageEntry, Rendered, Unavailable, documents
from statusapp.enums import PageIndicator
from statusapp.queries.statuspage import INCIDENT_LIMIT, Component, IncidentData, MaintenanceData, StatuspageData
from statusapp.settings import get_settings

JSON_TYPE = "application/json; charset=utf-8"
CACHE_CONTROL = "public, max-age=1"
PUBLIC_HEADERS = {"Cache-Control": CACHE_CONTROL, "Access-Control-Allow-Origin": "*"}
NOT_FOUND_JSON = b'{"error":"not_found","message":"There is no public status page here."}'
UNAVAILABLE_JSON = b'{"error":"unavailable","message":"The status cannot be read right now; retry shortly."}'


# ---- shared response helpers (badges and feeds use them too) ------------------------------
def not_modified(request: Request, rendered: Rendered) -> bool:
    header = request.headers.get("if-none-match")
    if not header:
        return False
    tags = {t.strip().removeprefix("W/") for t in header.split(",")}
    return rendered.etag in tags or "*" in tags


def cached_response(request: Request, rendered: Rendered, media_type: str) -> Response:
    headers = {**PUBLIC_HEADERS, "ETag": rendered.etag}
    if not_modified(request, rendered):
        return Response(status_code=304, headers=headers)
    return Response(rendered.body, media_type=media_type, headers=headers)


def page_not_found() -> Response:
    return Response(NOT_FOUND_JSON, status_code=404, media_type=JSON_TYPE,
                    headers={"Access-Control-Allow-Origin": "*", "Cache-Control": CACHE_CONTROL})


async def page_entry(request: Request) -> PageEntry | None:
    """The cached entry of the page this request names: `slug` in the path, else the Host's."""
    slug = request.path_params.get("slug")
    return await documents.get(slug, None if slug is not None else request.headers.get("host"))


# ---- document building ------------------------------------------------------------------
@functools.lru_cache(maxsize=256)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


class Documents:
    """Builds the v2 objects of one page's data (components once, shared by every incident)."""

    def __init__(self, data: StatuspageData) -> None:
        self.data = data
        self.zone = _zone(data.time_zone)
        public_url = get_settings().public_url
        self.origin = routes.page_origin(public_url, data.domain)
        self.url = routes.page_url(public_url, data.slug, data.domain)
        self.page_id = str(data.page_id)
        self.components = [self.component(c) for c in data.components]
        self._by_id = {c["id"]: c for c in self.components}

    def ts(self, value: dt.datetime | None) -> str | None:
        if not value:
            return None
        try:
            return value.astimezone(self.zone).isoformat(timespec="milliseconds")
        except OverflowError:  # a time at the calendar's edge (year 9999 and an eastern zone): UTC
            return value.astimezone(dt.timezone.utc).isoformat(timespec="milliseconds")

    def page(self) -> dict[str, Any]:
        d = self.data
        return {"id": self.page_id, "name": d.name, "url": self.url, "time_zone": d.time_zone,
                "updated_at": self.ts(d.updated_at)}

    def status(self) -> dict[str, str]:
        indicator = PageIndicator(self.data.indicator)
        return {"indicator": indicator.value, "description": indicator.description}

    def component(self, c: Component) -> dict[str, Any]:
        out = {
            "id": c.id,
            "name": c.name,
            "status": c.status,
            "created_at": self.ts(c.created_at),
            "updated_at": self.ts(c.updated_at),
            "position": c.position,
            "description": c.description or None,
            "showcase": not c.is_group,
            "start_date": None,
            "group_id": c.group_id,
            "page_id": self.page_id,
            "group": c.is_group,
            "only_show_if_degraded": False,
        }
        if c.is_group:
            out["components"] = list(c.children)
        return out

    def _updates(self, incident_id: str, updates) -> list[dict[str, Any]]:
        return [
            {
                "id": str(u.id),
                "status": u.status,
                "body": u.body,
                "incident_id": incident_id,
                "created_at": self.ts(u.created_at),
                "updated_at": self.ts(u.created_at),
                "display_at": self.ts(u.display_at),
                "affected_components": [
                    {"code": a.code, "name": a.name, "old_status": a.old_status, "new_status": a.new_status}
                    for a in u.affected
                ] or None,
                "deliver_notifications": u.deliver_notifications,
                "custom_tweet": None,
                "tweet_id": None,
            }
            for u in updates
        ]

    def incident(self, inc: IncidentData) -> dict[str, Any]:
        incident_id = str(inc.id)
        return {
            "id": incident_id,
            "name": inc.name,
            "status": inc.status,
            "created_at": self.ts(inc.created_at),
            "updated_at": self.ts(inc.updated_at),
            "monitoring_at": self.ts(inc.monitoring_at),
            "resolved_at": self.ts(inc.resolved_at),
            "impact": inc.impact,
            "shortlink": self.origin + routes.incident_path(self.data.slug, inc.id),
            "started_at": self.ts(inc.started_at),
            "page_id": self.page_id,
            "incident_updates": self._updates(incident_id, inc.updates),
            "components": [self._by_id[c] for c in inc.component_ids if c in self._by_id],
        }

    def maintenance(self, m: MaintenanceData) -> dict[str, Any]:
        """Statuspage's scheduled incident: `monitoring_at` is when verifying began,
        `resolved_at` when it completed, `started_at` when it started (its creation while
        still scheduled, as Statuspage); the shortlink is its page on the status page."""
        maintenance_id = str(m.id)
        return {
            "id": maintenance_id,
            "name": m.name,
            "status": m.status,
            "created_at": self.ts(m.created_at),
            "updated_at": self.ts(m.updated_at),
            "monitoring_at": self.ts(m.verifying_at),
            "resolved_at": self.ts(m.completed_at),
            "impact": "maintenance",
            "shortlink": self.origin + routes.maintenance_path(self.data.slug, m.id),
            "started_at": self.ts(m.started_at or m.created_at),
            "page_id": self.page_id,
            "incident_updates": self._updates(maintenance_id, m.updates),
            "components": [self._by_id[c] for c in m.component_ids if c in self._by_id],
            "scheduled_for": self.ts(m.scheduled_for),
            "scheduled_until": self.ts(m.scheduled_until),
        }

    def maintenances(self, which: str) -> list[dict[str, Any]]:
        """"all" (latest start first), "upcoming", "active", or "summary" (active then
        upcoming, each soonest first); never a cancelled one."""
        shown = [m for m in self.data.maintenances if not m.cancelled]
        if which == "all":
            chosen = sorted(shown, key=lambda m: (m.scheduled_for, m.id), reverse=True)
        else:
            soonest = sorted(shown, key=lambda m: (m.scheduled_for, m.id))
            active = [m for m in soonest if m.active]
            upcoming = [m for m in soonest if m.upcoming]
            chosen = {"upcoming": upcoming, "active": active, "summary": active + upcoming}[which]
        return [self.maintenance(m) for m in chosen]

    def incidents(self, *, unresolved: bool) -> list[dict[str, Any]]:
        if unresolved:
            return [self.incident(i) for i in self.data.incidents if i.active]
        return [self.incident(i) for i in self.data.incidents[:INCIDENT_LIMIT]]


def _dump(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8", "replace")


def summary(docs: Documents) -> dict[str, Any]:
    return {
        "page": docs.page(),
        "components": docs.components,
        "incidents": docs.incidents(unresolved=True),
        "scheduled_maintenances": docs.maintenances("summary"),  # in progress + upcoming
        "status": docs.status(),
    }


BUILDERS: dict[str, Callable[[Documents], dict[str, Any]]] = {
    "summary.json": summary,
    "status.json": lambda d: {"page": d.page(), "status": d.status()},
    "components.json": lambda d: {"page": d.page(), "components": d.components},
    "incidents.json": lambda d: {"page": d.page(), "incidents": d.incidents(unresolved=False)},
    "incidents/unresolved.json": lambda d: {"page": d.page(), "incidents": d.incidents(unresolved=True)},
    "scheduled-maintenances.json": lambda d: {"page": d.page(), "scheduled_maintenances": d.maintenances("all")},
    "scheduled-maintenances/upcoming.json":
        lambda d: {"page": d.page(), "scheduled_maintenances": d.maintenances("upcoming")},
    "scheduled-maintenances/active.json":
        lambda d: {"page": d.page(), "scheduled_maintenances": d.maintenances("active")},
}
assert set(BUILDERS) == set(routes.V2_DOCUMENTS)


def build_document(name: str, data: StatuspageData) -> bytes:
    return _dump(BUILDERS[name](Documents(data)))


# ---- routes -------------------------------------------------------------------------------
class PlainRoute(APIRoute):
    """A route documented in OpenAPI like any other, but served without FastAPI's per-request
    parameter machinery (measured here: ~150 µs of a ~250 µs request): the endpoint gets the
    request and the path parameters as strings, and reads and checks any query parameter
    itself. Only for the public GETs that tools poll and READMEs embed."""

    def get_route_handler(self) -> Callable:
        endpoint = self.endpoint

        async def handler(request: Request) -> Response:
            try:
                return await endpoint(request, **request.path_params)
            except Unavailable:
                return Response(UNAVAILABLE_JSON, status_code=503, media_type=JSON_TYPE,
                                headers={"Retry-After": "5", "Access-Control-Allow-Origin": "*"})

        return handler


router = APIRouter(tags=["public (Statuspage v2)"], route_class=PlainRoute)
RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/json": {}}},
    304: {"description": "Not modified (the ETag sent in If-None-Match is current)"},
    404: {"description": "No such public page"},
}


DOCUMENT_PARAM = Path(description="One of Statuspage's documents", json_schema_extra={"enum": list(routes.V2_DOCUMENTS)})


async def serve_document(request: Request, document: str) -> Response:
    if document not in BUILDERS:
        return page_not_found()
    entry = await page_entry(request)
    if entry is None:
        return page_not_found()
    rendered = entry.render(("v2", document), functools.partial(build_document, document))
    return cached_response(request, rendered, JSON_TYPE)


# One route per page form (not one per document): every request that reaches Reflex is matched
# against the routes before it, so the API keeps their number small.
_by_slug, _by_host = routes.page_patterns("api/v2/{document:path}")


@router.get(_by_slug, response_class=Response, responses=RESPONSES, summary="A document of the public page `slug`")
async def page_document(request: Request, slug: str, document: str = DOCUMENT_PARAM) -> Response:
    return await serve_document(request, document)


@router.get(_by_host, response_class=Response, responses=RESPONSES,
            summary="A document of the page `/` shows for this Host (default page or custom domain)")
async def host_document(request: Request, document: str = DOCUMENT_PARAM) -> Response:
    return await serve_document(request, document)
