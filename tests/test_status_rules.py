"""Table-driven tests of the pure status rules (statusapp/domain/status.py); no database."""

from __future__ import annotations

import pytest

from statusapp.domain.status import (
    derive_service_status,
    is_down_confirmed,
    next_verdict,
    page_indicator,
    worst_service_status,
)
from statusapp.enums import IncidentImpact, PageIndicator, ServiceStatus

OP = "operational"
MAINT = "under_maintenance"
DEG = "degraded_performance"
PART = "partial_outage"
MAJOR = "major_outage"


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ([], OP),
        ([OP], OP),
        ([OP, OP, OP], OP),
        ([MAINT], MAINT),
        ([OP, MAINT], MAINT),
        ([MAINT, DEG], DEG),
        ([DEG, MAINT], DEG),
        ([DEG, PART], PART),
        ([PART, DEG, OP], PART),
        ([MAJOR, OP], MAJOR),
        ([OP, DEG, MAJOR, PART, MAINT], MAJOR),
        # Enum members and plain strings mix.
        ([ServiceStatus.partial_outage, DEG], PART),
        ((s for s in [DEG, MAINT]), DEG),  # any iterable, even a generator
    ],
)
def test_worst_service_status(statuses, expected):
    result = worst_service_status(statuses)
    assert isinstance(result, ServiceStatus)
    assert result == ServiceStatus(expected)


def test_worst_service_status_rejects_unknown_status():
    with pytest.raises(ValueError):
        worst_service_status([OP, "on_fire"])


@pytest.mark.parametrize(
    ("manual", "incidents", "expected"),
    [
        # No active incident: the manual status is shown.
        (OP, [], OP),
        (MAINT, [], MAINT),
        (MAJOR, [], MAJOR),
        # One incident worse than the manual status.
        (OP, [DEG], DEG),
        (OP, [MAJOR], MAJOR),
        (MAINT, [PART], PART),
        # Manual status worse than every incident: manual wins.
        (MAJOR, [DEG], MAJOR),
        (PART, [DEG, MAINT], PART),
        # Overlapping incidents: the worst one wins, whatever the order.
        (OP, [DEG, PART], PART),
        (OP, [PART, DEG], PART),
        (OP, [DEG, DEG], DEG),
        # An incident that says "operational" imposes nothing.
        (DEG, [OP], DEG),
        (OP, [OP, OP], OP),
        # Under maintenance is less severe than any degradation.
        (MAINT, [DEG], DEG),
        (DEG, [MAINT], DEG),
        (ServiceStatus.degraded_performance, [ServiceStatus.major_outage], MAJOR),
    ],
)
def test_derive_service_status(manual, incidents, expected):
    assert derive_service_status(manual, incidents) == ServiceStatus(expected)


@pytest.mark.parametrize(
    ("manual", "incidents", "monitor", "expected"),
    [
        # The monitor's verdict is a third input: the worst of the three is shown.
        (OP, [], OP, OP),
        (OP, [], MAJOR, MAJOR),
        (OP, [], DEG, DEG),
        (DEG, [], PART, PART),
        (MAJOR, [], OP, MAJOR),  # a recovered monitor never hides the manual status
        (OP, [PART], OP, PART),  # ... nor a person's incident
        (OP, [PART], MAJOR, MAJOR),
        (MAINT, [], MAJOR, MAJOR),
        (OP, [DEG, MAJOR], PART, MAJOR),
    ],
)
def test_derive_service_status_with_the_monitors_verdict(manual, incidents, monitor, expected):
    assert derive_service_status(manual, incidents, monitor) == ServiceStatus(expected)


@pytest.mark.parametrize(
    ("manual", "incidents", "monitor", "maintenance", "expected"),
    [
        # A maintenance in progress is a fourth input, ranked below any degradation or outage.
        (OP, [], OP, True, MAINT),
        (OP, [], OP, False, OP),
        (MAINT, [], OP, False, MAINT),  # a manual "under maintenance" needs no window
        (MAINT, [], OP, True, MAINT),
        (DEG, [], OP, True, DEG),  # a person says degraded: the window does not hide it
        (OP, [PART], OP, True, PART),  # an open incident beats the window
        (OP, [OP], OP, True, MAINT),  # an incident imposing nothing leaves the window shown
        (OP, [], MAJOR, True, MAJOR),  # a confirmed outage from before the window still shows
        (OP, [], DEG, True, DEG),
        (OP, [DEG, MAJOR], OP, True, MAJOR),
        # The window ends: the service returns to what the other inputs say.
        (OP, [DEG], OP, False, DEG),
    ],
)
def test_derive_service_status_with_maintenance(manual, incidents, monitor, maintenance, expected):
    got = derive_service_status(manual, incidents, monitor, under_maintenance=maintenance)
    assert got == ServiceStatus(expected)


def test_under_maintenance_ranks_between_operational_and_degraded():
    order = sorted(ServiceStatus, key=lambda s: s.severity)
    assert order[:3] == [ServiceStatus.operational, ServiceStatus.under_maintenance,
                         ServiceStatus.degraded_performance]


# (current verdict, recent observations oldest first, N failures to confirm, M successes to
#  recover, failure status) -> new verdict. "u" up, "s" slow, "d" down.
VERDICTS = [
    # One failure is not an outage (N=2); two are.
    (OP, "d", 2, 1, MAJOR, OP),
    (OP, "ud", 2, 1, MAJOR, OP),
    (OP, "dd", 2, 1, MAJOR, MAJOR),
    (OP, "uudd", 2, 1, MAJOR, MAJOR),
    (OP, "d", 1, 1, MAJOR, MAJOR),
    # Flapping never confirms anything.
    (OP, "dudud", 2, 1, MAJOR, OP),
    (MAJOR, "dudud", 2, 2, MAJOR, MAJOR),
    # Recovery after M successes in a row.
    (MAJOR, "ddu", 2, 1, MAJOR, OP),
    (MAJOR, "ddu", 2, 2, MAJOR, MAJOR),
    (MAJOR, "dduu", 2, 2, MAJOR, OP),
    # The monitor's own failure status.
    (OP, "dd", 2, 1, PART, PART),
    (OP, "ddd", 3, 1, DEG, DEG),
    # Slowness confirmed like failures, as degraded performance.
    (OP, "ss", 2, 1, MAJOR, DEG),
    (OP, "s", 2, 1, MAJOR, OP),
    (OP, "sd", 2, 1, MAJOR, DEG),  # the mildest of the confirming checks
    (OP, "ds", 2, 1, MAJOR, DEG),
    (DEG, "ssdd", 2, 1, MAJOR, MAJOR),
    (DEG, "ssu", 2, 1, MAJOR, OP),
    # Coming back slow from an outage: degraded, not operational.
    (MAJOR, "dds", 2, 1, MAJOR, DEG),
    (MAJOR, "ddsu", 2, 2, MAJOR, DEG),  # the worst of the recovering checks
    (MAJOR, "ddus", 2, 2, MAJOR, DEG),
    # No observations yet (a monitor just reconfigured): nothing changes.
    (MAJOR, "", 2, 1, MAJOR, MAJOR),
    (OP, "", 1, 1, MAJOR, OP),
]


@pytest.mark.parametrize(("current", "recent", "n", "m", "failure", "expected"), VERDICTS)
def test_next_verdict(current, recent, n, m, failure, expected):
    assert next_verdict(current, recent, failures_to_confirm=n, successes_to_recover=m,
                        failure_status=failure) == ServiceStatus(expected)


@pytest.mark.parametrize(
    ("recent", "n", "expected"),
    [("dd", 2, True), ("sd", 2, False), ("d", 2, False), ("udd", 2, True), ("ddu", 2, False), ("d", 1, True)],
)
def test_is_down_confirmed(recent, n, expected):
    assert is_down_confirmed(recent, n) is expected


@pytest.mark.parametrize(
    ("services", "impacts", "expected", "text"),
    [
        ([], [], "none", "All Systems Operational"),
        ([OP, OP], [], "none", "All Systems Operational"),
        ([OP, MAINT], [], "maintenance", "Service Under Maintenance"),
        ([OP, DEG], [], "minor", "Partially Degraded Service"),
        ([OP, PART], [], "major", "Partial System Outage"),
        ([OP, MAJOR], [], "critical", "Major System Outage"),
        ([MAINT, DEG, PART], [], "major", "Partial System Outage"),
        # Active incidents count by impact even when no service is degraded.
        ([OP], ["none"], "none", "All Systems Operational"),
        ([OP], ["minor"], "minor", "Partially Degraded Service"),
        ([OP], ["major"], "major", "Partial System Outage"),
        ([], ["critical"], "critical", "Major System Outage"),
        ([MAINT], ["minor"], "minor", "Partially Degraded Service"),
        # Worst of the two sides wins.
        ([MAJOR], ["minor"], "critical", "Major System Outage"),
        ([DEG], ["major", "none"], "major", "Partial System Outage"),
        ([PART], ["critical", "minor"], "critical", "Major System Outage"),
        ([ServiceStatus.degraded_performance], [IncidentImpact.none], "minor", "Partially Degraded Service"),
    ],
)
def test_page_indicator(services, impacts, expected, text):
    ind = page_indicator(services, impacts)
    assert ind is PageIndicator(expected)
    assert ind.description == text


@pytest.mark.parametrize(
    "services, impacts, expected",
    [
        ([OP], [], "maintenance"),  # a maintenance in progress without services of its own
        ([], [], "maintenance"),
        ([MAINT], [], "maintenance"),
        ([DEG], [], "minor"),  # a real problem is never hidden by a maintenance
        ([OP], ["major"], "major"),
    ],
)
def test_page_indicator_with_a_maintenance_in_progress(services, impacts, expected):
    assert page_indicator(services, impacts, maintenance_active=True) is PageIndicator(expected)
    assert page_indicator(services, impacts).severity <= PageIndicator(expected).severity


def test_page_indicator_rejects_unknown_values():
    with pytest.raises(ValueError):
        page_indicator(["broken"], [])
    with pytest.raises(ValueError):
        page_indicator([], ["apocalyptic"])


@pytest.mark.parametrize(
    ("a", "b"),
    [(OP, MAINT), (MAINT, DEG), (DEG, PART), (PART, MAJOR)],
)
def test_service_status_severity_order(a, b):
    """The order every rule above relies on."""
    assert ServiceStatus(a).severity < ServiceStatus(b).severity
    assert worst_service_status([a, b]) == worst_service_status([b, a]) == ServiceStatus(b)
