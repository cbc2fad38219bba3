"""The HTTP side in process (statusapp.web's FastAPI app over ASGI, real database, real
client addresses): sign-in limits by address, the trusted proxies, what the sign-in redirect
carries, health and readiness, security headers, the host rule of `/`, the socket cap.
Tests touching the database run on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import threading
import time

import httpx
import pytest

from statusapp import access, web
from statusapp.domain import auth, organizations, pages
from statusapp.settings import get_settings

BASE = "http://testserver"
PASSWORD = "correct horse battery"


def client_from(address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=web.api, client=(address, 50000))
    return httpx.AsyncClient(transport=transport, base_url=BASE, headers={"Origin": BASE})


def run(coro, timeout: float = 60):
    async def bounded():
        return await asyncio.wait_for(coro, timeout)

    return asyncio.run(bounded())


@pytest.fixture
def admin(org, cheap_argon2, monkeypatch):
    monkeypatch.setattr(get_settings(), "public_url", BASE)
    monkeypatch.setattr(auth, "time", type("NoWait", (), {"sleep": staticmethod(lambda s: None)}), raising=False)
    return organizations.create_user(organization_id=org.organization_id, email="admin@example.com", password=PASSWORD)


async def sign_in(client, password, *, email="admin@example.com", next_path="", headers=None):
    return await client.post("/auth/login", data={"email": email, "password": password, "next": next_path},
                             headers=headers or {})


# --------------------------------------------------------------------------- sign-in


def test_lockout_from_one_address_leaves_the_admin_signing_in_from_another(admin, monkeypatch):
    slept = []

    async def no_sleep(seconds):
        slept.append(seconds)

    monkeypatch.setattr(web, "_slow_down", no_sleep)
    n = get_settings().login_max_failures

    async def scenario():
        async with client_from("203.0.113.9") as attacker, client_from("198.51.100.7") as office:
            for _ in range(n):
                r = await sign_in(attacker, "wrong password!")
                assert r.headers["location"] == "/admin/login?error=credentials"
            refused = await sign_in(attacker, PASSWORD)
            ok = await sign_in(office, PASSWORD)
            return refused, ok

    refused, ok = run(scenario())
    assert (refused.status_code, refused.headers["location"]) == (303, "/admin/login?error=locked")
    assert "statusapp_session" not in refused.cookies
    assert (ok.status_code, ok.headers["location"]) == (303, "/admin")
    assert auth.session_user(ok.cookies["statusapp_session"]) is not None
    assert slept == [1.0]  # the email is under attack: the admin waited a second, on the loop


def test_x_forwarded_for_counts_only_through_trusted_proxies(admin, monkeypatch):
    n = get_settings().login_max_failures

    async def no_sleep(seconds):
        pass

    monkeypatch.setattr(web, "_slow_down", no_sleep)

    async def attempts(proxy_peer: str):
        codes = []
        async with client_from(proxy_peer) as proxy:
            for i in range(n + 1):  # every request claims another client address
                r = await sign_in(proxy, "wrong password!", headers={"X-Forwarded-For": f"203.0.113.{i}"})
                codes.append(r.headers["location"].split("error=")[1])
        return codes

    # Not trusted: the header is ignored, all attempts are the peer's: the last one is refused.
    assert run(attempts("192.0.2.1"))[-1] == "locked"
    # Through a trusted proxy each forwarded address is its own client: none is refused.
    monkeypatch.setattr(get_settings(), "trusted_proxies", "192.0.2.0/24")
    assert run(attempts("192.0.2.2")) == ["credentials"] * (n + 1)


def test_the_redirect_carries_an_error_code_never_text_and_the_email_only_in_an_httponly_cookie(admin):
    async def scenario():
        async with client_from("10.1.1.1") as c:
            failed = await sign_in(c, "wrong password!", email="Admin@Example.com", next_path="/admin/incidents/7")
            evil = await sign_in(c, PASSWORD, next_path="//evil.example/admin")
            deep = await sign_in(c, PASSWORD, next_path="/admin/incidents/7")
            return failed, evil, deep

    failed, evil, deep = run(scenario())
    assert failed.headers["location"] == "/admin/login?error=credentials&next=%2Fadmin%2Fincidents%2F7"
    assert "example.com" not in failed.headers["location"].lower()
    cookie = failed.headers["set-cookie"]
    assert access.cookie_value(cookie.split(";")[0], access.LOGIN_EMAIL_COOKIE) == "Admin@Example.com"
    assert "HttpOnly" in cookie and "Path=/_event" in cookie and "SameSite=strict" in cookie and "Max-Age=300" in cookie
    assert evil.headers["location"] == "/admin"  # another site is never a destination
    assert deep.headers["location"] == "/admin/incidents/7"
    assert f'{access.LOGIN_EMAIL_COOKIE}=""' in deep.headers["set-cookie"]  # forgotten once signed in


def test_cross_site_sign_in_is_refused(admin):
    async def scenario():
        async with client_from("10.1.1.1") as c:
            return await sign_in(c, PASSWORD, headers={"Origin": "https://evil.example"})

    assert run(scenario()).status_code == 403


# --------------------------------------------------------------------------- health


def test_healthz_shows_socket_counts_only_to_ops_or_admins(admin, monkeypatch):
    monkeypatch.setattr(get_settings(), "ops_token", "s3cret-ops-token")
    token, _ = auth.login(email="admin@example.com", password=PASSWORD)

    async def scenario():
        async with client_from("10.1.1.1") as c:
            return [
                (await c.get("/healthz")).json(),
                (await c.get("/healthz", headers={"Authorization": "Bearer wrong"})).json(),
                (await c.get("/healthz", headers={"Authorization": "Bearer s3cret-ops-token"})).json(),
                (await c.get("/healthz", headers={"Cookie": f"statusapp_session={token}"})).json(),
            ]

    anonymous, wrong, ops, signed_in = run(scenario())
    assert anonymous == wrong == {"ok": True}
    assert ops == signed_in == {"ok": True, "page_sockets": {}}


def test_readyz_answers_503_when_the_thread_pool_is_stuck(db):
    async def scenario():
        async with client_from("10.1.1.1") as c:
            ready = await c.get("/readyz")
            release = threading.Event()
            loop = asyncio.get_running_loop()
            stuck = [loop.run_in_executor(None, release.wait, 30) for _ in range(64)]
            started = time.monotonic()
            try:
                frozen = await c.get("/readyz")
                took = time.monotonic() - started
                alive = await c.get("/healthz")
            finally:
                release.set()
                await asyncio.gather(*stuck)
            return ready, frozen, took, alive

    ready, frozen, took, alive = run(scenario())
    assert (ready.status_code, ready.json()) == (200, {"ready": True})
    assert frozen.status_code == 503 and "within 2 s" in frozen.json()["reason"]
    assert took < web.READY_TIMEOUT_SECONDS + 1.5
    assert alive.status_code == 200  # liveness stays cheap: the loop itself is fine


def test_readyz_answers_503_when_the_database_is_gone(monkeypatch, tmp_path):
    monkeypatch.setattr(get_settings(), "database_url", "postgresql+psycopg://nobody@127.0.0.1:1/none")

    async def scenario():
        async with client_from("10.1.1.1") as c:
            return await c.get("/readyz")

    r = run(scenario())
    assert r.status_code == 503 and r.json()["reason"].startswith("database error")


# --------------------------------------------------------------------------- headers, host rule


def test_inline_script_hashes_of_built_pages(tmp_path):
    page = tmp_path / "index.html"
    page.write_bytes(b'<html><script>a()</script><script type="module">import "/x.js";</script>'
                     b'<script src="/y.js"></script><script>a()</script></html>')
    def source(script: bytes) -> str:
        return "'sha256-" + base64.b64encode(hashlib.sha256(script).digest()).decode() + "'"

    assert web.inline_script_hashes([page]) == [source(b"a()"), source(b'import "/x.js";')]


@pytest.mark.parametrize("path", ["/status/nope", "/", "//admin/", "/admin", "/readyz"])
def test_every_answer_refuses_framing_and_https_adds_hsts(db, monkeypatch, path):
    monkeypatch.setattr(get_settings(), "public_url", "https://status.example.com")
    monkeypatch.setattr(web, "_script_hashes", lambda: ("'sha256-abc='",))

    async def scenario():
        async with client_from("10.1.1.1") as c:
            return await c.get(BASE + path, headers={"Host": "status.example.com"})

    r = run(scenario())
    assert r.headers["x-frame-options"] == "DENY"
    csp = r.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self' 'sha256-abc='" in csp
    assert "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
    assert r.headers["strict-transport-security"] == web.HSTS
    console = path.strip("/").startswith("admin")
    assert (r.headers["cache-control"] == "no-store") if console else ("cache-control" not in r.headers)
    assert r.headers["referrer-policy"] == ("same-origin" if console else "strict-origin-when-cross-origin")


def test_no_hsts_over_plain_http(db, monkeypatch):
    monkeypatch.setattr(get_settings(), "public_url", "http://localhost:3000")

    async def scenario():
        async with client_from("10.1.1.1") as c:
            return await c.get("/readyz")

    assert "strict-transport-security" not in run(scenario()).headers


def test_root_of_an_unknown_host_is_a_plain_404(org, other_org, monkeypatch):
    monkeypatch.setattr(get_settings(), "public_url", "http://status.ourhost.example")
    monkeypatch.setattr(get_settings(), "default_page", "")
    pages.create_page(actor=other_org, name="Theirs", slug="theirs")

    async def scenario():
        async with client_from("10.1.1.1") as c:
            return (await c.get("/", headers={"Host": "unknown.example.net"}),
                    await c.get("/", headers={"Host": "status.ourhost.example"}))

    unknown, ours = run(scenario())
    assert unknown.status_code == 404 and 'id="not-found"' in unknown.text
    assert 'id="not-found"' not in ours.text  # passed on to the app (which serves the page)


# --------------------------------------------------------------------------- live sockets


def test_socket_cap_per_address(monkeypatch):
    monkeypatch.setattr(get_settings(), "max_sockets_per_ip", 3)
    monkeypatch.setattr(get_settings(), "trusted_proxies", "10.0.0.1")

    async def scenario():
        release = asyncio.Event()
        served: list[str] = []

        async def app(scope, receive, send):
            served.append(scope["client"][0])
            await release.wait()

        limit = web.SocketLimit(app)

        async def connect(peer: str, forwarded: str = ""):
            sent: list[dict] = []
            headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded else []
            scope = {"type": "websocket", "path": "/_event/", "client": (peer, 1), "headers": headers}

            async def receive():
                return {"type": "websocket.connect"}

            async def send(message):
                sent.append(message)

            task = asyncio.ensure_future(limit(scope, receive, send))
            await asyncio.sleep(0.01)
            return task, sent

        same = [await connect("203.0.113.9") for _ in range(4)]
        other = await connect("198.51.100.7")
        via_proxy = [await connect("10.0.0.1", "192.0.2.5") for _ in range(2)]
        refused = [sent for task, sent in same if task.done()]
        open_count = dict(limit.open)
        release.set()
        await asyncio.gather(*(t for t, _ in same + [other] + via_proxy))
        after = dict(limit.open)
        return refused, open_count, after, served

    refused, open_count, after, served = run(scenario())
    assert refused == [[{"type": "websocket.close", "code": 1008}]]
    assert open_count == {"203.0.113.9": 3, "198.51.100.7": 1, "192.0.2.5": 2}
    assert after == {} and len(served) == 6


@pytest.mark.parametrize("origin, host, allowed", [
    (None, "a.example", True),
    ("https://status.example.com", "127.0.0.1:3000", True),  # the public URL
    ("https://status.customer.com", "status.customer.com", True),  # the page's own host (custom domain)
    ("https://evil.example", "status.example.com", False),
    ("null", "status.example.com", False),
])
def test_live_socket_origins(monkeypatch, origin, host, allowed):
    monkeypatch.setattr(get_settings(), "public_url", "https://status.example.com")
    assert access.websocket_origin_allowed(origin, {"HTTP_HOST": host}) is allowed


# --------------------------------------------------------------------------- what held up: kept under test


@pytest.mark.parametrize("public_url, secure", [(BASE, False), ("https://status.example.com", True)])
def test_session_cookie_flags(admin, monkeypatch, public_url, secure):
    monkeypatch.setattr(get_settings(), "public_url", public_url)

    async def scenario():
        async with client_from("10.1.1.1") as c:
            return await sign_in(c, PASSWORD)

    cookie = run(scenario()).headers.get_list("set-cookie")[0]
    assert cookie.startswith("statusapp_session=")
    flags = {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "path", "samesite", "max-age"} <= flags
    assert "samesite=lax" in cookie.lower() and "path=/;" in cookie.lower() + ";"
    assert ("secure" in flags) is secure


def test_a_session_cookie_planted_before_sign_in_is_never_adopted(admin):
    async def scenario():
        async with client_from("10.1.1.1") as c:
            return await sign_in(c, PASSWORD, headers={"Cookie": "statusapp_session=attacker-chosen"})

    r = run(scenario())
    assert r.cookies["statusapp_session"] != "attacker-chosen"
    assert auth.session_user("attacker-chosen") is None


def test_logout_ends_the_session_on_the_server_and_refuses_other_sites(admin):
    token, _ = auth.login(email="admin@example.com", password=PASSWORD)

    async def scenario():
        async with client_from("10.1.1.1") as c:
            cross = await c.post("/auth/logout", headers={"Origin": "https://evil.example",
                                                          "Cookie": f"statusapp_session={token}"})
            still = auth.session_user(token) is not None
            out = await c.post("/auth/logout", headers={"Cookie": f"statusapp_session={token}"})
            return cross, still, out

    cross, still, out = run(scenario())
    assert cross.status_code == 403 and still
    assert out.status_code == 303 and out.headers["location"] == "/admin/login"
    assert 'statusapp_session=""' in out.headers["set-cookie"]
    assert auth.session_user(token) is None


def test_an_unknown_email_costs_the_same_argon2_work_as_a_known_one(admin, monkeypatch):
    verified = []

    class CountingHasher:
        def __init__(self, real):
            self.real = real

        def verify(self, hash_, password):
            verified.append(hash_.split("$")[3])  # the parameters used: the same for both
            return self.real.verify(hash_, password)

    monkeypatch.setattr(auth, "password_hasher", CountingHasher(auth.password_hasher))
    for email in ("admin@example.com", "nobody@example.com"):
        with pytest.raises(auth.AuthError):
            auth.login(email=email, password="wrong password!", client_ip="10.2.2.2")
    assert len(verified) == 2 and verified[0] == verified[1]


def test_a_mistyped_trusted_proxy_stops_the_app():
    from pydantic import ValidationError

    from statusapp.settings import Settings

    with pytest.raises(ValidationError, match="'proxy.local' is not an IP address or network"):
        Settings(trusted_proxies="10.0.0.1, proxy.local")


@pytest.mark.parametrize("peer, forwarded, expected", [
    ("127.0.0.1", "203.0.113.7", "203.0.113.7"),
    ("127.0.0.1", "6.6.6.6, 203.0.113.7", "203.0.113.7"),  # the client wrote 6.6.6.6 itself
    ("127.0.0.1", "203.0.113.7, 10.1.2.3", "203.0.113.7"),  # through two trusted hops
    ("198.51.100.1", "203.0.113.7", "198.51.100.1"),  # not from a proxy: the header is ignored
    ("127.0.0.1", "[2001:db8::7]:443", "2001:db8::7"),
    ("127.0.0.1", "not-an-ip, 10.1.2.3", "10.1.2.3"),
    ("127.0.0.1", "", "127.0.0.1"),
])
def test_client_address_walks_trusted_hops_from_the_right(peer, forwarded, expected):
    assert access.client_address(peer, forwarded, "127.0.0.1, 10.0.0.0/8") == expected
    assert access.client_address(peer, forwarded, "") == peer
