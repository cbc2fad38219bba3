"""Fixtures of the HTTP API tests: the app's FastAPI (with the 404 guard and every API route)
driven in process, a page with groups, services and incidents, and API keys."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from statusapp.api import install
from statusapp.api.cache import documents
from statusapp.api.deps import buckets
from statusapp.domain import Actor, incidents, pages, services
from statusapp.domain.apikeys import create_api_key
from statusapp.web import api

install(api)


@pytest.fixture(autouse=True)
def _fresh_caches() -> Iterator[None]:
    """Every test starts with empty per-worker caches (page ids repeat across test databases)."""
    documents.clear()
    buckets._buckets.clear()
    yield
    documents.clear()


@pytest.fixture
def client(db) -> Iterator[TestClient]:
    with TestClient(api) as c:
        yield c


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def key(org) -> str:
    """A live API key of `org`."""
    return create_api_key(actor=org, name="tests").token


@pytest.fixture
def other_key(other_org) -> str:
    return create_api_key(actor=other_org, name="other").token


@dataclasses.dataclass
class Acme:
    page_id: int
    group_id: int
    api_id: int  # in group "Core"
    web_id: int  # in group "Core"
    docs_id: int  # ungrouped
    incident_id: int  # active: API major outage, then an update making Web degraded
    resolved_id: int


@pytest.fixture
def acme(org) -> Acme:
    """Page `acme`: group Core (API, Web), ungrouped Docs; one active and one resolved incident."""
    core = services.create_group(actor=org, name="Core", description="The platform")
    api_svc = services.create_service(actor=org, name="API", slug="api", group_id=core.id, description="REST API")
    web = services.create_service(actor=org, name="Web", slug="web", group_id=core.id)
    docs = services.create_service(actor=org, name="Docs", slug="docs")
    page = pages.create_page(actor=org, name="Acme", slug="acme", service_ids=[api_svc.id, web.id, docs.id],
                             time_zone="America/New_York")
    old = incidents.create_incident(actor=org, title="Docs slow", impact="minor", message="Looking.",
                                    services={docs.id: "degraded_performance"})
    incidents.resolve_incident(actor=org, incident_id=old.id, message="Fixed.")
    inc = incidents.create_incident(actor=org, title="API down", impact="major", message="Investigating.",
                                    services={api_svc.id: "major_outage"})
    incidents.post_update(actor=org, incident_id=inc.id, status="identified", message="Found it.",
                          services={web.id: "degraded_performance"})
    return Acme(page.id, core.id, api_svc.id, web.id, docs.id, inc.id, old.id)


@pytest.fixture
def acme_actor(org) -> Actor:
    return org
