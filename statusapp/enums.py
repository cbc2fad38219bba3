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
# Colours chosen for contrast on light and dark backgrounds; always shown with a text label.
_SERVICE_COLOR = {
    ServiceStatus.operational: "#1f9d55",
    ServiceStatus.under_maintenance: "#3b82f6",
    ServiceStatus.degraded_performance: "#d69e2e",
    ServiceStatus.partial_outage: "#dd6b20",
    ServiceStatus.major_outage: "#e53e3e",
}


class IncidentStatus(str, enum.Enum):
    investigating = "investigating"
    identified = "identified"
    monitoring = "monitoring"
    resolved = "resolved"
    postmortem = "postmortem"

    @property
    def is_active(self) -> bool:
        """An active incident still imposes its impact on services."""
        return self not in (IncidentStatus.resolved, IncidentStatus.postmortem)

    @property
    def label(self) -> str:
        return self.value.capitalize()


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
            "none": "#718096",
            "minor": "#d69e2e",
            "major": "#dd6b20",
            "critical": "#e53e3e",
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
            "none": "#1f9d55",
            "maintenance": "#3b82f6",
            "minor": "#d69e2e",
            "major": "#dd6b20",
            "critical": "#e53e3e",
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
