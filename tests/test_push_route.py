"""The push (heartbeat) URL over HTTP: a beat is recorded, anything else answers 4xx with a reason."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from statusapp import routes
from statusapp.domain import monitoring
from statusapp.models import Monitor
from statusapp.web import api
from tests.domain.helpers import MAJOR, load, new_service, status_of


@pytest.fixture
def push(org):
    svc = new_service(org, "cron")
    saved = monitoring.set_monitor(actor=org, service_id=svc.id, data={"kind": "push", "failures_to_confirm": "1"})
    return svc, saved.monitor, saved.push_token


def test_a_reported_failure_counts_and_pushing_too_often_is_refused(push):
    svc, mon, token = push
    client = TestClient(api)
    r = client.post(routes.push_path(token) + "?status=down&msg=backup%20failed")
    assert (r.status_code, r.json()) == (200, {"ok": True})
    assert load(Monitor, mon.id).last_reason == "heartbeat reported down: backup failed"
    assert status_of(svc.id) == MAJOR
    r = client.get(routes.push_path(token))  # again within a second: not recorded
    assert r.status_code == 429 and r.headers["retry-after"] == "1"
    assert status_of(svc.id) == MAJOR


def test_a_beat_is_recorded(push):
    _svc, mon, token = push
    r = TestClient(api).get(routes.push_path(token))
    assert (r.status_code, r.json()) == (200, {"ok": True})
    assert load(Monitor, mon.id).last_reason == "heartbeat received"


@pytest.mark.parametrize(
    ("path", "status", "field"),
    [
        ("/push/not-a-token", 404, None),
        ("/push/{token}?status=sideways", 400, "status"),
        ("/push/{token}?msg=" + "x" * 400, 400, "msg"),
    ],
)
def test_bad_pushes_change_nothing(push, row_counts, path, status, field):
    _svc, _mon, token = push
    before = row_counts()
    r = TestClient(api).get(path.replace("{token}", token))
    assert r.status_code == status
    assert r.json()["ok"] is False and r.json()["detail"]
    if field:
        assert r.json()["field"] == field
    assert row_counts() == before


def test_a_paused_monitors_url_answers_404(push, org):
    svc, _mon, token = push
    monitoring.set_monitor(actor=org, service_id=svc.id, data={"kind": "push", "enabled": False})
    assert TestClient(api).get(routes.push_path(token)).status_code == 404
