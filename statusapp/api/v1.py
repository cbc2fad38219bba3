"""The admin REST API (`/api/v1`, OpenAPI at /api/openapi.json, docs at /api/docs).

Thin: each route reads its input (pydantic models, unknown fields refused), calls the same
domain operation as the console, and answers from the REST read models. So a change made here
reaches the live pages, the outbox and the status history exactly as from the console, and the
history records the API key that made it (`Actor.api_key_id`). Errors: see api/deps.py.

Ids are strings in answers (as in the public JSON: a service's `id` here is its component id
in components.json); requests accept a service id as a number or a string of digits.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from statusapp import routes
from statusapp.api.deps import ApiActor, ApiRoute
from statusapp.domain import NotFound, ValidationError
from statusapp.domain import incidents as incident_ops
from statusapp.domain import maintenance as maintenance_ops
from statusapp.domain import pages as page_ops
from statusapp.domain import services as service_ops
from statusapp.domain.validation import MAX_ID
from statusapp.enums import IncidentImpact, IncidentStatus, MaintenanceStatus, ServiceStatus
from statusapp.queries import rest
from statusapp.settings import get_settings

router = APIRouter(prefix=routes.API_V1, route_class=ApiRoute, tags=["admin (v1)"])
PageId = Annotated[int, Path(ge=1, le=MAX_ID, description="A status page id")]
ServiceIdPath = Annotated[int, Path(ge=1, le=MAX_ID, description="A service id (its component id)")]
IncidentId = Annotated[int, Path(ge=1, le=MAX_ID, description="An incident id")]
MaintenanceId = Annotated[int, Path(ge=1, le=MAX_ID, description="A maintenance id")]
SeriesId = Annotated[int, Path(ge=1, le=MAX_ID, description="A maintenance series id")]
ServiceRef = Annotated[int | str, Field(description="A service id, as in components.json (number or digits)")]
ERRORS = {401: {"description": "No valid API key"}, 404: {"description": "No such id in your organization"},
          422: {"description": "Invalid input: `errors` lists each field and the reason"},
          429: {"description": "Rate limit of this key reached; see Retry-After"}}
WRITE_ERRORS = {**ERRORS, 409: {"description": "The slug (or domain) is taken"}}


def call(operation: Callable[..., Any], *, renames: dict[str, str] | None = None, **kwargs: Any) -> Any:
    """Run a domain operation; its field names are renamed to this API's where they differ."""
    try:
        return operation(**kwargs)
    except ValidationError as exc:
        if not renames:
            raise
        rename = lambda f: renames.get(f, f)  # noqa: E731
        raise ValidationError({rename(f): m for f, m in exc.errors.items()}, frozenset(map(rename, exc.conflicts))) from exc


def _iso(value: dt.datetime | None) -> str | None:
    return value.astimezone(dt.timezone.utc).isoformat() if value else None


def _sid(value: int | None) -> str | None:
    return None if value is None else str(value)


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ---- status pages -------------------------------------------------------------------------
class PageFields(Input):
    description: str | None = None
    is_public: bool | None = None
    custom_domain: str | None = Field(
        None, description="Host name to serve the page at `/` once its DNS TXT proof is checked; null removes it"
    )
    logo_url: str | None = None
    favicon_url: str | None = None
    brand_color: str | None = Field(None, description="#rrggbb")
    background_color: str | None = Field(None, description="#rrggbb, or empty for the theme's")
    time_zone: str | None = Field(None, description="IANA name, e.g. Europe/Paris")
    service_ids: list[ServiceRef] | None = Field(None, max_length=1000, description="Services shown, in order")


class PageCreate(PageFields):
    name: str
    slug: str


class PageUpdate(PageFields):
    name: str | None = None
    slug: str | None = None


class PageOut(BaseModel):
    id: str
    name: str
    slug: str
    url: str
    description: str
    is_public: bool
    custom_domain: str | None
    verified_domain: str | None
    logo_url: str
    favicon_url: str
    brand_color: str
    background_color: str
    time_zone: str
    service_ids: list[str]
    created_at: str
    updated_at: str


def _page_out(p: rest.PageRow) -> PageOut:
    return PageOut(
        id=str(p.id), name=p.name, slug=p.slug, url=routes.page_url(get_settings().public_url, p.slug, p.verified_domain or ""),
        description=p.description, is_public=p.is_public, custom_domain=p.custom_domain,
        verified_domain=p.verified_domain, logo_url=p.logo_url,
        favicon_url=p.favicon_url, brand_color=p.brand_color, background_color=p.background_color,
        time_zone=p.time_zone, service_ids=[str(i) for i in p.service_ids], created_at=_iso(p.created_at),
        updated_at=_iso(p.updated_at),
    )


def _page_fields(body: PageFields) -> dict[str, Any]:
    """What was sent, without nulls (null leaves a field unchanged; for custom_domain it removes it)."""
    return {k: v for k, v in body.model_dump(exclude_unset=True).items() if v is not None or k == "custom_domain"}


def _read_page(actor: ApiActor, page_id: int) -> PageOut:
    row = rest.get_page(actor.organization_id, page_id)
    if row is None:
        raise NotFound("status page", page_id)
    return _page_out(row)


@router.post("/status-pages", status_code=201, response_model=PageOut, responses=WRITE_ERRORS,
             summary="Create a status page")
def create_page(body: PageCreate, actor: ApiActor) -> PageOut:
    page = call(page_ops.create_page, actor=actor, **_page_fields(body))
    return _read_page(actor, page.id)


@router.get("/status-pages", response_model=list[PageOut], responses=ERRORS, summary="List status pages")
def list_pages(actor: ApiActor) -> list[PageOut]:
    return [_page_out(p) for p in rest.list_pages(actor.organization_id)]


@router.get("/status-pages/{page_id}", response_model=PageOut, responses=ERRORS, summary="Get a status page")
def get_page(page_id: PageId, actor: ApiActor) -> PageOut:
    return _read_page(actor, page_id)


@router.patch("/status-pages/{page_id}", response_model=PageOut, responses=WRITE_ERRORS,
              summary="Change a status page (only the fields sent)")
def update_page(page_id: PageId, body: PageUpdate, actor: ApiActor) -> PageOut:
    call(page_ops.update_page, actor=actor, page_id=page_id, **_page_fields(body))
    return _read_page(actor, page_id)


@router.delete("/status-pages/{page_id}", status_code=204, response_class=Response, responses=ERRORS,
               summary="Delete a status page (its services and incidents stay)")
def delete_page(page_id: PageId, actor: ApiActor) -> Response:
    call(page_ops.delete_page, actor=actor, page_id=page_id)
    return Response(status_code=204)


# ---- services -----------------------------------------------------------------------------
class ServiceCreate(Input):
    name: str
    slug: str
    description: str = ""
    group_id: int | None = Field(None, ge=1, le=MAX_ID)
    status: ServiceStatus = ServiceStatus.operational


class ServiceUpdate(Input):
    name: str | None = None
    slug: str | None = None
    description: str | None = None
    group_id: int | None = Field(None, ge=0, le=MAX_ID, description="0 or null removes the service from its group")


class ServiceStatusInput(Input):
    status: ServiceStatus


class ServiceOut(BaseModel):
    id: str
    name: str
    slug: str
    description: str
    group_id: str | None
    position: int
    status: ServiceStatus = Field(description="What pages show: the worst of `manual_status` and active incidents")
    manual_status: ServiceStatus
    created_at: str
    updated_at: str


def _read_service(actor: ApiActor, service_id: int) -> ServiceOut:
    s = rest.get_service(actor.organization_id, service_id)
    if s is None:
        raise NotFound("service", service_id)
    return _service_out(s)


def _service_out(s: rest.ServiceRow) -> ServiceOut:
    return ServiceOut(id=str(s.id), name=s.name, slug=s.slug, description=s.description, group_id=_sid(s.group_id),
                      position=s.position, status=s.status, manual_status=s.manual_status,
                      created_at=_iso(s.created_at), updated_at=_iso(s.updated_at))


@router.post("/services", status_code=201, response_model=ServiceOut, responses=WRITE_ERRORS,
             summary="Create a service")
def create_service(body: ServiceCreate, actor: ApiActor) -> ServiceOut:
    svc = call(service_ops.create_service, actor=actor, renames={"manual_status": "status"}, name=body.name,
               slug=body.slug, description=body.description, group_id=body.group_id, manual_status=body.status.value)
    return _read_service(actor, svc.id)


@router.get("/services", response_model=list[ServiceOut], responses=ERRORS, summary="List services")
def list_services(actor: ApiActor) -> list[ServiceOut]:
    return [_service_out(s) for s in rest.list_services(actor.organization_id)]


@router.get("/services/{service_id}", response_model=ServiceOut, responses=ERRORS, summary="Get a service")
def get_service(service_id: ServiceIdPath, actor: ApiActor) -> ServiceOut:
    return _read_service(actor, service_id)


@router.patch("/services/{service_id}", response_model=ServiceOut, responses=WRITE_ERRORS,
              summary="Change a service's name, slug, description or group")
def update_service(service_id: ServiceIdPath, body: ServiceUpdate, actor: ApiActor) -> ServiceOut:
    fields = {k: v for k, v in body.model_dump(exclude_unset=True).items() if v is not None or k == "group_id"}
    call(service_ops.update_service, actor=actor, service_id=service_id, **fields)
    return _read_service(actor, service_id)


@router.put("/services/{service_id}/status", response_model=ServiceOut, responses=ERRORS,
            summary="Set a service's status (shown unless an active incident imposes worse)")
def set_service_status(service_id: ServiceIdPath, body: ServiceStatusInput, actor: ApiActor) -> ServiceOut:
    call(service_ops.set_manual_status, actor=actor, service_id=service_id, status=body.status.value)
    return _read_service(actor, service_id)


@router.delete("/services/{service_id}", status_code=204, response_class=Response, responses=ERRORS,
               summary="Delete a service (its status history is kept)")
def delete_service(service_id: ServiceIdPath, actor: ApiActor) -> Response:
    call(service_ops.delete_service, actor=actor, service_id=service_id)
    return Response(status_code=204)


# ---- incidents ----------------------------------------------------------------------------
class AffectedService(Input):
    id: ServiceRef
    status: ServiceStatus | None = Field(None, description="Omitted: the default for the impact (create) or operational (update)")


Services = Annotated[list[AffectedService], Field(max_length=1000)]


class IncidentCreate(Input):
    title: str
    impact: IncidentImpact
    status: IncidentStatus = IncidentStatus.investigating
    message: str
    services: Services = []
    deliver_notifications: bool = True


class IncidentUpdateInput(Input):
    status: IncidentStatus
    message: str
    services: Services | None = None
    deliver_notifications: bool = True


class ResolveInput(Input):
    message: str = IncidentStatus.resolved.default_message
    deliver_notifications: bool = True


class ServiceState(BaseModel):
    id: str
    name: str
    status: ServiceStatus


class ServiceChange(BaseModel):
    id: str
    name: str
    old_status: ServiceStatus
    new_status: ServiceStatus


class UpdateOut(BaseModel):
    id: str
    status: IncidentStatus
    message: str
    created_at: str
    display_at: str
    affected_services: list[ServiceChange]


class IncidentOut(BaseModel):
    id: str
    title: str
    impact: IncidentImpact
    status: IncidentStatus
    started_at: str
    identified_at: str | None
    monitoring_at: str | None
    resolved_at: str | None
    created_at: str
    updated_at: str
    services: list[ServiceState] = Field(description="This incident's status of each affected service")
    updates: list[UpdateOut] = Field(description="Newest first")


def _incident_out(i: rest.IncidentRow) -> IncidentOut:
    return IncidentOut(
        id=str(i.id), title=i.title, impact=i.impact, status=i.status, started_at=_iso(i.started_at),
        identified_at=_iso(i.identified_at), monitoring_at=_iso(i.monitoring_at), resolved_at=_iso(i.resolved_at),
        created_at=_iso(i.created_at), updated_at=_iso(i.updated_at),
        services=[ServiceState(id=str(s["service_id"]), name=s["name"], status=s["status"]) for s in i.services],
        updates=[
            UpdateOut(id=str(u.id), status=u.status, message=u.message, created_at=_iso(u.created_at),
                      display_at=_iso(u.display_at),
                      affected_services=[ServiceChange(id=str(c["service_id"]), name=c["name"], old_status=c["old_status"],
                                                       new_status=c["new_status"]) for c in u.service_changes])
            for u in i.updates
        ],
    )


def _read_incident(actor: ApiActor, incident_id: int) -> IncidentOut:
    row = rest.get_incident(actor.organization_id, incident_id)
    if row is None:
        raise NotFound("incident", incident_id)
    return _incident_out(row)


def _service_statuses(services: list[AffectedService] | None) -> dict[Any, str | None] | None:
    if services is None:
        return None
    ids = [str(s.id).strip() for s in services]
    if len(set(ids)) != len(ids):
        raise ValidationError.one("services", "A service is listed twice.")
    return {s.id: (s.status.value if s.status else None) for s in services}


@router.post("/incidents", status_code=201, response_model=IncidentOut, responses=ERRORS, summary="Declare an incident")
def create_incident(body: IncidentCreate, actor: ApiActor) -> IncidentOut:
    inc = call(incident_ops.create_incident, actor=actor, title=body.title, impact=body.impact.value,
               status=body.status.value, message=body.message, services=_service_statuses(body.services),
               deliver_notifications=body.deliver_notifications)
    return _read_incident(actor, inc.id)


@router.get("/incidents", response_model=list[IncidentOut], responses=ERRORS, summary="List incidents, newest first")
def list_incidents(
    actor: ApiActor,
    state: Literal["all", "active", "resolved"] = Query("all", description="active, resolved (or postmortem), or all"),
    limit: int = Query(rest.INCIDENT_PAGE_SIZE, ge=1, le=rest.MAX_INCIDENT_PAGE_SIZE),
) -> list[IncidentOut]:
    return [_incident_out(i) for i in rest.list_incidents(actor.organization_id, state=state, limit=limit)]


@router.get("/incidents/{incident_id}", response_model=IncidentOut, responses=ERRORS, summary="Get an incident")
def get_incident(incident_id: IncidentId, actor: ApiActor) -> IncidentOut:
    return _read_incident(actor, incident_id)


@router.post("/incidents/{incident_id}/updates", status_code=201, response_model=IncidentOut, responses=ERRORS,
             summary="Post an update (status, message, optionally per-service statuses)")
def post_update(incident_id: IncidentId, body: IncidentUpdateInput, actor: ApiActor) -> IncidentOut:
    call(incident_ops.post_update, actor=actor, incident_id=incident_id, status=body.status.value,
         message=body.message, services=_service_statuses(body.services),
         deliver_notifications=body.deliver_notifications)
    return _read_incident(actor, incident_id)


@router.post("/incidents/{incident_id}/resolve", response_model=IncidentOut, responses=ERRORS,
             summary="Resolve an incident (its services return to operational for it)")
def resolve_incident(incident_id: IncidentId, actor: ApiActor, body: ResolveInput | None = None) -> IncidentOut:
    body = body or ResolveInput()
    call(incident_ops.resolve_incident, actor=actor, incident_id=incident_id, message=body.message,
         deliver_notifications=body.deliver_notifications)
    return _read_incident(actor, incident_id)


# ---- scheduled maintenance ------------------------------------------------------------------
# Times are ISO 8601 with a UTC offset (stored and answered in UTC). A maintenance moves
# scheduled -> in_progress (-> verifying) -> completed, or scheduled -> cancelled: by the clock
# at its times (auto_start / auto_complete) or by these routes.
MIN_YEAR, MAX_YEAR = 1970, 9000
Moment = Annotated[dt.datetime, Field(description="ISO 8601 with a UTC offset, e.g. 2026-12-01T02:00:00Z")]
ServiceRefs = Annotated[list[ServiceRef], Field(max_length=1000, description="Affected service ids (none: org-wide)")]
Remind = Annotated[int | None, Field(description="Minutes before the start to remind subscribers; null: no reminder")]


def _in_range(**moments: dt.datetime | None) -> None:
    """Refuse times no calendar can hold once moved to UTC or another zone (year 1 at +14:00):
    the operations would overflow instead of answering."""
    errors = {}
    for field, value in moments.items():
        if value is None or value.tzinfo is None:
            continue  # absent, or naive: the operation says it needs an offset
        try:
            year = value.astimezone(dt.timezone.utc).year
        except OverflowError:
            year = 0
        if not MIN_YEAR <= year <= MAX_YEAR:
            errors[field] = f"Use a time between the years {MIN_YEAR} and {MAX_YEAR}."
    if errors:
        raise ValidationError(errors)


class MaintenanceCreate(Input):
    title: str
    scheduled_for: Moment
    scheduled_until: Moment
    description: str = Field("", description="Markdown")
    services: ServiceRefs = []
    status: Literal["scheduled", "in_progress"] = Field(
        "scheduled", description="in_progress starts it now (its services show under maintenance at once)")
    message: str | None = Field(None, description="The first timeline entry (default: the usual text)")
    notify_on_create: bool = Field(True, description="Tell subscribers now that it is scheduled")
    remind_minutes_before: Remind = 60
    notify_on_start: bool = True
    notify_on_complete: bool = True
    auto_start: bool = Field(True, description="Start at scheduled_for by itself")
    auto_complete: bool = Field(True, description="Complete at scheduled_until by itself")


class MaintenancePatch(Input):
    title: str | None = None
    description: str | None = None
    services: ServiceRefs | None = None
    scheduled_for: Moment | None = Field(None, description="Only while it is scheduled")
    scheduled_until: Moment | None = None
    remind_minutes_before: Remind = None
    notify_on_start: bool | None = None
    notify_on_complete: bool | None = None
    auto_start: bool | None = None
    auto_complete: bool | None = None


class MaintenanceUpdateInput(Input):
    message: str
    status: MaintenanceStatus | None = Field(None, description="Move it on (e.g. in_progress, verifying, completed); "
                                                               "omitted: a note in its current status")
    deliver_notifications: bool | None = Field(None, description="Default: the maintenance's notify setting for a "
                                                                 "start or completion, true for a note, false for a cancellation")


class MaintenanceMove(Input):
    message: str | None = Field(None, description="The timeline entry (default: the usual text)")
    deliver_notifications: bool | None = None


class ExtendInput(Input):
    scheduled_until: Moment


class MaintenanceUpdateOut(BaseModel):
    id: str
    status: MaintenanceStatus
    message: str
    source: str = Field(description="manual (a person or key) or maintenance (the clock)")
    deliver_notifications: bool
    created_at: str


class MaintenanceOut(BaseModel):
    id: str
    title: str
    description: str
    status: MaintenanceStatus
    scheduled_for: str
    scheduled_until: str
    started_at: str | None
    verifying_at: str | None
    completed_at: str | None
    cancelled_at: str | None
    auto_start: bool
    auto_complete: bool
    notify_on_create: bool
    remind_minutes_before: int | None
    notify_on_start: bool
    notify_on_complete: bool
    reminded_at: str | None
    series_id: str | None
    occurrence_start: str | None
    detached: bool = Field(description="An occurrence edited on its own: editing its series leaves it alone")
    created_at: str
    updated_at: str
    services: list[ServiceState] = Field(description="Affected services and the status each shows now")
    updates: list[MaintenanceUpdateOut] = Field(description="Newest first")


def _maintenance_out(m: rest.MaintenanceRow) -> MaintenanceOut:
    return MaintenanceOut(
        id=str(m.id), title=m.title, description=m.description, status=m.status,
        scheduled_for=_iso(m.scheduled_for), scheduled_until=_iso(m.scheduled_until), started_at=_iso(m.started_at),
        verifying_at=_iso(m.verifying_at), completed_at=_iso(m.completed_at), cancelled_at=_iso(m.cancelled_at),
        auto_start=m.auto_start, auto_complete=m.auto_complete, notify_on_create=m.notify_on_create,
        remind_minutes_before=m.remind_minutes_before, notify_on_start=m.notify_on_start,
        notify_on_complete=m.notify_on_complete, reminded_at=_iso(m.reminded_at), series_id=_sid(m.series_id),
        occurrence_start=_iso(m.occurrence_start), detached=m.detached, created_at=_iso(m.created_at),
        updated_at=_iso(m.updated_at),
        services=[ServiceState(id=str(s["service_id"]), name=s["name"], status=s["status"]) for s in m.services],
        updates=[MaintenanceUpdateOut(id=str(u.id), status=u.status, message=u.message, source=u.source,
                                      deliver_notifications=u.deliver_notifications, created_at=_iso(u.created_at))
                 for u in m.updates],
    )


def _read_maintenance(actor: ApiActor, maintenance_id: int) -> MaintenanceOut:
    row = rest.get_maintenance(actor.organization_id, maintenance_id)
    if row is None:
        raise NotFound("maintenance", maintenance_id)
    return _maintenance_out(row)


def _service_ids(services: list[Any] | None) -> list[Any] | None:
    if services is None:
        return None
    ids = [str(s).strip() for s in services]
    if len(set(ids)) != len(ids):
        raise ValidationError.one("services", "A service is listed twice.")
    return list(services)


@router.post("/maintenances", status_code=201, response_model=MaintenanceOut, responses=ERRORS,
             summary="Schedule a maintenance window")
def create_maintenance(body: MaintenanceCreate, actor: ApiActor) -> MaintenanceOut:
    _in_range(scheduled_for=body.scheduled_for, scheduled_until=body.scheduled_until)
    fields = body.model_dump(exclude={"services"})
    m = call(maintenance_ops.create_maintenance, actor=actor, services=_service_ids(body.services), **fields)
    return _read_maintenance(actor, m.id)


@router.get("/maintenances", response_model=list[MaintenanceOut], responses=ERRORS, summary="List maintenances")
def list_maintenances(
    actor: ApiActor,
    state: Literal["all", "upcoming", "active", "open", "past"] = Query(
        "all", description="upcoming (scheduled), active (in progress or verifying), open (both), "
                           "past (completed or cancelled), or all; open states soonest first, the others latest first"),
    series_id: int | None = Query(None, ge=1, le=MAX_ID, description="Only the occurrences of this series"),
    limit: int = Query(rest.MAINTENANCE_PAGE_SIZE, ge=1, le=rest.MAX_MAINTENANCE_PAGE_SIZE),
) -> list[MaintenanceOut]:
    rows = rest.list_maintenances(actor.organization_id, state=state, series_id=series_id, limit=limit)
    return [_maintenance_out(m) for m in rows]


@router.get("/maintenances/{maintenance_id}", response_model=MaintenanceOut, responses=ERRORS,
            summary="Get a maintenance")
def get_maintenance(maintenance_id: MaintenanceId, actor: ApiActor) -> MaintenanceOut:
    return _read_maintenance(actor, maintenance_id)


@router.patch("/maintenances/{maintenance_id}", response_model=MaintenanceOut, responses=ERRORS,
              summary="Change or reschedule a maintenance that is not over (only the fields sent)")
def update_maintenance(maintenance_id: MaintenanceId, body: MaintenancePatch, actor: ApiActor) -> MaintenanceOut:
    _in_range(scheduled_for=body.scheduled_for, scheduled_until=body.scheduled_until)
    # null leaves a field as it is, except remind_minutes_before (null: no reminder)
    fields = {k: v for k, v in body.model_dump(exclude_unset=True).items()
              if v is not None or k == "remind_minutes_before"}
    if "services" in fields:
        fields["services"] = _service_ids(fields["services"])
    call(maintenance_ops.edit_maintenance, actor=actor, maintenance_id=maintenance_id, **fields)
    return _read_maintenance(actor, maintenance_id)


@router.delete("/maintenances/{maintenance_id}", status_code=204, response_class=Response, responses=ERRORS,
               summary="Delete a maintenance (one in progress stops affecting its services)")
def delete_maintenance(maintenance_id: MaintenanceId, actor: ApiActor) -> Response:
    call(maintenance_ops.delete_maintenance, actor=actor, maintenance_id=maintenance_id)
    return Response(status_code=204)


@router.post("/maintenances/{maintenance_id}/updates", status_code=201, response_model=MaintenanceOut,
             responses=ERRORS, summary="Post a timeline entry, optionally moving the maintenance on")
def post_maintenance_update(maintenance_id: MaintenanceId, body: MaintenanceUpdateInput,
                            actor: ApiActor) -> MaintenanceOut:
    call(maintenance_ops.post_maintenance_update, actor=actor, maintenance_id=maintenance_id, message=body.message,
         status=body.status.value if body.status else None, deliver_notifications=body.deliver_notifications)
    return _read_maintenance(actor, maintenance_id)


def _move(operation: Callable[..., Any], maintenance_id: int, body: MaintenanceMove | None,
          actor: ApiActor) -> MaintenanceOut:
    body = body or MaintenanceMove()
    call(operation, actor=actor, maintenance_id=maintenance_id, message=body.message,
         **({"deliver_notifications": body.deliver_notifications} if body.deliver_notifications is not None else {}))
    return _read_maintenance(actor, maintenance_id)


@router.post("/maintenances/{maintenance_id}/start", response_model=MaintenanceOut, responses=ERRORS,
             summary="Start a scheduled maintenance now")
def start_maintenance(maintenance_id: MaintenanceId, actor: ApiActor,
                      body: MaintenanceMove | None = None) -> MaintenanceOut:
    return _move(maintenance_ops.start_maintenance, maintenance_id, body, actor)


@router.post("/maintenances/{maintenance_id}/verify", response_model=MaintenanceOut, responses=ERRORS,
             summary="Mark the work done and being verified (services stay under maintenance)")
def verify_maintenance(maintenance_id: MaintenanceId, actor: ApiActor,
                       body: MaintenanceMove | None = None) -> MaintenanceOut:
    return _move(maintenance_ops.verify_maintenance, maintenance_id, body, actor)


@router.post("/maintenances/{maintenance_id}/complete", response_model=MaintenanceOut, responses=ERRORS,
             summary="Complete a maintenance in progress (early, or one that does not end by itself)")
def complete_maintenance(maintenance_id: MaintenanceId, actor: ApiActor,
                         body: MaintenanceMove | None = None) -> MaintenanceOut:
    return _move(maintenance_ops.complete_maintenance, maintenance_id, body, actor)


@router.post("/maintenances/{maintenance_id}/cancel", response_model=MaintenanceOut, responses=ERRORS,
             summary="Call off a scheduled maintenance (subscribers are not told unless deliver_notifications)")
def cancel_maintenance(maintenance_id: MaintenanceId, actor: ApiActor,
                       body: MaintenanceMove | None = None) -> MaintenanceOut:
    return _move(maintenance_ops.cancel_maintenance, maintenance_id, body, actor)


@router.post("/maintenances/{maintenance_id}/extend", response_model=MaintenanceOut, responses=ERRORS,
             summary="Move the end of a maintenance (e.g. one in progress that needs longer)")
def extend_maintenance(maintenance_id: MaintenanceId, body: ExtendInput, actor: ApiActor) -> MaintenanceOut:
    _in_range(scheduled_until=body.scheduled_until)
    call(maintenance_ops.extend_maintenance, actor=actor, maintenance_id=maintenance_id,
         scheduled_until=body.scheduled_until)
    return _read_maintenance(actor, maintenance_id)


# ---- recurring maintenance (series) -------------------------------------------------------------
class SeriesCreate(Input):
    title: str
    rrule: str = Field(description="RFC 5545 RRULE, DAILY or coarser, e.g. FREQ=WEEKLY;BYDAY=SU")
    dtstart_local: str = Field(description="The first start as a wall-clock time in time_zone, e.g. 2026-03-01T02:00")
    time_zone: str = Field(description="IANA name, e.g. Europe/Berlin (DST is followed)")
    duration_minutes: int
    description: str = Field("", description="Markdown")
    services: ServiceRefs = []
    remind_minutes_before: Remind = 60
    notify_on_start: bool = True
    notify_on_complete: bool = True
    auto_start: bool = True
    auto_complete: bool = True


class SeriesPatch(Input):
    title: str | None = None
    rrule: str | None = None
    dtstart_local: str | None = None
    time_zone: str | None = None
    duration_minutes: int | None = None
    description: str | None = None
    services: ServiceRefs | None = None
    remind_minutes_before: Remind = None
    notify_on_start: bool | None = None
    notify_on_complete: bool | None = None
    auto_start: bool | None = None
    auto_complete: bool | None = None


class SeriesCancel(Input):
    message: str | None = Field(None, description="The timeline entry of each cancelled occurrence")


class OccurrenceOut(BaseModel):
    id: str
    status: MaintenanceStatus
    scheduled_for: str
    scheduled_until: str
    detached: bool


class SeriesOut(BaseModel):
    id: str
    title: str
    description: str
    rrule: str
    dtstart_local: str
    time_zone: str
    duration_minutes: int
    remind_minutes_before: int | None
    notify_on_start: bool
    notify_on_complete: bool
    auto_start: bool
    auto_complete: bool
    cancelled_at: str | None
    created_at: str
    updated_at: str
    services: list[ServiceState]
    occurrences: list[OccurrenceOut] = Field(description="Its open occurrences (scheduled or under way), soonest "
                                                         "first; more are generated as time passes")


def _series_out(r: rest.SeriesRow) -> SeriesOut:
    return SeriesOut(
        id=str(r.id), title=r.title, description=r.description, rrule=r.rrule, dtstart_local=r.dtstart_local,
        time_zone=r.time_zone, duration_minutes=r.duration_minutes, remind_minutes_before=r.remind_minutes_before,
        notify_on_start=r.notify_on_start, notify_on_complete=r.notify_on_complete, auto_start=r.auto_start,
        auto_complete=r.auto_complete, cancelled_at=_iso(r.cancelled_at), created_at=_iso(r.created_at),
        updated_at=_iso(r.updated_at),
        services=[ServiceState(id=str(s["service_id"]), name=s["name"], status=s["status"]) for s in r.services],
        occurrences=[OccurrenceOut(id=str(o.id), status=o.status, scheduled_for=_iso(o.scheduled_for),
                                   scheduled_until=_iso(o.scheduled_until), detached=o.detached)
                     for o in r.occurrences],
    )


def _read_series(actor: ApiActor, series_id: int) -> SeriesOut:
    row = rest.get_series(actor.organization_id, series_id)
    if row is None:
        raise NotFound("maintenance series", series_id)
    return _series_out(row)


def _local_in_range(value: str | None) -> None:
    """A start far outside any calendar would make every expansion scan centuries."""
    if value is None:
        return
    try:
        year = dt.datetime.fromisoformat(value.strip().replace(" ", "T")).year
    except ValueError:
        return  # the operation names what is wrong with it
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ValidationError.one("dtstart_local", f"Use a date between the years {MIN_YEAR} and {MAX_YEAR}.")


@router.post("/maintenance-series", status_code=201, response_model=SeriesOut, responses=ERRORS,
             summary="Create a recurring maintenance window (its first occurrences are generated at once)")
def create_series(body: SeriesCreate, actor: ApiActor) -> SeriesOut:
    _local_in_range(body.dtstart_local)
    fields = body.model_dump(exclude={"services"})
    series = call(maintenance_ops.create_series, actor=actor, services=_service_ids(body.services), **fields)
    return _read_series(actor, series.id)


@router.get("/maintenance-series", response_model=list[SeriesOut], responses=ERRORS,
            summary="List recurring maintenance windows (live ones first)")
def list_series(actor: ApiActor) -> list[SeriesOut]:
    return [_series_out(r) for r in rest.list_series(actor.organization_id)]


@router.get("/maintenance-series/{series_id}", response_model=SeriesOut, responses=ERRORS,
            summary="Get a recurring maintenance window")
def get_series(series_id: SeriesId, actor: ApiActor) -> SeriesOut:
    return _read_series(actor, series_id)


@router.patch("/maintenance-series/{series_id}", response_model=SeriesOut, responses=ERRORS,
              summary="Change a series and its future, non-detached occurrences (only the fields sent)")
def update_series(series_id: SeriesId, body: SeriesPatch, actor: ApiActor) -> SeriesOut:
    _local_in_range(body.dtstart_local)
    fields = {k: v for k, v in body.model_dump(exclude_unset=True).items()
              if v is not None or k == "remind_minutes_before"}
    if "services" in fields:
        fields["services"] = _service_ids(fields["services"])
    call(maintenance_ops.edit_series, actor=actor, series_id=series_id, **fields)
    return _read_series(actor, series_id)


@router.post("/maintenance-series/{series_id}/cancel", response_model=SeriesOut, responses=ERRORS,
             summary="End a series: no more occurrences, its scheduled ones cancelled (one in progress runs on)")
def cancel_series(series_id: SeriesId, actor: ApiActor, body: SeriesCancel | None = None) -> SeriesOut:
    call(maintenance_ops.cancel_series, actor=actor, series_id=series_id, message=(body or SeriesCancel()).message)
    return _read_series(actor, series_id)


@router.delete("/maintenance-series/{series_id}", status_code=204, response_class=Response, responses=ERRORS,
               summary="Cancel a series (as POST .../cancel; the series and its past stay readable)")
def delete_series(series_id: SeriesId, actor: ApiActor) -> Response:
    call(maintenance_ops.cancel_series, actor=actor, series_id=series_id)
    return Response(status_code=204)


@router.api_route("/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False)
def unknown_endpoint(path: str, actor: ApiActor) -> Response:
    raise NotFound("endpoint")
