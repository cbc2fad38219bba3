"""The one small interface every notification channel implements, and its one error type.

A channel turns a Notice into its provider's request and sends it; it never retries, sleeps or
touches the database. The sender job (elsewhere) batches recipients by `max_batch`, calls
`await channel.send(notice, recipients, idempotency_key=...)`, records the result, and on a
`DeliveryError` retries later when `retryable` (not before `retry_after` seconds, when given)
or gives up when not. The same idempotency key must be reused for a retry of the same batch.
"""

from __future__ import annotations

import abc
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import ClassVar
from urllib.parse import urlsplit

from statusapp.notify.message import Notice


class DeliveryError(Exception):
    """Why a send failed, readable by an admin; `retryable` says whether trying again can help."""

    def __init__(self, reason: str, *, retryable: bool, retry_after: float | None = None,
                 status_code: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable
        self.retry_after = retry_after
        self.status_code = status_code

    def __repr__(self) -> str:
        return (f"DeliveryError({self.reason!r}, retryable={self.retryable}, "
                f"retry_after={self.retry_after}, status_code={self.status_code})")


@dataclass(frozen=True)
class Recipient:
    """Where one copy goes: an email address, or a webhook URL (with its signing secret)."""

    address: str
    manage_url: str = ""
    unsubscribe_url: str = ""
    secret: str = ""  # webhook signing secret (generic webhooks only)
    subscriber_id: str = ""  # opaque, for the caller's bookkeeping


@dataclass
class SendResult:
    """Per recipient, in order: the provider's id (None when it gives none) or a rejection.

    A rejected recipient failed permanently (e.g. an address the provider refuses); the others
    were accepted. A failure of the whole call raises DeliveryError instead.
    """

    ids: list[str | None]
    rejected: dict[int, str] = field(default_factory=dict)


class Channel(abc.ABC):
    """One notification channel. Subclasses set `name` and `max_batch` and implement `send`."""

    name: ClassVar[str]
    max_batch: ClassVar[int] = 1

    @abc.abstractmethod
    async def send(self, notice: Notice, recipients: Sequence[Recipient], *,
                   idempotency_key: str) -> SendResult:
        """Deliver `notice` to `recipients` (at most `max_batch`) or raise DeliveryError."""

    def _check_batch(self, recipients: Sequence[Recipient]) -> None:
        if not recipients:
            raise ValueError("no recipients")
        if len(recipients) > self.max_batch:
            raise ValueError(f"{self.name}: at most {self.max_batch} recipients per call, got {len(recipients)}")


def redact_url(url: str) -> str:
    """scheme://host of a URL, for error messages: chat webhook URLs embed their secret token."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<invalid url>"
    return f"{parts.scheme}://{parts.hostname or '?'}" if parts.scheme else "<invalid url>"


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After as seconds: a number, or an HTTP date (seconds from now); None if absent/invalid."""
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)
