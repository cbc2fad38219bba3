"""API keys: shown once, stored hashed, scoped to one organization, revocable; changes made
with a key are attributed to it in the status history."""

from __future__ import annotations

import pytest
from sqlmodel import select

from statusapp import access
from statusapp.domain import NotFound, ValidationError, services
from statusapp.domain.apikeys import create_api_key, revoke_api_key
from statusapp.domain.events import EventKind
from statusapp.models import ApiKey
from tests.domain.helpers import fresh, history


def test_key_is_stored_hashed_and_resolves_to_its_organization(org, other_org, capture_changes):
    key = create_api_key(actor=org, name="deploy bot")
    assert key.token.startswith("sa_") and len(key.token) > 40
    with fresh() as s:
        row = s.exec(select(ApiKey)).one()
    assert key.token not in (row.token_hash, row.prefix) and row.prefix == key.token[:10]
    actor = access.api_key_actor(f"Bearer {key.token}")
    assert actor.organization_id == org.organization_id and actor.api_key_id == key.id and actor.user_id is None
    assert access.api_key_actor(f"bearer {key.token}") == actor  # the scheme is case-insensitive
    for bad in (None, "", key.token, f"Basic {key.token}", f"Bearer {key.token}x", "Bearer sa_", "Bearer " + "x" * 5000):
        assert access.api_key_actor(bad) is None, bad
    assert capture_changes.kinds == [EventKind.api_key_created]


def test_revoke_is_scoped_and_final(org, other_org):
    key = create_api_key(actor=org, name="ci")
    with pytest.raises(NotFound):
        revoke_api_key(actor=other_org, api_key_id=key.id)
    assert access.api_key_actor(f"Bearer {key.token}") is not None
    revoke_api_key(actor=org, api_key_id=key.id)
    revoke_api_key(actor=org, api_key_id=key.id)  # again: nothing more happens
    assert access.api_key_actor(f"Bearer {key.token}") is None


def test_a_name_is_required(org, row_counts):
    before = row_counts()
    with pytest.raises(ValidationError) as exc:
        create_api_key(actor=org, name="  ")
    assert "name" in exc.value.errors and row_counts() == before


def test_changes_made_with_a_key_name_it_in_the_history(org):
    key = create_api_key(actor=org, name="monitor")
    actor = access.api_key_actor(f"Bearer {key.token}")
    svc = services.create_service(actor=actor, name="API", slug="api")
    services.set_manual_status(actor=actor, service_id=svc.id, status="major_outage")
    rows = history(svc.id)
    assert [r.to_status for r in rows] == ["operational", "major_outage"]
    assert all(r.actor_api_key_id == key.id and r.actor_user_id is None for r in rows)
