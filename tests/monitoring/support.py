"""Loopback servers and throwaway certificates for the check tests; every wait is bounded."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import socket
import ssl
import struct
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


def run(coro: Awaitable, timeout: float = 10.0):
    """Run one test scenario on a fresh loop; it cannot take longer than `timeout`."""

    async def bounded():
        return await asyncio.wait_for(coro, timeout)

    return asyncio.run(bounded())


@dataclass
class Server:
    port: int
    connections: int = 0
    sni: list[str | None] = field(default_factory=list)


@contextlib.asynccontextmanager
async def serve(handler: Handler, *, ssl_context: ssl.SSLContext | None = None) -> AsyncIterator[Server]:
    """A TCP server on 127.0.0.1 whose handler tasks are cancelled when the block ends."""
    tasks: set[asyncio.Task] = set()
    server_info = Server(port=0)

    async def wrapped(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        tasks.add(asyncio.current_task())  # type: ignore[arg-type]
        server_info.connections += 1
        try:
            await handler(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, TimeoutError, ssl.SSLError, asyncio.CancelledError):
            pass  # the client went away or idled out, or the test is over (cancelled: end quietly)
        finally:
            writer.transport.abort()

    if ssl_context is not None:
        ssl_context.sni_callback = lambda sslobj, name, ctx: server_info.sni.append(name)
    server = await asyncio.start_server(wrapped, "127.0.0.1", 0, ssl=ssl_context)
    server_info.port = server.sockets[0].getsockname()[1]
    try:
        yield server_info
    finally:
        server.close()
        for task in list(tasks):
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=2)


async def read_request(reader: asyncio.StreamReader) -> bytes:
    """The request head (bodies are not used by these tests)."""
    return await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)


def http_handler(respond: Callable[[bytes], Awaitable[bytes] | bytes]) -> Handler:
    """Keep-alive HTTP/1.1 handler: `respond(request_head)` returns the raw response bytes."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            try:
                head = await read_request(reader)
            except asyncio.IncompleteReadError:
                return
            answer = respond(head)
            if asyncio.iscoroutine(answer):
                answer = await answer
            writer.write(answer)
            await writer.drain()

    return handler


def response(status: int = 200, body: bytes = b"ok", headers: dict[str, str] | None = None) -> bytes:
    lines = [f"HTTP/1.1 {status} X", f"Content-Length: {len(body)}"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def request_path(head: bytes) -> str:
    return head.split(b" ", 2)[1].decode()


def reset(writer: asyncio.StreamWriter) -> None:
    """Close with a TCP RST instead of a FIN."""
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


def closed_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Cert:
    cert_file: Path
    key_file: Path

    def server_context(self) -> ssl.SSLContext:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.cert_file, self.key_file)
        return ctx

    def trusting_context(self) -> ssl.SSLContext:
        """A client context that trusts this (self-signed) certificate and still checks names."""
        return ssl.create_default_context(cafile=str(self.cert_file))


def self_signed(directory: Path, *, names: list[str], expired: bool = False) -> Cert:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])])
    now = datetime.datetime.now(datetime.UTC)
    start, end = (now - datetime.timedelta(days=30), now - datetime.timedelta(days=1)) if expired else (
        now - datetime.timedelta(minutes=5),
        now + datetime.timedelta(days=1),
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    tag = "expired" if expired else "_".join(names)
    cert_file, key_file = directory / f"{tag}.crt", directory / f"{tag}.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return Cert(cert_file, key_file)
