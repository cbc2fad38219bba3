"""The POST shared by the webhook, Slack and Discord channels: bounded, no redirects, errors mapped.

Every post goes through `statusapp.outbound.fetch_capped` on the client it is given (the app's
client refuses private and metadata addresses at connect time): at most `MAX_ANSWER_BYTES` of
the receiver's answer is read, and the whole exchange ends within the timeout whatever the
receiver does.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx

from statusapp.notify.channels.base import DeliveryError, parse_retry_after, redact_url
from statusapp.outbound import CappedResponse, DNSLookupFailed, OutboundRefused, fetch_capped

DEFAULT_TIMEOUT_S = 10.0
MAX_ANSWER_BYTES = 64 * 1024


def json_body(payload: Any) -> bytes:
    """Compact UTF-8 JSON, the exact bytes that are sent (and signed)."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


async def post(client: httpx.AsyncClient, url: str, body: bytes, headers: dict[str, str], *,
               timeout_s: float = DEFAULT_TIMEOUT_S) -> CappedResponse:
    """POST `body`; the whole exchange (connect, send, answer) is bounded by `timeout_s`.

    Network failures and timeouts raise a retryable DeliveryError, a target the outbound guard
    refuses (a private address, with the app's subscriber client) a permanent one; any HTTP
    answer is returned (the caller decides what its status means). Redirects are never
    followed: a 3xx comes back. The URL is redacted in errors (chat webhook URLs carry their
    secret token).
    """
    where = redact_url(url)
    try:
        async with asyncio.timeout(timeout_s + 1):  # fetch_capped's own deadline comes first
            return await fetch_capped(
                client, "POST", url, content=body, headers={"Content-Type": "application/json", **headers},
                max_bytes=MAX_ANSWER_BYTES, deadline_s=timeout_s, max_redirects=0,
            )
    except OutboundRefused as exc:
        raise DeliveryError(f"{where}: {exc}", retryable=False) from None
    except DNSLookupFailed:
        raise DeliveryError(f"{where}: DNS lookup failed", retryable=True) from None
    except (TimeoutError, httpx.TimeoutException):
        raise DeliveryError(f"{where} did not answer within {timeout_s:g} s", retryable=True) from None
    except (httpx.InvalidURL, httpx.UnsupportedProtocol):
        raise DeliveryError(f"invalid URL ({where})", retryable=False) from None
    except httpx.HTTPError as exc:
        raise DeliveryError(f"could not reach {where}: {type(exc).__name__}", retryable=True) from None


def http_error(response: CappedResponse, url: str, *, permanent_4xx: bool, detail: str = "") -> DeliveryError:
    """A non-2xx answer as a DeliveryError; 408/425/429/5xx are always retryable."""
    status = response.status_code
    retry_after = parse_retry_after(response.headers.get("retry-after"))
    retryable = not (permanent_4xx and 400 <= status < 500 and status not in (408, 425, 429))
    reason = f"{redact_url(url)} answered HTTP {status}"
    if 300 <= status < 400:
        reason += " (redirects are not followed)"
    if detail:
        reason += f": {detail}"
    return DeliveryError(reason, retryable=retryable, retry_after=retry_after, status_code=status)
