"""The email channel through the real `resend` SDK against a real loopback fake of Resend's API."""

from __future__ import annotations

import asyncio
import pathlib
import re
import time

import pytest
import resend

from statusapp.notify.channels.base import DeliveryError, Recipient
from statusapp.notify.channels.email import EmailChannel
from tests.notify.factories import HOSTILE_TITLE, incident_notice, recipients
from tests.support.fake_resend import FakeResend


@pytest.fixture
def fake():
    with FakeResend() as server:
        yield server


@pytest.fixture(autouse=True)
def _restore_resend_globals():
    saved = (resend.api_key, resend.api_url, resend.default_http_client)
    yield
    resend.api_key, resend.api_url, resend.default_http_client = saved


def channel(fake: FakeResend, **kw) -> EmailChannel:
    kw.setdefault("timeout_s", 2.0)
    return EmailChannel(api_key="re_test_key", sender="status@acme.test", api_url=fake.url, **kw)


def send(ch: EmailChannel, notice=None, rcpts=None, key="batch-1"):
    return asyncio.run(ch.send(notice or incident_notice(), rcpts or recipients(100), idempotency_key=key))


def test_batch_of_100_through_the_sdk(fake):
    result = send(channel(fake, unsubscribe_mailto="unsubscribe@acme.test"))
    assert fake.batch_calls == 1 and len(fake.emails) == 100
    assert result.rejected == {} and len(result.ids) == 100 and all(result.ids)
    assert [e["id"] for e in fake.emails] == result.ids
    (call,) = fake.calls
    assert call.path == "/emails/batch" and call.idempotency_key == "batch-1"
    assert call.batch_validation == "permissive" and call.authorization == "Bearer re_test_key"
    for i, email in enumerate(fake.emails):
        assert email["to"] == [f"user{i}@example.com"]
        assert email["from"] == '"Acme Status" <status@acme.test>'
        assert email["subject"] == "[Acme Status] Incident update: API errors"
        assert f"https://status.acme.test/unsubscribe?t=tok{i}" in email["text"]
        assert f'href="https://status.acme.test/unsubscribe?t=tok{i}"' in email["html"]
        assert email["headers"] == {
            "List-Unsubscribe": f"<https://status.acme.test/unsubscribe?t=tok{i}>, "
                                "<mailto:unsubscribe@acme.test?subject=unsubscribe>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        }


def test_same_idempotency_key_is_deduplicated(fake):
    ch = channel(fake)
    first = send(ch, key="k-dup")
    again = send(ch, key="k-dup")
    assert again.ids == first.ids
    assert fake.batch_calls == 1 and fake.replays == 1 and len(fake.emails) == 100


def test_http_unsubscribe_url_gets_no_one_click_header(fake):
    r = [Recipient("a@example.com", manage_url="http://localhost:3000/m", unsubscribe_url="http://localhost:3000/u")]
    send(channel(fake), rcpts=r)
    assert fake.emails[0]["headers"] == {"List-Unsubscribe": "<http://localhost:3000/u>"}


def test_500_is_retryable_and_the_retry_with_the_same_key_succeeds(fake):
    ch = channel(fake)
    fake.fail_next(500)
    with pytest.raises(DeliveryError) as err:
        send(ch, key="k-500")
    assert err.value.retryable and err.value.status_code == 500
    assert fake.batch_calls == 0 and fake.emails == []
    assert len(send(ch, key="k-500").ids) == 100 and fake.batch_calls == 1


def test_429_is_retryable_with_retry_after(fake):
    fake.rate_limit_next(retry_after=7)
    with pytest.raises(DeliveryError) as err:
        send(channel(fake))
    assert err.value.retryable and err.value.retry_after == 7.0 and err.value.status_code == 429
    assert "rate_limit_exceeded" in err.value.reason


def test_422_is_permanent(fake):
    fake.fail_next(422, message="The `to` field is invalid.")
    with pytest.raises(DeliveryError) as err:
        send(channel(fake))
    assert not err.value.retryable and err.value.status_code == 422
    assert "The `to` field is invalid." in err.value.reason


def test_reusing_a_key_with_another_body_is_permanent(fake):
    ch = channel(fake)
    send(ch, key="k-409")
    with pytest.raises(DeliveryError) as err:
        send(ch, rcpts=recipients(3), key="k-409")
    assert not err.value.retryable and err.value.status_code == 409


def test_rejected_api_key_is_retried_late(fake):
    fake.fail_next(403, message="API key is invalid")
    with pytest.raises(DeliveryError) as err:
        send(channel(fake))
    assert err.value.retryable and err.value.retry_after == 300


def test_a_hanging_server_times_out_within_bound(fake):
    fake.hang_next()
    t0 = time.monotonic()
    with pytest.raises(DeliveryError) as err:
        send(channel(fake, timeout_s=0.5))
    assert time.monotonic() - t0 < 3.0
    assert err.value.retryable and "could not reach Resend" in err.value.reason


def test_unreachable_server_is_retryable():
    with FakeResend() as gone:
        url = gone.url
    ch = EmailChannel(api_key="re_x", sender="s@acme.test", api_url=url, timeout_s=1)
    with pytest.raises(DeliveryError) as err:
        send(ch)
    assert err.value.retryable


def test_bad_recipients_are_rejected_per_recipient(fake):
    rs = recipients(4)
    rs[1] = Recipient("not-an-address", manage_url=rs[1].manage_url, unsubscribe_url=rs[1].unsubscribe_url)
    rs[2] = Recipient("c@example.com", manage_url=rs[2].manage_url, unsubscribe_url="javascript:alert(1)")
    result = send(channel(fake), rcpts=rs)
    assert set(result.rejected) == {1, 2}
    assert result.ids[0] and result.ids[3] and result.ids[1] is None
    assert [e["to"] for e in fake.emails] == [["user0@example.com"], ["user3@example.com"]]


def test_server_side_validation_errors_map_to_recipients(fake):
    ch = channel(fake)
    emails, _, _ = ch.build_emails(incident_notice(), recipients(3))
    del emails[1]["subject"]
    ids, errors = ch.send_batch(emails, idempotency_key="k-perm")
    assert set(errors) == {1} and ids[0] and ids[2] and ids[1] is None


def test_hostile_title_is_escaped_in_the_sent_html(fake):
    send(channel(fake), notice=incident_notice(title=HOSTILE_TITLE), rcpts=recipients(1))
    html = fake.emails[0]["html"]
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_resend_api_url_environment_variable_is_honoured(fake, monkeypatch):
    monkeypatch.setenv("RESEND_API_URL", fake.url)
    ch = EmailChannel(api_key="re_env", sender="s@acme.test", timeout_s=2)
    assert ch.api_url == resend.api_url == fake.url
    send(ch, rcpts=recipients(2))
    assert fake.batch_calls == 1


def test_too_many_recipients_is_a_caller_error(fake):
    with pytest.raises(ValueError):
        send(channel(fake), rcpts=recipients(101))


def test_only_the_email_module_imports_resend():
    root = pathlib.Path(__file__).resolve().parents[2] / "statusapp"
    importers = sorted(str(p.relative_to(root)) for p in root.rglob("*.py")
                       if re.search(r"^\s*(import resend|from resend)", p.read_text(), re.MULTILINE))
    assert importers == ["notify/channels/email.py"]
