"""A real loopback HTTP server speaking enough of Resend's API for the `resend` SDK, with faults.

Why a real server rather than a mock: the email channel is tested through the real SDK (its
request building, headers, error mapping, timeouts), and a benchmark pushes 100,000 emails
(1,000 batch calls) through it, so it must be cheap per call (stdlib ThreadingHTTPServer,
HTTP/1.1 keep-alive, one thread per connection).

    with FakeResend() as fake:
        resend.api_url = fake.url          # or RESEND_API_URL=fake.url before importing resend
        fake.fail_next(500, times=2)       # fault knobs: 500 / 429 (+Retry-After) / 422 / hang
        ...
        fake.emails, fake.batch_calls, fake.idempotency_keys

Behaviour mirrored from Resend:
- `POST /emails/batch` (a JSON list of up to 100 emails) -> `{"data": [{"id": ...}, ...]}`;
  with `x-batch-validation: permissive` invalid emails are listed in `errors: [{index, message}]`
  and only the valid ones are accepted (and listed in `data`, in order). Strict mode (the
  default) rejects the whole batch with 422 when any email is invalid.
- `POST /emails` (one email) -> `{"id": ...}`.
- `Idempotency-Key`: the same key with the same body replays the first response and records
  nothing new; the same key with a different body answers 409 `invalid_idempotent_request`.
  Only successful responses are remembered (a failed call can be retried with its key).
- Errors are `{"statusCode": N, "name": <type>, "message": ...}` like Resend's.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MAX_BATCH = 100
HANG_LIMIT_S = 30.0  # a hung call is released (connection closed, no answer) after this at most


@dataclass
class Fault:
    status: int  # 500, 429, 422, or 0 for "hang"
    retry_after: float | None = None
    name: str = ""
    message: str = ""


@dataclass
class Call:
    path: str
    idempotency_key: str | None
    batch_validation: str | None
    authorization: str | None
    status: int
    size: int


@dataclass
class _Stats:
    batch_calls: int = 0  # accepted (2xx, not replayed) batch calls
    single_calls: int = 0
    replays: int = 0
    calls: list[Call] = field(default_factory=list)


class FakeResend:
    """Start with `with FakeResend() as fake:`; every wait is bounded."""

    def __init__(self, *, keep_bodies: bool = True, record_calls: bool = True) -> None:
        # keep_bodies=False drops html/text from recorded emails (a 100k-email benchmark
        # would otherwise hold hundreds of MB); record_calls=False skips the per-call log.
        self.keep_bodies = keep_bodies
        self.record_calls = record_calls
        self._lock = threading.Lock()
        self._faults: deque[Fault] = deque()
        self._idem: dict[str, tuple[str, int, bytes]] = {}  # key -> (body sha256, status, response)
        self._stats = _Stats()
        self.emails: list[dict[str, Any]] = []
        self.idempotency_keys: list[str | None] = []  # of accepted (non-replayed) calls
        self._release = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle

    @property
    def url(self) -> str:
        assert self._server is not None, "not started"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeResend:
        fake = self
        self._release.clear()

        class Handler(_Handler):
            owner = fake

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        server.block_on_close = False
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-resend", daemon=True
        )
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._release.set()  # wakes hung handlers: they close without answering
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout)
        self._server = None
        self._thread = None

    def __enter__(self) -> FakeResend:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ fault knobs

    def fail_next(self, status: int, *, times: int = 1, retry_after: float | None = None,
                  name: str = "", message: str = "") -> None:
        """Answer the next `times` calls with `status` (500, 429, 422, 401, ...)."""
        default_names = {500: "application_error", 429: "rate_limit_exceeded", 422: "validation_error",
                         400: "validation_error", 401: "missing_api_key", 403: "invalid_api_key"}
        with self._lock:
            for _ in range(times):
                self._faults.append(Fault(status, retry_after, name or default_names.get(status, "error"),
                                          message or f"injected {status}"))

    def rate_limit_next(self, *, times: int = 1, retry_after: float = 2.0) -> None:
        self.fail_next(429, times=times, retry_after=retry_after,
                       message="Too many requests. You can only make 2 requests per second.")

    def hang_next(self, *, times: int = 1) -> None:
        """Never answer the next `times` calls (until stop() or HANG_LIMIT_S)."""
        with self._lock:
            for _ in range(times):
                self._faults.append(Fault(0))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    # ------------------------------------------------------------------ observations

    @property
    def batch_calls(self) -> int:
        """Batch calls accepted (2xx, not an idempotent replay)."""
        with self._lock:
            return self._stats.batch_calls

    @property
    def replays(self) -> int:
        with self._lock:
            return self._stats.replays

    @property
    def calls(self) -> list[Call]:
        with self._lock:
            return list(self._stats.calls)

    def reset(self) -> None:
        with self._lock:
            self._faults.clear()
            self._idem.clear()
            self._stats = _Stats()
            self.emails = []
            self.idempotency_keys = []

    # ------------------------------------------------------------------ request handling

    def _take_fault(self) -> Fault | None:
        with self._lock:
            return self._faults.popleft() if self._faults else None

    def handle(self, path: str, headers: Any, body: bytes) -> tuple[int, dict[str, str], bytes] | None:
        """Returns (status, extra headers, body), or None to hang."""
        key = headers.get("Idempotency-Key")
        mode = headers.get("x-batch-validation")
        status, extra, payload = self._answer(path, headers, body, key, mode)
        if self.record_calls and status != -1:
            with self._lock:
                self._stats.calls.append(Call(path, key, mode, headers.get("Authorization"), status, len(body)))
        if status == -1:
            return None
        return status, extra, payload

    def _answer(self, path: str, headers: Any, body: bytes, key: str | None, mode: str | None
                ) -> tuple[int, dict[str, str], bytes]:
        if path not in ("/emails", "/emails/batch"):
            return _error(404, "not_found", "The requested endpoint does not exist.")
        auth = headers.get("Authorization") or ""
        if not auth.startswith("Bearer ") or auth == "Bearer None" or len(auth) <= len("Bearer "):
            return _error(401, "missing_api_key", "Missing API key in the authorization header.")

        fault = self._take_fault()
        if fault is not None:
            if fault.status == 0:
                self._release.wait(HANG_LIMIT_S)
                return -1, {}, b""
            extra: dict[str, str] = {}
            if fault.retry_after is not None:
                extra["retry-after"] = _num(fault.retry_after)
                extra["ratelimit-reset"] = _num(fault.retry_after)
                extra["ratelimit-limit"] = "2"
                extra["ratelimit-remaining"] = "0"
            status, err_headers, payload = _error(fault.status, fault.name, fault.message)
            return status, {**err_headers, **extra}, payload

        digest = hashlib.sha256(body).hexdigest()
        if key is not None:
            if not key or len(key) > 256:
                return _error(400, "invalid_idempotency_key", "The key must be between 1-256 chars.")
            with self._lock:
                seen = self._idem.get(key)
                if seen is not None:
                    if seen[0] != digest:
                        return _error(409, "invalid_idempotent_request",
                                      "Same idempotency key used with a different request payload.")
                    self._stats.replays += 1
                    return seen[1], {}, seen[2]

        try:
            data = json.loads(body)
        except ValueError:
            return _error(400, "validation_error", "Invalid JSON body.")

        if path == "/emails":
            if not isinstance(data, dict):
                return _error(422, "validation_error", "Expected an email object.")
            problem = _invalid(data)
            if problem:
                return _error(422, "validation_error", problem)
            email_id = str(uuid.uuid4())
            response = json.dumps({"id": email_id}).encode()
            self._accept(key, digest, [(email_id, data)], response, batch=False)
            return 200, {}, response

        if not isinstance(data, list) or not data:
            return _error(422, "validation_error", "Expected a non-empty list of emails.")
        if len(data) > MAX_BATCH:
            return _error(422, "validation_error", f"Too many emails: at most {MAX_BATCH} per batch.")
        problems = [(i, _invalid(e) if isinstance(e, dict) else "Expected an email object.")
                    for i, e in enumerate(data)]
        problems = [(i, p) for i, p in problems if p]
        permissive = (mode or "strict").lower() == "permissive"
        if problems and not permissive:
            i, p = problems[0]
            return _error(422, "validation_error", f"emails[{i}]: {p}")
        bad = {i for i, _ in problems}
        accepted = [(str(uuid.uuid4()), e) for i, e in enumerate(data) if i not in bad]
        result: dict[str, Any] = {"data": [{"id": eid} for eid, _ in accepted]}
        if permissive:
            result["errors"] = [{"index": i, "message": p} for i, p in problems]
        response = json.dumps(result).encode()
        self._accept(key, digest, accepted, response, batch=True)
        return 200, {}, response

    def _accept(self, key: str | None, digest: str, emails: list[tuple[str, dict[str, Any]]],
                response: bytes, *, batch: bool) -> None:
        records = []
        for eid, e in emails:
            rec = dict(e) if self.keep_bodies else {k: v for k, v in e.items() if k not in ("html", "text")}
            rec["id"] = eid
            rec["idempotency_key"] = key
            records.append(rec)
        with self._lock:
            if key is not None:
                if key in self._idem:  # a concurrent twin got here first: behave as a replay
                    self._stats.replays += 1
                    return
                self._idem[key] = (digest, 200, response)
            self.emails.extend(records)
            self.idempotency_keys.append(key)
            if batch:
                self._stats.batch_calls += 1
            else:
                self._stats.single_calls += 1


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def _invalid(email: dict[str, Any]) -> str:
    for name in ("from", "to", "subject"):
        if not email.get(name):
            return f"Missing `{name}` field."
    if not (email.get("html") or email.get("text")):
        return "Missing `html` or `text` field."
    to = email["to"] if isinstance(email["to"], list) else [email["to"]]
    for addr in to:
        if not isinstance(addr, str) or "@" not in addr or any(c in addr for c in " \r\n<>"):
            return f"Invalid `to` field: {addr!r}."
    headers = email.get("headers") or {}
    if not isinstance(headers, dict) or any(not isinstance(v, str) for v in headers.values()):
        return "Invalid `headers` field."
    return ""


def _error(status: int, name: str, message: str) -> tuple[int, dict[str, str], bytes]:
    return status, {}, json.dumps({"statusCode": status, "name": name, "message": message}).encode()


class _Handler(BaseHTTPRequestHandler):
    owner: FakeResend
    protocol_version = "HTTP/1.1"  # keep-alive: a pooled client reuses its connection
    disable_nagle_algorithm = True  # else headers + body in two writes cost ~40 ms (delayed ACK)
    timeout = HANG_LIMIT_S + 5  # an idle keep-alive connection is dropped after this

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        answer = self.owner.handle(self.path.split("?", 1)[0], self.headers, body)
        if answer is None:  # hang: close without a response
            self.close_connection = True
            return
        status, extra, payload = answer
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        for k, v in extra.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(payload)

    def do_GET(self) -> None:
        payload = json.dumps({"statusCode": 405, "name": "method_not_allowed", "message": "fake"}).encode()
        self.send_response(405)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


def measure_raw_rate(calls: int = 300, batch: int = 100, html_bytes: int = 4000) -> float:
    """Batch calls per second through one keep-alive connection (no SDK): the server's own cost."""
    import http.client

    email = {"from": "s@example.com", "to": ["u@example.com"], "subject": "s", "html": "x" * html_bytes}
    with FakeResend(keep_bodies=False, record_calls=False) as fake:
        host, port = fake._server.server_address[:2]  # type: ignore[union-attr]
        conn = http.client.HTTPConnection(host, port, timeout=10)
        bodies = [json.dumps([dict(email, to=[f"u{i}-{j}@example.com"]) for j in range(batch)]).encode()
                  for i in range(calls)]
        t0 = time.perf_counter()
        for i, body in enumerate(bodies):
            conn.request("POST", "/emails/batch", body=body, headers={
                "Authorization": "Bearer re_test", "Content-Type": "application/json",
                "Idempotency-Key": f"k{i}"})
            resp = conn.getresponse()
            resp.read()
            assert resp.status == 200, resp.status
        elapsed = time.perf_counter() - t0
        conn.close()
        assert fake.batch_calls == calls
    return calls / elapsed


if __name__ == "__main__":  # python -m tests.support.fake_resend
    print(f"RESULT fake_resend_batch_calls_per_s={measure_raw_rate():.0f}")
