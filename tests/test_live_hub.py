"""LiveHub fan-out: one emit per room per worker, and across workers through Redis."""

from __future__ import annotations

import asyncio
import os

import pytest

from statusapp.domain import Actor
from statusapp.domain import incidents
from statusapp.live import LiveHub, ViewTarget, build_org_update, page_room
from statusapp.live.protocol import delta_value
from statusapp.settings import get_settings
from tests.support.aio import run

REDIS_URL = os.environ.get("STATUSAPP_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


class RecordingNamespace:
    """Stands in for Reflex's socket.io namespace: records what would be sent to which room."""

    def __init__(self) -> None:
        self.emits: list[tuple[str, dict, str]] = []
        self.rooms: dict[str, set[str]] = {}

    async def emit(self, event, data, room=None, to=None, **_):
        self.emits.append((event, data, room or to))

    async def enter_room(self, sid, room):
        self.rooms.setdefault(room, set()).add(sid)

    async def leave_room(self, sid, room):
        self.rooms.get(room, set()).discard(sid)


PAGE_STATE = "state.public_page_state"
TARGET = ViewTarget(state_name=PAGE_STATE, var_name="view")


def _hub(namespace) -> LiveHub:
    hub = LiveHub()
    hub.configure(targets=[TARGET], admin_event="state.admin_state.refresh")
    hub.rooms.namespace = namespace
    return hub


def pushed_view(emit) -> dict:
    """The page view a recorded emit carries."""
    return delta_value(emit[1], PAGE_STATE, "view")


def _demo(org: Actor) -> int:
    from statusapp.demo import load_demo
    from statusapp.db import session_scope
    from statusapp.models import StatusPage
    from sqlmodel import select

    load_demo(org.organization_id, lively=False)
    with session_scope() as s:
        return s.exec(select(StatusPage)).one().id


def test_one_emit_per_page_room_and_none_when_nothing_changed(db, org):
    page_id = _demo(org)
    ns = RecordingNamespace()
    hub = _hub(ns)

    async def scenario():
        await hub.apply([build_org_update(org.organization_id)])
        first = [e for e in ns.emits if e[2] == page_room(page_id)]
        assert len(first) == 1
        assert pushed_view(first[0])["indicator"] == "none"
        await hub.apply([build_org_update(org.organization_id)])  # same view again
        assert len([e for e in ns.emits if e[2] == page_room(page_id)]) == 1
        incidents.create_incident(actor=org, title="Down", impact="critical", message="m", services={})
        await hub.apply([build_org_update(org.organization_id)])
        pushed = [e for e in ns.emits if e[2] == page_room(page_id)]
        assert len(pushed) == 2
        assert pushed_view(pushed[-1])["indicator"] == "critical"
        assert hub.cached_view(page_id)["indicator"] == "critical"
        admin = [e for e in ns.emits if e[2] == f"admin-{org.organization_id}"]
        assert admin and admin[-1][1]["events"][0]["name"] == "state.admin_state.refresh"

    run(scenario())


def test_private_page_is_pushed_as_not_found(db, org):
    from statusapp.domain import pages

    page_id = _demo(org)
    ns = RecordingNamespace()
    hub = _hub(ns)
    pages.update_page(actor=org, page_id=page_id, is_public=False)
    run(hub.apply([build_org_update(org.organization_id)]))
    (emit,) = [e for e in ns.emits if e[2] == page_room(page_id)]
    assert pushed_view(emit)["found"] is False
    assert pushed_view(emit)["name"] == ""


def _redis_available() -> bool:
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
        return True
    except Exception:
        return False


@pytest.mark.skipif(not _redis_available(), reason=f"Redis not reachable at {REDIS_URL}")
def test_change_committed_in_one_worker_reaches_every_worker_through_redis(db, org, monkeypatch):
    """Two hubs = two workers. A change committed next to worker A reaches worker B's sockets."""
    page_id = _demo(org)
    monkeypatch.setattr(get_settings(), "redis_url", REDIS_URL)
    # The channel is derived from the (per-test, unique) database URL: parallel runs sharing
    # this Redis never see each other's pages.

    class FakeApp:
        def __init__(self, ns):
            self.event_namespace = ns

    ns_a, ns_b = RecordingNamespace(), RecordingNamespace()
    hub_a, hub_b = _hub(ns_a), _hub(ns_b)

    async def scenario():
        async with hub_a.lifespan(FakeApp(ns_a)), hub_b.lifespan(FakeApp(ns_b)):
            assert hub_a.bus.channel == hub_b.bus.channel and hub_a.bus.redis is not None
            await asyncio.to_thread(
                incidents.create_incident, actor=org, title="Redis test", impact="major", message="m", services={}
            )
            for _ in range(100):  # bounded: 5 s
                if any(e[2] == page_room(page_id) for e in ns_b.emits) and any(
                    e[2] == page_room(page_id) for e in ns_a.emits
                ):
                    break
                await asyncio.sleep(0.05)
        for ns in (ns_a, ns_b):
            pushed = [e for e in ns.emits if e[2] == page_room(page_id)]
            assert pushed, "a worker never emitted the change to its sockets"
            assert pushed_view(pushed[-1])["incidents"][0]["title"] == "Redis test"

    run(scenario())


def test_renamed_page_stops_answering_to_its_old_slug(db, org):
    from statusapp.domain import pages

    page_id = _demo(org)
    hub = _hub(RecordingNamespace())

    async def scenario():
        assert await hub.load_page(slug="demo", host=None) == page_id
        await asyncio.to_thread(pages.update_page, actor=org, page_id=page_id, slug="renamed")
        await hub.apply([build_org_update(org.organization_id)])
        assert await hub.load_page(slug="demo", host=None) is None
        assert await hub.load_page(slug="renamed", host=None) == page_id

    run(scenario())


def test_recent_joiner_gets_the_newest_view_again_after_a_push(db, org):
    """Guards the race where a visitor's own (older) load delta lands after a push."""
    page_id = _demo(org)
    ns = RecordingNamespace()
    hub = _hub(ns)

    async def scenario():
        await hub.load_page(slug="demo", host=None)
        await hub.join_view("sid-new", TARGET, page_id)
        await asyncio.to_thread(
            incidents.create_incident, actor=org, title="Race", impact="minor", message="m", services={}
        )
        await hub.apply([build_org_update(org.organization_id)])
        await hub.settled()

    run(scenario())
    room_pushes = [e for e in ns.emits if e[2] == page_room(page_id)]
    assert len(room_pushes) == 1
    # The follow-up was sent to that socket alone, with the newest view.
    followups = [e for e in ns.emits if e[2] == "sid-new"]
    assert len(followups) == 1
    assert pushed_view(followups[0])["incidents"][0]["title"] == "Race"


def test_root_page_follows_the_custom_domain_of_the_host(db, org, monkeypatch):
    from statusapp.domain import pages
    from statusapp.domain.domains import record_name, record_value, verify_custom_domain
    from tests.support.dns_server import DnsServer

    monkeypatch.setattr(get_settings(), "public_url", "http://localhost:3000")
    monkeypatch.setattr(get_settings(), "default_page", "")
    demo_id = _demo(org)
    other = pages.create_page(actor=org, name="Other", slug="other", custom_domain="status.example.com")
    with DnsServer() as dns:
        monkeypatch.setattr(get_settings(), "dns_servers", dns.address)
        from statusapp.db import session_scope
        from statusapp.models import StatusPage

        with session_scope() as s:
            token = s.get(StatusPage, other.id).domain_token
        dns.records[record_name("status.example.com")] = [record_value(token)]
        assert verify_custom_domain(actor=org, page_id=other.id).verified
    hub = _hub(RecordingNamespace())

    async def scenario():
        assert await hub.load_page(slug=None, host="status.example.com:443") == other.id
        assert await hub.load_page(slug=None, host="localhost:3000") == demo_id  # our own host: first public page
        assert await hub.load_page(slug=None, host="unknown.example.net") is None  # never another's page

    run(scenario())


def test_outbox_watcher_pushes_only_what_no_listener_pushed(db, org):
    """A change committed by another process (CLI, separate checker) reaches pages through the
    outbox; one this process already pushed is not pushed again."""
    from statusapp.domain import add_listener, remove_listener

    page_id = _demo(org)
    ns = RecordingNamespace()
    hub = _hub(ns)

    async def scenario():
        hub.loop = asyncio.get_running_loop()
        await hub.outbox.start_from_now()  # start after the demo's rows
        # "Another process": no listener registered while it commits.
        await asyncio.to_thread(incidents.create_incident, actor=org, title="From CLI", impact="minor", message="m")
        await hub.outbox.check()
        await hub.settled()
        assert len([e for e in ns.emits if e[2] == page_room(page_id)]) == 1
        # This process: the listener pushes at once, the watcher then stays quiet.
        add_listener(hub.on_change)
        try:
            await asyncio.to_thread(incidents.create_incident, actor=org, title="Here", impact="major", message="m")
            # The listener queued mark_dirty on this loop before the thread's result: it has run.
            await hub.settled()
            admin_pushes = len([e for e in ns.emits if e[2] == f"admin-{org.organization_id}"])
            await hub.outbox.check()
            assert hub.refresher.idle
            assert len([e for e in ns.emits if e[2] == f"admin-{org.organization_id}"]) == admin_pushes
        finally:
            remove_listener(hub.on_change)
        assert len([e for e in ns.emits if e[2] == page_room(page_id)]) == 2

    run(scenario())


def test_an_older_view_never_replaces_a_newer_one(db, org):
    """Issue 13: two workers rebuild after their own commits; the older view can arrive last."""
    from statusapp.domain import services
    from statusapp.models import Service
    from statusapp.db import session_scope
    from sqlmodel import select

    page_id = _demo(org)
    ns = RecordingNamespace()
    hub = _hub(ns)
    with session_scope() as s:
        api_id = s.exec(select(Service).where(Service.slug == "api")).one().id
    services.set_manual_status(actor=org, service_id=api_id, status="partial_outage")
    older = build_org_update(org.organization_id)
    services.set_manual_status(actor=org, service_id=api_id, status="major_outage")
    newer = build_org_update(org.organization_id)
    assert newer["version"] == older["version"] + 1

    async def scenario():
        await hub.apply([newer])
        await hub.apply([older])  # arrives late: ignored

    run(scenario())
    assert hub.cached_view(page_id)["indicator"] == "critical"
    pushed = [pushed_view(e)["indicator"] for e in ns.emits if e[2] == page_room(page_id)]
    assert pushed == ["critical"]


def test_a_deleted_page_is_pushed_as_not_found(db, org):
    from statusapp.domain import pages

    page_id = _demo(org)
    ns = RecordingNamespace()
    hub = _hub(ns)

    async def scenario():
        assert await hub.load_page(slug="demo", host=None) == page_id
        await asyncio.to_thread(pages.delete_page, actor=org, page_id=page_id)
        await hub.apply([build_org_update(org.organization_id)])
        assert await hub.load_page(slug="demo", host=None) is None

    run(scenario())
    (emit,) = [e for e in ns.emits if e[2] == page_room(page_id)]
    assert pushed_view(emit)["found"] is False


def test_a_signalled_change_from_another_process_is_rebuilt_for_this_workers_sockets(db, org):
    """The jobs worker's commits reach open pages through the change signal, not the 2 s poll."""
    page_id = _demo(org)
    ns = RecordingNamespace()
    hub = _hub(ns)

    async def scenario():
        hub.loop = asyncio.get_running_loop()
        await hub.outbox.start_from_now()
        inc = await asyncio.to_thread(incidents.create_incident, actor=org, title="From the worker",
                                      impact="major", message="m")
        from statusapp.live.outbox import max_event_id

        event_id = await asyncio.to_thread(max_event_id)
        hub.on_signal(org.organization_id, [event_id])
        await hub.settled()
        pushed = [e for e in ns.emits if e[2] == page_room(page_id)]
        assert len(pushed) == 1 and pushed_view(pushed[0])["incidents"][0]["title"] == "From the worker"
        hub.on_signal(org.organization_id, [event_id])  # already pushed: nothing more
        await hub.settled()
        assert len([e for e in ns.emits if e[2] == page_room(page_id)]) == 1
        return inc

    run(scenario())


def test_the_host_map_stays_bounded_whatever_hosts_clients_send():
    from statusapp.live.cache import MAX_REMEMBERED_HOSTS, PageCache

    cache = PageCache()
    for i in range(MAX_REMEMBERED_HOSTS * 3):
        cache.remember_host(f"made-up-{i}.example", 1)
    assert len(cache._host_to_id) <= MAX_REMEMBERED_HOSTS


def test_a_monitor_verdict_reaches_open_pages_with_todays_bar_only(db, org):
    """The checker's confirmed verdict is pushed like any change; the push carries today's bar
    and the percentage per service, never the 89 finished days (those go once per visit)."""
    import datetime as dt
    import json

    from sqlmodel import select

    from statusapp.db import session_scope
    from statusapp.domain import add_listener, monitoring, remove_listener
    from statusapp.domain.monitoring import CheckOutcome
    from statusapp.models import Service, utcnow

    page_id = _demo(org)
    ns = RecordingNamespace()
    hub = _hub(ns)
    with session_scope() as s:
        api_id = s.exec(select(Service).where(Service.slug == "api")).one().id
    mon = monitoring.set_monitor(actor=org, service_id=api_id, data={
        "kind": "http", "url": "https://api.example.com/", "failures_to_confirm": "1"}).monitor

    async def scenario():
        hub.loop = asyncio.get_running_loop()
        add_listener(hub.on_change)
        try:
            await hub.load_page(slug="demo", host=None)
            await asyncio.to_thread(monitoring.record_check_results, [
                CheckOutcome(mon.id, utcnow() - dt.timedelta(seconds=1), False, "connection refused")])
            await hub.settled()
        finally:
            remove_listener(hub.on_change)

    run(scenario())
    pushes = [e for e in ns.emits if e[2] == page_room(page_id)]
    assert pushes, "the verdict was not pushed"
    view = pushed_view(pushes[-1])
    svc = next(s for g in view["groups"] for s in g["services"] if s["id"] == api_id)
    assert svc["status"] == "major_outage" and svc["today_level"] in ("minor", "major", "critical")
    assert svc["uptime"] is not None  # 90 days of history: one failed second barely moves it
    assert "is not responding" in view["incidents"][0]["title"]
    size = len(json.dumps(pushes[-1][1]))
    assert size < 20_000, f"a push of {size} bytes for 6 services: more than today's bars"


def test_a_target_pushes_only_when_its_projection_changed(db, org):
    """The finished-day bars ride along only when they change (a service added to the page),
    never with a plain status change: one target, its own projection, UNCHANGED sends nothing."""
    from statusapp.domain import pages, services
    from statusapp.live import UNCHANGED
    from statusapp.live.protocol import field_key

    page_id = _demo(org)
    ns = RecordingNamespace()
    hub = LiveHub()
    last: dict[int, int] = {}

    def service_count(view):
        n = sum(len(g["services"]) for g in view["groups"])
        if last.get(view["id"]) == n:
            return UNCHANGED
        last[view["id"]] = n
        return n

    counts = ViewTarget(state_name=PAGE_STATE, var_name="service_count", project=service_count)
    hub.configure(targets=[counts, TARGET], admin_event="state.admin_state.refresh")
    hub.rooms.namespace = ns

    def pushed(var):
        key = field_key(var)
        return [e[1]["delta"][PAGE_STATE][key] for e in ns.emits
                if e[2] == page_room(page_id) and key in e[1].get("delta", {}).get(PAGE_STATE, {})]

    async def scenario():
        await hub.apply([build_org_update(org.organization_id)])
        before = pushed("service_count")
        assert len(before) == 1 and len(pushed("view")) == 1
        incidents.create_incident(actor=org, title="Down", impact="critical", message="m", services={})
        await hub.apply([build_org_update(org.organization_id)])
        assert len(pushed("view")) == 2 and pushed("service_count") == before  # nothing new to send
        svc = services.create_service(actor=org, name="New one", slug="new-one")
        pages.update_page(actor=org, page_id=page_id, service_ids=[*_page_service_ids(page_id), svc.id])
        await hub.apply([build_org_update(org.organization_id)])
        assert pushed("service_count") == [before[0], before[0] + 1]

    run(scenario())


def _page_service_ids(page_id: int) -> list[int]:
    from sqlmodel import select

    from statusapp.db import session_scope
    from statusapp.models import StatusPageService

    with session_scope() as s:
        return [r.service_id for r in s.exec(select(StatusPageService).where(StatusPageService.page_id == page_id)
                                             .order_by(StatusPageService.position))]
