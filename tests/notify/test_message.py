"""Notice: JSON round trip (it is stored in the outbox) and the invariants its constructor keeps."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from statusapp.enums import ServiceStatus
from statusapp.notify.message import (
    SCHEMA_VERSION,
    IncidentInfo,
    Notice,
    NoticeKind,
    ServiceChange,
    UpdateInfo,
)
from tests.notify.factories import (
    T0,
    incident_notice,
    maintenance_notice,
    page,
    status_change_notice,
)


@pytest.mark.parametrize("build", [incident_notice, maintenance_notice, lambda: status_change_notice("API", "Web")])
def test_round_trip_through_json(build):
    notice = build()
    data = json.loads(json.dumps(notice.to_dict()))
    assert data["schema"] == SCHEMA_VERSION
    assert Notice.from_dict(data) == notice


def test_to_dict_is_plain_json_values():
    data = incident_notice().to_dict()
    assert data["kind"] == "incident.updated"
    assert data["occurred_at"] == "2026-03-16T13:05:00+00:00"
    assert data["services"][0]["new_status"] == "partial_outage"
    assert data["page"]["indicator"] == "major"


def test_from_dict_ignores_unknown_keys_and_refuses_newer_schema():
    data = incident_notice().to_dict()
    data["added_later"] = 1
    data["page"]["also_new"] = "x"
    assert Notice.from_dict(data).page.name == "Acme Status"
    data["schema"] = SCHEMA_VERSION + 1
    with pytest.raises(ValueError, match="newer"):
        Notice.from_dict(data)


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        UpdateInfo(id="u", status="investigating", message="m", created_at=datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="timezone-aware"):
        Notice(id="n", kind=NoticeKind.service_status_changed, page=page(), occurred_at=datetime(2026, 1, 1),
               services=status_change_notice().services)


def test_statuses_are_checked_against_the_vocabulary():
    with pytest.raises(ValueError):
        IncidentInfo(id="i", title="t", impact="major", status="scheduled", url="https://x.test", created_at=T0)
    with pytest.raises(ValueError):
        IncidentInfo(id="i", title="t", impact="maintenance", status="investigating", url="https://x.test",
                     created_at=T0, is_maintenance=True)
    with pytest.raises(ValueError):
        ServiceChange(id="s", name="n", new_status="broken")


def test_kind_and_content_must_agree():
    with pytest.raises(ValueError, match="needs its incident"):
        Notice(id="n", kind=NoticeKind.incident_created, page=page(), occurred_at=T0)
    with pytest.raises(ValueError, match="does not match"):
        Notice(id="n", kind=NoticeKind.maintenance_started, page=page(), occurred_at=T0,
               incident=incident_notice().incident)
    with pytest.raises(ValueError, match="at least one service"):
        Notice(id="n", kind=NoticeKind.service_status_changed, page=page(), occurred_at=T0)


def test_title_of_a_bare_status_change_uses_service_status_labels():
    assert status_change_notice("API").title == f"API: {ServiceStatus.major_outage.label}"
    assert status_change_notice("API", "Web").title == "2 services changed status"
