"""SQLModel tables. Every row belongs to one Organization. Only statusapp.domain writes them."""

from __future__ import annotations

import datetime as dt
from typing import Any, Optional

from sqlalchemy import JSON, BigInteger, Column, Index, Integer, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from statusapp import clock


def utcnow() -> dt.datetime:
    """Aware UTC, from statusapp.clock (the wall clock unless a block sets another moment):
    SQLModel's UTCDateTime stores it as timestamptz (PostgreSQL) or UTC text (SQLite)."""
    return clock.now()


class Organization(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    created_at: dt.datetime = Field(default_factory=utcnow)
    # Bumped by every committed change of the organization, under the row's lock, so it counts
    # changes in commit order: the version a rebuilt page view reflects (see statusapp.live).
    change_seq: int = Field(default=0, sa_column_kwargs={"server_default": "0"})


class User(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    email: str = Field(max_length=320, unique=True)
    name: str = Field(default="", max_length=200)
    password_hash: str = Field(max_length=500)
    created_at: dt.datetime = Field(default_factory=utcnow)
    last_login_at: Optional[dt.datetime] = None


class AdminSession(SQLModel, table=True):
    """A server-side login session; only the SHA-256 of the browser's token is stored."""

    __tablename__ = "admin_session"
    id: Optional[int] = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    created_at: dt.datetime = Field(default_factory=utcnow)
    expires_at: dt.datetime


class LoginAttempt(SQLModel, table=True):
    """Failed and successful logins, for rate limiting and audit."""

    __tablename__ = "login_attempt"
    __table_args__ = (
        Index("ix_login_attempt_email_at", "email", "created_at"),
        Index("ix_login_attempt_ip_at", "client_ip", "created_at"),
    )
    id: Optional[int] = Field(default=None, primary_key=True)
    email: str = Field(max_length=320)
    client_ip: str = Field(default="", max_length=64)
    succeeded: bool = False
    created_at: dt.datetime = Field(default_factory=utcnow)


class ApiKey(SQLModel, table=True):
    """A key of the admin REST API, scoped to one organization. Only the SHA-256 of the token is
    stored (the token is shown once); `prefix` is its first characters, to tell keys apart."""

    __tablename__ = "api_key"
    id: Optional[int] = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    name: str = Field(max_length=200)
    prefix: str = Field(max_length=16)
    token_hash: str = Field(max_length=64, unique=True)
    created_by_user_id: Optional[int] = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    created_at: dt.datetime = Field(default_factory=utcnow)
    revoked_at: Optional[dt.datetime] = None


class StatusPage(SQLModel, table=True):
    __tablename__ = "status_page"
    id: Optional[int] = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    name: str = Field(max_length=200)
    slug: str = Field(max_length=100, unique=True)
    description: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    is_public: bool = True
    # The domain an admin typed: only a claim. It serves the page once its DNS proves the
    # claim (domain.domains.verify_custom_domain): then it is copied to `verified_domain`,
    # which is unique. Claims are not, so nobody can squat a domain by typing it first.
    custom_domain: Optional[str] = Field(default=None, max_length=255, index=True)
    domain_token: str = Field(default="", max_length=64)
    verified_domain: Optional[str] = Field(default=None, max_length=255, unique=True)
    domain_checked_at: Optional[dt.datetime] = None
    domain_check_result: str = Field(default="", max_length=300)
    logo_url: str = Field(default="", max_length=1000)
    favicon_url: str = Field(default="", max_length=1000)
    brand_color: str = Field(default="#2563eb", max_length=9)
    background_color: str = Field(default="", max_length=9)
    time_zone: str = Field(default="UTC", max_length=64)
    # Response-time charts of monitored services on the public page (the owner may hide them).
    show_response_times: bool = Field(default=True, sa_column_kwargs={"server_default": "1"})
    created_at: dt.datetime = Field(default_factory=utcnow)
    updated_at: dt.datetime = Field(default_factory=utcnow)


class ServiceGroup(SQLModel, table=True):
    __tablename__ = "service_group"
    id: Optional[int] = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    name: str = Field(max_length=200)
    description: str = Field(default="", max_length=2000)
    position: int = 0
    created_at: dt.datetime = Field(default_factory=utcnow)


class Service(SQLModel, table=True):
    """A Statuspage "component". `status` is derived (see domain.status) and cached here."""

    __table_args__ = (UniqueConstraint("organization_id", "slug", name="uq_service_org_slug"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    group_id: Optional[int] = Field(default=None, foreign_key="service_group.id", index=True, ondelete="SET NULL")
    name: str = Field(max_length=200)
    slug: str = Field(max_length=100)
    description: str = Field(default="", max_length=2000)
    position: int = 0
    manual_status: str = Field(default="operational", max_length=32)
    # The monitor's confirmed verdict (operational without a monitor): a third input of `status`.
    monitor_status: str = Field(default="operational", max_length=32, sa_column_kwargs={"server_default": "operational"})
    status: str = Field(default="operational", max_length=32)
    created_at: dt.datetime = Field(default_factory=utcnow)
    updated_at: dt.datetime = Field(default_factory=utcnow)


class StatusPageService(SQLModel, table=True):
    """Which services a page shows, in which order."""

    __tablename__ = "status_page_service"
    page_id: int = Field(foreign_key="status_page.id", primary_key=True, ondelete="CASCADE")
    service_id: int = Field(foreign_key="service.id", primary_key=True, index=True, ondelete="CASCADE")
    position: int = 0


class Incident(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    title: str = Field(max_length=300)
    impact: str = Field(default="minor", max_length=16)
    status: str = Field(default="investigating", max_length=16, index=True)
    started_at: dt.datetime = Field(default_factory=utcnow)
    identified_at: Optional[dt.datetime] = None
    monitoring_at: Optional[dt.datetime] = None
    resolved_at: Optional[dt.datetime] = None
    postmortem: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    postmortem_published_at: Optional[dt.datetime] = None
    # Set when a monitor opened it: that monitor may resolve it, unless a person posted since.
    opened_by_monitor_id: Optional[int] = Field(default=None, foreign_key="monitor.id", ondelete="SET NULL")
    created_at: dt.datetime = Field(default_factory=utcnow)
    updated_at: dt.datetime = Field(default_factory=utcnow)


class IncidentService(SQLModel, table=True):
    """A service an incident affects, with the status the incident imposes on it now."""

    __tablename__ = "incident_service"
    incident_id: int = Field(foreign_key="incident.id", primary_key=True, ondelete="CASCADE")
    service_id: int = Field(foreign_key="service.id", primary_key=True, index=True, ondelete="CASCADE")
    status: str = Field(default="degraded_performance", max_length=32)


class IncidentUpdate(SQLModel, table=True):
    __tablename__ = "incident_update"
    id: Optional[int] = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", index=True, ondelete="CASCADE")
    status: str = Field(max_length=16)
    message: str = Field(sa_column=Column(Text, nullable=False))
    # [{"service_id", "name", "old_status", "new_status"}]: the services this update changed.
    service_changes: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    deliver_notifications: bool = True
    notified_at: Optional[dt.datetime] = None
    created_by_user_id: Optional[int] = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    created_by_api_key_id: Optional[int] = Field(default=None, foreign_key="api_key.id", ondelete="SET NULL")


    # Who posted it: a ChangeCause value ("manual" for a person, "monitor" for the checker).
    source: str = Field(default="manual", max_length=16, sa_column_kwargs={"server_default": "manual"})
    created_at: dt.datetime = Field(default_factory=utcnow)
    display_at: dt.datetime = Field(default_factory=utcnow)


class MaintenanceSeries(SQLModel, table=True):
    """A recurring maintenance window: an RFC 5545 RRULE expanded from `dtstart_local` (wall-clock
    time in `time_zone`), each occurrence lasting `duration_minutes`. Occurrences become ordinary
    Maintenance rows (`series_id`, `occurrence_start`) a bounded number ahead, never more
    (domain.maintenance.materialise_occurrences)."""

    __tablename__ = "maintenance_series"
    id: Optional[int] = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    title: str = Field(max_length=300)
    description: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    rrule: str = Field(max_length=500)  # e.g. "FREQ=WEEKLY;BYDAY=SU"
    dtstart_local: str = Field(max_length=19)  # "YYYY-MM-DDTHH:MM:SS", a wall-clock time in time_zone
    time_zone: str = Field(default="UTC", max_length=64)
    duration_minutes: int = 60
    # Copied to each occurrence when it is generated.
    remind_minutes_before: Optional[int] = None  # the operations default to 60
    notify_on_start: bool = True
    notify_on_complete: bool = True
    auto_start: bool = True
    auto_complete: bool = True
    # The generator's bookmark: occurrences starting up to this moment have been considered
    # (generated, or skipped as past); it resumes after it. `next_fill_at`: when it is worth
    # looking again (a slot ahead frees up, or the next occurrence enters the horizon); None
    # once the rule has no more occurrences or the series is cancelled.
    generated_until: Optional[dt.datetime] = None
    next_fill_at: Optional[dt.datetime] = Field(default=None, index=True)
    cancelled_at: Optional[dt.datetime] = None
    created_by_user_id: Optional[int] = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    created_by_api_key_id: Optional[int] = Field(default=None, foreign_key="api_key.id", ondelete="SET NULL")
    created_at: dt.datetime = Field(default_factory=utcnow)
    updated_at: dt.datetime = Field(default_factory=utcnow)


class MaintenanceSeriesService(SQLModel, table=True):
    """A service every occurrence of a series affects."""

    __tablename__ = "maintenance_series_service"
    series_id: int = Field(foreign_key="maintenance_series.id", primary_key=True, ondelete="CASCADE")
    service_id: int = Field(foreign_key="service.id", primary_key=True, index=True, ondelete="CASCADE")


class Maintenance(SQLModel, table=True):
    """A scheduled maintenance window (Statuspage: a scheduled incident), one-off or one
    occurrence of a series. Times are UTC. While it is `in_progress` or `verifying` its
    services show `under_maintenance` (below any outage, see domain.status)."""

    __table_args__ = (
        UniqueConstraint("series_id", "occurrence_start", name="uq_maintenance_series_occurrence"),
        Index("ix_maintenance_status_for", "status", "scheduled_for"),
    )
    id: Optional[int] = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    title: str = Field(max_length=300)
    description: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))  # Markdown
    status: str = Field(default="scheduled", max_length=16)  # a MaintenanceStatus value
    scheduled_for: dt.datetime
    scheduled_until: dt.datetime
    started_at: Optional[dt.datetime] = None
    verifying_at: Optional[dt.datetime] = None
    completed_at: Optional[dt.datetime] = None
    cancelled_at: Optional[dt.datetime] = None
    # The clock starts it at scheduled_for and completes it at scheduled_until (else a person does).
    auto_start: bool = True
    auto_complete: bool = True
    # Notifications: "scheduled" when created (if chosen), a reminder this many minutes before
    # (None: none), "started", "completed". `reminded_at` makes the reminder happen once.
    notify_on_create: bool = True
    remind_minutes_before: Optional[int] = None  # the operations default to 60
    notify_on_start: bool = True
    notify_on_complete: bool = True
    reminded_at: Optional[dt.datetime] = None
    # An occurrence of a series: the series and the occurrence's nominal start. A `detached`
    # occurrence was edited on its own: editing the series leaves it alone.
    series_id: Optional[int] = Field(default=None, foreign_key="maintenance_series.id", index=True,
                                     ondelete="SET NULL")
    occurrence_start: Optional[dt.datetime] = None
    detached: bool = False
    created_by_user_id: Optional[int] = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    created_by_api_key_id: Optional[int] = Field(default=None, foreign_key="api_key.id", ondelete="SET NULL")
    created_at: dt.datetime = Field(default_factory=utcnow)
    updated_at: dt.datetime = Field(default_factory=utcnow)


class MaintenanceService(SQLModel, table=True):
    """A service a maintenance affects."""

    __tablename__ = "maintenance_service"
    maintenance_id: int = Field(foreign_key="maintenance.id", primary_key=True, ondelete="CASCADE")
    service_id: int = Field(foreign_key="service.id", primary_key=True, index=True, ondelete="CASCADE")


class MaintenanceUpdate(SQLModel, table=True):
    """One entry of a maintenance's timeline (like IncidentUpdate)."""

    __tablename__ = "maintenance_update"
    id: Optional[int] = Field(default=None, primary_key=True)
    maintenance_id: int = Field(foreign_key="maintenance.id", index=True, ondelete="CASCADE")
    status: str = Field(max_length=16)
    message: str = Field(sa_column=Column(Text, nullable=False))
    deliver_notifications: bool = True
    created_by_user_id: Optional[int] = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    created_by_api_key_id: Optional[int] = Field(default=None, foreign_key="api_key.id", ondelete="SET NULL")
    # Who posted it: a ChangeCause value ("manual" for a person, "maintenance" for the clock).
    source: str = Field(default="manual", max_length=16)
    created_at: dt.datetime = Field(default_factory=utcnow)


class ServiceStatusChange(SQLModel, table=True):
    """Every change of a service's displayed status: the source of truth for uptime."""

    __tablename__ = "service_status_change"
    __table_args__ = (Index("ix_status_change_service_at", "service_id", "changed_at"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    # No cascade: history outlives a deleted service (service_id is kept, FK set null).
    service_id: Optional[int] = Field(default=None, foreign_key="service.id", ondelete="SET NULL")
    service_name: str = Field(default="", max_length=200)
    from_status: Optional[str] = Field(default=None, max_length=32)
    to_status: str = Field(max_length=32)
    cause: str = Field(max_length=16)
    incident_id: Optional[int] = Field(default=None, foreign_key="incident.id", ondelete="SET NULL")
    maintenance_id: Optional[int] = Field(default=None, foreign_key="maintenance.id", ondelete="SET NULL")
    actor_user_id: Optional[int] = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    actor_api_key_id: Optional[int] = Field(default=None, foreign_key="api_key.id", ondelete="SET NULL")
    changed_at: dt.datetime = Field(default_factory=utcnow)


class DomainEvent(SQLModel, table=True):
    """Outbox: one row per committed change, written in the change's transaction.

    Live pages are pushed from the in-process hook after commit; notifications (a later
    issue) consume these rows, so nothing is lost when a process dies after commit.
    """

    __tablename__ = "domain_event"
    id: Optional[int] = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    kind: str = Field(max_length=64)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: dt.datetime = Field(default_factory=utcnow)
    processed_at: Optional[dt.datetime] = Field(default=None, index=True)


# --------------------------------------------------------------------------- notifications


class Subscriber(SQLModel, table=True):
    """Someone (or some system) told of a page's incidents: an email address confirmed by its
    owner, a webhook, or a Slack/Discord channel added in the console. `all_services` or the
    SubscriberService rows say which services' news they get."""

    __table_args__ = (
        UniqueConstraint("page_id", "kind", "address", name="uq_subscriber_page_kind_address"),
        Index("ix_subscriber_page_status", "page_id", "status", "id"),
    )
    id: Optional[int] = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    page_id: int = Field(foreign_key="status_page.id", ondelete="CASCADE")
    kind: str = Field(default="email", max_length=16)  # a SubscriberKind value
    address: str = Field(max_length=1000)  # email (lowercase) or URL
    # Webhooks subscribed on the public page: the address that confirms and manages them.
    contact_email: str = Field(default="", max_length=320)
    name: str = Field(default="", max_length=200)  # console channels: a label
    secret: str = Field(default="", max_length=100)  # webhook signing secret (shown once)
    status: str = Field(default="pending", max_length=16)  # a SubscriberStatus value
    all_services: bool = True
    source: str = Field(default="public", max_length=16)  # public | import | console
    failure_count: int = 0  # permanent delivery failures (bounces)
    last_error: str = Field(default="", max_length=500)
    created_at: dt.datetime = Field(default_factory=utcnow)
    confirmed_at: Optional[dt.datetime] = None
    unsubscribed_at: Optional[dt.datetime] = None


class SubscriberService(SQLModel, table=True):
    """A service a subscriber chose (none: every service of the page)."""

    __tablename__ = "subscriber_service"
    subscriber_id: int = Field(foreign_key="subscriber.id", primary_key=True, ondelete="CASCADE")
    service_id: int = Field(foreign_key="service.id", primary_key=True, index=True, ondelete="CASCADE")


class SubscribeAttempt(SQLModel, table=True):
    """Every subscription request from a public page, for the rate limits per address and per IP."""

    __tablename__ = "subscribe_attempt"
    __table_args__ = (
        Index("ix_subscribe_attempt_address_at", "address", "created_at"),
        Index("ix_subscribe_attempt_ip_at", "client_ip", "created_at"),
    )
    id: Optional[int] = Field(default=None, primary_key=True)
    address: str = Field(max_length=1000)
    client_ip: str = Field(default="", max_length=64)
    created_at: dt.datetime = Field(default_factory=utcnow)


class Notification(SQLModel, table=True):
    """What one outbox event tells the subscribers of one page, frozen when the sender took
    the event: a Notice (kind "notice"), or an account email (confirm / manage_link) or a
    channel test. Retries render from this snapshot, so a retried batch is byte-identical."""

    __table_args__ = (UniqueConstraint("event_id", "page_id", name="uq_notification_event_page"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    event_id: int = Field(foreign_key="domain_event.id", ondelete="CASCADE")
    page_id: int = Field(foreign_key="status_page.id", ondelete="CASCADE")
    kind: str = Field(default="notice", max_length=16)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: dt.datetime = Field(default_factory=utcnow)


class Delivery(SQLModel, table=True):
    """One message of one notification to one subscriber, and where it stands.

    Unique per (event, kind, address): an address subscribed on several pages gets an event
    once. `batch_key` groups the rows sent in one provider call; it is kept across retries,
    so a retry resends exactly the same batch under the same idempotency key.
    """

    __table_args__ = (
        UniqueConstraint("event_id", "kind", "address", name="uq_delivery_event_kind_address"),
        Index("ix_delivery_claim", "status", "kind", "notification_id", "id"),
    )
    id: Optional[int] = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    event_id: int = Field(foreign_key="domain_event.id", ondelete="CASCADE")
    notification_id: int = Field(foreign_key="notification.id", index=True, ondelete="CASCADE")
    subscriber_id: Optional[int] = Field(default=None, foreign_key="subscriber.id", index=True, ondelete="SET NULL")
    kind: str = Field(max_length=16)
    address: str = Field(max_length=1000)  # a snapshot: the log outlives a removed subscriber
    status: str = Field(default="pending", max_length=16)  # a DeliveryStatus value
    attempts: int = 0
    next_attempt_at: Optional[dt.datetime] = None
    claimed_until: Optional[dt.datetime] = None
    batch_key: Optional[str] = Field(default=None, max_length=64, index=True)
    provider_id: str = Field(default="", max_length=100)
    last_error: str = Field(default="", max_length=500)
    created_at: dt.datetime = Field(default_factory=utcnow)
    sent_at: Optional[dt.datetime] = None


class DevMail(SQLModel, table=True):
    """The dev mailbox: with no Resend key, every email is kept here and shown in the console."""

    __tablename__ = "dev_mail"
    id: Optional[int] = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    to_address: str = Field(max_length=320)
    subject: str = Field(max_length=300)
    html: str = Field(sa_column=Column(Text, nullable=False))
    text: str = Field(sa_column=Column(Text, nullable=False))
    headers: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    batch_key: str = Field(default="", max_length=64)
    created_at: dt.datetime = Field(default_factory=utcnow)


class Monitor(SQLModel, table=True):
    """A service's monitor (at most one per service): what to check, how often, when to believe it.

    `check` holds the kind's fields (domain.monitor_spec.check_to_json). The checker's running
    state is kept here too: `recent` is the last observations, oldest first ("u" up, "s" slow,
    "d" down), from which the confirmed verdict (`Service.monitor_status`) is decided.
    """

    id: Optional[int] = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    service_id: int = Field(foreign_key="service.id", unique=True, ondelete="CASCADE")
    kind: str = Field(max_length=8)
    interval_seconds: int = 60
    check: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    failures_to_confirm: int = 2
    successes_to_recover: int = 1
    failure_status: str = Field(default="major_outage", max_length=32)
    auto_incident: bool = True
    enabled: bool = True
    # Push monitors: SHA-256 of the secret in the push URL (the secret itself is shown once).
    push_token_hash: Optional[str] = Field(default=None, max_length=64, unique=True)
    recent: str = Field(default="", max_length=10)
    last_checked_at: Optional[dt.datetime] = None
    last_ok: Optional[bool] = None
    last_reason: str = Field(default="", max_length=300)
    last_latency_ms: Optional[float] = None
    last_push_at: Optional[dt.datetime] = None
    created_at: dt.datetime = Field(default_factory=utcnow)
    updated_at: dt.datetime = Field(default_factory=utcnow)  # config changes only (the checker reloads)


class MonitorCheck(SQLModel, table=True):
    """One check's result (high volume: written in batches, kept `check_retention_days`)."""

    __tablename__ = "monitor_check"
    __table_args__ = (Index("ix_monitor_check_monitor_at", "monitor_id", "checked_at"),)
    # 64-bit on PostgreSQL (billions of rows over the years); SQLite's rowid is 64-bit already.
    id: Optional[int] = Field(
        default=None, sa_column=Column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True)
    )
    monitor_id: int = Field(foreign_key="monitor.id", ondelete="CASCADE")
    checked_at: dt.datetime = Field(default_factory=utcnow)
    ok: bool = True
    degraded: bool = False
    latency_ms: Optional[float] = None
    status_code: Optional[int] = None
    reason: str = Field(default="", max_length=300)


class MonitorDaily(SQLModel, table=True):
    """A service's checks rolled up per UTC day (kept after the raw checks are pruned)."""

    __tablename__ = "monitor_daily"
    service_id: int = Field(foreign_key="service.id", primary_key=True, ondelete="CASCADE")
    day: dt.date = Field(primary_key=True)
    checks: int = 0
    failures: int = 0
    avg_latency_ms: Optional[float] = None
    p95_latency_ms: Optional[float] = None


class CheckerHeartbeat(SQLModel, table=True):
    """The checker's health, written every few seconds by whichever process leads the jobs, so
    a console served by another process can show it."""

    __tablename__ = "checker_heartbeat"
    id: int = Field(default=1, primary_key=True)
    leader: str = Field(default="", max_length=200)  # host, pid and kind of process
    leader_since: Optional[dt.datetime] = None
    beat_at: Optional[dt.datetime] = None
    monitors: int = 0
    checks_per_minute: int = 0
    lag_p95_ms: Optional[float] = None
    lag_max_ms: Optional[float] = None
    pending_writes: int = 0
    last_error: str = Field(default="", max_length=500)
