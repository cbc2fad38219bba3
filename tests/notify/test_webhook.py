"""Generic webhooks: Statuspage payload shapes, HMAC signature checked by a real loopback receiver."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import re
import time

import httpx
import pytest

from statusapp.notify.channels.base import DeliveryError, Recipient
from statusapp.notify.channels.webhook import (
    DELIVERY_HEADER,
    EVENT_HEADER,
    SIGNATURE_HEADER,
    WebhookChannel,
    sign,
    verify_signature,
)
from statusapp.notify.message import NoticeKind
from tests.notify.factories import (
    incident_notice,
    maintenance_notice,
    status_change_notice,
)
from tests.support.webhook_receiver import WebhookReceiver

SECRET = "whsec_test_123"


@pytest.fixture
def rx():
    with WebhookReceiver() as receiver:
        yield receiver


def deliver(url: str, notice=None, *, secret: str = SECRET, timeout_s: float = 2.0, key: str = "d-1"):
    async def run():
        async with httpx.AsyncClient() as client:
            ch = WebhookChannel(client, timeout_s=timeout_s)
            r = Recipient(url, manage_url="https://status.acme.test/manage?t=1",
                          unsubscribe_url="https://status.acme.test/unsubscribe?t=1", secret=secret)
            return await ch.send(notice or incident_notice(), [r], idempotency_key=key)
    return asyncio.run(run())


def test_signature_verifies_on_a_real_receiver_and_fails_when_altered(rx):
    deliver(rx.url())
    (req,) = rx.requests
    header = req.headers[SIGNATURE_HEADER]
    assert re.fullmatch(r"t=\d+,v1=[0-9a-f]{64}", header)
    assert verify_signature(SECRET, header, req.body)
    assert not verify_signature(SECRET, header, req.body.replace(b"API errors", b"API errorz"))
    assert not verify_signature(SECRET, header, req.body + b" ")
    assert not verify_signature("other-secret", header, req.body)
    t = int(header.split(",")[0][2:])
    assert not verify_signature(SECRET, header, req.body, 300, now=t + 301)  # replayed too late
    assert verify_signature(SECRET, f"{header},v1=deadbeef", req.body)  # rotation: any v1 may match
    for broken in (None, "", "v1=abc", "t=x,v1=abc", f"t={t}"):
        assert not verify_signature(SECRET, broken, req.body)
    assert req.headers[EVENT_HEADER] == "incident.updated" and req.headers[DELIVERY_HEADER] == "d-1"
    assert req.headers["Content-Type"] == "application/json"


def test_sign_is_hmac_sha256_over_timestamp_dot_body():
    body = b'{"a":1}'
    expected = hmac.new(b"s", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert sign("s", body, timestamp=1700000000) == f"t=1700000000,v1={expected}"


def test_incident_payload_has_statuspage_shape(rx):
    deliver(rx.url())
    doc = json.loads(rx.requests[0].body)
    assert set(doc) == {"meta", "page", "incident"}
    assert doc["meta"]["unsubscribe"] == "https://status.acme.test/unsubscribe?t=1"
    assert doc["meta"]["event"] == "incident.updated"
    assert doc["page"] == {"id": "pg1", "status_indicator": "major", "status_description": "Partial System Outage"}
    inc = doc["incident"]
    for key in ("id", "name", "status", "created_at", "updated_at", "monitoring_at", "resolved_at", "impact",
                "shortlink", "started_at", "page_id", "incident_updates", "components"):
        assert key in inc, key
    assert inc["name"] == "API errors" and inc["status"] == "identified" and inc["impact"] == "major"
    assert inc["created_at"] == "2026-03-16T13:35:00.000+01:00"  # page time zone, milliseconds
    assert [u["id"] for u in inc["incident_updates"]] == ["up1", "up0"]  # newest first
    latest = inc["incident_updates"][0]
    assert latest["body"].startswith("We are investigating") and latest["incident_id"] == "in1"
    assert latest["affected_components"][0] == {"code": "svc1", "name": "API", "old_status": "operational",
                                                 "new_status": "partial_outage"}
    assert inc["incident_updates"][1]["affected_components"] is None
    assert inc["components"][0]["id"] == "svc1" and inc["components"][0]["status"] == "partial_outage"


def test_maintenance_payload_has_its_window(rx):
    deliver(rx.url(), maintenance_notice(NoticeKind.maintenance_scheduled))
    inc = json.loads(rx.requests[0].body)["incident"]
    assert inc["impact"] == "maintenance" and inc["status"] == "scheduled"
    assert inc["scheduled_for"] == "2026-03-17T14:05:00.000+01:00"
    assert inc["scheduled_until"] == "2026-03-17T16:05:00.000+01:00"


def test_component_update_shape_one_post_per_service(rx):
    deliver(rx.url(), status_change_notice("API", "Web"), key="d-s")
    docs = [json.loads(r.body) for r in rx.requests]
    assert len(docs) == 2
    for doc, (sid, name) in zip(docs, [("svc1", "API"), ("svc2", "Web")]):
        assert set(doc) == {"meta", "page", "component_update", "component"}
        cu = doc["component_update"]
        assert cu["component_id"] == sid and cu["old_status"] == "operational" and cu["new_status"] == "major_outage"
        assert set(cu) == {"created_at", "new_status", "old_status", "id", "component_id"}
        assert doc["component"] == {"created_at": doc["component"]["created_at"], "id": sid, "name": name,
                                    "status": "major_outage"}
    assert [r.headers[DELIVERY_HEADER] for r in rx.requests] == ["d-s:0", "d-s:1"]
    for r in rx.requests:
        assert verify_signature(SECRET, r.headers[SIGNATURE_HEADER], r.body)


@pytest.mark.parametrize("status", [500, 503, 404, 410, 301])
def test_non_2xx_is_retryable(rx, status):
    rx.answer(status, headers={"Location": rx.url("/elsewhere"), "Retry-After": "12"})
    with pytest.raises(DeliveryError) as err:
        deliver(rx.url())
    assert err.value.retryable and err.value.status_code == status and err.value.retry_after == 12
    assert [r.path for r in rx.requests] == ["/hook"]  # a redirect is not followed


def test_slow_receiver_times_out_as_retryable(rx):
    rx.answer(200, delay=5)
    t0 = time.monotonic()
    with pytest.raises(DeliveryError) as err:
        deliver(rx.url(), timeout_s=0.5)
    assert time.monotonic() - t0 < 2.5
    assert err.value.retryable and "did not answer within 0.5 s" in err.value.reason


def test_unreachable_receiver_is_retryable_and_url_is_redacted():
    with WebhookReceiver() as gone:
        url = gone.url("/hook?token=SECRET")
    with pytest.raises(DeliveryError) as err:
        deliver(url)
    assert err.value.retryable and "SECRET" not in err.value.reason


def test_missing_secret_is_permanent(rx):
    with pytest.raises(DeliveryError) as err:
        deliver(rx.url(), secret="")
    assert not err.value.retryable and rx.requests == []
