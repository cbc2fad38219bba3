"""The outbound guard: which addresses are refused, and that the check holds at connect time."""

from __future__ import annotations

import socket

import httpx
import pytest

from statusapp import outbound
from statusapp.monitoring.checks import CheckClients, describe_error, run_http_check
from statusapp.domain.monitor_spec import HttpCheck
from tests.monitoring.support import (
    http_handler,
    request_path,
    response,
    run,
    self_signed,
    serve,
)

REFUSED_PUBLIC_ONLY = [
    "127.0.0.1", "127.8.9.10", "::1", "10.0.0.5", "172.16.3.4", "192.168.1.1", "fd12:3456::1",
    "169.254.1.1", "fe80::1", "100.64.0.1", "192.0.2.1", "240.0.0.1", "198.18.0.1",
    "::ffff:127.0.0.1", "::ffff:10.0.0.5", "64:ff9b::a00:5", "2002:7f00:1::",
]
REFUSED_ALWAYS = ["0.0.0.0", "::", "224.0.0.1", "ff02::1", "255.255.255.255", "169.254.169.254", "fd00:ec2::254", "::ffff:169.254.169.254"]
ALLOWED_PUBLIC = ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"]


@pytest.mark.parametrize("ip", REFUSED_PUBLIC_ONLY + REFUSED_ALWAYS)
def test_public_only_refuses(ip):
    assert not outbound.address_allowed(ip, allow_private=False)


@pytest.mark.parametrize("ip", REFUSED_PUBLIC_ONLY)
def test_private_mode_allows_internal_targets(ip):
    assert outbound.address_allowed(ip, allow_private=True)


@pytest.mark.parametrize("ip", REFUSED_ALWAYS)
def test_refused_in_every_mode(ip):
    assert not outbound.address_allowed(ip, allow_private=True)


@pytest.mark.parametrize("ip", ALLOWED_PUBLIC)
def test_public_addresses_allowed(ip):
    assert outbound.address_allowed(ip, allow_private=False)


def test_reasons_are_readable():
    assert outbound.refusal_reason("10.0.0.5", allow_private=False) == "10.0.0.5 is a private address"
    assert outbound.refusal_reason("169.254.169.254", allow_private=True) == "169.254.169.254 is a cloud metadata address"
    assert outbound.refusal_reason("::ffff:127.0.0.1", allow_private=False) == "::ffff:7f00:1 carries 127.0.0.1, a loopback address"


def test_only_allowed_addresses_of_a_name_are_used(monkeypatch):
    async def fake_getaddrinfo(host, port, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port)) for ip in ("10.0.0.5", "93.184.216.34")]

    monkeypatch.setattr(outbound.anyio, "getaddrinfo", fake_getaddrinfo)
    policy = outbound.policy_for(allow_private=False)
    assert run(outbound.resolve_checked("mixed.example", 80, policy)) == ["93.184.216.34"]


@pytest.mark.parametrize(
    "target, reason",
    [
        ("127.0.0.1:{port}", "refused: 127.0.0.1 is a loopback address"),
        ("localhost:{port}", "refused: localhost (127.0.0.1 is a loopback address)"),
        ("[::1]:{port}", "refused: ::1 is a loopback address"),
        ("[::ffff:127.0.0.1]:{port}", "refused: ::ffff:7f00:1 carries 127.0.0.1, a loopback address"),
        ("10.0.0.5", "refused: 10.0.0.5 is a private address"),
        ("169.254.169.254/latest/meta-data/", "refused: 169.254.169.254 is a cloud metadata address"),
    ],
)
def test_public_only_client_refuses_at_connect(target, reason):
    async def scenario():
        async with serve(http_handler(lambda head: response(200))) as server:
            async with outbound.async_client(allow_private=False) as client:
                with pytest.raises(outbound.OutboundRefused) as refused:
                    await outbound.fetch_capped(client, "GET", f"http://{target.format(port=server.port)}", deadline_s=3)
            return str(refused.value), server.connections

    message, connections = run(scenario())
    assert (message, connections) == (reason, 0)


def test_check_reports_a_refusal():
    async def scenario():
        async with serve(http_handler(lambda head: response(200))) as server:
            clients = CheckClients(allow_private=False)
            try:
                return await run_http_check(clients, HttpCheck(url=f"http://localhost:{server.port}/"))
            finally:
                await clients.aclose()

    result = run(scenario())
    assert (result.ok, result.reason) == (False, "refused: localhost (127.0.0.1 is a loopback address)")


def test_redirect_to_a_private_address_is_refused():
    """Only the first server's port counts as "public": a redirect to another loopback port
    is checked when its connection is opened, like any hop."""

    async def scenario():
        async with serve(http_handler(lambda head: response(200, b"internal secret"))) as internal:
            target = f"http://localhost:{internal.port}/admin"
            async with serve(http_handler(lambda head: response(302, b"", {"Location": target}))) as public:

                def policy(ip, port):
                    return None if port == public.port else f"{ip}:{port} is not public in this test"

                clients = CheckClients(allow_private=False, policy=policy)
                try:
                    result = await run_http_check(clients, HttpCheck(url=f"http://127.0.0.1:{public.port}/"))
                finally:
                    await clients.aclose()
                return result, public.connections, internal.connections, internal.port

    result, public_connections, internal_connections, internal_port = run(scenario())
    assert not result.ok
    assert result.reason == f"refused: localhost (127.0.0.1:{internal_port} is not public in this test)"
    assert (public_connections, internal_connections) == (1, 0)


def test_tls_checks_the_host_name_not_the_connected_address(tmp_path):
    """We connect to the resolved IP ourselves; SNI and the certificate check still use the name."""
    cert = self_signed(tmp_path, names=["localhost"])
    expired = self_signed(tmp_path, names=["localhost"], expired=True)

    async def fetch(server_cert, url_host, trusted):
        async with serve(http_handler(lambda head: response(200, b"tls ok")), ssl_context=server_cert.server_context()) as server:
            async with outbound.async_client(allow_private=True, verify=trusted.trusting_context()) as client:
                try:
                    result = await outbound.fetch_capped(client, "GET", f"https://{url_host}:{server.port}/", deadline_s=3)
                except httpx.HTTPError as exc:
                    result = describe_error(exc, 3)
            return result, server.sni

    async def scenario():
        return (
            await fetch(cert, "localhost", cert),
            await fetch(cert, "127.0.0.1", cert),
            await fetch(expired, "localhost", expired),
        )

    (good, good_sni), (mismatch, _), (old, _) = run(scenario())
    assert (good.status_code, good.body, good_sni) == (200, b"tls ok", ["localhost"])
    assert mismatch.startswith("TLS certificate not valid: IP address mismatch")
    assert old == "TLS certificate not valid: certificate has expired"


def test_fetch_capped_truncates_and_returns_redirects_when_not_following():
    def respond(head):
        if request_path(head) == "/go":
            return response(302, b"", {"Location": "/big"})
        return response(200, b"a" * 5000)

    async def scenario():
        async with serve(http_handler(respond)) as server, outbound.async_client(allow_private=True) as client:
            base = f"http://127.0.0.1:{server.port}"
            return (
                await outbound.fetch_capped(client, "GET", f"{base}/go", max_bytes=100),
                await outbound.fetch_capped(client, "GET", f"{base}/go", max_bytes=100, max_redirects=1),
            )

    unfollowed, followed = run(scenario())
    assert (unfollowed.status_code, unfollowed.headers["location"], unfollowed.redirects) == (302, "/big", 0)
    assert (followed.status_code, len(followed.body), followed.truncated, followed.redirects) == (200, 100, True, 1)
    assert str(followed.url).endswith("/big")


def test_open_tcp_refuses_before_connecting():
    async def scenario():
        async with serve(http_handler(lambda head: response())) as server:
            with pytest.raises(outbound.OutboundRefused):
                await outbound.open_tcp("localhost", server.port, allow_private=False, timeout=2)
            ms = await outbound.open_tcp("localhost", server.port, allow_private=True, timeout=2)
            return ms, server.connections

    ms, connections = run(scenario())
    assert ms >= 0 and connections == 1


def test_unix_sockets_are_refused():
    async def scenario():
        async with outbound.async_client(allow_private=True) as client:
            with pytest.raises(outbound.OutboundRefused):
                await client._transport._pool._network_backend.connect_unix_socket("/tmp/x")  # type: ignore[attr-defined]

    run(scenario())


def test_pool_never_reuses_a_connection_the_server_closed():
    """LinearConnectionPool checks an idle connection just before reusing it: a target that
    closes its connections after each answer must not turn into failed checks."""
    import asyncio

    async def answer_then_close(reader, writer):
        await reader.readuntil(b"\r\n\r\n")
        writer.write(response(200, b"ok"))
        await writer.drain()
        writer.close()

    async def scenario():
        async with serve(answer_then_close) as server:
            clients = CheckClients(allow_private=True)
            try:
                url = f"http://127.0.0.1:{server.port}/"
                results = []
                for _ in range(5):
                    results.append(await run_http_check(clients, HttpCheck(url=url)))
                    await asyncio.sleep(0.05)  # the server's FIN arrives before the next check
                return results, server.connections
            finally:
                await clients.aclose()

    results, connections = run(scenario())
    assert [r.ok for r in results] == [True] * 5, [r.reason for r in results]
    assert connections == 5


def test_pool_serves_many_checks_at_once_on_few_connections():
    import asyncio

    async def scenario():
        async with serve(http_handler(lambda head: response(200, b"ok"))) as server:
            clients = CheckClients(allow_private=True, max_concurrent=20)
            try:
                check = HttpCheck(url=f"http://127.0.0.1:{server.port}/")
                results = await asyncio.gather(*(run_http_check(clients, check) for _ in range(200)))
                return results, server.connections
            finally:
                await clients.aclose()

    results, connections = run(scenario(), timeout=30)
    assert all(r.ok for r in results)
    assert connections <= 20  # kept alive and reused, never more than the pool's size
