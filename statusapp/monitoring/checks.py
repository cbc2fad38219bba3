"""Running one check of each kind: every outcome is a CheckResult with a readable reason.

A check never raises (cancellation aside): DNS failures, refused or reset connections, TLS
errors, timeouts, redirect loops, garbage that is not HTTP and targets refused by the outbound
guard all become `CheckResult(ok=False, reason=...)`. Deciding what a result means for the
service (thresholds, status changes) is the scheduler's job, not this module's.

Bodies: at most BODY_CAP bytes are read. A longer (or endless) body is not a failure by itself;
a keyword is searched in that prefix only, and a keyword not found there fails with a reason
saying only the prefix was searched. A body that trickles in slower than the timeout fails as
a timeout: the timeout is an overall deadline for the whole check, not per read.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass

import anyio
import httpx

from statusapp import outbound
from statusapp.domain.monitor_spec import (
    HttpCheck,
    TcpCheck,
    format_status_ranges,
    status_expected,
)

BODY_CAP = 1024 * 1024
MAX_REDIRECTS = 5


@dataclass
class CheckResult:
    ok: bool
    reason: str
    latency_ms: float | None
    status_code: int | None = None
    degraded: bool = False


class CheckClients:
    """The checker's shared HTTP clients, one verifying TLS and one not, built on first use.

    Reuse one instance for every check (pooled connections). `max_concurrent` checks run at
    once and the rest wait for their turn *before* their timeout starts, so a busy minute does
    not turn into timeouts; the pool has the same number of connections, so no check waits
    for one. `policy` (tests, special hosts) overrides `allow_private`.
    """

    def __init__(self, *, allow_private: bool | None = None, max_concurrent: int = 100,
                 policy: outbound.Policy | None = None):
        # None: the operator's choice (STATUSAPP_MONITOR_PUBLIC_ONLY, see outbound.monitor_allow_private).
        self.allow_private = outbound.monitor_allow_private() if allow_private is None else allow_private
        self.policy = policy
        self.max_concurrent = max_concurrent
        self.slots = anyio.Semaphore(max_concurrent)
        self._clients: dict[bool, httpx.AsyncClient] = {}

    def client_for(self, check: HttpCheck) -> httpx.AsyncClient:
        verify = not check.ignore_tls_errors
        if verify not in self._clients:
            self._clients[verify] = outbound.async_client(
                allow_private=self.allow_private,
                policy=self.policy,
                max_connections=self.max_concurrent,
                verify=verify,
                timeout=60.0,  # each check passes its own deadline
            )
        return self._clients[verify]

    async def aclose(self) -> None:
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()


def _slow(latency_ms: float, threshold_ms: int | None) -> bool:
    return threshold_ms is not None and latency_ms > threshold_ms


def _in_chain(exc: BaseException, kind: type[BaseException]) -> BaseException | None:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, kind):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def describe_error(exc: BaseException, timeout_s: float) -> str:
    """A readable reason for an exception from outbound.fetch_capped / httpx."""
    message = str(exc).strip()
    if isinstance(exc, outbound.OutboundRefused):
        return message
    cert = _in_chain(exc, ssl.SSLCertVerificationError)
    if isinstance(cert, ssl.SSLCertVerificationError):
        return f"TLS certificate not valid: {cert.verify_message or cert.reason or cert}"
    tls = _in_chain(exc, ssl.SSLError)
    if isinstance(tls, ssl.SSLError):
        return f"TLS handshake failed: {tls.reason or tls}"
    if isinstance(exc, httpx.ConnectTimeout):
        return message if message.startswith("DNS") else f"timed out connecting after {timeout_s:g} s"
    if isinstance(exc, httpx.TimeoutException):
        return f"timed out after {timeout_s:g} s"
    if isinstance(exc, (httpx.TooManyRedirects, httpx.UnsupportedProtocol)):
        return message
    if isinstance(exc, httpx.ConnectError):
        return message or "connection failed"
    if isinstance(exc, (httpx.ReadError, httpx.WriteError)):
        if _in_chain(exc, ConnectionResetError):
            return "connection reset by the server"
        return f"connection broken: {message or type(exc).__name__}"
    if isinstance(exc, httpx.RemoteProtocolError):
        if "Receive buffer too long" in message:
            return "response headers too large"
        if "without sending a response" in message:
            return "server closed the connection without a response"
        if "peer closed connection" in message:
            return "connection closed before the response was complete"
        return f"not a valid HTTP response ({message[:120]})"
    if isinstance(exc, httpx.HTTPError):
        return f"request failed: {message[:200] or type(exc).__name__}"
    return f"check failed: {type(exc).__name__}: {message[:200]}"


async def run_http_check(clients: CheckClients, check: HttpCheck) -> CheckResult:
    async with clients.slots:
        try:
            response = await outbound.fetch_capped(
                clients.client_for(check),
                check.method,
                check.url,
                headers=check.headers,
                max_bytes=BODY_CAP,
                deadline_s=check.timeout_seconds,
                max_redirects=MAX_REDIRECTS,
            )
        except Exception as exc:  # noqa: BLE001  (every failure is a result)
            return CheckResult(ok=False, reason=describe_error(exc, check.timeout_seconds), latency_ms=None)
    latency, code = response.elapsed_ms, response.status_code
    if not status_expected(code, check.expected_statuses):
        reason = f"HTTP {code}, expected {format_status_ranges(check.expected_statuses)}"
        return CheckResult(ok=False, reason=reason, latency_ms=latency, status_code=code)
    if check.keyword:
        found = check.keyword.encode("utf-8") in response.body
        where = f"the first {BODY_CAP // 1024} KiB of the body" if response.truncated else "the body"
        if found and check.keyword_must_be_absent:
            return CheckResult(False, f"keyword '{check.keyword}' found in {where}", latency, code)
        if not found and not check.keyword_must_be_absent:
            return CheckResult(False, f"keyword '{check.keyword}' not found in {where}", latency, code)
    if _slow(latency, check.degraded_above_ms):
        return CheckResult(True, f"slow: {latency:.0f} ms > {check.degraded_above_ms} ms", latency, code, degraded=True)
    return CheckResult(True, f"HTTP {code}", latency, code)


async def run_tcp_check(check: TcpCheck, *, allow_private: bool | None = None,
                        policy: outbound.Policy | None = None) -> CheckResult:
    if allow_private is None:
        allow_private = outbound.monitor_allow_private()
    try:
        latency = await outbound.open_tcp(
            check.host, check.port, allow_private=allow_private, timeout=check.timeout_seconds, policy=policy
        )
    except (outbound.OutboundRefused, outbound.DNSLookupFailed) as exc:
        return CheckResult(False, str(exc), None)
    except TimeoutError:
        return CheckResult(False, f"timed out connecting after {check.timeout_seconds:g} s", None)
    except OSError as exc:
        return CheckResult(False, str(exc) or f"cannot connect to {check.host}:{check.port}", None)
    except Exception as exc:  # noqa: BLE001
        return CheckResult(False, f"check failed: {type(exc).__name__}: {str(exc)[:200]}", None)
    if _slow(latency, check.degraded_above_ms):
        return CheckResult(True, f"slow: {latency:.0f} ms > {check.degraded_above_ms} ms", latency, degraded=True)
    return CheckResult(True, f"port {check.port} open", latency)
