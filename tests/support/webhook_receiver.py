"""A real loopback HTTP server that records POSTs and answers as told: for webhook/chat channel tests.

    with WebhookReceiver() as rx:
        rx.answer(500)                      # next request gets 500 (then the default, 200)
        rx.answer(200, delay=3)             # ... or answers after 3 s
        rx.answer(301, headers={"Location": "http://127.0.0.1:1/"})
        await channel.send(..., Recipient(address=rx.url("/hook")), ...)
        rx.requests[0].body, rx.requests[0].headers

Every wait is bounded; stop() releases delayed answers.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Answer:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


class WebhookReceiver:
    def __init__(self, default: Answer | None = None) -> None:
        self.default = default or Answer(200, b"ok")
        self._answers: deque[Answer] = deque()
        self._lock = threading.Lock()
        self._release = threading.Event()
        self.requests: list[Received] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def url(self, path: str = "/hook") -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}{path}"

    def answer(self, status: int, body: bytes | str = b"", *, headers: dict[str, str] | None = None,
               delay: float = 0.0, times: int = 1) -> None:
        raw = body.encode() if isinstance(body, str) else body
        with self._lock:
            for _ in range(times):
                self._answers.append(Answer(status, raw, dict(headers or {}), delay))

    def _next(self) -> Answer:
        with self._lock:
            return self._answers.popleft() if self._answers else self.default

    def __enter__(self) -> WebhookReceiver:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True
            timeout = 30

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with owner._lock:
                    owner.requests.append(Received("POST", self.path, {k: v for k, v in self.headers.items()}, body))
                ans = owner._next()
                if ans.delay and owner._release.wait(ans.delay):
                    self.close_connection = True
                    return
                try:
                    self.send_response(ans.status)
                    for k, v in ans.headers.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(ans.body)))
                    self.end_headers()
                    if ans.body and ans.status not in (204, 304):
                        self.wfile.write(ans.body)
                except OSError:  # the client gave up (timeout test)
                    self.close_connection = True

        self._release.clear()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="webhook-receiver", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._release.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(5)
