"""REST API keys: created and revoked by an admin (console or CLI), scoped to one organization.

The caller gets the token once; the database keeps only its SHA-256 (like session tokens), so a
leaked database yields no usable key. A token carries 256 bits of randomness, so a plain
SHA-256 (no slow hash) is enough and lets a request find its key with one indexed lookup.
Revoking keeps the row: the status history still names the key that made each change.
"""

from __future__ import annotations

import dataclasses
import hashlib
import secrets

from sqlmodel import select

from statusapp.db import session_scope
from statusapp.domain.base import Actor, unit_of_work
from statusapp.domain.errors import NotFound
from statusapp.domain.events import ApiKeyCreated, ApiKeyRevoked
from statusapp.domain.validation import Errors, clean_text, parse_id
from statusapp.enums import ChangeCause
from statusapp.models import ApiKey, Organization, utcnow

TOKEN_PREFIX = "sa_"
PREFIX_SHOWN = 10  # characters of the token kept in clear, to tell keys apart in the console


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


@dataclasses.dataclass(frozen=True)
class NewApiKey:
    """A key just created: `token` is shown to the admin once and never again."""

    id: int
    name: str
    prefix: str
    token: str


def create_api_key(*, actor: Actor, name: str) -> NewApiKey:
    errors = Errors()
    name = clean_text(errors, "name", name, max_len=200, required=True)
    errors.raise_if_any()
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with unit_of_work() as uow:
        if parse_id(actor.organization_id) is None or uow.session.get(Organization, actor.organization_id) is None:
            raise NotFound("organization", actor.organization_id)
        key = ApiKey(
            organization_id=actor.organization_id,
            name=name,
            prefix=token[:PREFIX_SHOWN],
            token_hash=hash_token(token),
            created_by_user_id=actor.user_id,
        )
        uow.session.add(key)
        uow.session.flush()
        uow.announce(actor.organization_id, ApiKeyCreated(api_key_id=key.id))
    return NewApiKey(key.id, key.name, key.prefix, token)


def revoke_api_key(*, actor: Actor, api_key_id: object) -> None:
    """Revoke a key of the actor's organization; it stops working at its next request."""
    with unit_of_work() as uow:
        key_id = parse_id(api_key_id)
        key = uow.session.get(ApiKey, key_id) if key_id is not None else None
        if key is None or key.organization_id != actor.organization_id:
            raise NotFound("API key", api_key_id)
        if key.revoked_at is None:
            key.revoked_at = utcnow()
            uow.session.add(key)
            uow.announce(actor.organization_id, ApiKeyRevoked(api_key_id=key.id))


def actor_for_token(token: str | None) -> Actor | None:
    """The Actor of a live (not revoked) key, or None. Changes it makes are recorded with
    the key's id (cause: manual, as an admin's own action through a tool)."""
    if not token or not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    with session_scope() as session:
        key = session.exec(select(ApiKey).where(ApiKey.token_hash == hash_token(token))).first()
        if key is None or key.revoked_at is not None:
            return None
        return Actor(key.organization_id, None, ChangeCause.manual, api_key_id=key.id)
