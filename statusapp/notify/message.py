"""Notice: one thing to tell subscribers, independent of channel, stored as JSON in the outbox.

A domain operation builds a Notice inside its transaction (from rows it just wrote) and stores
`notice.to_dict()`; the sender job later rebuilds it with `Notice.from_dict` and hands it to
the renderer and the channels. So a Notice carries everything any channel needs (the email,
Slack, Discord texts and Statuspage's subscriber-webhook JSON) and nothing needs the database.

All times are timezone-aware; strings hold user text as typed (escaping is each renderer's job).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, fields, is_dataclass
from datetime import datetime
from typing import Any

from statusapp.enums import IncidentImpact, IncidentStatus, MaintenanceStatus, PageIndicator, ServiceStatus

SCHEMA_VERSION = 1


class NoticeKind(str, enum.Enum):
    """What happened; the value doubles as the webhook event name."""

    incident_created = "incident.created"
    incident_updated = "incident.updated"
    incident_resolved = "incident.resolved"
    incident_postmortem = "incident.postmortem"
    maintenance_scheduled = "maintenance.scheduled"
    maintenance_reminder = "maintenance.reminder"
    maintenance_started = "maintenance.started"
    maintenance_completed = "maintenance.completed"
    service_status_changed = "service.status_changed"

    @property
    def is_incident(self) -> bool:
        return self.value.startswith("incident.")

    @property
    def is_maintenance(self) -> bool:
        return self.value.startswith("maintenance.")

    @property
    def label(self) -> str:
        """A short heading for subjects and chat titles."""
        return _KIND_LABEL[self]


_KIND_LABEL = {
    NoticeKind.incident_created: "New incident",
    NoticeKind.incident_updated: "Incident update",
    NoticeKind.incident_resolved: "Resolved",
    NoticeKind.incident_postmortem: "Postmortem",
    NoticeKind.maintenance_scheduled: "Scheduled maintenance",
    NoticeKind.maintenance_reminder: "Maintenance reminder",
    NoticeKind.maintenance_started: "Maintenance started",
    NoticeKind.maintenance_completed: "Maintenance completed",
    NoticeKind.service_status_changed: "Status change",
}


MAINTENANCE_IMPACT = "maintenance"  # Statuspage's usual impact value for a maintenance
MAINTENANCE_COLOR = "#1d4ed8"  # as ServiceStatus.under_maintenance / PageIndicator.maintenance


@dataclass
class PageInfo:
    """The status page the notice is about, with its branding; `indicator` is after the change."""

    id: str
    name: str
    url: str
    time_zone: str = "UTC"
    brand_color: str | None = None  # "#rrggbb" as configured; renderers validate it
    logo_url: str | None = None
    indicator: PageIndicator = PageIndicator.none

    def __post_init__(self) -> None:
        self.indicator = PageIndicator(self.indicator)

    @property
    def status_description(self) -> str:
        return self.indicator.description


@dataclass
class UpdateInfo:
    """One posted update of an incident or maintenance (Statuspage: incident_update)."""

    id: str
    status: str  # an IncidentStatus value, or a MaintenanceStatus value for maintenances
    message: str
    created_at: datetime

    def __post_init__(self) -> None:
        _require_aware("UpdateInfo.created_at", self.created_at)


@dataclass
class ServiceChange:
    """A service (Statuspage: component) touched by the notice, with its status before and after."""

    id: str
    name: str
    new_status: ServiceStatus
    old_status: ServiceStatus | None = None
    created_at: datetime | None = None  # when the service was created (webhook component.created_at)

    def __post_init__(self) -> None:
        self.new_status = ServiceStatus(self.new_status)
        if self.old_status is not None:
            self.old_status = ServiceStatus(self.old_status)
        if self.created_at is not None:
            _require_aware("ServiceChange.created_at", self.created_at)

    @property
    def changed(self) -> bool:
        return self.old_status is not None and self.old_status != self.new_status


@dataclass
class IncidentInfo:
    """An incident or a maintenance (Statuspage: a maintenance is an incident + scheduled window)."""

    id: str
    title: str
    impact: str  # an IncidentImpact value, or "maintenance"
    status: str  # an IncidentStatus value, or a MaintenanceStatus value when is_maintenance
    url: str  # its public page
    created_at: datetime
    updated_at: datetime | None = None
    started_at: datetime | None = None
    monitoring_at: datetime | None = None
    resolved_at: datetime | None = None
    scheduled_for: datetime | None = None  # maintenances
    scheduled_until: datetime | None = None
    shortlink: str | None = None
    is_maintenance: bool = False
    # Earlier updates, newest first (optional: the webhook lists them as incident_updates).
    history: list[UpdateInfo] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.is_maintenance:
            self.status = MaintenanceStatus(self.status).value
            if self.impact != MAINTENANCE_IMPACT:
                self.impact = IncidentImpact(self.impact).value
        else:
            self.status = IncidentStatus(self.status).value
            self.impact = IncidentImpact(self.impact).value
        for name in ("created_at", "updated_at", "started_at", "monitoring_at", "resolved_at",
                     "scheduled_for", "scheduled_until"):
            value = getattr(self, name)
            if value is not None:
                _require_aware(f"IncidentInfo.{name}", value)
        self.history = [u if isinstance(u, UpdateInfo) else _update_from_dict(u) for u in self.history]

    @property
    def status_label(self) -> str:
        if self.is_maintenance:
            return MaintenanceStatus(self.status).label
        return IncidentStatus(self.status).label

    @property
    def impact_label(self) -> str:
        if self.impact == MAINTENANCE_IMPACT:
            return "Maintenance"
        return IncidentImpact(self.impact).label

    @property
    def impact_color(self) -> str:
        if self.impact == MAINTENANCE_IMPACT:
            return MAINTENANCE_COLOR
        return IncidentImpact(self.impact).color

    @property
    def is_closed(self) -> bool:
        if self.is_maintenance:
            return MaintenanceStatus(self.status).is_closed
        return not IncidentStatus(self.status).is_active


@dataclass
class Notice:
    """One thing to tell subscribers. `id` is stable per notice (idempotency, webhook delivery id)."""

    id: str
    kind: NoticeKind
    page: PageInfo
    occurred_at: datetime
    incident: IncidentInfo | None = None  # an incident or maintenance (None for a bare status change)
    update: UpdateInfo | None = None  # the update this notice announces (latest)
    services: list[ServiceChange] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.kind = NoticeKind(self.kind)
        _require_aware("Notice.occurred_at", self.occurred_at)
        if (self.kind.is_incident or self.kind.is_maintenance) and self.incident is None:
            raise ValueError(f"a {self.kind.value} notice needs its incident")
        if (self.incident is not None and self.kind != NoticeKind.service_status_changed
                and self.incident.is_maintenance != self.kind.is_maintenance):
            raise ValueError(f"{self.kind.value}: incident.is_maintenance does not match the kind")
        if self.kind == NoticeKind.service_status_changed and not self.services:
            raise ValueError("a service status change notice needs at least one service")

    @property
    def title(self) -> str:
        """The subject of the notice in plain (unescaped) text."""
        if self.incident is not None:
            return self.incident.title
        if len(self.services) == 1:
            s = self.services[0]
            return f"{s.name}: {s.new_status.label}"
        return f"{len(self.services)} services changed status"

    @property
    def url(self) -> str:
        return self.incident.url if self.incident is not None else self.page.url

    # ------------------------------------------------------------------ storage

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: datetimes as ISO 8601 with offset, enums as their values."""
        data = _to_jsonable(self)
        data["schema"] = SCHEMA_VERSION
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Notice:
        """Inverse of to_dict; unknown keys are ignored (a newer writer may add fields)."""
        schema = data.get("schema", SCHEMA_VERSION)
        if schema > SCHEMA_VERSION:
            raise ValueError(f"notice schema {schema} is newer than this code ({SCHEMA_VERSION})")
        page = data["page"]
        incident = data.get("incident")
        update = data.get("update")
        return cls(
            id=data["id"],
            kind=NoticeKind(data["kind"]),
            page=PageInfo(**_known(PageInfo, page)),
            occurred_at=_dt(data["occurred_at"]),
            incident=_incident_from_dict(incident) if incident is not None else None,
            update=_update_from_dict(update) if update is not None else None,
            services=[_service_from_dict(s) for s in data.get("services") or []],
        )


def _require_aware(name: str, value: datetime) -> None:
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, not {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")


def _to_jsonable(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _to_jsonable(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, (list, tuple)):
        return [_to_jsonable(v) for v in value]
    return value


def _known(cls: type, data: dict[str, Any]) -> dict[str, Any]:
    names = {f.name for f in fields(cls)}
    return {k: v for k, v in data.items() if k in names}


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value is not None else None


def _update_from_dict(data: dict[str, Any]) -> UpdateInfo:
    d = _known(UpdateInfo, data)
    d["created_at"] = _dt(d["created_at"])
    return UpdateInfo(**d)


def _service_from_dict(data: dict[str, Any]) -> ServiceChange:
    d = _known(ServiceChange, data)
    d["created_at"] = _dt(d.get("created_at"))
    return ServiceChange(**d)


_INCIDENT_TIMES = ("created_at", "updated_at", "started_at", "monitoring_at", "resolved_at",
                   "scheduled_for", "scheduled_until")


def _incident_from_dict(data: dict[str, Any]) -> IncidentInfo:
    d = _known(IncidentInfo, data)
    for name in _INCIDENT_TIMES:
        if name in d:
            d[name] = _dt(d[name])
    d["history"] = [_update_from_dict(u) for u in d.get("history") or []]
    return IncidentInfo(**d)
