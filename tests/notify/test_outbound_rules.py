"""Section 4 of the security review, for the callers: subscriber webhooks and chat go through
the outbound guard (public addresses only, checked at connect time, no redirects, capped answer
and time), and monitors allow private targets unless the operator restricts them. Every
refusal is proven against real servers on loopback."""

from __future__ import annotations

import asyncio
import time

import pytest

from statusapp import outbound
from statusapp.monitoring.checks import CheckClients, run_http_check, run_tcp_check
from statusapp.domain.monitor_spec import HttpCheck, TcpCheck
from statusapp.notify.channels import _http
from statusapp.notify.channels.base import DeliveryError, Recipient
from statusapp.notify.channels.slack import SlackChannel
from statusapp.notify.channels.webhook import WebhookChannel
from statusapp.settings import get_settings
from tests.monitoring.support import http_handler, read_request, response, run, serve
from tests.notify.factories import incident_notice


def _only_port(port: int):
    """A policy for tests: the one loopback test server counts as a public address."""
    return lambda ip, p: None if p == port else f"{ip}:{p} is not public in this test"


async def _webhook(client, url: str, timeout_s: float = 3.0):
    channel = WebhookChannel(client, timeout_s=timeout_s)
    recipient = Recipient(url, manage_url="https://s.test/m", unsubscribe_url="https://s.test/u", secret="s")
    return await channel.send(incident_notice(), [recipient], idempotency_key="k")


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::ffff:127.0.0.1]", "10.0.0.5", "169.254.169.254",
                                  "0.0.0.0", "[::]", "224.0.0.1"])
def test_subscriber_webhooks_to_internal_addresses_are_refused_before_connecting(host):
    async def scenario():
        async with serve(http_handler(lambda head: response(200))) as server:
            async with outbound.subscriber_client() as client:
                with pytest.raises(DeliveryError) as err:
                    await _webhook(client, f"http://{host}:{server.port}/hook", timeout_s=2)
            return err.value, server.connections

    error, connections = run(scenario())
    assert "refused" in str(error) and not error.retryable
    assert connections == 0


def test_chat_webhooks_use_the_same_guard():
    async def scenario():
        async with serve(http_handler(lambda head: response(200))) as server:
            async with outbound.subscriber_client() as client:
                with pytest.raises(DeliveryError) as err:
                    await SlackChannel(client, timeout_s=2).send(
                        incident_notice(), [Recipient(f"http://localhost:{server.port}/services/T/B/x")],
                        idempotency_key="k")
            return err.value, server.connections

    error, connections = run(scenario())
    assert "refused" in str(error) and connections == 0


def test_a_redirect_is_not_followed_even_to_an_allowed_target():
    async def scenario():
        async with serve(http_handler(lambda head: response(200, b"landed"))) as target:
            async with serve(http_handler(lambda head: response(302, b"", {
                    "Location": f"http://127.0.0.1:{target.port}/x"}))) as hook:
                async with outbound.async_client(allow_private=False, policy=lambda ip, p: None) as client:
                    with pytest.raises(DeliveryError) as err:
                        await _webhook(client, f"http://127.0.0.1:{hook.port}/hook")
                return err.value, target.connections

    error, target_connections = run(scenario())
    assert "redirects are not followed" in str(error) and target_connections == 0


def test_an_endless_answer_is_read_only_up_to_the_cap():
    """A receiver that says 200 and then streams forever: delivered, at most the cap read."""
    sent = []

    async def endless(reader, writer):
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        chunk = b"x" * 65536
        while True:
            writer.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            sent.append(len(chunk))
            await writer.drain()

    async def scenario():
        async with serve(endless) as server:
            async with outbound.async_client(allow_private=False, policy=_only_port(server.port)) as client:
                started = time.monotonic()
                result = await _webhook(client, f"http://127.0.0.1:{server.port}/hook", timeout_s=3)
                elapsed = time.monotonic() - started
                answer = await _http.post(client, f"http://127.0.0.1:{server.port}/hook", b"{}", {}, timeout_s=3)
                return result, elapsed, answer

    result, elapsed, answer = run(scenario(), timeout=20)
    assert result.ids == [None]
    assert elapsed < 2.5
    assert (answer.status_code, len(answer.body)) == (200, _http.MAX_ANSWER_BYTES)


def test_a_trickling_receiver_is_given_up_at_the_deadline():
    async def trickle(reader, writer):
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n")
        while True:
            writer.write(b"x")
            await writer.drain()
            await asyncio.sleep(0.2)

    async def scenario():
        async with serve(trickle) as server:
            async with outbound.async_client(allow_private=False, policy=_only_port(server.port)) as client:
                started = time.monotonic()
                with pytest.raises(DeliveryError) as err:
                    await _webhook(client, f"http://127.0.0.1:{server.port}/hook", timeout_s=1.5)
                return err.value, time.monotonic() - started

    error, elapsed = run(scenario(), timeout=20)
    assert error.retryable and "did not answer within 1.5 s" in str(error)
    assert elapsed < 3


@pytest.mark.parametrize("public_only", [False, True])
def test_monitors_reach_private_targets_unless_the_operator_restricts_them(monkeypatch, public_only):
    monkeypatch.setattr(get_settings(), "monitor_public_only", public_only)

    async def scenario():
        async with serve(http_handler(lambda head: response(200))) as server:
            clients = CheckClients()
            try:
                http = await run_http_check(clients, HttpCheck(url=f"http://127.0.0.1:{server.port}/"))
            finally:
                await clients.aclose()
            tcp = await run_tcp_check(TcpCheck(host="127.0.0.1", port=server.port))
            return http, tcp, server.connections

    http, tcp, connections = run(scenario())
    if public_only:
        assert (http.ok, tcp.ok, connections) == (False, False, 0)
        assert http.reason == tcp.reason == "refused: 127.0.0.1 is a loopback address"
    else:
        assert (http.ok, tcp.ok, connections) == (True, True, 2)
