"""The public JSON API: Statuspage's shapes, the Host's page, private pages, caching."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import pytest

from statusapp import routes
from statusapp.api.cache import PageDocuments, documents
from statusapp.domain import incidents, pages, services
from statusapp.live import LiveHub, build_org_update
from statusapp.settings import get_settings
from statusapp.queries.statuspage import load_statuspage
from tests.support.aio import run

REFERENCE = json.loads((Path(__file__).parent / "statuspage_reference.json").read_text())
ENUMS = REFERENCE["enums"]
# Null in some real documents, a value in others (the notes' examples show both).
NULLABLE = {"description", "group_id", "monitoring_at", "resolved_at", "start_date", "custom_tweet", "tweet_id",
            "affected_components"}
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d$")


def assert_shape(actual, reference, where: str) -> None:
    """Same keys (exactly), same nesting, compatible types; a reference null allows a string."""
    if isinstance(reference, dict):
        assert isinstance(actual, dict), where
        assert set(actual) == set(reference), f"{where}: keys {sorted(set(actual) ^ set(reference))} differ"
        for k, ref in reference.items():
            if k in NULLABLE and actual[k] is None:
                continue
            assert_shape(actual[k], ref, f"{where}.{k}")
            if (k.endswith("_at") or k in ("scheduled_for", "scheduled_until")) and actual[k] is not None:
                assert TIMESTAMP.match(actual[k]), f"{where}.{k}: {actual[k]!r} is not ISO 8601 with offset + ms"
    elif isinstance(reference, list):
        assert isinstance(actual, list), where
        if reference and isinstance(reference[0], dict):
            for i, item in enumerate(actual):
                assert_shape(item, reference[0], f"{where}[{i}]")
        else:
            assert all(isinstance(x, str) for x in actual), where
    elif reference is None:
        assert actual is None or isinstance(actual, str), f"{where}: {actual!r}"
    else:
        assert type(actual) is type(reference), f"{where}: {actual!r} is not a {type(reference).__name__}"


def assert_component(c: dict, where: str) -> None:
    ref = REFERENCE["group"] if c["group"] else (REFERENCE["child"] if c["group_id"] else REFERENCE["component"])
    assert_shape(c, ref, where)
    assert c["status"] in ENUMS["component_status"]


def assert_incident(inc: dict, where: str) -> None:
    ref = dict(REFERENCE["incident"])
    components = inc["components"]
    assert_shape({**inc, "components": []}, ref, where)
    for i, c in enumerate(components):
        assert_component(c, f"{where}.components[{i}]")
    assert inc["status"] in ENUMS["incident_status"] and inc["impact"] in ENUMS["impact"]
    displayed = [u["display_at"] for u in inc["incident_updates"]]
    assert displayed == sorted(displayed, reverse=True), "updates newest first"


def get(client, path, **kw):
    r = client.get(path, **kw)
    assert r.status_code == 200, (path, r.status_code, r.text)
    return r


@pytest.mark.parametrize("document", routes.V2_DOCUMENTS)
def test_every_document_has_the_statuspage_shape(client, acme, document):
    body = get(client, routes.api_v2_path("acme", document)).json()
    assert list(body) == REFERENCE["documents"][document]  # keys, in Statuspage's order
    assert_shape(body["page"], REFERENCE["page"], "page")
    assert body["page"]["url"].endswith("/status/acme") and body["page"]["time_zone"] == "America/New_York"
    # Times are in the page's zone, with its offset (New York: -05:00 or -04:00).
    assert body["page"]["updated_at"][-6:] in ("-05:00", "-04:00")
    if "status" in body:
        assert_shape(body["status"], REFERENCE["status"], "status")
        assert body["status"]["indicator"] in ENUMS["indicator"]
    for i, c in enumerate(body.get("components", [])):
        assert_component(c, f"components[{i}]")
    for i, inc in enumerate(body.get("incidents", [])):
        assert_incident(inc, f"incidents[{i}]")
    assert body.get("scheduled_maintenances", []) == []  # acme has no maintenance (shapes: test_maintenance_api)


def test_summary_reflects_groups_incidents_and_status(client, acme):
    s = get(client, "/status/acme/api/v2/summary.json").json()
    comps = {c["id"]: c for c in s["components"]}
    group = comps[f"g{acme.group_id}"]
    assert group["group"] is True and group["components"] == [str(acme.api_id), str(acme.web_id)]
    assert group["status"] == "major_outage" and group["position"] == 1
    api, web, docs = comps[str(acme.api_id)], comps[str(acme.web_id)], comps[str(acme.docs_id)]
    assert (api["group_id"], api["position"], api["status"]) == (group["id"], 1, "major_outage")
    assert (web["group_id"], web["position"], web["status"]) == (group["id"], 2, "degraded_performance")
    assert (docs["group_id"], docs["position"]) == (None, 2)  # after the group at the top level
    assert api["description"] == "REST API" and web["description"] is None
    assert [c["id"] for c in s["components"]] == [group["id"], api["id"], web["id"], docs["id"]]
    # Only unresolved incidents, newest update first, affected components with old and new status.
    (inc,) = s["incidents"]
    assert inc["id"] == str(acme.incident_id) and inc["name"] == "API down" and inc["status"] == "identified"
    assert [u["status"] for u in inc["incident_updates"]] == ["identified", "investigating"]
    newest, first = inc["incident_updates"]
    assert newest["affected_components"] == [
        {"code": str(acme.web_id), "name": "Web", "old_status": "operational", "new_status": "degraded_performance"}
    ]
    assert first["affected_components"][0]["code"] == str(acme.api_id)
    assert [c["id"] for c in inc["components"]] == [str(acme.api_id), str(acme.web_id)]
    assert inc["shortlink"].endswith(f"/status/acme/incidents/{acme.incident_id}")
    assert s["status"] == {"indicator": "critical", "description": "Major System Outage"}  # a major outage

    everything = get(client, "/status/acme/api/v2/incidents.json").json()["incidents"]
    assert [i["id"] for i in everything] == [str(acme.incident_id), str(acme.resolved_id)]
    assert everything[1]["resolved_at"] is not None
    unresolved = get(client, "/status/acme/api/v2/incidents/unresolved.json").json()["incidents"]
    assert [i["id"] for i in unresolved] == [str(acme.incident_id)]


def test_private_and_unknown_pages_are_json_404(client, acme, org):
    pages.update_page(actor=org, page_id=acme.page_id, is_public=False)
    for path in ("/status/acme/api/v2/summary.json", "/status/nope/api/v2/status.json",
                 "/status/acme/badge.svg", "/status/acme/history.rss", "/status/acme/services/api/badge.svg"):
        r = client.get(path)
        assert r.status_code == 404, path
        assert r.headers["content-type"].startswith("application/json"), path
        assert r.json()["error"] == "not_found"
    # The page itself still gets the guard's HTML 404.
    r = client.get("/status/acme")
    assert r.status_code == 404 and "text/html" in r.headers["content-type"]


def test_root_api_serves_the_page_of_the_verified_domain_else_the_default(client, org, acme, monkeypatch):
    from statusapp.domain.domains import record_name, record_value, verify_custom_domain
    from statusapp.models import StatusPage
    from tests.domain.helpers import load
    from tests.support.dns_server import DnsServer

    other = pages.create_page(actor=org, name="Other", slug="other", custom_domain="status.other.example")
    # An unproven claim serves nothing: the host falls back to the operator's default page.
    monkeypatch.setattr(get_settings(), "default_page", "acme")
    assert get(client, "/api/v2/status.json", headers={"Host": "status.other.example"}).json()["page"]["id"] == str(
        acme.page_id)
    with DnsServer() as dns:
        monkeypatch.setattr(get_settings(), "dns_servers", dns.address)
        dns.records[record_name("status.other.example")] = [record_value(load(StatusPage, other.id).domain_token)]
        assert verify_custom_domain(actor=org, page_id=other.id).verified
    documents.clear()  # what the live hub's push does in every worker (no hub in this test)
    assert get(client, "/api/v2/status.json", headers={"Host": "status.other.example"}).json()["page"]["id"] == str(other.id)
    default = get(client, "/api/v2/status.json", headers={"Host": "unknown.example"}).json()
    assert default["page"]["id"] == str(acme.page_id)  # the default page
    custom = get(client, "/api/v2/summary.json", headers={"Host": "status.other.example:443"}).json()
    assert custom["page"]["url"] == "http://status.other.example"  # its own domain, public URL's scheme
    monkeypatch.setattr(get_settings(), "default_page", "")
    documents.clear()  # a setting, read at start in production
    assert client.get("/api/v2/status.json", headers={"Host": "unknown.example"}).status_code == 404


def test_etag_304_cache_control_and_cors(client, acme):
    r = get(client, "/status/acme/api/v2/summary.json", headers={"Origin": "https://dash.example"})
    assert r.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in r.headers
    assert r.headers["cache-control"] == "public, max-age=1"
    etag = r.headers["etag"]
    again = client.get("/status/acme/api/v2/summary.json", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    assert client.get("/status/acme/api/v2/summary.json", headers={"If-None-Match": '"stale"'}).status_code == 200
    other_doc = get(client, "/status/acme/api/v2/status.json")
    assert other_doc.headers["etag"] != etag


def test_a_pushed_change_is_served_at_once_and_the_etag_changes(client, acme, org):
    """The hub's rebuild after a change (in any worker) drops the cached documents."""
    first = get(client, "/status/acme/api/v2/status.json")
    hub = LiveHub()
    hub.on_page_pushed(documents.invalidate)
    incidents.resolve_incident(actor=org, incident_id=acme.incident_id)
    run(hub.apply([build_org_update(org.organization_id)]))
    second = get(client, "/status/acme/api/v2/status.json", headers={"If-None-Match": first.headers["etag"]})
    assert second.json()["status"]["indicator"] == "none"
    assert second.headers["etag"] != first.headers["etag"]


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_change_from_another_process_is_seen_after_the_ttl_and_unchanged_pages_are_not_reloaded(acme, org):
    clock = FakeClock()
    cache = PageDocuments(clock=clock, ttl=1.0)

    async def indicator() -> str:
        return (await cache.get("acme")).data.indicator

    assert run(indicator()) == "critical" and cache.loads == 1
    services.set_manual_status(actor=org, service_id=acme.docs_id, status="major_outage")  # no push here
    assert run(indicator()) == "critical"  # within the second: cached
    clock.now += 1.01
    assert run(indicator()) == "critical" and cache.loads == 2
    clock.now += 1.01
    assert run(indicator()) == "critical" and cache.loads == 2  # nothing new in the outbox: kept


def test_concurrent_requests_after_a_change_share_one_load(acme):
    cache = PageDocuments()

    async def burst():
        return await asyncio.gather(*[cache.get("acme") for _ in range(50)])

    entries = run(burst())
    assert cache.loads == 1 and all(e is entries[0] for e in entries)
    cache.invalidate(acme.page_id)
    run(burst())
    assert cache.loads == 2


def test_a_load_overtaken_by_a_change_is_checked_again(acme, org):
    """A push arriving while a load runs: the loaded entry is not trusted for the next request."""
    cache = PageDocuments()
    real = cache.loader

    def slow_loader(slug, host):
        data = real(slug, host)
        # A change commits right after the load read the page, and its push lands meanwhile.
        services.set_manual_status(actor=org, service_id=acme.docs_id, status="under_maintenance")
        cache.invalidate(acme.page_id)
        return data

    cache.loader = slow_loader
    assert run(cache.get("acme")).data.component(str(acme.docs_id)).status == "operational"
    cache.loader = real
    assert run(cache.get("acme")).data.component(str(acme.docs_id)).status == "under_maintenance"
    assert cache.loads == 2


def test_read_model_loads_with_a_fixed_number_of_queries(db, acme, org):
    """Adding services and incidents does not add queries (no per-row lookups)."""
    from sqlalchemy import event

    from statusapp.db import get_engine

    def count() -> int:
        n = 0

        def on_execute(*_a, **_k):
            nonlocal n
            n += 1

        event.listen(get_engine(), "before_cursor_execute", on_execute)
        try:
            assert load_statuspage("acme", None) is not None
        finally:
            event.remove(get_engine(), "before_cursor_execute", on_execute)
        return n

    before = count()
    ids = [services.create_service(actor=org, name=f"S{i}", slug=f"s{i}").id for i in range(10)]
    pages.update_page(actor=org, page_id=acme.page_id, service_ids=[acme.api_id, acme.web_id, acme.docs_id, *ids])
    for sid in ids[:5]:
        incidents.create_incident(actor=org, title="x", impact="minor", message="m", services={sid: None})
    assert count() == before


def test_database_outage_serves_the_last_copy_else_503(client, acme, monkeypatch):
    first = get(client, "/status/acme/api/v2/summary.json")

    def down():
        raise OSError("database unreachable")

    monkeypatch.setattr(documents, "high_water", down)
    monkeypatch.setattr(documents, "loader", lambda *_a: down())
    monkeypatch.setattr(documents, "ttl", 0.0)  # every request tries to reload
    again = get(client, "/status/acme/api/v2/summary.json")
    assert again.content == first.content
    assert get(client, "/status/acme/badge.svg").content.startswith(b"<svg")
    r = client.get("/status/other/api/v2/summary.json")  # never loaded: nothing to fall back on
    assert r.status_code == 503 and r.json()["error"] == "unavailable" and r.headers["retry-after"] == "5"
