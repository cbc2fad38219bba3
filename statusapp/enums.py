"""Status vocabulary (Statuspage's words) with severity, label and colour; no literals elsewhere."""

from __future__ import annotations

import enum


class ServiceStatus(str, enum.Enum):
    """A service's (Statuspage: component's) status; `severity` orders them for "worst of"."""

    operational = "operational"
    under_maintenance = "under_maintenance"
    degraded_performance = "degraded_performance"
    partial_outage = "partial_outage"
    major_outage = "major_outage"

    @property
    def severity(self) -> int:
        return _SERVICE_SEVERITY[self]

    @property
    def label(self) -> str:
        return _SERVICE_LABEL[self]

    @property
    def color(self) -> str:
        return _SERVICE_COLOR[self]

    @property
    def text_color(self) -> str:
        """For the status written as text: a theme token readable in light and dark mode."""
        return _SERVICE_TEXT_COLOR[self]


_SERVICE_SEVERITY = {
    ServiceStatus.operational: 0,
    ServiceStatus.under_maintenance: 1,
    ServiceStatus.degraded_performance: 2,
    ServiceStatus.partial_outage: 3,
    ServiceStatus.major_outage: 4,
}
_SERVICE_LABEL = {
    ServiceStatus.operational: "Operational",
    ServiceStatus.under_maintenance: "Under maintenance",
    ServiceStatus.degraded_performance: "Degraded performance",
    ServiceStatus.partial_outage: "Partial outage",
    ServiceStatus.major_outage: "Major outage",
}
# Fill colours: white text on each has a contrast of at least 4.9:1 (WCAG AA). A status is
# always also written out in words, never told by colour alone.
_SERVICE_COLOR = {
    ServiceStatus.operational: "#15803d",
    ServiceStatus.under_maintenance: "#1d4ed8",
    ServiceStatus.degraded_performance: "#a16207",
    ServiceStatus.partial_outage: "#c2410c",
    ServiceStatus.major_outage: "#b91c1c",
}
# Radix Themes' step-11 colours are designed as readable text on the page background.
_SERVICE_TEXT_COLOR = {
    ServiceStatus.operational: "var(--green-11)",
    ServiceStatus.under_maintenance: "var(--blue-11)",
    ServiceStatus.degraded_performance: "var(--amber-11)",
    ServiceStatus.partial_outage: "var(--orange-11)",
    ServiceStatus.major_outage: "var(--red-11)",
}


class IncidentStatus(str, enum.Enum):
    """An incident's lifecycle: investigating -> identified -> monitoring -> resolved (-> postmortem)."""

    investigating = "investigating"
    identified = "identified"
    monitoring = "monitoring"
    resolved = "resolved"
    postmortem = "postmortem"

    @property
    def is_active(self) -> bool:
        """An active incident still imposes its impact on services."""
        return self not in (IncidentStatus.resolved, IncidentStatus.postmortem)

    @classmethod
    def active_values(cls) -> list[str]:
        """The stored values of the active statuses (for `status IN (...)` queries)."""
        return [s.value for s in cls if s.is_active]

    @property
    def usual_next(self) -> "IncidentStatus":
        """The status an update usually moves to next (preselected in the console)."""
        return _INCIDENT_NEXT.get(self, IncidentStatus.resolved)

    @property
    def default_message(self) -> str:
        """The template an update with this status starts from ("" for postmortem)."""
        return _INCIDENT_MESSAGE.get(self, "")

    @property
    def label(self) -> str:
        return self.value.capitalize()


_INCIDENT_NEXT = {
    IncidentStatus.investigating: IncidentStatus.identified,
    IncidentStatus.identified: IncidentStatus.monitoring,
    IncidentStatus.monitoring: IncidentStatus.resolved,
}
_INCIDENT_MESSAGE = {
    IncidentStatus.investigating: "We are investigating reports of problems. More details to follow.",
    IncidentStatus.identified: "The cause has been identified and a fix is being implemented.",
    IncidentStatus.monitoring: "A fix has been implemented and we are monitoring the results.",
    IncidentStatus.resolved: "This incident has been resolved. Thank you for your patience.",
}


class MaintenanceStatus(str, enum.Enum):
    """A scheduled maintenance's lifecycle (Statuspage's words): scheduled -> in_progress
    (-> verifying) -> completed, or scheduled / in progress -> cancelled."""

    scheduled = "scheduled"
    in_progress = "in_progress"
    verifying = "verifying"
    completed = "completed"
    cancelled = "cancelled"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()

    @property
    def is_active(self) -> bool:
        """Work is under way: the affected services show `under_maintenance`."""
        return self in (MaintenanceStatus.in_progress, MaintenanceStatus.verifying)

    @property
    def is_closed(self) -> bool:
        return self in (MaintenanceStatus.completed, MaintenanceStatus.cancelled)

    @classmethod
    def active_values(cls) -> list[str]:
        """The stored values of the active statuses (for `status IN (...)` queries)."""
        return [s.value for s in cls if s.is_active]

    @classmethod
    def open_values(cls) -> list[str]:
        """Scheduled or active: not yet completed or cancelled."""
        return [s.value for s in cls if not s.is_closed]

    @property
    def default_message(self) -> str:
        """The template an update with this status starts from."""
        return _MAINTENANCE_MESSAGE[self]


_MAINTENANCE_MESSAGE = {
    MaintenanceStatus.scheduled: "We will be undergoing scheduled maintenance during this time.",
    MaintenanceStatus.in_progress: "Scheduled maintenance is currently in progress. We will provide updates as necessary.",
    MaintenanceStatus.verifying: "Verification is currently underway for the maintenance items.",
    MaintenanceStatus.completed: "The scheduled maintenance has been completed.",
    MaintenanceStatus.cancelled: "The scheduled maintenance has been cancelled.",
}


class IncidentImpact(str, enum.Enum):
    none = "none"
    minor = "minor"
    major = "major"
    critical = "critical"

    @property
    def severity(self) -> int:
        return ["none", "minor", "major", "critical"].index(self.value)

    @property
    def label(self) -> str:
        return self.value.capitalize()

    @property
    def color(self) -> str:
        return {
            "none": "#4b5563",
            "minor": "#a16207",
            "major": "#c2410c",
            "critical": "#b91c1c",
        }[self.value]


class ChangeCause(str, enum.Enum):
    """Why a service's status changed: recorded on every ServiceStatusChange."""

    incident = "incident"
    manual = "manual"
    monitor = "monitor"
    maintenance = "maintenance"


class PageIndicator(str, enum.Enum):
    """Overall page status, as Statuspage's status.indicator."""

    none = "none"
    maintenance = "maintenance"
    minor = "minor"
    major = "major"
    critical = "critical"

    @property
    def description(self) -> str:
        return {
            "none": "All Systems Operational",
            "maintenance": "Service Under Maintenance",
            "minor": "Partially Degraded Service",
            "major": "Partial System Outage",
            "critical": "Major System Outage",
        }[self.value]

    @property
    def severity(self) -> int:
        return ["none", "maintenance", "minor", "major", "critical"].index(self.value)

    @property
    def color(self) -> str:
        return {
            "none": "#15803d",
            "maintenance": "#1d4ed8",
            "minor": "#a16207",
            "major": "#c2410c",
            "critical": "#b91c1c",
        }[self.value]


# Default per-service status when an incident of this impact touches it and no status is given.
IMPACT_DEFAULT_SERVICE_STATUS = {
    IncidentImpact.none: ServiceStatus.operational,
    IncidentImpact.minor: ServiceStatus.degraded_performance,
    IncidentImpact.major: ServiceStatus.partial_outage,
    IncidentImpact.critical: ServiceStatus.major_outage,
}

SERVICE_STATUS_INDICATOR = {
    ServiceStatus.operational: PageIndicator.none,
    ServiceStatus.under_maintenance: PageIndicator.maintenance,
    ServiceStatus.degraded_performance: PageIndicator.minor,
    ServiceStatus.partial_outage: PageIndicator.major,
    ServiceStatus.major_outage: PageIndicator.critical,
}

IMPACT_INDICATOR = {
    IncidentImpact.none: PageIndicator.none,
    IncidentImpact.minor: PageIndicator.minor,
    IncidentImpact.major: PageIndicator.major,
    IncidentImpact.critical: PageIndicator.critical,
}


class SubscriberKind(str, enum.Enum):
    """How a subscriber is reached: the channel module of statusapp/notify/channels by that name."""

    email = "email"
    webhook = "webhook"
    slack = "slack"
    discord = "discord"

    @property
    def label(self) -> str:
        return {"email": "Email", "webhook": "Webhook", "slack": "Slack", "discord": "Discord"}[self.value]


class SubscriberStatus(str, enum.Enum):
    """pending (waiting for the confirmation click) -> confirmed -> unsubscribed; quarantined
    after repeated permanent delivery failures (bounces). Only confirmed subscribers get news."""

    pending = "pending"
    confirmed = "confirmed"
    unsubscribed = "unsubscribed"
    quarantined = "quarantined"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class DeliveryStatus(str, enum.Enum):
    """One message to one subscriber: pending -> sending -> sent, or -> retrying (after a
    temporary failure) -> sending ..., or failed (permanent, or too many attempts), or skipped
    (the subscriber left before it was sent)."""

    pending = "pending"
    sending = "sending"
    retrying = "retrying"
    sent = "sent"
    failed = "failed"
    skipped = "skipped"

    @property
    def label(self) -> str:
        return self.value.capitalize()

    @property
    def is_final(self) -> bool:
        return self in (DeliveryStatus.sent, DeliveryStatus.failed, DeliveryStatus.skipped)
