"""Fault injection: whatever Resend or the sender does, every subscriber gets the email exactly
once, asserted on what the fake Resend server accepted. The fake keeps Resend's idempotency
rule (same key + same body: the first answer is replayed, nothing is sent again)."""

from __future__ import annotations

import asyncio
import collections
import json
import os
import signal
import subprocess
import sys
import time

import pytest
import resend

from statusapp.domain import incidents
from statusapp.jobs.notifications import RateLimiter, Sender
from statusapp.notify.channels.email import EmailChannel
from statusapp.settings import PROJECT_ROOT, get_settings
from tests.notifications.helpers import deliveries, fast_config, import_confirmed, make_page, run_sender
from tests.support.fake_resend import FakeResend

N = 300


@pytest.fixture
def fake():
    saved = (resend.api_key, resend.api_url, resend.default_http_client)
    with FakeResend(keep_bodies=False) as server:
        yield server
    resend.api_key, resend.api_url, resend.default_http_client = saved


@pytest.fixture
def fan_out(org):
    """N confirmed subscribers and one incident waiting to be sent."""
    page, svc = make_page(org)
    import_confirmed(org, page.id, [f"user{i}@example.com" for i in range(N)])
    incidents.create_incident(actor=org, title="Outage", impact="major", message="Down.",
                              services={svc["api"].id: "major_outage"})
    return page


def sender_for(fake: FakeResend, *, timeout_s: float = 2.0, **kw) -> Sender:
    channel = EmailChannel(api_key="re_test", sender="status@example.com", api_url=fake.url, timeout_s=timeout_s)
    return Sender(email=channel, config=fast_config(**kw))


def assert_exactly_once(fake: FakeResend) -> None:
    got = collections.Counter(e["to"][0] for e in fake.emails)
    twice = [a for a, n in got.items() if n > 1]
    assert not twice, f"sent more than once: {twice[:5]}"
    assert sorted(got) == sorted(f"user{i}@example.com" for i in range(N)), f"{N - len(got)} never sent"
    rows = deliveries()
    assert len(rows) == N and {r.status for r in rows} == {"sent"}


def run_until_sent(make_sender, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while {d.status for d in deliveries()} != {"sent"}:
        assert time.monotonic() < deadline, collections.Counter(d.status for d in deliveries())
        run_sender(make_sender())
        time.sleep(0.05)


def test_500s_are_retried_under_the_same_key(fan_out, fake):
    fake.fail_next(500, times=3)
    run_until_sent(lambda: sender_for(fake, email_concurrency=1))
    assert_exactly_once(fake)
    failed_keys = [c.idempotency_key for c in fake.calls if c.status == 500]
    accepted_keys = [c.idempotency_key for c in fake.calls if c.status == 200]
    assert len(failed_keys) == 3 and set(failed_keys) <= set(accepted_keys)


def test_429_pauses_email_for_retry_after_then_resumes(fan_out, fake, monkeypatch):
    original = fake.handle
    times: list[tuple[float, str | None]] = []

    def timed(path, headers, body):
        times.append((time.monotonic(), headers.get("Idempotency-Key")))
        return original(path, headers, body)

    monkeypatch.setattr(fake, "handle", timed)
    fake.rate_limit_next(retry_after=1.0)
    sender = sender_for(fake, email_concurrency=1)
    run_until_sent(lambda: sender)
    assert_exactly_once(fake)
    limited = next(i for i, c in enumerate(fake.calls) if c.status == 429)
    # Nothing went to Resend during the pause, and the limited batch went again under its key.
    assert times[limited + 1][0] - times[limited][0] >= 0.95
    assert fake.calls[limited].idempotency_key in [c.idempotency_key for c in fake.calls[limited + 1:]]


def test_the_rate_limit_is_respected():
    async def measure():
        limiter = RateLimiter(10)
        t0 = time.monotonic()
        for _ in range(11):
            await limiter.acquire()
        return time.monotonic() - t0
    assert 0.95 <= asyncio.run(measure()) < 2


def test_a_hanging_server_times_out_and_the_batch_is_retried(fan_out, fake):
    fake.hang_next()
    run_until_sent(lambda: sender_for(fake, timeout_s=0.5, email_concurrency=2))
    assert_exactly_once(fake)
    assert fake.replays == 0


def test_an_answer_lost_after_resend_accepted_is_deduplicated_by_the_key(fan_out, fake, monkeypatch):
    """The worst case for "exactly once": Resend sends the batch but the answer never arrives.
    The retry carries the same key and the same body, so Resend replays instead of sending."""
    original = fake.handle
    lost = []

    def accept_then_hang(path, headers, body):
        answer = original(path, headers, body)
        if not lost:
            lost.append(headers.get("Idempotency-Key"))
            time.sleep(1.5)  # past the client's timeout: the answer is lost
        return answer

    monkeypatch.setattr(fake, "handle", accept_then_hang)
    run_until_sent(lambda: sender_for(fake, timeout_s=0.5, email_concurrency=1))
    assert_exactly_once(fake)
    assert fake.replays == 1 and lost[0] in [c.idempotency_key for c in fake.calls]


def test_sender_cancelled_mid_fan_out_and_restarted(fan_out, fake, monkeypatch):
    """The sender's task is cancelled while batches are in flight (a leader stopping); a new
    sender takes the claims over when their lease runs out."""
    original = fake.handle

    def slow(path, headers, body):
        time.sleep(0.15)
        return original(path, headers, body)

    monkeypatch.setattr(fake, "handle", slow)

    async def first_sender():
        sender = sender_for(fake, email_concurrency=2, email_batch=20, lease_seconds=1.0)
        task = asyncio.create_task(sender.run_once())
        while fake.batch_calls < 3:
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(asyncio.wait_for(first_sender(), 30))
    time.sleep(0.3)  # the threads of the cancelled calls finish: Resend accepted them
    in_flight = [d for d in deliveries() if d.status == "sending"]
    assert in_flight, "the cancel should land mid fan-out"
    run_until_sent(lambda: sender_for(fake, email_concurrency=2, email_batch=20, lease_seconds=1.0))
    assert_exactly_once(fake)


def test_sender_process_killed_mid_fan_out_and_restarted(fan_out, fake, db, monkeypatch):
    """SIGKILL: no cleanup at all. The next sender finds the claims, waits out their lease and
    resends those batches under the same keys."""
    original = fake.handle

    def slow(path, headers, body):
        time.sleep(0.1)
        return original(path, headers, body)

    monkeypatch.setattr(fake, "handle", slow)
    code = (
        "import asyncio, sys\n"
        "from statusapp.jobs.notifications import Sender, SenderConfig\n"
        "from statusapp.notify.channels.email import EmailChannel\n"
        "ch = EmailChannel(api_key='re_test', sender='status@example.com', api_url=sys.argv[1], timeout_s=5)\n"
        "s = Sender(email=ch, config=SenderConfig(lease_seconds=1.5, email_concurrency=3, email_batch=20))\n"
        "asyncio.run(s.run_once())\n"
    )
    env = dict(os.environ, STATUSAPP_DATABASE_URL=db, STATUSAPP_DATA_DIR=str(get_settings().data_dir),
               STATUSAPP_PUBLIC_URL=get_settings().public_url, STATUSAPP_EMAIL_FROM=get_settings().email_from)
    proc = subprocess.Popen([sys.executable, "-c", code, fake.url], env=env, cwd=PROJECT_ROOT)
    try:
        deadline = time.monotonic() + 60
        while fake.batch_calls < 4:
            assert proc.poll() is None, "the sender finished before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.005)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(10)
    assert [d for d in deliveries() if d.status == "sending"], "the kill should land mid fan-out"
    run_until_sent(lambda: sender_for(fake, email_concurrency=3, email_batch=20, lease_seconds=1.5))
    assert_exactly_once(fake)


def test_two_senders_at_once_send_everything_once(fan_out, fake):
    """Leadership can overlap for a moment: two senders draining together split the work."""
    async def both():
        a = sender_for(fake, email_concurrency=2, email_batch=10)
        b = sender_for(fake, email_concurrency=2, email_batch=10)
        await asyncio.gather(a.run_once(), b.run_once())

    asyncio.run(asyncio.wait_for(both(), 60))
    run_until_sent(lambda: sender_for(fake))
    assert_exactly_once(fake)
    assert fake.replays == 0


def test_the_batch_key_is_derived_from_its_rows(fan_out, fake):
    """Same rows, same key: what a resend after a crash relies on. The body is identical too."""
    run_sender(sender_for(fake, email_batch=100))
    first = {c.idempotency_key for c in fake.calls}
    from statusapp.domain.deliveries import batch_key
    from statusapp.models import Notification
    from tests.notifications.helpers import fresh

    with fresh() as s:
        note = s.get(Notification, deliveries()[0].notification_id)
    rows = deliveries()
    expected = {batch_key(note, [r.id for r in rows[i:i + 100]]) for i in range(0, N, 100)}
    assert first == expected == {r.batch_key for r in rows}
    assert json.dumps(sorted(first))  # printable, under Resend's 256 characters
    assert all(len(k) <= 64 for k in first)


def test_a_retry_resend_refuses_as_a_reused_key_counts_as_sent(fan_out, fake, monkeypatch):
    """If a retried batch differs from the accepted first attempt (say the sender address was
    changed in between), Resend answers 409 invalid_idempotent_request instead of replaying.
    Only an accepted attempt of this very batch can have used its key: the rows are sent."""
    original = fake.handle
    lost = []

    def accept_then_hang_then_refuse(path, headers, body):
        key = headers.get("Idempotency-Key")
        if key in lost:
            return 409, {}, json.dumps({"statusCode": 409, "name": "invalid_idempotent_request",
                                        "message": "Same idempotency key used with a different request payload."}).encode()
        answer = original(path, headers, body)
        if not lost:
            lost.append(key)
            time.sleep(1.5)  # past the client's timeout: the answer is lost
        return answer

    monkeypatch.setattr(fake, "handle", accept_then_hang_then_refuse)
    run_until_sent(lambda: sender_for(fake, timeout_s=0.5, email_concurrency=1))
    assert_exactly_once(fake)
    notes = {d.last_error for d in deliveries() if d.batch_key == lost[0]}
    assert notes == {"accepted by an earlier attempt"}
