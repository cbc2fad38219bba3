"""Monitor spec validation: each bad field is reported under its form/API name."""

from __future__ import annotations

import pytest

from statusapp.domain.validation import Errors
from statusapp.enums import ServiceStatus
from statusapp.domain.monitor_spec import (
    CheckKind,
    HttpCheck,
    PushCheck,
    TcpCheck,
    clean_headers,
    clean_monitor_spec,
    format_status_ranges,
    parse_status_ranges,
)


def clean(**data):
    errors = Errors()
    spec = clean_monitor_spec(errors, data)
    return spec, errors.errors


def test_http_defaults():
    spec, errors = clean(kind="http", url=" https://example.com/health ")
    assert errors == {}
    assert spec.kind is CheckKind.http and spec.interval_seconds == 60
    assert spec.check == HttpCheck(url="https://example.com/health")
    assert (spec.thresholds.failures_to_confirm, spec.thresholds.successes_to_recover) == (2, 1)
    assert spec.thresholds.failure_status is ServiceStatus.major_outage


def test_http_from_form_strings():
    spec, errors = clean(
        kind="http",
        url="http://10.0.0.5:8080/ready",
        method="options",
        expected_statuses="200-299, 301, 418",
        timeout_seconds="2.5",
        interval_seconds="30",
        headers="Authorization: Bearer abc\r\n\r\nX-Probe:  yes\n",
        keyword="healthy",
        keyword_must_be_absent="on",
        degraded_above_ms="800",
        ignore_tls_errors="true",
        failures_to_confirm="3",
        successes_to_recover="2",
        failure_status="partial_outage",
    )
    assert errors == {}
    check = spec.check
    assert (check.method, check.expected_statuses, check.timeout_seconds) == ("OPTIONS", ((200, 299), (301, 301), (418, 418)), 2.5)
    assert check.headers == {"Authorization": "Bearer abc", "X-Probe": "yes"}
    assert (check.keyword, check.keyword_must_be_absent, check.degraded_above_ms, check.ignore_tls_errors) == ("healthy", True, 800, True)
    assert spec.interval_seconds == 30
    assert (spec.thresholds.failures_to_confirm, spec.thresholds.successes_to_recover) == (3, 2)
    assert spec.thresholds.failure_status is ServiceStatus.partial_outage


def test_tcp_and_push():
    tcp, errors = clean(kind="tcp", host="[::1]", port="5432")
    assert errors == {} and tcp.check == TcpCheck(host="::1", port=5432)
    internal, errors = clean(kind="tcp", host="db", port=6379)
    assert errors == {} and internal.check.host == "db"
    push, errors = clean(kind="push", interval_seconds=86400, grace_seconds=300)
    assert errors == {} and push.check == PushCheck(grace_seconds=300)


@pytest.mark.parametrize(
    "data, field",
    [
        ({"url": "ftp://example.com/"}, "url"),
        ({"url": "javascript:alert(1)"}, "url"),
        ({"url": "http://"}, "url"),
        ({"url": ""}, "url"),
        ({"url": "https://exa mple.com/"}, "url"),
        ({"url": "https://example.com", "method": "TRACE"}, "method"),
        ({"url": "https://example.com", "interval_seconds": 5}, "interval_seconds"),
        ({"url": "https://example.com", "interval_seconds": "4000"}, "interval_seconds"),
        ({"url": "https://example.com", "interval_seconds": "1.5"}, "interval_seconds"),
        ({"url": "https://example.com", "timeout_seconds": "0.5"}, "timeout_seconds"),
        ({"url": "https://example.com", "timeout_seconds": "61"}, "timeout_seconds"),
        ({"url": "https://example.com", "timeout_seconds": 30, "interval_seconds": 20}, "timeout_seconds"),
        ({"url": "https://example.com", "expected_statuses": "ok"}, "expected_statuses"),
        ({"url": "https://example.com", "expected_statuses": "200-299, 600"}, "expected_statuses"),
        ({"url": "https://example.com", "expected_statuses": "99"}, "expected_statuses"),
        ({"url": "https://example.com", "expected_statuses": "300-200"}, "expected_statuses"),
        ({"url": "https://example.com", "headers": "X-A: b\rX-Evil: c"}, "headers"),
        ({"url": "https://example.com", "headers": {"X-A": "b\r\nX-Evil: c"}}, "headers"),
        ({"url": "https://example.com", "headers": "Bad Name: x"}, "headers"),
        ({"url": "https://example.com", "headers": "no colon here"}, "headers"),
        ({"url": "https://example.com", "headers": "Content-Length: 5"}, "headers"),
        ({"url": "https://example.com", "headers": "X-A: 1\nx-a: 2"}, "headers"),
        ({"url": "https://example.com", "headers": "X-A: caf\u00e9"}, "headers"),
        ({"url": "https://example.com", "headers": "\n".join(f"X-{i}: v" for i in range(21))}, "headers"),
        ({"url": "https://example.com", "degraded_above_ms": 5000}, "degraded_above_ms"),
        ({"url": "https://example.com", "keyword": "k" * 201}, "keyword"),
        ({"url": "https://example.com", "keyword": "ok", "method": "HEAD"}, "keyword"),
        ({"url": "https://example.com", "ignore_tls_errors": "maybe"}, "ignore_tls_errors"),
        ({"url": "https://example.com", "failures_to_confirm": 0}, "failures_to_confirm"),
        ({"url": "https://example.com", "successes_to_recover": 11}, "successes_to_recover"),
        ({"url": "https://example.com", "failure_status": "operational"}, "failure_status"),
        ({"kind": "ping"}, "kind"),
        ({"kind": "tcp", "host": "db.internal", "port": 0}, "port"),
        ({"kind": "tcp", "host": "db.internal", "port": "70000"}, "port"),
        ({"kind": "tcp", "host": "db.internal", "port": "http"}, "port"),
        ({"kind": "tcp", "host": "db.internal"}, "port"),
        ({"kind": "tcp", "host": "tcp://db.internal", "port": 5432}, "host"),
        ({"kind": "tcp", "host": "db.internal:5432", "port": 5432}, "host"),
        ({"kind": "tcp", "host": "", "port": 5432}, "host"),
        ({"kind": "push", "grace_seconds": -1}, "grace_seconds"),
    ],
)
def test_field_errors(data, field):
    spec, errors = clean(**{"kind": "http", **data})
    assert spec is None
    assert field in errors, errors


def test_all_errors_reported_at_once():
    _, errors = clean(kind="http", url="ftp://x", interval_seconds=1, headers="X: a\rb", expected_statuses="nope")
    assert set(errors) == {"url", "interval_seconds", "headers", "expected_statuses"}


def test_status_ranges_round_trip():
    ranges = parse_status_ranges(" 200-299,301 418 ")
    assert ranges == ((200, 299), (301, 301), (418, 418))
    assert format_status_ranges(ranges) == "200-299, 301, 418"


def test_header_values_keep_inner_spaces_and_tabs():
    errors = Errors()
    assert clean_headers(errors, "headers", "Cookie: a=1; b=2\tend") == {"Cookie": "a=1; b=2\tend"}
    assert errors.errors == {}
