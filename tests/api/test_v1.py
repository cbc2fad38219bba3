"""The admin REST API: keys and their scope, every endpoint's errors, writes through the domain."""

from __future__ import annotations

import pytest
from sqlmodel import select

from statusapp.domain import pages
from statusapp.domain.apikeys import revoke_api_key
from statusapp.domain.events import EventKind
from statusapp.models import ApiKey, DomainEvent, IncidentUpdate, ServiceStatusChange
from statusapp.settings import get_settings
from tests.api.conftest import bearer
from tests.domain.helpers import fresh

V1 = "/api/v1"


def errors_of(r) -> dict[str, str]:
    return {e["field"]: e["reason"] for e in r.json()["errors"]}


# ---- authentication -------------------------------------------------------------------------
@pytest.mark.parametrize("headers", [
    {},
    {"Authorization": "Basic dXNlcjpwYXNz"},
    {"Authorization": "Bearer sa_not-a-real-key"},
    {"Authorization": "Bearer "},
])
def test_requests_without_a_valid_key_get_401_whatever_else_they_send(client, org, headers):
    for method, path, kw in [("get", "/status-pages", {}), ("post", "/incidents", {"content": b"{not json"}),
                             ("delete", "/services/1", {}), ("get", "/no-such-endpoint", {})]:
        r = getattr(client, method)(V1 + path, headers=headers, **kw)
        assert r.status_code == 401, (method, path, r.text)
        assert r.json()["error"] == "unauthorized" and r.headers["www-authenticate"] == "Bearer"


def test_a_revoked_key_stops_working(client, org, key):
    assert client.get(V1 + "/status-pages", headers=bearer(key)).status_code == 200
    with fresh() as s:
        key_id = s.exec(select(ApiKey.id)).one()
    revoke_api_key(actor=org, api_key_id=key_id)
    assert client.get(V1 + "/status-pages", headers=bearer(key)).status_code == 401


# ---- scope: one organization ----------------------------------------------------------------
def test_a_key_sees_and_changes_only_its_own_organization(client, org, key, other_org, other_key, acme):
    theirs = bearer(other_key)
    assert client.get(V1 + "/status-pages", headers=theirs).json() == []
    assert client.get(V1 + "/services", headers=theirs).json() == []
    assert client.get(V1 + "/incidents", headers=theirs).json() == []
    for method, path, body in [
        ("get", f"/status-pages/{acme.page_id}", None),
        ("patch", f"/status-pages/{acme.page_id}", {"name": "Hijacked"}),
        ("delete", f"/status-pages/{acme.page_id}", None),
        ("get", f"/services/{acme.api_id}", None),
        ("patch", f"/services/{acme.api_id}", {"name": "Hijacked"}),
        ("put", f"/services/{acme.api_id}/status", {"status": "major_outage"}),
        ("delete", f"/services/{acme.api_id}", None),
        ("get", f"/incidents/{acme.incident_id}", None),
        ("post", f"/incidents/{acme.incident_id}/updates", {"status": "resolved", "message": "m"}),
        ("post", f"/incidents/{acme.incident_id}/resolve", None),
    ]:
        kw = {"json": body} if body is not None else {}
        theirs_r = client.request(method.upper(), V1 + path, headers=theirs, **kw)
        # Exactly what an id that never existed gets: no existence leak.
        missing_r = client.request(method.upper(), V1 + path.replace(str(path.split("/")[2]), "999999"),
                                   headers=theirs, **kw)
        assert theirs_r.status_code == 404, (method, path, theirs_r.text)
        assert theirs_r.json()["error"] == missing_r.json()["error"] == "not_found"
    # Another organization's service in an incident body reads as unknown, like a missing one.
    r = client.post(V1 + "/incidents", headers=theirs, json={"title": "t", "impact": "minor", "message": "m",
                                                             "services": [{"id": str(acme.api_id)}]})
    assert r.status_code == 422 and errors_of(r) == {"services": f"Unknown service id {acme.api_id}."}
    # Nothing of acme changed.
    mine = client.get(V1 + f"/status-pages/{acme.page_id}", headers=bearer(key)).json()
    assert mine["name"] == "Acme"
    assert client.get(V1 + f"/services/{acme.api_id}", headers=bearer(key)).json()["name"] == "API"
    assert client.get(V1 + f"/incidents/{acme.incident_id}", headers=bearer(key)).json()["status"] == "identified"


# ---- the incident lifecycle through the API ---------------------------------------------------
def test_incident_lifecycle_goes_through_the_domain_and_is_attributed_to_the_key(client, org, key, acme,
                                                                                 capture_changes):
    h = bearer(key)
    with fresh() as s:
        key_id = s.exec(select(ApiKey.id)).one()
    r = client.post(V1 + "/incidents", headers=h, json={
        "title": "Docs offline", "impact": "critical", "status": "investigating", "message": "Looking into it.",
        "services": [{"id": str(acme.docs_id), "status": "major_outage"}, {"id": acme.web_id}],
    })
    assert r.status_code == 201, r.text
    inc = r.json()
    assert inc["title"] == "Docs offline" and inc["status"] == "investigating"
    statuses = {s["id"]: s["status"] for s in inc["services"]}
    # Web without a status gets the impact's default (critical -> major outage).
    assert statuses == {str(acme.docs_id): "major_outage", str(acme.web_id): "major_outage"}

    r = client.post(V1 + f"/incidents/{inc['id']}/updates", headers=h, json={
        "status": "monitoring", "message": "Fix deployed.", "services": [{"id": acme.docs_id, "status": "degraded_performance"}]})
    assert r.status_code == 201, r.text
    newest = r.json()["updates"][0]
    assert newest["status"] == "monitoring" and newest["affected_services"] == [
        {"id": str(acme.docs_id), "name": "Docs", "old_status": "major_outage", "new_status": "degraded_performance"}]

    r = client.post(V1 + f"/incidents/{inc['id']}/resolve", headers=h, json={"message": "All good."})
    assert r.status_code == 200 and r.json()["status"] == "resolved" and r.json()["resolved_at"]
    assert client.get(V1 + "/incidents?state=resolved", headers=h).json()[0]["id"] == inc["id"]

    # The public JSON follows, and the same service ids are its component ids.
    summary = client.get("/status/acme/api/v2/summary.json").json()
    docs = next(c for c in summary["components"] if c["id"] == str(acme.docs_id))
    assert docs["status"] == "operational"

    kinds = capture_changes.kinds
    assert [EventKind.incident_created, EventKind.incident_updated, EventKind.incident_resolved] == [
        k for k in kinds if k.value.startswith("incident.")]
    with fresh() as s:
        history = list(s.exec(select(ServiceStatusChange).where(ServiceStatusChange.incident_id == int(inc["id"]))))
        updates = list(s.exec(select(IncidentUpdate).where(IncidentUpdate.incident_id == int(inc["id"]))))
        outbox = list(s.exec(select(DomainEvent.kind).where(DomainEvent.kind.like("incident.%"))))
    assert history and all(h.actor_api_key_id == key_id and h.actor_user_id is None for h in history)
    assert len(updates) == 3 and all(u.created_by_api_key_id == key_id for u in updates)
    assert outbox.count("incident.created") == 3  # acme's two and this one


def test_pages_and_services_crud(client, org, key, acme):
    h = bearer(key)
    r = client.post(V1 + "/services", headers=h, json={"name": "Search", "slug": "search", "status": "degraded_performance",
                                                       "group_id": acme.group_id})
    assert r.status_code == 201, r.text
    svc = r.json()
    assert svc["status"] == svc["manual_status"] == "degraded_performance" and svc["group_id"] == str(acme.group_id)
    r = client.patch(V1 + f"/services/{svc['id']}", headers=h, json={"description": "Full text", "group_id": None})
    assert r.status_code == 200 and r.json()["description"] == "Full text" and r.json()["group_id"] is None
    r = client.put(V1 + f"/services/{svc['id']}/status", headers=h, json={"status": "operational"})
    assert r.json()["status"] == "operational"

    r = client.post(V1 + "/status-pages", headers=h, json={"name": "Search status", "slug": "search",
                                                           "service_ids": [svc["id"], acme.api_id], "time_zone": "Europe/Paris"})
    assert r.status_code == 201, r.text
    page = r.json()
    assert page["service_ids"] == [svc["id"], str(acme.api_id)] and page["url"].endswith("/status/search")
    r = client.patch(V1 + f"/status-pages/{page['id']}", headers=h, json={"is_public": False, "custom_domain": "st.example.com"})
    assert r.json()["is_public"] is False and r.json()["custom_domain"] == "st.example.com"
    assert client.get("/status/search/api/v2/status.json").status_code == 404  # private now
    r = client.patch(V1 + f"/status-pages/{page['id']}", headers=h, json={"custom_domain": None})
    assert r.json()["custom_domain"] is None
    assert {p["slug"] for p in client.get(V1 + "/status-pages", headers=h).json()} == {"acme", "search"}

    assert client.delete(V1 + f"/status-pages/{page['id']}", headers=h).status_code == 204
    assert client.get(V1 + f"/status-pages/{page['id']}", headers=h).status_code == 404
    assert client.delete(V1 + f"/services/{svc['id']}", headers=h).status_code == 204
    assert client.get(V1 + f"/services/{svc['id']}", headers=h).status_code == 404


# ---- errors -----------------------------------------------------------------------------------
def test_bad_input_gets_422_naming_each_field_and_changes_nothing(client, key, acme, row_counts):
    h = bearer(key)
    before = row_counts()
    cases = [
        ("POST", "/status-pages", {"name": "", "slug": "Not A Slug", "brand_color": "blue"},
         {"name", "slug", "brand_color"}),
        ("POST", "/status-pages", {"name": "x", "slug": "x", "service_ids": ["abc"]}, {"service_ids"}),
        ("POST", "/status-pages", {"slug": "x", "colour": "#fff"}, {"name", "colour"}),
        ("POST", "/services", {"name": "S", "slug": "s", "status": "exploded"}, {"status"}),
        ("POST", "/services", {"name": "S\x00", "slug": "s"}, {"name"}),
        ("POST", "/services", {"name": "S", "slug": "s", "group_id": 999999}, {"group_id"}),
        ("POST", "/incidents", {"title": "t", "impact": "apocalyptic", "message": "m"}, {"impact"}),
        ("POST", "/incidents", {"impact": "minor"}, {"title", "message"}),
        ("POST", "/incidents", {"title": "t", "impact": "minor", "message": "m", "services": [{"id": "x"}]}, {"services"}),
        ("POST", "/incidents", {"title": "t", "impact": "minor", "message": "m",
                                "services": [{"id": acme.api_id}, {"id": str(acme.api_id)}]}, {"services"}),
        ("POST", "/incidents", {"title": "t", "impact": "minor", "message": "m",
                                "services": [{"id": "99999999999999999999"}]}, {"services"}),
        ("POST", f"/incidents/{acme.incident_id}/updates", {"status": "resolved", "message": " "}, {"message"}),
        ("PATCH", f"/status-pages/{acme.page_id}", {"time_zone": "Mars/Olympus"}, {"time_zone"}),
        ("PUT", f"/services/{acme.api_id}/status", {"status": None}, {"status"}),
    ]
    for method, path, body, fields in cases:
        r = client.request(method, V1 + path, headers=h, json=body)
        assert r.status_code == 422, (path, body, r.status_code, r.text)
        got = errors_of(r)
        assert set(got) == fields, (path, body, got)
        assert all(got.values())
    r = client.post(V1 + "/incidents", headers={**h, "Content-Type": "application/json"}, content=b"{not json")
    assert r.status_code == 422 and r.json()["errors"]
    for path in ("/status-pages/0", "/services/-1", "/incidents/abc", "/incidents/99999999999"):
        assert client.get(V1 + path, headers=h).status_code == 422, path
    assert row_counts() == before


def test_taken_slug_is_409(client, org, key, acme):
    h = bearer(key)
    pages.create_page(actor=org, name="Other", slug="other")
    for method, path, body, field in [
        ("POST", "/status-pages", {"name": "Dup", "slug": "acme"}, "slug"),
        ("PATCH", f"/status-pages/{acme.page_id}", {"slug": "other"}, "slug"),
        ("POST", "/services", {"name": "Dup", "slug": "api"}, "slug"),
        ("PATCH", f"/services/{acme.web_id}", {"slug": "api"}, "slug"),
    ]:
        r = client.request(method, V1 + path, headers=h, json=body)
        assert r.status_code == 409, (path, r.text)
        assert r.json()["error"] == "conflict" and field in errors_of(r)
    # A taken slug next to another bad field is plain bad input.
    r = client.post(V1 + "/status-pages", headers=h, json={"name": "", "slug": "acme"})
    assert r.status_code == 422 and set(errors_of(r)) == {"name", "slug"}


def test_rate_limit_per_key_answers_429_with_retry_after(client, key, other_key, monkeypatch):
    monkeypatch.setattr(get_settings(), "api_rate_per_minute", 3)
    codes = [client.get(V1 + "/services", headers=bearer(key)).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    r = client.get(V1 + "/services", headers=bearer(key))
    assert r.status_code == 429 and r.json()["error"] == "rate_limited"
    assert 1 <= int(r.headers["retry-after"]) <= 20
    assert client.get(V1 + "/services", headers=bearer(other_key)).status_code == 200  # its own bucket


def test_oversized_body_is_refused(client, key):
    r = client.post(V1 + "/incidents", headers=bearer(key), json={"title": "t", "impact": "minor", "message": "x" * 300_000})
    assert r.status_code == 413 and r.json()["error"] == "too_large"


def test_unknown_endpoint_is_json_404(client, key):
    r = client.get(V1 + "/widgets", headers=bearer(key))
    assert r.status_code == 404 and r.json()["error"] == "not_found"


def test_openapi_document_and_docs_page(client):
    schema = client.get("/api/openapi.json").json()
    ops = {(m.upper(), p) for p, item in schema["paths"].items() for m in item}
    for op in [("POST", "/api/v1/status-pages"), ("GET", "/api/v1/status-pages"), ("GET", "/api/v1/status-pages/{page_id}"),
               ("PATCH", "/api/v1/status-pages/{page_id}"), ("DELETE", "/api/v1/status-pages/{page_id}"),
               ("POST", "/api/v1/services"), ("GET", "/api/v1/services"), ("GET", "/api/v1/services/{service_id}"),
               ("PATCH", "/api/v1/services/{service_id}"), ("DELETE", "/api/v1/services/{service_id}"),
               ("PUT", "/api/v1/services/{service_id}/status"), ("POST", "/api/v1/incidents"),
               ("GET", "/api/v1/incidents"), ("GET", "/api/v1/incidents/{incident_id}"),
               ("POST", "/api/v1/incidents/{incident_id}/updates"), ("POST", "/api/v1/incidents/{incident_id}/resolve"),
               ("GET", "/status/{slug}/api/v2/{document}"), ("GET", "/api/v2/{document}"),
               ("GET", "/status/{slug}/{name}"), ("GET", "/status/{slug}/services/{service}/badge.svg")]:
        assert op in ops, op
    assert "api_key" in schema["components"]["securitySchemes"]
    docs = client.get("/api/docs")
    assert docs.status_code == 200 and "/api/openapi.json" in docs.text
