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
    manual: ServiceStatus | str,
    active_incident_statuses: Iterable[ServiceStatus | str],
    monitor: ServiceStatus | str = ServiceStatus.operational,
    under_maintenance: bool = False,
) -> ServiceStatus:
    """A service shows the worst of its manual status, what every ACTIVE incident imposes, its
    monitor's confirmed verdict (operational without a monitor) and, while a maintenance of it
    is in progress, `under_maintenance`.

    Each open incident contributes its own per-service status, so resolving one incident
    removes only its contribution: another open incident keeps the service degraded. Likewise
    a monitor that recovers withdraws only its own verdict, never a person's incident.
    Maintenance ranks below any degradation or outage: a window never hides a real problem,
    and its end returns the service to whatever the other inputs say.
    """
    maintenance = [ServiceStatus.under_maintenance] if under_maintenance else []
    return worst_service_status([manual, *active_incident_statuses, monitor, *maintenance])


# ---- the monitor's verdict -----------------------------------------------------------------
# Each check is one observation: "u" up, "s" up but slower than the monitor's threshold, "d" down.
UP, SLOW, DOWN = "u", "s", "d"
RECENT_KEPT = 10  # observations a monitor keeps: the largest threshold allowed


def observation_level(observation: str, failure_status: ServiceStatus | str) -> ServiceStatus:
    """The status one observation points to: down = the monitor's failure status, slow = degraded."""
    if observation == DOWN:
        return ServiceStatus(failure_status)
    if observation == SLOW:
        return ServiceStatus.degraded_performance
    return ServiceStatus.operational


def next_verdict(
    current: ServiceStatus | str,
    recent: str,
    *,
    failures_to_confirm: int,
    successes_to_recover: int,
    failure_status: ServiceStatus | str,
) -> ServiceStatus:
    """The monitor's confirmed verdict after its latest observation (`recent`, oldest first).

    Flapping is damped: the verdict gets worse only when the last `failures_to_confirm`
    observations ALL point to something worse, and then becomes the mildest of them (two
    checks, one slow and one down, confirm "degraded", not the outage). It gets better only
    when the last `successes_to_recover` observations ALL point to something better, and then
    becomes the worst of them. Anything else (a lone failure, a lone success during an outage)
    leaves the verdict as it is: unconfirmed, shown in the console only.
    """
    current = ServiceStatus(current)
    n, m = failures_to_confirm, successes_to_recover
    if recent and len(recent) >= n:
        levels = [observation_level(o, failure_status) for o in recent[-n:]]
        if all(level.severity > current.severity for level in levels):
            return min(levels, key=lambda s: s.severity)
    if recent and len(recent) >= m:
        levels = [observation_level(o, failure_status) for o in recent[-m:]]
        if all(level.severity < current.severity for level in levels):
            return max(levels, key=lambda s: s.severity)
    return current


def is_down_confirmed(recent: str, failures_to_confirm: int) -> bool:
    """The last `failures_to_confirm` observations are all failures: the target is not
    responding (the monitor opens its incident), as opposed to merely slow."""
    return len(recent) >= failures_to_confirm and set(recent[-failures_to_confirm:]) == {DOWN}


def page_indicator(
    service_statuses: Iterable[ServiceStatus | str],
    active_impacts: Iterable[IncidentImpact | str],
    *,
    maintenance_active: bool = False,
) -> PageIndicator:
    """Overall page status: the worst of its services and its active incidents' impact.
    A maintenance in progress on the page (`maintenance_active`, also one without services)
    makes it at least "maintenance": never more than any real degradation."""
    worst = PageIndicator.maintenance if maintenance_active else PageIndicator.none
    for s in service_statuses:
        ind = SERVICE_STATUS_INDICATOR[ServiceStatus(s)]
        if ind.severity > worst.severity:
            worst = ind
    for i in active_impacts:
        ind = IMPACT_INDICATOR[IncidentImpact(i)]
        if ind.severity > worst.severity:
            worst = ind
    return worst
