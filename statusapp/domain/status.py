"""Pure rules that decide statuses; tested as tables in tests/test_status_rules.py."""

from __future__ import annotations

from collections.abc import Iterable

from statusapp.enums import (
    IMPACT_INDICATOR,
    SERVICE_STATUS_INDICATOR,
    IncidentImpact,
    PageIndicator,
    ServiceStatus,
)


def worst_service_status(statuses: Iterable[ServiceStatus | str]) -> ServiceStatus:
    """The most severe of `statuses`; operational when there are none."""
    worst = ServiceStatus.operational
    for s in statuses:
        s = ServiceStatus(s)
        if s.severity > worst.severity:
            worst = s
    return worst


def derive_service_status(
    manual: ServiceStatus | str, active_incident_statuses: Iterable[ServiceStatus | str]
) -> ServiceStatus:
    """A service shows the worst of its manual status and what every ACTIVE incident imposes.

    Each open incident contributes its own per-service status, so resolving one incident
    removes only its contribution: another open incident keeps the service degraded.
    """
    return worst_service_status([manual, *active_incident_statuses])


def page_indicator(
    service_statuses: Iterable[ServiceStatus | str], active_impacts: Iterable[IncidentImpact | str]
) -> PageIndicator:
    """Overall page status: the worst of its services and its active incidents' impact."""
    worst = PageIndicator.none
    for s in service_statuses:
        ind = SERVICE_STATUS_INDICATOR[ServiceStatus(s)]
        if ind.severity > worst.severity:
            worst = ind
    for i in active_impacts:
        ind = IMPACT_INDICATOR[IncidentImpact(i)]
        if ind.severity > worst.severity:
            worst = ind
    return worst
