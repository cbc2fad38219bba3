"""Generic subscriber webhooks: Statuspage's JSON shapes, signed with HMAC-SHA256.

Payloads are Statuspage's subscriber-webhook shapes (Instatus and Better Stack send the same),
so existing receivers work unchanged:

* incident / maintenance notices: ``{"meta", "page", "incident": {<incidents.json object>}}``
  (a maintenance carries ``scheduled_for`` / ``scheduled_until`` too);
* service status changes: ``{"meta", "page", "component_update", "component"}``, one POST per
  changed service.

``meta`` also carries ``event`` (e.g. ``incident.updated``) and ``delivery_id``.

Signature (for receivers that want to verify; Statuspage-only receivers can ignore it)::

    X-Statusapp-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>

computed over the exact raw request body bytes. To verify: recompute the HMAC over
``f"{t}.".encode() + body`` with the subscription's secret, compare in constant time with any
``v1`` value, and reject timestamps older than a tolerance (default 5 minutes) to stop
replays; ``verify_signature`` below does exactly that. Also sent: ``X-Statusapp-Event`` and
``X-Statusapp-Delivery`` (the same id on every retry of a delivery: receivers can dedupe on it).

A delivery counts when the receiver answers 2xx within 10 s; anything else (no answer, 3xx:
redirects are not followed, 4xx, 5xx) is a retryable DeliveryError, honouring Retry-After.
The httpx AsyncClient is passed in: the app builds one shared client that refuses private
addresses (SSRF guard); this module never builds its own.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx

from statusapp.notify.channels import _http
from statusapp.notify.channels.base import Channel, DeliveryError, Recipient, SendResult
from statusapp.notify.message import (
    IncidentInfo,
    Notice,
    NoticeKind,
    ServiceChange,
    UpdateInfo,
)

SIGNATURE_HEADER = "X-Statusapp-Signature"
EVENT_HEADER = "X-Statusapp-Event"
DELIVERY_HEADER = "X-Statusapp-Delivery"
DEFAULT_TOLERANCE_S = 300.0
USER_AGENT = "statusapp-webhook/1"


# --------------------------------------------------------------------------- signing


def sign(secret: str, body: bytes, *, timestamp: int | None = None) -> str:
    """The X-Statusapp-Signature header value for `body`."""
    t = int(time.time()) if timestamp is None else int(timestamp)
    mac = hmac.new(secret.encode("utf-8"), f"{t}.".encode("ascii") + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def verify_signature(secret: str, header: str | None, body: bytes,
                     tolerance_s: float = DEFAULT_TOLERANCE_S, *, now: float | None = None) -> bool:
    """True when `header` is a valid signature of `body` made with `secret` within `tolerance_s`."""
    if not header or not secret:
        return False
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t":
            try:
                timestamp = int(value)
            except ValueError:
                return False
        elif key == "v1" and value:
            candidates.append(value)
    if timestamp is None or not candidates:
        return False
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance_s:
        return False
    expected = sign(secret, body, timestamp=timestamp).split("v1=", 1)[1]
    return any(hmac.compare_digest(expected, c) for c in candidates)


# --------------------------------------------------------------------------- payloads


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        return ZoneInfo("UTC")


def _iso(value: datetime | None, zone: ZoneInfo) -> str | None:
    """ISO 8601 with the page's UTC offset and milliseconds, as Statuspage writes them."""
    return value.astimezone(zone).isoformat(timespec="milliseconds") if value is not None else None


def _page(notice: Notice) -> dict[str, Any]:
    return {"id": notice.page.id, "status_indicator": notice.page.indicator.value,
            "status_description": notice.page.status_description}


def _meta(notice: Notice, recipient: Recipient, delivery_id: str) -> dict[str, Any]:
    return {"unsubscribe": recipient.unsubscribe_url or None,
            "documentation": recipient.manage_url or notice.page.url,
            "event": notice.kind.value, "delivery_id": delivery_id}


def _component(notice: Notice, s: ServiceChange, zone: ZoneInfo) -> dict[str, Any]:
    return {
        "id": s.id, "name": s.name, "status": s.new_status.value,
        "created_at": _iso(s.created_at or notice.occurred_at, zone),
        "updated_at": _iso(notice.occurred_at, zone),
        "position": None, "description": None, "showcase": True, "start_date": None,
        "group_id": None, "page_id": notice.page.id, "group": False, "only_show_if_degraded": False,
    }


def _update(notice: Notice, inc: IncidentInfo, u: UpdateInfo, zone: ZoneInfo, latest: bool) -> dict[str, Any]:
    affected = None
    if latest and notice.services:
        affected = [{"code": s.id, "name": s.name,
                     "old_status": (s.old_status or s.new_status).value, "new_status": s.new_status.value}
                    for s in notice.services]
    when = _iso(u.created_at, zone)
    return {"id": u.id, "status": u.status, "body": u.message, "incident_id": inc.id,
            "created_at": when, "updated_at": when, "display_at": when,
            "affected_components": affected, "deliver_notifications": True,
            "custom_tweet": None, "tweet_id": None}


def incident_object(notice: Notice) -> dict[str, Any]:
    """The incident (or maintenance) as in Statuspage's incidents.json, updates newest first."""
    inc = notice.incident
    assert inc is not None
    zone = _zone(notice.page.time_zone)
    updates: list[dict[str, Any]] = []
    if notice.update is not None:
        updates.append(_update(notice, inc, notice.update, zone, latest=True))
    updates += [_update(notice, inc, u, zone, latest=False) for u in inc.history
                if notice.update is None or u.id != notice.update.id]
    obj: dict[str, Any] = {
        "id": inc.id, "name": inc.title, "status": inc.status,
        "created_at": _iso(inc.created_at, zone),
        "updated_at": _iso(inc.updated_at or notice.occurred_at, zone),
        "monitoring_at": _iso(inc.monitoring_at, zone), "resolved_at": _iso(inc.resolved_at, zone),
        "impact": inc.impact, "shortlink": inc.shortlink or inc.url,
        "started_at": _iso(inc.started_at or inc.created_at, zone), "page_id": notice.page.id,
        "incident_updates": updates,
        "components": [_component(notice, s, zone) for s in notice.services],
    }
    if inc.is_maintenance:
        obj["scheduled_for"] = _iso(inc.scheduled_for, zone)
        obj["scheduled_until"] = _iso(inc.scheduled_until, zone)
    return obj


def build_payloads(notice: Notice, recipient: Recipient, delivery_id: str) -> list[dict[str, Any]]:
    """The JSON documents to POST for `notice`: one for an incident, one per changed service."""
    if notice.kind != NoticeKind.service_status_changed:
        return [{"meta": _meta(notice, recipient, delivery_id), "page": _page(notice),
                 "incident": incident_object(notice)}]
    zone = _zone(notice.page.time_zone)
    payloads = []
    for i, s in enumerate(notice.services):
        did = delivery_id if len(notice.services) == 1 else f"{delivery_id}:{i}"
        payloads.append({
            "meta": _meta(notice, recipient, did),
            "page": _page(notice),
            "component_update": {
                "created_at": _iso(notice.occurred_at, zone),
                "new_status": s.new_status.value,
                "old_status": (s.old_status or s.new_status).value,
                "id": f"{notice.id}:{s.id}",
                "component_id": s.id,
            },
            "component": {"created_at": _iso(s.created_at or notice.occurred_at, zone), "id": s.id,
                          "name": s.name, "status": s.new_status.value},
        })
    return payloads


# --------------------------------------------------------------------------- channel


class WebhookChannel(Channel):
    """POSTs signed Statuspage-shaped JSON to one subscriber URL per call."""

    name = "webhook"
    max_batch = 1

    def __init__(self, client: httpx.AsyncClient, *, timeout_s: float = _http.DEFAULT_TIMEOUT_S) -> None:
        self.client = client
        self.timeout_s = timeout_s

    async def send(self, notice: Notice, recipients: Sequence[Recipient], *,
                   idempotency_key: str) -> SendResult:
        self._check_batch(recipients)
        recipient = recipients[0]
        if not recipient.secret:
            raise DeliveryError("webhook subscription has no signing secret", retryable=False)
        for payload in build_payloads(notice, recipient, idempotency_key):
            body = _http.json_body(payload)
            headers = {
                SIGNATURE_HEADER: sign(recipient.secret, body),
                EVENT_HEADER: notice.kind.value,
                DELIVERY_HEADER: payload["meta"]["delivery_id"],
                "User-Agent": USER_AGENT,
            }
            response = await _http.post(self.client, recipient.address, body, headers, timeout_s=self.timeout_s)
            if not 200 <= response.status_code < 300:
                raise _http.http_error(response, recipient.address, permanent_4xx=False)
        return SendResult(ids=[None])
