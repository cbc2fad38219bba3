"""Scheduled maintenance over HTTP: the Statuspage documents, the calendar, and the admin REST
API (windows, their lifecycle, series, errors). SQLite and PostgreSQL.

The API runs in TestClient's own thread, so its "now" is the wall clock: windows here are
placed relative to it (an hour ahead, ...), and anything that needs another moment (the clock
starting a window) runs the domain in this thread under `clock.at`.
"""

from __future__ import annotations

import datetime as dt
import re

import icalendar
import pytest
from sqlmodel import select

from statusapp import clock
from statusapp.api.cache import documents
from statusapp.domain import maintenance, pages, services
from statusapp.live import LiveHub, build_org_update
from statusapp.models import ApiKey, Maintenance, MaintenanceUpdate, ServiceStatusChange
from statusapp.settings import get_settings
from tests.api.conftest import bearer
from tests.api.test_badges_feeds import NASTY
from tests.api.test_v2 import ENUMS, REFERENCE, TIMESTAMP, assert_component, assert_shape, get
from tests.domain.helpers import fresh
from tests.support.aio import run

V1 = "/api/v1"
H = dt.timedelta(hours=1)
MAINTENANCE_STATUSES = {"scheduled", "in_progress", "verifying", "completed"}


def now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


def iso(value: dt.datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def errors_of(r) -> dict[str, str]:
    return {e["field"]: e["reason"] for e in r.json()["errors"]}


def assert_maintenance(m: dict, where: str) -> None:
    """Statuspage's scheduled incident: the incident object plus scheduled_for / scheduled_until."""
    ref = {**REFERENCE["incident"], "components": [], "scheduled_for": "", "scheduled_until": ""}
    assert REFERENCE["maintenance_extra_keys"] == ["scheduled_for", "scheduled_until"]
    components = m["components"]
    assert_shape({**m, "components": []}, ref, where)
    for i, c in enumerate(components):
        assert_component(c, f"{where}.components[{i}]")
    assert TIMESTAMP.match(m["scheduled_for"]) and TIMESTAMP.match(m["scheduled_until"])
    assert m["status"] in MAINTENANCE_STATUSES and m["impact"] == "maintenance"
    assert {u["status"] for u in m["incident_updates"]} <= MAINTENANCE_STATUSES
    shown = [u["display_at"] for u in m["incident_updates"]]
    assert shown == sorted(shown, reverse=True), "updates newest first"


def refresh(client=None) -> None:
    """What the live hub's push after a change does in every worker."""
    documents.clear()


def schedule(org, service_ids, *, start=None, end=None, title="Database upgrade", **kw) -> Maintenance:
    start = start or now() + 2 * H
    return maintenance.create_maintenance(actor=org, title=title, scheduled_for=start,
                                          scheduled_until=end or start + H, services=service_ids, **kw)


# ---- public JSON --------------------------------------------------------------------------
def test_documents_list_scheduled_in_progress_and_completed_maintenance(client, acme, org):
    upcoming = schedule(org, [acme.docs_id], title="Docs move", description="New **host**.")
    later = schedule(org, [], title="Org-wide", start=now() + 5 * H)  # no services: on every page
    running = schedule(org, [acme.web_id], title="Web patch", start=now() + H)
    maintenance.start_maintenance(actor=org, maintenance_id=running.id)
    maintenance.verify_maintenance(actor=org, maintenance_id=running.id)
    done = schedule(org, [acme.api_id], title="API done", start=now() + 3 * H)
    maintenance.start_maintenance(actor=org, maintenance_id=done.id)
    maintenance.complete_maintenance(actor=org, maintenance_id=done.id, message="All done.")
    called_off = schedule(org, [acme.docs_id], title="Called off", start=now() + 4 * H)
    maintenance.cancel_maintenance(actor=org, maintenance_id=called_off.id)
    # Another page's services only: not on acme.
    elsewhere = services.create_service(actor=org, name="Elsewhere", slug="elsewhere")
    schedule(org, [elsewhere.id], title="Not here")

    base = "/status/acme/api/v2/"
    everything = get(client, base + "scheduled-maintenances.json").json()
    assert list(everything) == ["page", "scheduled_maintenances"]
    items = everything["scheduled_maintenances"]
    for i, m in enumerate(items):
        assert_maintenance(m, f"scheduled_maintenances[{i}]")
    # Latest start first; the cancelled one and the other page's one are not listed.
    assert [m["name"] for m in items] == ["Org-wide", "API done", "Docs move", "Web patch"]
    by_name = {m["name"]: m for m in items}

    docs = by_name["Docs move"]
    assert docs["id"] == str(upcoming.id) and docs["status"] == "scheduled"
    assert [c["id"] for c in docs["components"]] == [str(acme.docs_id)]
    assert docs["resolved_at"] is None and docs["monitoring_at"] is None
    assert docs["incident_updates"][0]["body"] == "We will be undergoing scheduled maintenance during this time."
    assert docs["incident_updates"][0]["incident_id"] == docs["id"]
    assert docs["scheduled_for"][-6:] in ("-05:00", "-04:00")  # in the page's zone (New York)
    assert dt.datetime.fromisoformat(docs["scheduled_for"]) == upcoming.scheduled_for
    assert docs["shortlink"].endswith(f"/status/acme/maintenance/{upcoming.id}")
    assert by_name["Org-wide"]["components"] == []

    web = by_name["Web patch"]
    assert web["status"] == "verifying" and web["monitoring_at"] is not None
    assert [u["status"] for u in web["incident_updates"]] == ["verifying", "in_progress", "scheduled"]
    # Web is degraded by acme's incident: a maintenance never hides a real problem.
    assert [c["status"] for c in web["components"]] == ["degraded_performance"]

    api = by_name["API done"]
    assert api["status"] == "completed" and api["resolved_at"] is not None
    assert api["incident_updates"][0]["body"] == "All done."

    upcoming_doc = get(client, base + "scheduled-maintenances/upcoming.json").json()["scheduled_maintenances"]
    assert [m["name"] for m in upcoming_doc] == ["Docs move", "Org-wide"]  # soonest first
    active_doc = get(client, base + "scheduled-maintenances/active.json").json()["scheduled_maintenances"]
    assert [m["name"] for m in active_doc] == ["Web patch"]
    summary = get(client, base + "summary.json").json()
    assert list(summary) == REFERENCE["documents"]["summary.json"]
    assert [m["name"] for m in summary["scheduled_maintenances"]] == ["Web patch", "Docs move", "Org-wide"]
    for i, m in enumerate(summary["scheduled_maintenances"]):
        assert_maintenance(m, f"summary.scheduled_maintenances[{i}]")
    assert elsewhere.id and later.id


def test_status_indicator_is_maintenance_when_nothing_worse(client, org):
    svc = services.create_service(actor=org, name="Mail", slug="mail")
    pages.create_page(actor=org, name="Quiet", slug="quiet", service_ids=[svc.id])
    assert get(client, "/status/quiet/api/v2/status.json").json()["status"]["indicator"] == "none"
    m = schedule(org, [svc.id])
    refresh()
    assert get(client, "/status/quiet/api/v2/status.json").json()["status"]["indicator"] == "none"  # only scheduled
    maintenance.start_maintenance(actor=org, maintenance_id=m.id)
    refresh()
    body = get(client, "/status/quiet/api/v2/summary.json").json()
    assert body["status"] == {"indicator": "maintenance", "description": "Service Under Maintenance"}
    assert body["status"]["indicator"] in ENUMS["indicator"]
    assert body["components"][0]["status"] == "under_maintenance"
    # Something worse wins over the maintenance.
    services.set_manual_status(actor=org, service_id=svc.id, status="partial_outage")
    refresh()
    assert get(client, "/status/quiet/api/v2/status.json").json()["status"]["indicator"] == "major"
    services.set_manual_status(actor=org, service_id=svc.id, status="operational")
    # An org-wide maintenance in progress (no services) also says so.
    maintenance.complete_maintenance(actor=org, maintenance_id=m.id)
    wide = schedule(org, [])
    maintenance.start_maintenance(actor=org, maintenance_id=wide.id)
    refresh()
    assert get(client, "/status/quiet/api/v2/status.json").json()["status"]["indicator"] == "maintenance"
    maintenance.complete_maintenance(actor=org, maintenance_id=wide.id)
    refresh()
    assert get(client, "/status/quiet/api/v2/status.json").json()["status"]["indicator"] == "none"


def test_a_maintenance_made_through_the_domain_is_served_after_the_push_with_a_new_etag(client, acme, org):
    path = "/status/acme/api/v2/scheduled-maintenances/upcoming.json"
    first = get(client, path)
    assert first.json()["scheduled_maintenances"] == []
    summary_first = get(client, "/status/acme/api/v2/summary.json")
    hub = LiveHub()
    hub.on_page_pushed(documents.invalidate)  # as api.install wires it in every worker
    m = schedule(org, [acme.docs_id], title="Pushed")
    run(hub.apply([build_org_update(org.organization_id)]))
    second = get(client, path, headers={"If-None-Match": first.headers["etag"]})
    assert [x["id"] for x in second.json()["scheduled_maintenances"]] == [str(m.id)]
    assert second.headers["etag"] != first.headers["etag"]
    r = client.get("/status/acme/api/v2/summary.json", headers={"If-None-Match": summary_first.headers["etag"]})
    assert r.status_code == 200 and r.json()["scheduled_maintenances"][0]["name"] == "Pushed"
    # Unchanged since: 304.
    assert client.get(path, headers={"If-None-Match": second.headers["etag"]}).status_code == 304
    # The clock starting it (another process, e.g. the jobs runner) is one more change.
    with clock.at(m.scheduled_for):
        assert maintenance.tick().started == [m.id]
    run(hub.apply([build_org_update(org.organization_id)]))
    active = get(client, "/status/acme/api/v2/scheduled-maintenances/active.json").json()
    assert [x["status"] for x in active["scheduled_maintenances"]] == ["in_progress"]
    assert get(client, path).json()["scheduled_maintenances"] == []


# ---- the calendar -------------------------------------------------------------------------
def ics_unescape(value: str) -> str:
    return re.sub(r"\\([\\;,nN])", lambda m: "\n" if m.group(1) in "nN" else m.group(1), value)


def test_calendar_has_one_event_per_maintenance_escaped_folded_and_stable(client, acme, org):
    title = NASTY + "; with, commas \\ and " + "ü" * 60
    m = schedule(org, [acme.docs_id, acme.api_id], title=title, description="Line one;\nline two, \\ three")
    gone = schedule(org, [acme.docs_id], title="Called off", start=now() + 5 * H)
    maintenance.cancel_maintenance(actor=org, maintenance_id=gone.id)
    refresh()
    r = get(client, "/status/acme/maintenance.ics")
    assert r.headers["content-type"].startswith("text/calendar")
    body = r.content
    assert body.endswith(b"\r\n") and b"\n" not in body.replace(b"\r\n", b"")
    assert all(len(line) <= 75 for line in body.split(b"\r\n"))
    cal = icalendar.Calendar.from_ical(body)
    events = {str(e["UID"]): e for e in cal.walk("VEVENT")}
    host = re.escape(get_settings().public_hostname)
    assert sorted(re.fullmatch(rf"maintenance-(\d+)@{host}", uid).group(1) for uid in events) == sorted(
        [str(m.id), str(gone.id)])
    event = next(e for uid, e in events.items() if uid.startswith(f"maintenance-{m.id}@"))
    assert str(event["SUMMARY"]) == title
    assert event["DTSTART"].dt == m.scheduled_for and event["DTEND"].dt == m.scheduled_until
    assert event["DTSTART"].dt.utcoffset() == dt.timedelta(0)
    assert str(event["STATUS"]) == "CONFIRMED"
    assert str(event["URL"]).endswith(f"/status/acme/maintenance/{m.id}")
    description = str(event["DESCRIPTION"])
    assert "Status: Scheduled" in description and "Affected: API, Docs" in description
    assert "Line one;\nline two, \\ three" in description
    assert "DTSTAMP" in event
    # The raw text escapes ; , \ and newlines (RFC 5545 3.3.11): the title never ends its line.
    raw = body.decode().replace("\r\n ", "")
    summary_line = next(line for line in raw.split("\r\n") if line.startswith("SUMMARY:") and "commas" in line)
    assert "\\;" in summary_line and "\\," in summary_line and "\\\\" in summary_line
    description_line = next(line for line in raw.split("\r\n") if line.startswith("DESCRIPTION:") and "Line one" in line)
    assert "Line one\\;\\nline two\\, \\\\ three" in description_line
    cancelled = next(e for uid, e in events.items() if uid.startswith(f"maintenance-{gone.id}@"))
    assert str(cancelled["STATUS"]) == "CANCELLED"
    # Stable: the same body (and ETag) until something changes; then the same UID, a higher SEQUENCE.
    again = get(client, "/status/acme/maintenance.ics")
    assert again.content == body
    before = int(event["SEQUENCE"])
    with clock.at(now() + dt.timedelta(seconds=30)):
        maintenance.edit_maintenance(actor=org, maintenance_id=m.id, scheduled_until=m.scheduled_until + H)
    refresh()
    changed = icalendar.Calendar.from_ical(get(client, "/status/acme/maintenance.ics").content)
    event2 = next(e for e in changed.walk("VEVENT") if str(e["UID"]) == str(event["UID"]))
    assert int(event2["SEQUENCE"]) > before and event2["DTEND"].dt == m.scheduled_until + H


# ---- admin REST API -------------------------------------------------------------------------
def test_maintenance_lifecycle_through_the_api_is_attributed_to_the_key(client, org, key, acme):
    h = bearer(key)
    start, end = now() + 2 * H, now() + 3 * H
    r = client.post(V1 + "/maintenances", headers=h, json={
        "title": "Database upgrade", "description": "Writes pause.", "scheduled_for": iso(start),
        "scheduled_until": iso(end), "services": [acme.docs_id, str(acme.web_id)], "remind_minutes_before": 30,
    })
    assert r.status_code == 201, r.text
    m = r.json()
    assert m["status"] == "scheduled" and m["title"] == "Database upgrade"
    assert dt.datetime.fromisoformat(m["scheduled_for"]) == start
    assert {s["id"] for s in m["services"]} == {str(acme.docs_id), str(acme.web_id)}
    assert m["remind_minutes_before"] == 30 and m["series_id"] is None
    assert [u["status"] for u in m["updates"]] == ["scheduled"]
    mid = m["id"]

    assert client.get(V1 + f"/maintenances/{mid}", headers=h).json()["id"] == mid
    assert [x["id"] for x in client.get(V1 + "/maintenances?state=upcoming", headers=h).json()] == [mid]

    r = client.patch(V1 + f"/maintenances/{mid}", headers=h, json={
        "title": "DB upgrade", "scheduled_until": iso(end + H), "remind_minutes_before": None,
        "services": [acme.docs_id]})
    assert r.status_code == 200, r.text
    assert r.json()["title"] == "DB upgrade" and r.json()["remind_minutes_before"] is None
    assert [s["id"] for s in r.json()["services"]] == [str(acme.docs_id)]
    assert dt.datetime.fromisoformat(r.json()["scheduled_until"]) == end + H

    r = client.post(V1 + f"/maintenances/{mid}/start", headers=h, json={"message": "Starting early."})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "in_progress" and r.json()["started_at"]
    assert r.json()["services"][0]["status"] == "under_maintenance"
    assert client.post(V1 + f"/maintenances/{mid}/start", headers=h).status_code == 422  # twice
    r = client.post(V1 + f"/maintenances/{mid}/updates", headers=h, json={"message": "Halfway."})
    assert r.status_code == 201 and r.json()["updates"][0]["message"] == "Halfway."
    r = client.post(V1 + f"/maintenances/{mid}/extend", headers=h, json={"scheduled_until": iso(end + 2 * H)})
    assert r.status_code == 200 and dt.datetime.fromisoformat(r.json()["scheduled_until"]) == end + 2 * H
    r = client.post(V1 + f"/maintenances/{mid}/verify", headers=h)
    assert r.status_code == 200 and r.json()["status"] == "verifying"
    r = client.post(V1 + f"/maintenances/{mid}/complete", headers=h)
    assert r.status_code == 200 and r.json()["status"] == "completed" and r.json()["completed_at"]
    assert r.json()["services"][0]["status"] == "operational"
    assert [u["status"] for u in r.json()["updates"]] == ["completed", "verifying", "in_progress", "in_progress",
                                                          "scheduled"]
    assert [x["id"] for x in client.get(V1 + "/maintenances?state=past", headers=h).json()] == [mid]
    r = client.patch(V1 + f"/maintenances/{mid}", headers=h, json={"title": "Too late"})
    assert r.status_code == 422 and "status" in errors_of(r)

    with fresh() as s:
        key_id = s.exec(select(ApiKey.id)).one()
        history = list(s.exec(select(ServiceStatusChange).where(ServiceStatusChange.maintenance_id == int(mid))))
        updates = list(s.exec(select(MaintenanceUpdate).where(MaintenanceUpdate.maintenance_id == int(mid))))
    assert history and all(x.actor_api_key_id == key_id for x in history)
    assert all(u.created_by_api_key_id == key_id for u in updates)

    # Cancel and delete.
    other = client.post(V1 + "/maintenances", headers=h, json={
        "title": "Maybe", "scheduled_for": iso(start), "scheduled_until": iso(end)}).json()
    r = client.post(V1 + f"/maintenances/{other['id']}/cancel", headers=h, json={"message": "Not needed."})
    assert r.status_code == 200 and r.json()["status"] == "cancelled" and r.json()["cancelled_at"]
    assert client.delete(V1 + f"/maintenances/{other['id']}", headers=h).status_code == 204
    assert client.get(V1 + f"/maintenances/{other['id']}", headers=h).status_code == 404


def test_start_now_through_the_api_shows_on_the_public_page(client, org, key, acme):
    h = bearer(key)
    r = client.post(V1 + "/maintenances", headers=h, json={
        "title": "Hotfix window", "status": "in_progress", "scheduled_for": iso(now()),
        "scheduled_until": iso(now() + H), "services": [acme.docs_id]})
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "in_progress"
    refresh()
    active = get(client, "/status/acme/api/v2/scheduled-maintenances/active.json").json()["scheduled_maintenances"]
    assert [m["id"] for m in active] == [r.json()["id"]]


def test_series_through_the_api(client, org, key, acme):
    h = bearer(key)
    r = client.post(V1 + "/maintenance-series", headers=h, json={
        "title": "Weekly patching", "rrule": "FREQ=WEEKLY;BYDAY=SU", "dtstart_local": "2026-01-04T02:00",
        "time_zone": "Europe/Berlin", "duration_minutes": 60, "services": [acme.api_id]})
    assert r.status_code == 201, r.text
    series = r.json()
    assert series["rrule"] == "FREQ=WEEKLY;BYDAY=SU" and series["time_zone"] == "Europe/Berlin"
    assert series["cancelled_at"] is None and [s["id"] for s in series["services"]] == [str(acme.api_id)]
    occ = series["occurrences"]
    assert occ and all(o["status"] == "scheduled" for o in occ)
    for o in occ:  # 02:00 in Berlin, summer or winter
        local = dt.datetime.fromisoformat(o["scheduled_for"]).astimezone(__import__("zoneinfo").ZoneInfo("Europe/Berlin"))
        assert (local.weekday(), local.hour, local.minute) == (6, 2, 0)
    listed = client.get(V1 + f"/maintenances?state=upcoming&series_id={series['id']}&limit=100", headers=h).json()
    assert [m["id"] for m in listed] == [o["id"] for o in occ]
    assert all(m["series_id"] == series["id"] for m in listed)
    assert [s["id"] for s in client.get(V1 + "/maintenance-series", headers=h).json()] == [series["id"]]

    r = client.patch(V1 + f"/maintenance-series/{series['id']}", headers=h, json={"title": "Patching", "duration_minutes": 90})
    assert r.status_code == 200, r.text
    assert r.json()["title"] == "Patching" and r.json()["duration_minutes"] == 90
    first = r.json()["occurrences"][0]
    length = dt.datetime.fromisoformat(first["scheduled_until"]) - dt.datetime.fromisoformat(first["scheduled_for"])
    assert length == dt.timedelta(minutes=90)
    assert client.get(V1 + f"/maintenances/{first['id']}", headers=h).json()["title"] == "Patching"

    assert client.delete(V1 + f"/maintenance-series/{series['id']}", headers=h).status_code == 204
    gone = client.get(V1 + f"/maintenance-series/{series['id']}", headers=h).json()
    assert gone["cancelled_at"] and gone["occurrences"] == []
    assert client.get(V1 + f"/maintenances?state=upcoming&series_id={series['id']}", headers=h).json() == []
    r = client.post(V1 + f"/maintenance-series/{series['id']}/cancel", headers=h)
    assert r.status_code == 422 and "status" in errors_of(r)


def test_bad_maintenance_input_gets_422_naming_the_field_and_saves_nothing(client, key, acme, row_counts):
    h = bearer(key)
    start, end = now() + 2 * H, now() + 3 * H
    ok = {"title": "T", "scheduled_for": iso(start), "scheduled_until": iso(end)}
    series_ok = {"title": "S", "rrule": "FREQ=WEEKLY;BYDAY=SU", "dtstart_local": "2026-01-04T02:00",
                 "time_zone": "Europe/Berlin", "duration_minutes": 60}
    before = row_counts()
    cases = [
        ("/maintenances", {**ok, "scheduled_until": iso(start - H)}, {"scheduled_until"}),  # end before start
        ("/maintenances", {**ok, "scheduled_until": iso(start)}, {"scheduled_until"}),
        ("/maintenances", {**ok, "scheduled_for": iso(now() - 2 * H), "scheduled_until": iso(now() - H)},
         {"scheduled_for"}),  # a scheduled window in the past
        ("/maintenances", {**ok, "scheduled_for": "2026-12-01T02:00:00"}, {"scheduled_for"}),  # no offset
        ("/maintenances", {**ok, "scheduled_for": "next tuesday"}, {"scheduled_for"}),
        ("/maintenances", {**ok, "scheduled_for": "0001-01-01T00:00:00+14:00"}, {"scheduled_for"}),
        ("/maintenances", {**ok, "title": " "}, {"title"}),
        ("/maintenances", {**ok, "services": ["x"]}, {"services"}),
        ("/maintenances", {**ok, "services": [acme.api_id, str(acme.api_id)]}, {"services"}),
        ("/maintenances", {**ok, "services": [999999]}, {"services"}),
        ("/maintenances", {**ok, "status": "completed"}, {"status"}),
        ("/maintenances", {**ok, "remind_minutes_before": -5}, {"remind_minutes_before"}),
        ("/maintenances", {**ok, "colour": "red"}, {"colour"}),
        ("/maintenance-series", {**series_ok, "rrule": "FREQ=SECONDLY"}, {"rrule"}),  # bad RRULE
        ("/maintenance-series", {**series_ok, "rrule": "FREQ=WEEKLY;BYDAY=XX"}, {"rrule"}),
        ("/maintenance-series", {**series_ok, "rrule": "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30"}, {"rrule"}),
        ("/maintenance-series", {**series_ok, "time_zone": "Mars/Olympus"}, {"time_zone"}),  # bad zone
        ("/maintenance-series", {**series_ok, "dtstart_local": "soon"}, {"dtstart_local"}),
        ("/maintenance-series", {**series_ok, "dtstart_local": "0001-01-01T00:00"}, {"dtstart_local"}),
        ("/maintenance-series", {**series_ok, "duration_minutes": 0}, {"duration_minutes"}),
        ("/maintenance-series", {**series_ok, "duration_minutes": 60 * 24 * 8}, {"rrule"}),  # overlapping
    ]
    for path, body, fields in cases:
        r = client.post(V1 + path, headers=h, json=body)
        assert r.status_code == 422, (path, body, r.status_code, r.text)
        got = errors_of(r)
        assert set(got) == fields, (path, body, got)
        assert all(got.values())
    for path in ("/maintenances/0", "/maintenances/abc", "/maintenance-series/-1", "/maintenances/99999999999"):
        assert client.get(V1 + path, headers=h).status_code == 422, path
    assert row_counts() == before

    # Edits: the same checks, nothing changed.
    m = client.post(V1 + "/maintenances", headers=h, json=ok).json()
    before = row_counts()
    for body, fields in [
        ({"scheduled_until": iso(start - H)}, {"scheduled_until"}),
        ({"scheduled_for": iso(now() - 2 * H)}, {"scheduled_for"}),
        ({"title": "", "services": ["nope"]}, {"title", "services"}),
    ]:
        r = client.patch(V1 + f"/maintenances/{m['id']}", headers=h, json=body)
        assert r.status_code == 422 and set(errors_of(r)) == fields, r.text
    r = client.post(V1 + f"/maintenances/{m['id']}/extend", headers=h, json={"scheduled_until": iso(start - H)})
    assert r.status_code == 422 and set(errors_of(r)) == {"scheduled_until"}
    r = client.post(V1 + f"/maintenances/{m['id']}/complete", headers=h)  # not started
    assert r.status_code == 422 and set(errors_of(r)) == {"status"}
    r = client.post(V1 + f"/maintenances/{m['id']}/updates", headers=h, json={"message": "x", "status": "exploded"})
    assert r.status_code == 422 and set(errors_of(r)) == {"status"}
    assert row_counts() == before
    assert client.get(V1 + f"/maintenances/{m['id']}", headers=h).json()["title"] == "T"


def test_another_organizations_maintenance_reads_as_missing(client, org, key, other_key, acme):
    mine = schedule(org, [acme.docs_id])
    series = maintenance.create_series(actor=org, title="S", rrule="FREQ=DAILY", dtstart_local="2026-01-01T03:00",
                                       time_zone="UTC", duration_minutes=30)
    theirs = bearer(other_key)
    assert client.get(V1 + "/maintenances", headers=theirs).json() == []
    assert client.get(V1 + "/maintenance-series", headers=theirs).json() == []
    later = iso(now() + 10 * H)
    for method, path, body in [
        ("GET", f"/maintenances/{mine.id}", None),
        ("PATCH", f"/maintenances/{mine.id}", {"title": "Hijacked"}),
        ("DELETE", f"/maintenances/{mine.id}", None),
        ("POST", f"/maintenances/{mine.id}/updates", {"message": "m"}),
        ("POST", f"/maintenances/{mine.id}/start", None),
        ("POST", f"/maintenances/{mine.id}/verify", None),
        ("POST", f"/maintenances/{mine.id}/complete", None),
        ("POST", f"/maintenances/{mine.id}/cancel", None),
        ("POST", f"/maintenances/{mine.id}/extend", {"scheduled_until": later}),
        ("GET", f"/maintenance-series/{series.id}", None),
        ("PATCH", f"/maintenance-series/{series.id}", {"title": "Hijacked"}),
        ("POST", f"/maintenance-series/{series.id}/cancel", None),
        ("DELETE", f"/maintenance-series/{series.id}", None),
    ]:
        kw = {"json": body} if body is not None else {}
        r = client.request(method, V1 + path, headers=theirs, **kw)
        missing = client.request(method, V1 + path.replace(f"/{mine.id}", "/999999").replace(f"/{series.id}", "/999999"),
                                 headers=theirs, **kw)
        assert r.status_code == 404 == missing.status_code, (method, path, r.text)
        assert r.json() == missing.json() or r.json()["error"] == missing.json()["error"] == "not_found"
    # Their services are unknown in a body.
    r = client.post(V1 + "/maintenances", headers=theirs, json={
        "title": "t", "scheduled_for": later, "scheduled_until": iso(now() + 11 * H), "services": [acme.api_id]})
    assert r.status_code == 422 and errors_of(r) == {"services": f"Unknown service id {acme.api_id}."}
    mine_now = client.get(V1 + f"/maintenances/{mine.id}", headers=bearer(key)).json()
    assert mine_now["title"] == "Database upgrade" and mine_now["status"] == "scheduled"
    assert client.get(V1 + f"/maintenance-series/{series.id}", headers=bearer(key)).json()["cancelled_at"] is None


def test_openapi_documents_the_maintenance_endpoints(client):
    schema = client.get("/api/openapi.json").json()
    ops = {(m.upper(), p) for p, item in schema["paths"].items() for m in item}
    for op in [("GET", "/api/v1/maintenances"), ("POST", "/api/v1/maintenances"),
               ("GET", "/api/v1/maintenances/{maintenance_id}"), ("PATCH", "/api/v1/maintenances/{maintenance_id}"),
               ("DELETE", "/api/v1/maintenances/{maintenance_id}"),
               ("POST", "/api/v1/maintenances/{maintenance_id}/updates"),
               ("POST", "/api/v1/maintenances/{maintenance_id}/start"),
               ("POST", "/api/v1/maintenances/{maintenance_id}/verify"),
               ("POST", "/api/v1/maintenances/{maintenance_id}/complete"),
               ("POST", "/api/v1/maintenances/{maintenance_id}/cancel"),
               ("POST", "/api/v1/maintenances/{maintenance_id}/extend"),
               ("GET", "/api/v1/maintenance-series"), ("POST", "/api/v1/maintenance-series"),
               ("GET", "/api/v1/maintenance-series/{series_id}"), ("PATCH", "/api/v1/maintenance-series/{series_id}"),
               ("DELETE", "/api/v1/maintenance-series/{series_id}"),
               ("POST", "/api/v1/maintenance-series/{series_id}/cancel")]:
        assert op in ops, op


@pytest.mark.parametrize("document", ["scheduled-maintenances.json", "scheduled-maintenances/upcoming.json",
                                      "scheduled-maintenances/active.json", "summary.json"])
def test_maintenance_documents_are_valid_and_empty_without_maintenance(client, acme, document):
    body = get(client, f"/status/acme/api/v2/{document}").json()
    assert body["scheduled_maintenances"] == []


def test_history_feeds_list_maintenances_with_their_updates_escaped(client, acme, org):
    import feedparser

    m = schedule(org, [acme.docs_id], title=NASTY, description="Writes <b>pause</b>.")
    maintenance.post_maintenance_update(actor=org, maintenance_id=m.id, message="Still on: " + NASTY)
    refresh()
    for path, version in (("/status/acme/history.atom", "atom10"), ("/status/acme/history.rss", "rss20")):
        feed = feedparser.parse(get(client, path).content)
        assert not feed.bozo, feed.get("bozo_exception")
        assert feed.version == version
        assert [e.title for e in feed.entries] == [NASTY, "API down", "Docs slow"]  # newest first
        entry = feed.entries[0]
        assert entry.link.endswith(f"/status/acme/maintenance/{m.id}")
        html = entry.content[0].value if version == "atom10" else entry.description
        assert "&lt;script&gt;" in html and "<script>" not in html and "&lt;b&gt;pause" in html
        assert "Affected: Docs" in html and "Scheduled maintenance" in html


def test_a_window_at_the_end_of_the_calendar_does_not_break_the_documents(client, org):
    """The console may store any time the domain accepts: the page's zone (UTC+14) cannot hold
    year 9999's last hours, so such a time is written in UTC instead of failing the document."""
    svc = services.create_service(actor=org, name="Edge", slug="edge")
    pages.create_page(actor=org, name="Edge", slug="edge", service_ids=[svc.id], time_zone="Pacific/Kiritimati")
    start = dt.datetime(9999, 12, 31, 20, 0, tzinfo=dt.timezone.utc)
    schedule(org, [svc.id], start=start, end=start + 2 * H)
    body = get(client, "/status/edge/api/v2/scheduled-maintenances.json").json()
    (m,) = body["scheduled_maintenances"]
    assert m["scheduled_until"] == "9999-12-31T22:00:00.000+00:00"
    assert_maintenance(m, "edge")
    cal = icalendar.Calendar.from_ical(get(client, "/status/edge/maintenance.ics").content)
    assert [e["DTEND"].dt for e in cal.walk("VEVENT")] == [start + 2 * H]
