"""Email through Resend's batch API: up to 100 personalised emails per call. The ONLY module
importing the `resend` SDK.

SDK facts this relies on (checked against resend 2.52; `HTTPClient`, `batch_validation` and the
error `headers` are recent additions, so pyproject's `resend>=2.0` floor is lower than this needs):

* Configuration is process-global: `resend.api_key`, `resend.api_url` (read once from the
  `RESEND_API_URL` environment variable at import, default https://api.resend.com) and
  `resend.default_http_client`. `EmailChannel(...)` sets all three; the URL is, in order, the
  `api_url` argument, `$RESEND_API_URL` as it is now, or whatever `resend.api_url` already holds.
  So one Resend account per process (the app has one).
* `resend.Batch.send(emails, {"idempotency_key": k, "batch_validation": "permissive"})` POSTs
  `/emails/batch` with `Idempotency-Key: k` and `x-batch-validation: permissive`. Resend keeps
  keys 24 h: a retry with the same key and body gets the first answer and sends nothing again,
  so the sender job must reuse the key of a batch when it retries it (and keep the batch
  identical). Permissive: invalid emails come back in `errors[{index, message}]` and the
  valid ones are sent, instead of one bad address failing all 100.
* The SDK is synchronous (requests). From async code call `await channel.send(...)`, which
  runs it in a worker thread (`asyncio.to_thread`) under `asyncio.wait_for`. The SDK's own
  client (`RequestsClient(timeout=30)`) is replaced by `_PooledClient`: the same interface,
  a keep-alive `requests.Session` per thread, and `timeout=(connect, read)` from `timeout_s`,
  so a hanging server fails the call after about `timeout_s` instead of blocking a thread.
  (The SDK also has `Batch.send_async` over httpx, but it opens a new connection per call and
  its timeout is global too; the thread keeps this module on the well-trodden sync path.)
* Errors: the SDK raises `resend.exceptions.ResendError` (`code`, `error_type`, `message`,
  response `headers`); transport failures (timeouts, refused connections) arrive as
  code 500 / error_type "HttpClientError".

Mapping to DeliveryError: 429 (Retry-After, else ratelimit-reset), 5xx, transport errors and
409 concurrent_idempotent_requests are retryable; 401/403 (key or sender domain refused) are
retryable after 5 minutes: a configuration error must not silently drop an outage notice;
other 4xx (400/422 validation, 409 idempotency key reused with another body) are permanent.

Each email carries RFC 8058 one-click unsubscribe headers:
`List-Unsubscribe: <https://...>[, <mailto:...>]` and, for an https URL,
`List-Unsubscribe-Post: List-Unsubscribe=One-Click` (the app must accept a POST there).
"""

from __future__ import annotations

import asyncio
import functools
import os
import threading
from collections.abc import Mapping, Sequence
from email.utils import parseaddr
from typing import Any

import requests
import resend
from resend.exceptions import NoContentError, ResendError

from statusapp.notify.channels.base import (
    Channel,
    DeliveryError,
    Recipient,
    SendResult,
    parse_retry_after,
)
from statusapp.notify.message import Notice
from statusapp.notify.render import RenderedEmail, one_line, render_email_template, safe_url

MAX_BATCH = 100
DEFAULT_TIMEOUT_S = 10.0
CONNECT_TIMEOUT_S = 5.0
AUTH_RETRY_AFTER_S = 300.0


class _PooledClient(resend.HTTPClient):
    """resend's HTTPClient interface over a keep-alive requests.Session per thread, with timeouts."""

    def __init__(self, timeout_s: float) -> None:
        self.timeout = (min(CONNECT_TIMEOUT_S, timeout_s), timeout_s)
        self._local = threading.local()

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        return session

    def request(self, method: str, url: str, headers: Mapping[str, str], json: Any = None,
                files: Any = None, data: Any = None) -> tuple[bytes, int, Mapping[str, str]]:
        try:
            resp = self._session().request(method=method, url=url, headers=headers,
                                           json=json if data is None and files is None else None,
                                           data=data, files=files, timeout=self.timeout,
                                           allow_redirects=False)
            return resp.content, resp.status_code, resp.headers
        except requests.RequestException as exc:
            # The SDK turns this into ResendError(code=500, error_type="HttpClientError").
            raise RuntimeError(f"Request failed: {type(exc).__name__}: {exc}") from exc


def configure_resend(*, api_key: str, api_url: str | None = None, timeout_s: float = DEFAULT_TIMEOUT_S) -> str:
    """Set the SDK's process-global key, base URL and HTTP client; returns the base URL used."""
    base = api_url or os.environ.get("RESEND_API_URL") or resend.api_url
    resend.api_key = api_key
    resend.api_url = base.rstrip("/")
    resend.default_http_client = _PooledClient(timeout_s)
    return resend.api_url


@functools.lru_cache(maxsize=64)
def display_sender(sender: str, page_name: str) -> str:
    """`sender` as is when it has a display name, else "<page name> <address>" (quoted, one line)."""
    name, address = parseaddr(sender)
    if name or not address:
        return sender
    clean = one_line(page_name, 64).replace("\\", "").replace('"', "").replace("<", "").replace(">", "")
    return f'"{clean}" <{address}>' if clean else address


def unsubscribe_headers(unsubscribe_url: str, mailto: str | None = None) -> dict[str, str]:
    """RFC 2369 List-Unsubscribe, and RFC 8058's one-click header when the URL is https."""
    values = [f"<{unsubscribe_url}>"]
    if mailto:
        values.append(f"<mailto:{mailto}?subject=unsubscribe>")
    headers = {"List-Unsubscribe": ", ".join(values)}
    if unsubscribe_url.lower().startswith("https://"):  # RFC 8058 one-click needs HTTPS
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return headers


def email_message(*, sender: str, page_name: str, to: str, rendered: RenderedEmail, unsubscribe_url: str | None,
                  reply_to: str | None = None, unsubscribe_mailto: str | None = None) -> dict[str, Any]:
    """One email as Resend's API takes it (the dev mailbox stores the same dict). Account
    emails (a confirmation) have no unsubscribe URL: there is nothing to leave yet."""
    email: dict[str, Any] = {"from": display_sender(sender, page_name), "to": [to], "subject": rendered.subject,
                             "html": rendered.html, "text": rendered.text}
    if unsubscribe_url:
        email["headers"] = unsubscribe_headers(unsubscribe_url, unsubscribe_mailto)
    if reply_to:
        email["reply_to"] = reply_to
    return email


def plausible_address(address: str) -> bool:
    """A cheap local check; Resend validates properly (permissive mode reports per email)."""
    if not address or len(address) > 320 or any(c in address for c in ' \t\r\n<>,;"'):
        return False
    local, _, domain = address.rpartition("@")
    return bool(local) and "." in domain


class EmailChannel(Channel):
    """Sends one rendered notice to up to 100 subscribers per call (each with their own links)."""

    name = "email"
    max_batch = MAX_BATCH

    def __init__(self, *, api_key: str, sender: str, api_url: str | None = None,
                 reply_to: str | None = None, unsubscribe_mailto: str | None = None,
                 timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        if not api_key:
            raise ValueError("a Resend API key is required (STATUSAPP_RESEND_API_KEY)")
        self.sender = sender
        self.reply_to = reply_to
        self.unsubscribe_mailto = unsubscribe_mailto  # e.g. "unsubscribe@status.example.com"
        self.timeout_s = timeout_s
        self.api_url = configure_resend(api_key=api_key, api_url=api_url, timeout_s=timeout_s)

    # ------------------------------------------------------------------ pure part

    def unsubscribe_headers(self, unsubscribe_url: str) -> dict[str, str]:
        return unsubscribe_headers(unsubscribe_url, self.unsubscribe_mailto)

    def build_emails(self, notice: Notice, recipients: Sequence[Recipient]
                     ) -> tuple[list[dict[str, Any]], list[int], dict[int, str]]:
        """(emails to send, their recipient indexes, recipients rejected locally with why)."""
        template = render_email_template(notice)
        emails: list[dict[str, Any]] = []
        indexes: list[int] = []
        rejected: dict[int, str] = {}
        for i, r in enumerate(recipients):
            if not plausible_address(r.address):
                rejected[i] = "invalid email address"
                continue
            unsubscribe = safe_url(r.unsubscribe_url)
            if unsubscribe is None or safe_url(r.manage_url) is None:
                rejected[i] = "missing or invalid manage/unsubscribe URL"
                continue
            rendered = template.fill(manage_url=r.manage_url, unsubscribe_url=unsubscribe)
            emails.append(email_message(sender=self.sender, page_name=notice.page.name, to=r.address,
                                        rendered=rendered, unsubscribe_url=unsubscribe, reply_to=self.reply_to,
                                        unsubscribe_mailto=self.unsubscribe_mailto))
            indexes.append(i)
        return emails, indexes, rejected

    # ------------------------------------------------------------------ IO

    def send_batch(self, emails: list[dict[str, Any]], *, idempotency_key: str
                   ) -> tuple[list[str | None], dict[int, str]]:
        """Blocking: one `resend.Batch.send`. Returns (ids per email, {email index: error})."""
        if not 0 < len(emails) <= MAX_BATCH:
            raise ValueError(f"a batch holds 1..{MAX_BATCH} emails, got {len(emails)}")
        if not 0 < len(idempotency_key) <= 256:
            raise ValueError("an idempotency key is 1..256 characters")
        try:
            response = resend.Batch.send(emails, {"idempotency_key": idempotency_key,  # type: ignore[arg-type]
                                                  "batch_validation": "permissive"})
        except ResendError as exc:
            raise map_resend_error(exc) from None
        except NoContentError:
            raise DeliveryError("Resend answered with an empty body", retryable=True) from None
        errors = {int(e["index"]): str(e.get("message", "rejected")) for e in response.get("errors") or []}
        data = [d.get("id") for d in response.get("data") or []]
        ok = [i for i in range(len(emails)) if i not in errors]
        ids: list[str | None] = [None] * len(emails)
        if len(data) == len(ok):  # data lists the accepted emails in request order
            for i, email_id in zip(ok, data):
                ids[i] = email_id
        return ids, errors

    async def send_emails(self, emails: list[dict[str, Any]], *, idempotency_key: str
                          ) -> tuple[list[str | None], dict[int, str]]:
        """`send_batch` of ready-made emails from async code: in a worker thread, bounded."""
        try:
            return await asyncio.wait_for(
                asyncio.to_thread(self.send_batch, emails, idempotency_key=idempotency_key),
                timeout=self.timeout_s * 2 + CONNECT_TIMEOUT_S,
            )
        except TimeoutError:
            raise DeliveryError(f"Resend did not answer within {self.timeout_s:g} s", retryable=True) from None

    async def send(self, notice: Notice, recipients: Sequence[Recipient], *,
                   idempotency_key: str) -> SendResult:
        """Render and send one batch; the blocking SDK call runs in a worker thread, bounded."""
        self._check_batch(recipients)
        emails, indexes, rejected = self.build_emails(notice, recipients)
        result = SendResult(ids=[None] * len(recipients), rejected=rejected)
        if not emails:
            return result
        ids, errors = await self.send_emails(emails, idempotency_key=idempotency_key)
        for j, i in enumerate(indexes):
            result.ids[i] = ids[j]
            if j in errors:
                result.rejected[i] = errors[j]
        return result


def map_resend_error(exc: ResendError) -> DeliveryError:
    try:
        code = int(exc.code)
    except (TypeError, ValueError):
        code = 500
    kind = exc.error_type or ""
    headers = {str(k).lower(): str(v) for k, v in (getattr(exc, "headers", None) or {}).items()}
    retry_after = parse_retry_after(headers.get("retry-after"))
    reason = f"Resend {code} {kind}: {one_line(str(exc.message), 300)}"
    if kind == "HttpClientError":
        return DeliveryError(f"could not reach Resend: {one_line(str(exc.message), 300)}", retryable=True)
    if code == 429:
        if retry_after is None:
            retry_after = parse_retry_after(headers.get("ratelimit-reset"))
        return DeliveryError(reason, retryable=True, retry_after=retry_after, status_code=code)
    if code >= 500:
        return DeliveryError(reason, retryable=True, retry_after=retry_after, status_code=code)
    if code == 409 and kind == "concurrent_idempotent_requests":
        return DeliveryError(reason, retryable=True, retry_after=retry_after or 1.0, status_code=code)
    if code in (401, 403):
        return DeliveryError(reason, retryable=True, retry_after=AUTH_RETRY_AFTER_S, status_code=code)
    return DeliveryError(reason, retryable=False, status_code=code)
