"""Notices for tests: realistic defaults, every field overridable, hostile text on request."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from statusapp.enums import PageIndicator, ServiceStatus
from statusapp.notify.channels.base import Recipient
from statusapp.notify.message import (
    IncidentInfo,
    Notice,
    NoticeKind,
    PageInfo,
    ServiceChange,
    UpdateInfo,
)

T0 = datetime(2026, 3, 16, 13, 5, tzinfo=UTC)

HOSTILE_TITLE = '<script>alert(1)</script> "onmouseover="alert(2)" {{ 7*7 }} & <img src=x onerror=alert(3)>'
HOSTILE_MESSAGE = ("Line one <b>bold?</b>\n<script>steal()</script>\n\n"
                   "javascript:alert(4) {{ config }} ${7*7} @everyone <!channel> <@123> [x](https://evil.test)")
HOSTILE_SERVICE = '<svg onload=alert(5)> API "quoted" & \'single\''
HOSTILE_URL = "javascript:alert(6)"


def page(**kw: Any) -> PageInfo:
    base: dict[str, Any] = dict(id="pg1", name="Acme Status", url="https://status.acme.test",
                                time_zone="Europe/Berlin", brand_color="#0a7cff",
                                logo_url="https://status.acme.test/logo.png", indicator=PageIndicator.major)
    base.update(kw)
    return PageInfo(**base)


def incident_notice(kind: NoticeKind = NoticeKind.incident_updated, *, title: str = "API errors",
                    message: str = "We are investigating elevated error rates.\nMore soon.",
                    service_name: str = "API", page_kw: dict[str, Any] | None = None,
                    incident_url: str = "https://status.acme.test/incidents/in1",
                    status: str = "identified", impact: str = "major", **kw: Any) -> Notice:
    incident = IncidentInfo(id="in1", title=title, impact=impact, status=status, url=incident_url,
                            created_at=T0 - timedelta(minutes=30), started_at=T0 - timedelta(minutes=30),
                            history=[UpdateInfo(id="up0", status="investigating", message="Looking into it.",
                                                created_at=T0 - timedelta(minutes=30))])
    base: dict[str, Any] = dict(
        id="n-1", kind=kind, page=page(**(page_kw or {})), occurred_at=T0, incident=incident,
        update=UpdateInfo(id="up1", status=status, message=message, created_at=T0),
        services=[ServiceChange(id="svc1", name=service_name, old_status=ServiceStatus.operational,
                                new_status=ServiceStatus.partial_outage, created_at=T0 - timedelta(days=300)),
                  ServiceChange(id="svc2", name="Dashboard", old_status=ServiceStatus.degraded_performance,
                                new_status=ServiceStatus.degraded_performance)],
    )
    base.update(kw)
    return Notice(**base)


def maintenance_notice(kind: NoticeKind = NoticeKind.maintenance_scheduled) -> Notice:
    incident = IncidentInfo(id="mn1", title="Database upgrade", impact="maintenance", status="scheduled",
                            url="https://status.acme.test/maintenance/mn1", created_at=T0,
                            scheduled_for=T0 + timedelta(days=1), scheduled_until=T0 + timedelta(days=1, hours=2),
                            is_maintenance=True)
    return Notice(id="n-m", kind=kind, page=page(indicator=PageIndicator.none), occurred_at=T0, incident=incident,
                  update=UpdateInfo(id="mu1", status="scheduled", message="We will upgrade the database.",
                                    created_at=T0),
                  services=[ServiceChange(id="svc1", name="API", new_status=ServiceStatus.under_maintenance,
                                          old_status=ServiceStatus.operational)])


def status_change_notice(*names: str) -> Notice:
    services = [ServiceChange(id=f"svc{i}", name=n, old_status=ServiceStatus.operational,
                              new_status=ServiceStatus.major_outage, created_at=T0 - timedelta(days=3))
                for i, n in enumerate(names or ("API",), start=1)]
    return Notice(id="n-s", kind=NoticeKind.service_status_changed, page=page(), occurred_at=T0, services=services)


def recipients(n: int, *, domain: str = "example.com") -> list[Recipient]:
    return [Recipient(address=f"user{i}@{domain}",
                      manage_url=f"https://status.acme.test/subscription?t=tok{i}&view=1",
                      unsubscribe_url=f"https://status.acme.test/unsubscribe?t=tok{i}",
                      subscriber_id=str(i)) for i in range(n)]
