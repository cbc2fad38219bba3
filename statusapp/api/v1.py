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
from statusapp.domain import pages as page_ops
from statusapp.domain import services as service_ops
from statusapp.domain.validation import MAX_ID
from statusapp.enums import IncidentImpact, IncidentStatus, ServiceStatus
from statusapp.queries import rest
from statusapp.settings import get_settings

router = APIRouter(prefix=routes.API_V1, route_class=ApiRoute, tags=["admin (v1)"])
PageId = Annotated[int, Path(ge=1, le=MAX_ID, description="A status page id")]
ServiceIdPath = Annotated[int, Path(ge=1, le=MAX_ID, description="A service id (its component id)")]
IncidentId = Annotated[int, Path(ge=1, le=MAX_ID, description="An incident id")]
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


@router.api_route("/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False)
def unknown_endpoint(path: str, actor: ApiActor) -> Response:
    raise NotFound("endpoint")
