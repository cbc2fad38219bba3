"""The one way the server opens connections to URLs somebody typed: address guard, caps, deadline.

Monitor checks, subscriber webhooks and chat notifications all reach targets chosen by users. A
user who can type "http://169.254.169.254/" or a host name that resolves to 10.0.0.5 must not
make this server talk to its own network, so every connection goes through `GuardedBackend`:

* the check is made at connect time, on the address actually connected to: the backend resolves
  the host itself, drops every address the policy refuses and connects to a checked IP. A DNS
  answer that changes between a check and the connect (rebinding) cannot get round it, and
  neither can a redirect, because every hop opens its connection here. TLS still verifies the
  certificate for, and sends SNI of, the host name in the URL: httpcore passes the name to
  `start_tls`, not the address we connected to.
* two policies: public only (webhooks, chat, and monitors on multi-tenant hosts) and private
  allowed (monitors checking internal services). Some addresses are refused in both (see
  `refusal_reason`).
* `fetch_capped` reads at most `max_bytes` of a body and gives up at an overall deadline, so an
  endless or trickling body neither hangs the caller nor fills memory. It follows redirects
  itself (never reading a redirect's body) up to a bound, and tells a loop apart.

One client per kind of caller is meant to be shared by thousands of requests (pooled
connections, DNS resolved in a worker thread by anyio).
"""

from __future__ import annotations

import ipaddress
import select
import socket
import ssl
import time
import typing
from collections.abc import Callable
from dataclasses import dataclass

import anyio
import httpcore
import httpx

from statusapp.settings import get_settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

#: Decides whether a connection to (address, port) may be opened: None to allow, else the reason.
Policy = Callable[[IPAddress, int], "str | None"]

# Cloud instance metadata services: refused even when private addresses are allowed.
_METADATA = {
    ipaddress.ip_address("169.254.169.254"),  # AWS, GCP, Azure, OpenStack, DigitalOcean
    ipaddress.ip_address("169.254.170.2"),  # AWS ECS task metadata
    ipaddress.ip_address("100.100.100.200"),  # Alibaba Cloud
    ipaddress.ip_address("fd00:ec2::254"),  # AWS over IPv6
}
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_BROADCAST = ipaddress.ip_address("255.255.255.255")
# IPv6 ranges that carry an IPv4 address, checked as that IPv4 address.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_SIX_TO_FOUR = ipaddress.ip_network("2002::/16")


class OutboundRefused(Exception):
    """The guard refused the target; str() is a readable reason ("refused: 10.0.0.5 is ...")."""


class DNSLookupFailed(OSError):
    """The host name did not resolve to any address."""


def _embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    if ip.version != 6:
        return None
    assert isinstance(ip, ipaddress.IPv6Address)
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.sixtofour is not None:
        return ip.sixtofour
    return None


def refusal_reason(ip: str | IPAddress, *, allow_private: bool) -> str | None:
    """Why a connection to `ip` is refused under the policy, or None when it is allowed.

    Always refused: unspecified (0.0.0.0, ::), multicast, broadcast and cloud metadata
    addresses. Public only also refuses everything that is not globally routable: loopback,
    private (RFC 1918, fc00::/7), link-local, CGNAT 100.64/10, reserved and documentation ranges.
    An IPv6 address carrying an IPv4 one (mapped ::ffff:a.b.c.d, NAT64, 6to4) is judged as
    that IPv4 address.
    """
    try:
        addr = ipaddress.ip_address(ip) if isinstance(ip, str) else ip
    except ValueError:
        return f"{ip} is not an IP address"
    if isinstance(addr, ipaddress.IPv6Address) and addr.scope_id:
        addr = ipaddress.IPv6Address(str(addr).split("%", 1)[0])
    inner = _embedded_ipv4(addr)
    kind = _refused_kind(inner if inner is not None else addr, allow_private=allow_private)
    if kind is None:
        return None
    return f"{addr} is {kind}" if inner is None else f"{addr} carries {inner}, {kind}"


def _refused_kind(addr: IPAddress, *, allow_private: bool) -> str | None:
    if addr.is_unspecified:
        return "the unspecified address"
    if addr.is_multicast or addr == _BROADCAST:
        return "a multicast or broadcast address"
    if addr in _METADATA:
        return "a cloud metadata address"
    if allow_private:
        return None
    if addr.is_loopback:
        return "a loopback address"
    if addr.is_link_local:
        return "a link-local address"
    if addr.version == 4 and addr in _CGNAT:
        return "a shared (CGNAT) address"
    if addr.is_private:
        return "a private address"
    if addr.is_reserved or not addr.is_global:
        return "a reserved address"
    return None


def address_allowed(ip: str, *, allow_private: bool) -> bool:
    return refusal_reason(ip, allow_private=allow_private) is None


def policy_for(*, allow_private: bool) -> Policy:
    """The standard policy; tests and special callers may pass their own `Policy` instead."""

    def policy(ip: IPAddress, port: int) -> str | None:
        return refusal_reason(ip, allow_private=allow_private)

    return policy


async def resolve_checked(host: str, port: int, policy: Policy) -> list[str]:
    """The addresses of `host` that `policy` allows, in resolver order.

    Raises DNSLookupFailed when nothing resolves and OutboundRefused when every address is
    refused. Addresses that are refused are dropped, never connected to.
    """
    literal = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    try:
        addresses = [ipaddress.ip_address(literal)]
        is_literal = True
    except ValueError:
        is_literal = False
        try:
            infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:
            raise DNSLookupFailed(f"DNS lookup failed for {host}") from exc
        addresses = []
        for *_, sockaddr in infos:
            ip = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
            if ip not in addresses:
                addresses.append(ip)
        if not addresses:
            raise DNSLookupFailed(f"DNS lookup failed for {host}")
    allowed, first_reason = [], None
    for ip in addresses:
        reason = policy(ip, port)
        if reason is None:
            allowed.append(str(ip))
        elif first_reason is None:
            first_reason = reason
    if not allowed:
        if is_literal:
            raise OutboundRefused(f"refused: {first_reason}")
        raise OutboundRefused(f"refused: {host} ({first_reason})")
    return allowed


def _connect_message(ip: str, port: int, exc: BaseException) -> str:
    """A readable reason from a connect error chain (httpcore and anyio wrap the OSError)."""
    cause: BaseException | None = exc
    while cause is not None and not (isinstance(cause, OSError) and cause.errno):
        cause = cause.__cause__ or cause.__context__
    if cause is None:
        return f"cannot connect to {ip}:{port}: {exc}"
    if isinstance(cause, ConnectionRefusedError):
        return f"connection refused by {ip}:{port}"
    return f"cannot connect to {ip}:{port}: {cause.strerror or cause}"


def _socket_readable(sock: socket.socket) -> bool:
    """An idle keep-alive socket that is readable was closed by the peer (or got bytes nobody
    asked for): either way it must not carry the next request."""
    fd = sock.fileno()
    if fd == -1:
        return True
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(0))


class _Stream(httpcore.AsyncNetworkStream):
    """httpcore's anyio stream, answering "is this idle connection closed?" with one poll of
    the socket: httpcore's own asks anyio for all its socket attributes each time (a dict and a
    `getpeername` call), and it asks before every reuse of a pooled connection."""

    def __init__(self, inner: httpcore.AsyncNetworkStream) -> None:
        self._inner = inner
        self._socket = inner.get_extra_info("socket")

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self._inner.read(max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._inner.write(buffer, timeout)

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def start_tls(self, ssl_context, server_hostname=None, timeout=None) -> httpcore.AsyncNetworkStream:
        return _Stream(await self._inner.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> typing.Any:
        if info == "is_readable" and self._socket is not None:
            return _socket_readable(self._socket)
        return self._inner.get_extra_info(info)


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore network backend that resolves, checks and connects to the checked address only."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        started = time.monotonic()
        try:
            with anyio.fail_after(timeout):
                addresses = await resolve_checked(host, port, self.policy)
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(f"DNS lookup timed out for {host}") from exc
        except DNSLookupFailed as exc:
            raise httpcore.ConnectError(str(exc)) from exc
        last: httpcore.ConnectError | None = None
        for ip in addresses:
            remaining = None if timeout is None else max(0.0, timeout - (time.monotonic() - started))
            try:
                return _Stream(await self._inner.connect_tcp(
                    ip, port, timeout=remaining, local_address=local_address, socket_options=socket_options
                ))
            except httpcore.ConnectError as exc:  # refused, unreachable: try the next address
                last = httpcore.ConnectError(_connect_message(ip, port, exc))
        assert last is not None
        raise last

    async def connect_unix_socket(self, path: str, timeout: float | None = None, socket_options=None):
        raise OutboundRefused("refused: unix sockets are not allowed")

    async def sleep(self, seconds: float) -> None:
        await anyio.sleep(seconds)


class LinearConnectionPool(httpcore.AsyncConnectionPool):
    """httpcore's connection pool with bookkeeping that stays cheap at a hundred connections.

    Why: httpcore 1.0.9 re-examines every connection on each request and response: a quadratic
    count, and for each idle connection a socket poll through anyio's `extra_attributes` (a
    `getpeername` and a dict per call). At 100 connections that is a few milliseconds per
    request: measured here, 100 requests in flight managed 45/s where one at a time managed
    260/s (bench/checker.py). This pool looks at its connections only to place a queued request
    (closed ones are dropped on the way), tests an idle connection for expiry (keep-alive over,
    or closed by the server) just before reusing it, and sweeps expired idle ones every
    SWEEP_SECONDS. What it decides is the same: reuse an available connection to the origin,
    else open one, else replace an idle one.
    """

    SWEEP_SECONDS = 5.0
    _last_sweep = 0.0

    def _assign_requests_to_connections(self) -> list:
        closing = []
        now = time.monotonic()
        if now - self._last_sweep > self.SWEEP_SECONDS:
            self._last_sweep = now
            for connection in list(self._connections):
                if connection.is_closed():
                    self._connections.remove(connection)
                elif connection.is_idle() and connection.has_expired():
                    self._connections.remove(connection)
                    closing.append(connection)
        # `connection is None` is what is_queued() tests, without a call per request.
        queued = [request for request in self._requests if request.connection is None]
        for pool_request in queued:  # usually none (a response ended) or the one just added
            origin = pool_request.request.url.origin
            chosen = None
            for connection in list(self._connections):
                if connection.is_closed():
                    self._connections.remove(connection)
                elif connection.can_handle_request(origin) and connection.is_available():
                    if connection.is_idle() and connection.has_expired():
                        self._connections.remove(connection)
                        closing.append(connection)
                        continue
                    chosen = connection
                    break
            if chosen is None and len(self._connections) >= self._max_connections:
                idle = next((c for c in self._connections if c.is_idle()), None)
                if idle is None:
                    continue  # every connection is busy: the request waits for one
                self._connections.remove(idle)
                closing.append(idle)
            if chosen is None:
                chosen = self.create_connection(origin)
                self._connections.append(chosen)
            pool_request.assign_to_connection(chosen)
        return closing


def async_client(
    *,
    allow_private: bool,
    timeout: float = 10.0,
    max_connections: int = 100,
    verify: bool | ssl.SSLContext = True,
    policy: Policy | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.AsyncClient:
    """A pooled client whose every connection goes through the address guard.

    It never follows redirects on its own (use `fetch_capped(max_redirects=...)`), ignores proxy
    environment variables (a proxy would be the address checked, not the target) and raises
    OutboundRefused, not an httpx error, when the guard refuses a target. `policy` overrides
    `allow_private`.
    """
    transport = httpx.AsyncHTTPTransport(
        verify=verify,
        trust_env=False,
        limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
    )
    # The pool httpx would build, with our backend (httpx has no parameter for it) and cheaper
    # bookkeeping (LinearConnectionPool).
    transport._pool = LinearConnectionPool(
        ssl_context=transport._pool._ssl_context,
        max_connections=max_connections,
        max_keepalive_connections=max_connections,
        keepalive_expiry=5.0,
        network_backend=GuardedBackend(policy or policy_for(allow_private=allow_private)),
    )
    return httpx.AsyncClient(
        transport=transport,
        timeout=timeout,
        follow_redirects=False,
        trust_env=False,
        headers={"User-Agent": "statusapp", **(headers or {})},
    )


def subscriber_client(**kwargs) -> httpx.AsyncClient:
    """The client for subscriber webhooks, Slack and Discord: public addresses only, always
    (visitors who subscribe are not even signed in). Share one per process."""
    return async_client(allow_private=False, **kwargs)


def monitor_allow_private() -> bool:
    """Whether monitor checks may reach private addresses: yes (checking internal services is
    a normal use) unless STATUSAPP_MONITOR_PUBLIC_ONLY is set, for hosts serving several
    organizations."""
    return not get_settings().monitor_public_only


@dataclass
class CappedResponse:
    status_code: int
    headers: httpx.Headers
    body: bytes  # at most max_bytes, decoded from any content-encoding
    truncated: bool  # the body went on past max_bytes; it was not read further
    elapsed_ms: float  # from the first request to the end of reading the (capped) body
    url: httpx.URL  # after redirects
    redirects: int = 0


_REDIRECTS = (301, 302, 303, 307, 308)


def _redirect_target(request: httpx.Request, response: httpx.Response) -> httpx.Request:
    location = response.headers.get("location", "")
    try:
        url = request.url.join(location)
    except httpx.InvalidURL as exc:
        raise httpx.RemoteProtocolError(f"invalid redirect location {location[:200]!r}", request=request) from exc
    if url.scheme not in ("http", "https"):
        raise httpx.UnsupportedProtocol(f"redirect to unsupported URL {str(url)[:200]}", request=request)
    method, content = request.method, request.content
    if (response.status_code == 303 and method != "HEAD") or (response.status_code in (301, 302) and method == "POST"):
        method, content = "GET", b""  # as browsers and httpx do
    headers = httpx.Headers(request.headers)
    headers.pop("host", None)
    if url.host != request.url.host or url.scheme != request.url.scheme:
        headers.pop("authorization", None)
        headers.pop("cookie", None)
    if not content:
        headers.pop("content-length", None)
        headers.pop("content-type", None)
        headers.pop("transfer-encoding", None)
    timeout = request.extensions.get("timeout")
    new = httpx.Request(method, url, headers=headers, content=content or None)
    if timeout is not None:
        new.extensions["timeout"] = timeout
    return new


async def fetch_capped(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    headers: dict[str, str] | None = None,
    content: bytes | None = None,
    max_bytes: int = 1024 * 1024,
    deadline_s: float = 10.0,
    max_redirects: int = 0,
) -> CappedResponse:
    """One request, at most `max_bytes` of body, over within `deadline_s` whatever the server does.

    Redirects: with max_redirects=0 a 3xx is returned as is; otherwise up to that many are
    followed (their bodies are not read) and one more, or a URL seen twice, raises
    httpx.TooManyRedirects. The deadline covers connecting (including waiting for a pooled
    connection), every hop and the body: past it, httpx.TimeoutException. Errors are httpx's
    (httpx.HTTPError) or OutboundRefused.
    """
    all_headers = httpx.Headers({"Accept-Encoding": "identity"})  # no decompression bombs by default
    all_headers.update(headers or {})
    started = time.monotonic()
    request = client.build_request(method, url, headers=all_headers, content=content, timeout=deadline_s)
    seen = {str(request.url)}
    redirects = 0
    try:
        with anyio.fail_after(deadline_s):
            while True:
                response = await client.send(request, stream=True)
                try:
                    if response.status_code in _REDIRECTS and "location" in response.headers and max_redirects:
                        next_request = _redirect_target(request, response)
                        redirects += 1
                        if str(next_request.url) in seen:
                            raise httpx.TooManyRedirects(
                                f"redirect loop: {str(next_request.url)[:200]} was already visited", request=request
                            )
                        if redirects > max_redirects:
                            raise httpx.TooManyRedirects(f"more than {max_redirects} redirects", request=request)
                        seen.add(str(next_request.url))
                        request = next_request
                        continue
                    body = bytearray()
                    truncated = False
                    async for chunk in response.aiter_bytes():
                        room = max_bytes - len(body)
                        if len(chunk) > room:
                            body += chunk[:room]
                            truncated = True
                            break
                        body += chunk
                    return CappedResponse(
                        status_code=response.status_code,
                        headers=response.headers,
                        body=bytes(body),
                        truncated=truncated,
                        elapsed_ms=(time.monotonic() - started) * 1000,
                        url=response.url,
                        redirects=redirects,
                    )
                finally:
                    await response.aclose()  # unread rest of a body: the connection is dropped
    except TimeoutError as exc:
        raise httpx.TimeoutException(f"no complete response within {deadline_s:g} s", request=request) from exc


async def open_tcp(
    host: str, port: int, *, allow_private: bool, timeout: float, policy: Policy | None = None
) -> float:
    """Open (and close) a TCP connection through the guard; the connect time in ms.

    Raises OutboundRefused, DNSLookupFailed, TimeoutError, or OSError (refused, unreachable)
    with a readable message.
    """
    policy = policy or policy_for(allow_private=allow_private)
    started = time.monotonic()
    with anyio.fail_after(timeout):
        addresses = await resolve_checked(host, port, policy)
        last: OSError | None = None
        for ip in addresses:
            try:
                stream = await anyio.connect_tcp(ip, port)
            except OSError as exc:
                last = OSError(_connect_message(ip, port, exc))
                continue
            elapsed = (time.monotonic() - started) * 1000
            with anyio.CancelScope(shield=True):
                await stream.aclose()
            return elapsed
    assert last is not None
    raise last
