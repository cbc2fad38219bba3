"""HTTP and TCP checks against real servers on 127.0.0.1: every failure is a readable result."""

from __future__ import annotations

import asyncio
import time

import pytest

from statusapp.monitoring.checks import CheckClients, run_http_check, run_tcp_check
from statusapp.domain.monitor_spec import HttpCheck, TcpCheck
from tests.monitoring.support import (
    closed_port,
    http_handler,
    read_request,
    request_path,
    reset,
    response,
    run,
    self_signed,
    serve,
)


async def check(url: str, **fields):
    clients = CheckClients(allow_private=True)
    try:
        return await run_http_check(clients, HttpCheck(url=url, **fields))
    finally:
        await clients.aclose()


def test_up_and_connection_reused():
    async def scenario():
        async with serve(http_handler(lambda head: response(200, b"all good"))) as server:
            clients = CheckClients(allow_private=True)
            try:
                first = await run_http_check(clients, HttpCheck(url=f"http://127.0.0.1:{server.port}/health"))
                second = await run_http_check(clients, HttpCheck(url=f"http://127.0.0.1:{server.port}/health"))
            finally:
                await clients.aclose()
            return first, second, server.connections

    first, second, connections = run(scenario())
    assert (first.ok, first.reason, first.status_code, first.degraded) == (True, "HTTP 200", 200, False)
    assert first.latency_ms is not None and first.latency_ms >= 0
    assert second.ok and connections == 1  # the shared client pooled the connection


def test_down_connection_refused():
    port = closed_port()
    result = run(check(f"http://127.0.0.1:{port}/"))
    assert not result.ok
    assert result.reason == f"connection refused by 127.0.0.1:{port}"
    assert result.latency_ms is None


def test_dns_failure():
    result = run(check("http://no-such-host.invalid/", timeout_seconds=3))
    assert not result.ok
    # "failed" where the resolver answers; "timed out" on a machine whose resolver never does
    assert result.reason in ("DNS lookup failed for no-such-host.invalid", "DNS lookup timed out for no-such-host.invalid")


def test_wrong_status():
    async def scenario():
        async with serve(http_handler(lambda head: response(503, b"down"))) as server:
            return await check(f"http://127.0.0.1:{server.port}/")

    result = run(scenario())
    assert (result.ok, result.reason, result.status_code) == (False, "HTTP 503, expected 200-299", 503)


def test_expected_status_list():
    async def scenario():
        async with serve(http_handler(lambda head: response(418, b"teapot"))) as server:
            return await check(f"http://127.0.0.1:{server.port}/", expected_statuses=((200, 299), (418, 418)))

    assert run(scenario()).ok


def test_slow_answer_times_out():
    async def slow(head):
        await asyncio.sleep(5)
        return response(200)

    async def scenario():
        async with serve(http_handler(slow)) as server:
            started = time.monotonic()
            result = await check(f"http://127.0.0.1:{server.port}/", timeout_seconds=1)
            return result, time.monotonic() - started

    result, took = run(scenario())
    assert (result.ok, result.reason) == (False, "timed out after 1 s")
    assert took < 2


def test_trickling_body_stops_at_the_deadline():
    """One byte every 0.2 s: no single read times out, the overall deadline does."""

    async def handler(reader, writer):
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
        while True:
            writer.write(b"x")
            await writer.drain()
            await asyncio.sleep(0.2)

    async def scenario():
        async with serve(handler) as server:
            started = time.monotonic()
            result = await check(f"http://127.0.0.1:{server.port}/", timeout_seconds=1)
            return result, time.monotonic() - started

    result, took = run(scenario())
    assert (result.ok, result.reason) == (False, "timed out after 1 s")
    assert took < 2


def test_degraded_when_slower_than_threshold():
    async def slowish(head):
        await asyncio.sleep(0.3)
        return response(200)

    async def scenario():
        async with serve(http_handler(slowish)) as server:
            return await check(f"http://127.0.0.1:{server.port}/", degraded_above_ms=100)

    result = run(scenario())
    assert result.ok and result.degraded
    assert result.reason.startswith("slow: ") and result.reason.endswith(" ms > 100 ms")


@pytest.mark.parametrize(
    "keyword, absent, ok, reason",
    [
        ("Welcome", False, True, "HTTP 200"),
        ("Maintenance", False, False, "keyword 'Maintenance' not found in the body"),
        ("Maintenance", True, True, "HTTP 200"),
        ("Welcome", True, False, "keyword 'Welcome' found in the body"),
    ],
)
def test_keyword(keyword, absent, ok, reason):
    async def scenario():
        async with serve(http_handler(lambda head: response(200, b"<h1>Welcome</h1>"))) as server:
            return await check(f"http://127.0.0.1:{server.port}/", keyword=keyword, keyword_must_be_absent=absent)

    result = run(scenario())
    assert (result.ok, result.reason) == (ok, reason)


def test_endless_body_reads_only_the_cap():
    async def handler(reader, writer):
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nSTART")
        chunk = b"y" * 65536
        while True:
            writer.write(chunk)
            await writer.drain()

    async def scenario():
        async with serve(handler) as server:
            url = f"http://127.0.0.1:{server.port}/"
            started = time.monotonic()
            found = await check(url, keyword="START")
            missing = await check(url, keyword="END")
            return found, missing, time.monotonic() - started

    found, missing, took = run(scenario())
    assert (found.ok, found.reason) == (True, "HTTP 200")
    assert (missing.ok, missing.reason) == (False, "keyword 'END' not found in the first 1024 KiB of the body")
    assert took < 3


def test_connection_reset_mid_response():
    async def handler(reader, writer):
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\npartial")
        await writer.drain()
        await asyncio.sleep(0.1)
        reset(writer)

    async def scenario():
        async with serve(handler) as server:
            return await check(f"http://127.0.0.1:{server.port}/")

    result = run(scenario())
    assert (result.ok, result.reason) == (False, "connection reset by the server")


def test_closed_without_response():
    async def handler(reader, writer):
        await read_request(reader)
        writer.close()

    async def scenario():
        async with serve(handler) as server:
            return await check(f"http://127.0.0.1:{server.port}/")

    result = run(scenario())
    assert (result.ok, result.reason) == (False, "server closed the connection without a response")


def test_garbage_is_not_http():
    async def handler(reader, writer):
        await read_request(reader)
        writer.write(b"\x00\x01\x02 SSH-2.0-OpenSSH_9.6\r\n\r\n")
        await writer.drain()
        await asyncio.sleep(5)

    async def scenario():
        async with serve(handler) as server:
            return await check(f"http://127.0.0.1:{server.port}/")

    result = run(scenario())
    assert not result.ok and result.reason.startswith("not a valid HTTP response")


def test_huge_headers():
    async def handler(reader, writer):
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\n")
        for i in range(400):  # 400 KiB of headers, never ending the head
            writer.write(f"X-Filler-{i}: {'z' * 1000}\r\n".encode())
            await writer.drain()
        await asyncio.sleep(5)

    async def scenario():
        async with serve(handler) as server:
            return await check(f"http://127.0.0.1:{server.port}/")

    result = run(scenario())
    assert (result.ok, result.reason) == (False, "response headers too large")


def test_redirects_followed_looping_and_too_many():
    def respond(head):
        path = request_path(head)
        if path == "/old":
            return response(301, b"", {"Location": "/new"})
        if path == "/new":
            return response(200, b"moved here")
        if path in ("/a", "/b"):
            return response(302, b"", {"Location": "/b" if path == "/a" else "/a"})
        if path.startswith("/hop/"):
            n = int(path.rsplit("/", 1)[1])
            return response(302, b"", {"Location": f"/hop/{n + 1}"})
        return response(404, b"")

    async def scenario():
        async with serve(http_handler(respond)) as server:
            base = f"http://127.0.0.1:{server.port}"
            return (
                await check(f"{base}/old", keyword="moved"),
                await check(f"{base}/a"),
                await check(f"{base}/hop/0"),
            )

    moved, loop, chain = run(scenario())
    assert (moved.ok, moved.status_code) == (True, 200)
    assert not loop.ok and loop.reason.startswith("redirect loop: ") and loop.reason.endswith("/a was already visited")
    assert (chain.ok, chain.reason) == (False, "more than 5 redirects")


def test_self_signed_tls_fails_unless_allowed(tmp_path):
    cert = self_signed(tmp_path, names=["localhost"])

    async def scenario():
        async with serve(http_handler(lambda head: response(200, b"secure")), ssl_context=cert.server_context()) as server:
            url = f"https://localhost:{server.port}/"
            return await check(url), await check(url, ignore_tls_errors=True)

    strict, relaxed = run(scenario())
    assert not strict.ok and strict.reason == "TLS certificate not valid: self-signed certificate"
    assert (relaxed.ok, relaxed.reason) == (True, "HTTP 200")


def test_tcp_open_closed_and_refused_by_guard():
    async def scenario():
        async with serve(http_handler(lambda head: response())) as server:
            spec = TcpCheck(host="127.0.0.1", port=server.port, timeout_seconds=2)
            return (
                await run_tcp_check(spec, allow_private=True),
                await run_tcp_check(TcpCheck(host="localhost", port=closed_port()), allow_private=True),
                await run_tcp_check(spec, allow_private=False),
                await run_tcp_check(TcpCheck(host="no-such-host.invalid", port=80, timeout_seconds=3), allow_private=True),
                server.connections,
            )

    up, down, refused, dns, connections = run(scenario())
    assert up.ok and up.reason.startswith("port ") and up.latency_ms is not None
    assert not down.ok and down.reason.startswith("connection refused by 127.0.0.1:")
    assert (refused.ok, refused.reason) == (False, "refused: 127.0.0.1 is a loopback address")
    assert not dns.ok and dns.reason in ("DNS lookup failed for no-such-host.invalid", "timed out connecting after 3 s")
    assert connections == 1  # the refused check never connected
