"""What a committed change announces: an `EventKind` and one typed payload class per kind.

The payload is stored as JSON in the outbox row (`DomainEvent.kind`, `DomainEvent.payload`)
and handed to listeners as the typed object. Consumers (the live push, the notification
sender) switch on `kind` and read fields by name, never by dict key, so a renamed field fails
at once instead of silently. `payload_from_row` turns a stored row back into its class.
"""

from __future__ import annotations

import enum
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict


class EventKind(str, enum.Enum):
    organization_created = "organization.created"
    user_created = "user.created"
    page_created = "page.created"
    page_updated = "page.updated"
    page_deleted = "page.deleted"
    group_created = "group.created"
    group_updated = "group.updated"
    group_deleted = "group.deleted"
    group_reordered = "group.reordered"
    service_created = "service.created"
    service_updated = "service.updated"
    service_deleted = "service.deleted"
    service_reordered = "service.reordered"
    service_status_set = "service.status_set"
    incident_created = "incident.created"
    incident_updated = "incident.updated"
    incident_resolved = "incident.resolved"
    incident_edited = "incident.edited"
    incident_postmortem = "incident.postmortem"
    incident_deleted = "incident.deleted"
    api_key_created = "api_key.created"
    api_key_revoked = "api_key.revoked"
    subscriber_requested = "subscriber.requested"
    subscriber_confirmed = "subscriber.confirmed"
    subscriber_updated = "subscriber.updated"
    subscriber_unsubscribed = "subscriber.unsubscribed"
    subscriber_removed = "subscriber.removed"
    subscribers_imported = "subscribers.imported"
    channel_created = "channel.created"
    channel_test_requested = "channel.test_requested"
    monitor_saved = "monitor.saved"
    monitor_deleted = "monitor.deleted"
    monitor_verdict_changed = "monitor.verdict_changed"
    maintenance_created = "maintenance.created"
    maintenance_edited = "maintenance.edited"
    maintenance_updated = "maintenance.updated"
    maintenance_started = "maintenance.started"
    maintenance_completed = "maintenance.completed"
    maintenance_cancelled = "maintenance.cancelled"
    maintenance_deleted = "maintenance.deleted"
    maintenance_reminder = "maintenance.reminder"
    maintenance_series_created = "maintenance_series.created"
    maintenance_series_edited = "maintenance_series.edited"
    maintenance_series_cancelled = "maintenance_series.cancelled"
    maintenance_occurrences_generated = "maintenance_series.occurrences_generated"


class StatusChange(BaseModel):
    """One change of a service's shown status, as written to the status history."""

    model_config = ConfigDict(frozen=True)
    service_id: int
    name: str
    old_status: str
    new_status: str


class EventPayload(BaseModel):
    """Base of every payload; `kind` ties the class to its EventKind."""

    model_config = ConfigDict(frozen=True)
    kind: ClassVar[EventKind]


class OrganizationCreated(EventPayload):
    kind: ClassVar[EventKind] = EventKind.organization_created
    name: str


class UserCreated(EventPayload):
    kind: ClassVar[EventKind] = EventKind.user_created
    user_id: int


class PageCreated(EventPayload):
    kind: ClassVar[EventKind] = EventKind.page_created
    page_id: int


class PageUpdated(EventPayload):
    kind: ClassVar[EventKind] = EventKind.page_updated
    page_id: int
    old_slug: str


class PageDeleted(EventPayload):
    kind: ClassVar[EventKind] = EventKind.page_deleted
    page_id: int
    old_slug: str


class GroupCreated(EventPayload):
    kind: ClassVar[EventKind] = EventKind.group_created
    group_id: int


class GroupUpdated(EventPayload):
    kind: ClassVar[EventKind] = EventKind.group_updated
    group_id: int


class GroupDeleted(EventPayload):
    kind: ClassVar[EventKind] = EventKind.group_deleted
    group_id: int


class GroupsReordered(EventPayload):
    kind: ClassVar[EventKind] = EventKind.group_reordered
    group_ids: list[int]


class ServiceCreated(EventPayload):
    kind: ClassVar[EventKind] = EventKind.service_created
    service_id: int


class ServiceUpdated(EventPayload):
    kind: ClassVar[EventKind] = EventKind.service_updated
    service_id: int


class ServiceDeleted(EventPayload):
    kind: ClassVar[EventKind] = EventKind.service_deleted
    service_id: int


class ServicesReordered(EventPayload):
    kind: ClassVar[EventKind] = EventKind.service_reordered
    service_ids: list[int]


class ServiceStatusSet(EventPayload):
    """A manual (or monitor) status was set; `changes` lists what the page now shows differently."""

    kind: ClassVar[EventKind] = EventKind.service_status_set
    service_id: int
    manual_status: str
    changes: list[StatusChange]


class _IncidentTimeline(EventPayload):
    incident_id: int
    update_id: int
    status_changes: list[StatusChange]
    deliver_notifications: bool


class IncidentCreated(_IncidentTimeline):
    kind: ClassVar[EventKind] = EventKind.incident_created


class IncidentUpdated(_IncidentTimeline):
    kind: ClassVar[EventKind] = EventKind.incident_updated


class IncidentResolved(_IncidentTimeline):
    kind: ClassVar[EventKind] = EventKind.incident_resolved


class IncidentEdited(EventPayload):
    kind: ClassVar[EventKind] = EventKind.incident_edited
    incident_id: int


class IncidentPostmortem(EventPayload):
    kind: ClassVar[EventKind] = EventKind.incident_postmortem
    incident_id: int
    published: bool


class IncidentDeleted(EventPayload):
    kind: ClassVar[EventKind] = EventKind.incident_deleted
    incident_id: int
    status_changes: list[StatusChange]


class ApiKeyCreated(EventPayload):
    kind: ClassVar[EventKind] = EventKind.api_key_created
    api_key_id: int


class ApiKeyRevoked(EventPayload):
    kind: ClassVar[EventKind] = EventKind.api_key_revoked
    api_key_id: int


class SubscriberRequested(EventPayload):
    """A subscription was asked for on a public page: the sender emails the address a
    confirmation link (`mail` "confirm"), or, when it is already confirmed, its manage link
    ("manage_link"); the page's answer is the same either way. `issued_at` (ISO 8601) dates
    the confirmation link, so a retried email carries the same link."""

    kind: ClassVar[EventKind] = EventKind.subscriber_requested
    subscriber_id: int
    page_id: int
    mail: str
    issued_at: str


class SubscriberConfirmed(EventPayload):
    kind: ClassVar[EventKind] = EventKind.subscriber_confirmed
    subscriber_id: int
    page_id: int


class SubscriberUpdated(EventPayload):
    kind: ClassVar[EventKind] = EventKind.subscriber_updated
    subscriber_id: int
    page_id: int


class SubscriberUnsubscribed(EventPayload):
    kind: ClassVar[EventKind] = EventKind.subscriber_unsubscribed
    subscriber_id: int
    page_id: int


class SubscriberRemoved(EventPayload):
    kind: ClassVar[EventKind] = EventKind.subscriber_removed
    subscriber_id: int
    page_id: int


class SubscribersImported(EventPayload):
    kind: ClassVar[EventKind] = EventKind.subscribers_imported
    page_id: int
    added: int


class ChannelCreated(EventPayload):
    kind: ClassVar[EventKind] = EventKind.channel_created
    subscriber_id: int
    page_id: int


class ChannelTestRequested(EventPayload):
    """An admin pressed "send test": the sender posts a test message to this channel only."""

    kind: ClassVar[EventKind] = EventKind.channel_test_requested
    subscriber_id: int
    page_id: int


class MonitorSaved(EventPayload):
    """A monitor was created, reconfigured, paused or resumed, or got a new push URL."""

    kind: ClassVar[EventKind] = EventKind.monitor_saved
    monitor_id: int
    service_id: int
    status_changes: list[StatusChange] = []  # a paused monitor's verdict withdrawn


class MonitorDeleted(EventPayload):
    kind: ClassVar[EventKind] = EventKind.monitor_deleted
    monitor_id: int
    service_id: int
    status_changes: list[StatusChange] = []


class MonitorVerdictChanged(EventPayload):
    """The monitor confirmed a new verdict on its service (after its thresholds of consecutive
    failures or successes). `status_changes` is what the pages now show differently; an
    incident it opened or resolved is announced by that incident's own event."""

    kind: ClassVar[EventKind] = EventKind.monitor_verdict_changed
    monitor_id: int
    service_id: int
    name: str
    old_verdict: str
    new_verdict: str
    reason: str  # the last check's reason, e.g. "connection refused by 10.0.0.5:443"
    status_changes: list[StatusChange]


class MaintenanceCreated(EventPayload):
    """A maintenance was scheduled (one-off; occurrences of a series are announced by
    MaintenanceOccurrencesGenerated). `notify`: tell subscribers it is scheduled."""

    kind: ClassVar[EventKind] = EventKind.maintenance_created
    maintenance_id: int
    update_id: int
    notify: bool
    status_changes: list[StatusChange] = []  # created already in progress


class MaintenanceEdited(EventPayload):
    """Title, description, times or services corrected (no timeline entry, no notification)."""

    kind: ClassVar[EventKind] = EventKind.maintenance_edited
    maintenance_id: int
    status_changes: list[StatusChange] = []  # services added to / removed from a window in progress


class _MaintenanceTimeline(EventPayload):
    maintenance_id: int
    update_id: int
    status_changes: list[StatusChange]
    deliver_notifications: bool
    by_clock: bool = False  # the jobs runner's clock did it (at scheduled_for / scheduled_until)


class MaintenanceUpdated(_MaintenanceTimeline):
    """An update was posted without a start or completion (e.g. verifying, or a note)."""

    kind: ClassVar[EventKind] = EventKind.maintenance_updated


class MaintenanceStarted(_MaintenanceTimeline):
    kind: ClassVar[EventKind] = EventKind.maintenance_started


class MaintenanceCompleted(_MaintenanceTimeline):
    kind: ClassVar[EventKind] = EventKind.maintenance_completed


class MaintenanceCancelled(_MaintenanceTimeline):
    kind: ClassVar[EventKind] = EventKind.maintenance_cancelled


class MaintenanceDeleted(EventPayload):
    kind: ClassVar[EventKind] = EventKind.maintenance_deleted
    maintenance_id: int
    status_changes: list[StatusChange] = []


class MaintenanceReminder(EventPayload):
    """The maintenance starts in `minutes_before` minutes: the sender reminds subscribers."""

    kind: ClassVar[EventKind] = EventKind.maintenance_reminder
    maintenance_id: int
    minutes_before: int


class MaintenanceSeriesCreated(EventPayload):
    kind: ClassVar[EventKind] = EventKind.maintenance_series_created
    series_id: int
    maintenance_ids: list[int]  # the occurrences generated at once


class MaintenanceSeriesEdited(EventPayload):
    kind: ClassVar[EventKind] = EventKind.maintenance_series_edited
    series_id: int
    maintenance_ids: list[int]  # occurrences (re)generated
    removed_ids: list[int] = []  # future occurrences removed because the schedule changed


class MaintenanceSeriesCancelled(EventPayload):
    kind: ClassVar[EventKind] = EventKind.maintenance_series_cancelled
    series_id: int
    cancelled_ids: list[int]  # the scheduled occurrences cancelled with it


class MaintenanceOccurrencesGenerated(EventPayload):
    """The clock materialised the next occurrences of a series (as scheduled maintenances)."""

    kind: ClassVar[EventKind] = EventKind.maintenance_occurrences_generated
    series_id: int
    maintenance_ids: list[int]


PAYLOAD_TYPES: dict[EventKind, type[EventPayload]] = {
    cls.kind: cls
    for cls in EventPayload.__subclasses__() + _IncidentTimeline.__subclasses__() + _MaintenanceTimeline.__subclasses__()
    if hasattr(cls, "kind")
}


def payload_to_json(payload: EventPayload) -> dict[str, Any]:
    return payload.model_dump(mode="json")


def payload_from_row(kind: str, data: dict[str, Any]) -> EventPayload:
    """The typed payload of a stored outbox row (KeyError for an unknown kind)."""
    return PAYLOAD_TYPES[EventKind(kind)].model_validate(data)
