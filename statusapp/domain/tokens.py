"""The signed tokens in subscribers' links: confirm (expires), manage and unsubscribe (do not).

A token names a subscriber and carries an HMAC-SHA256 (192 bits) over the purpose, the
subscriber's id and address, and for a confirmation the moment it was issued, keyed by the
app's secret key (`Settings.effective_secret_key`). So a token cannot be guessed or forged,
one subscriber's token opens nothing of another's, a confirmation link dies after
`confirm_link_hours`, and a token for a removed subscriber is dead even if the id is reused
by another address. Tokens are deterministic: a retried email carries the same links, which
keeps a retried batch identical for the provider's idempotency check.

Unsubscribe links must keep working for as long as old emails exist (RFC 8058), so manage and
unsubscribe tokens do not expire; the one token opens the manage page and unsubscribes.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import hmac

from statusapp.domain.errors import ValidationError
from statusapp.domain.validation import parse_id
from statusapp.settings import get_settings

CONFIRM = "confirm"
MANAGE = "manage"
_SIG_LEN = 32  # base64url characters: 192 bits

INVALID = "This link is not valid. Copy the whole link from the email, or subscribe again."
EXPIRED = "This confirmation link has expired. Subscribe again to get a new one."


@functools.lru_cache(maxsize=4)
def _key(secret: str) -> bytes:
    return hmac.new(secret.encode(), b"statusapp subscription links v1", hashlib.sha256).digest()


def _b36(n: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = digits[r] + out
        if n == 0:
            return out


def _sig(purpose: str, subscriber_id: int, address: str, issued: int | None) -> str:
    msg = f"{purpose}|{subscriber_id}|{address}|{'' if issued is None else issued}".encode()
    mac = hmac.new(_key(get_settings().effective_secret_key), msg, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")[:_SIG_LEN]


def manage_token(subscriber_id: int, address: str) -> str:
    return f"{_b36(subscriber_id)}.{_sig(MANAGE, subscriber_id, address, None)}"


def confirm_token(subscriber_id: int, address: str, issued_at: dt.datetime) -> str:
    issued = int(issued_at.timestamp())
    return f"{_b36(subscriber_id)}.{_b36(issued)}.{_sig(CONFIRM, subscriber_id, address, issued)}"


def token_subscriber_id(token: str | None) -> int:
    """The subscriber a well-formed token names (not yet verified); ValidationError otherwise."""
    parts = (token or "").strip().split(".")
    if len(parts) not in (2, 3) or len(parts[-1]) != _SIG_LEN or len(token or "") > 200:
        raise ValidationError.one("token", INVALID)
    try:
        subscriber_id = int(parts[0], 36)
    except ValueError:
        raise ValidationError.one("token", INVALID) from None
    if parse_id(subscriber_id) is None:  # no row has such an id (and the database refuses it)
        raise ValidationError.one("token", INVALID)
    return subscriber_id


def verify(token: str, purpose: str, subscriber_id: int, address: str, *, now: dt.datetime | None = None) -> None:
    """Raise ValidationError (field "token") unless `token` is this subscriber's for `purpose`
    (and, for a confirmation, younger than `confirm_link_hours`)."""
    parts = (token or "").strip().split(".")
    issued: int | None = None
    if purpose == CONFIRM:
        if len(parts) != 3:
            raise ValidationError.one("token", INVALID)
        try:
            issued = int(parts[1], 36)
        except ValueError:
            raise ValidationError.one("token", INVALID) from None
    elif len(parts) != 2:
        raise ValidationError.one("token", INVALID)
    if token_subscriber_id(token) != subscriber_id:
        raise ValidationError.one("token", INVALID)
    if not hmac.compare_digest(parts[-1], _sig(purpose, subscriber_id, address, issued)):
        raise ValidationError.one("token", INVALID)
    if issued is not None:
        now = now or dt.datetime.now(dt.timezone.utc)
        age = now.timestamp() - issued
        if age > get_settings().confirm_link_hours * 3600 or age < -300:
            raise ValidationError.one("token", EXPIRED)
