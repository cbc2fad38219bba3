"""A monitor's check config as plain dataclasses, and the validators that build them from input.

Validators take form or API values (strings from a form, or typed JSON), add one error per
field to an `Errors` under the form/API field name, and return cleaned values. Nothing here does
I/O: whether a target is reachable, or allowed by the outbound guard, is known only at check time.
"""

from __future__ import annotations

import dataclasses
import enum
import ipaddress
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import httpx

from statusapp.domain.validation import Errors
from statusapp.enums import ServiceStatus


class CheckKind(str, enum.Enum):
    http = "http"
    tcp = "tcp"
    push = "push"  # heartbeat: the monitored job calls us; checked elsewhere


METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
FAILURE_STATUSES = (
    ServiceStatus.major_outage,
    ServiceStatus.partial_outage,
    ServiceStatus.degraded_performance,
)

# (lowest, highest) per kind; push heartbeats may come from a daily job.
INTERVAL_BOUNDS = {CheckKind.http: (10, 3600), CheckKind.tcp: (10, 3600), CheckKind.push: (10, 86400)}
DEFAULT_INTERVAL = 60
TIMEOUT_BOUNDS = (1.0, 60.0)
DEFAULT_TIMEOUT = 5.0
MAX_URL = 2000
MAX_HEADERS = 20
MAX_HEADER_NAME = 100
MAX_HEADER_VALUE = 1000
MAX_KEYWORD = 200
MAX_STATUS_ITEMS = 20

StatusRanges = tuple[tuple[int, int], ...]
DEFAULT_STATUSES: StatusRanges = ((200, 299),)

_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")  # RFC 9110 field name
_VALUE = re.compile(r"^[\t\x20-\x7e]*$")  # visible ASCII, space and tab: no CR, LF or controls
# Headers that change how the request is framed or routed: set by the client, never by a user.
_FORBIDDEN_HEADERS = {"content-length", "transfer-encoding", "connection", "keep-alive", "upgrade", "te", "trailer"}
_HOST_LABEL = re.compile(r"^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$")


@dataclass
class HttpCheck:
    url: str
    method: str = "GET"
    expected_statuses: StatusRanges = DEFAULT_STATUSES
    timeout_seconds: float = DEFAULT_TIMEOUT
    headers: dict[str, str] = field(default_factory=dict)
    keyword: str | None = None  # searched case-sensitively in the first 1 MiB of the body
    keyword_must_be_absent: bool = False
    degraded_above_ms: int | None = None  # slower than this: up but degraded
    ignore_tls_errors: bool = False  # self-signed, expired, wrong host: all accepted


@dataclass
class TcpCheck:
    host: str
    port: int
    timeout_seconds: float = DEFAULT_TIMEOUT
    degraded_above_ms: int | None = None


@dataclass
class PushCheck:
    grace_seconds: int = 60  # how late a heartbeat may be past the interval


@dataclass
class Thresholds:
    failures_to_confirm: int = 2  # consecutive failed checks before the service goes down
    successes_to_recover: int = 1  # consecutive good checks before it is back up
    failure_status: ServiceStatus = ServiceStatus.major_outage


@dataclass
class MonitorSpec:
    kind: CheckKind
    interval_seconds: int
    check: HttpCheck | TcpCheck | PushCheck
    thresholds: Thresholds = field(default_factory=Thresholds)


# --------------------------------------------------------------------------- primitives


def clean_number(
    errors: Errors, name: str, value: object, *, default: float | None, lo: float, hi: float, integer: bool = True
) -> float | None:
    """A number within [lo, hi]; blank gives `default` (None default: the field is optional)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return default
    number: float
    if isinstance(value, bool):
        number = math.nan
    elif isinstance(value, (int, float)):
        number = float(value)
    else:
        try:
            number = float(str(value).strip())
        except ValueError:
            number = math.nan
    if not math.isfinite(number) or (integer and number != int(number)):
        errors.add(name, "Enter a whole number." if integer else "Enter a number.")
        return default
    if not lo <= number <= hi:
        errors.add(name, f"Between {lo:g} and {hi:g}.")
        return default
    return int(number) if integer else number


def clean_bool(errors: Errors, name: str, value: object) -> bool:
    if value is None or isinstance(value, bool):
        return bool(value)
    text = str(value).strip().lower()
    if text in ("", "0", "false", "off", "no"):
        return False
    if text in ("1", "true", "on", "yes"):
        return True
    errors.add(name, "Use true or false.")
    return False


def parse_status_ranges(text: str) -> StatusRanges:
    """ "200-299, 301, 418" -> ((200, 299), (301, 301), (418, 418)); ValueError says what's wrong."""
    items = [item for item in re.split(r"[,\s]+", text.strip()) if item]
    if not items:
        raise ValueError("Give at least one status code, e.g. 200-299.")
    if len(items) > MAX_STATUS_ITEMS:
        raise ValueError(f"At most {MAX_STATUS_ITEMS} codes or ranges.")
    ranges = []
    for item in items:
        match = re.fullmatch(r"(\d{3})(?:-(\d{3}))?", item)
        if not match:
            raise ValueError(f"'{item[:20]}' is not a status code or a range like 200-299.")
        lo, hi = int(match[1]), int(match[2] or match[1])
        if not (100 <= lo <= 599 and 100 <= hi <= 599):
            raise ValueError(f"'{item}': status codes are between 100 and 599.")
        if lo > hi:
            raise ValueError(f"'{item}': the range starts after it ends.")
        ranges.append((lo, hi))
    return tuple(ranges)


def format_status_ranges(ranges: StatusRanges) -> str:
    return ", ".join(str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in ranges)


def status_expected(code: int, ranges: StatusRanges) -> bool:
    return any(lo <= code <= hi for lo, hi in ranges)


def clean_status_ranges(errors: Errors, name: str, value: object) -> StatusRanges:
    if value is None or (isinstance(value, str) and not value.strip()):
        return DEFAULT_STATUSES
    try:
        return parse_status_ranges(str(value))
    except ValueError as exc:
        errors.add(name, str(exc))
        return DEFAULT_STATUSES


def clean_check_url(errors: Errors, name: str, value: object) -> str:
    text = "" if value is None else str(value).strip()
    if not text:
        errors.add(name, "A URL is required.")
        return text
    if len(text) > MAX_URL:
        errors.add(name, f"At most {MAX_URL} characters.")
        return text
    try:
        url = httpx.URL(text)
    except (httpx.InvalidURL, ValueError):
        errors.add(name, "This is not a valid URL.")
        return text
    if url.scheme not in ("http", "https"):
        errors.add(name, "Use an http:// or https:// URL.")
    elif not url.host:
        errors.add(name, "The URL needs a host, e.g. https://example.com/health.")
    elif any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in text):
        errors.add(name, "The URL must not contain spaces or control characters.")
    return text


def clean_headers(errors: Errors, name: str, value: object) -> dict[str, str]:
    """ "Name: value" per line (or a mapping from the API) -> dict; names unique, case-insensitively."""
    if value is None:
        return {}
    if isinstance(value, Mapping):
        pairs = [(str(k), str(v)) for k, v in value.items()]
    else:
        pairs = []
        for number, line in enumerate(str(value).split("\n"), start=1):
            line = line.removesuffix("\r")
            if not line.strip():
                continue
            if ":" not in line:
                errors.add(name, f"Line {number}: use 'Name: value'.")
                return {}
            key, _, val = line.partition(":")
            pairs.append((key, val))
    if len(pairs) > MAX_HEADERS:
        errors.add(name, f"At most {MAX_HEADERS} headers.")
        return {}
    headers: dict[str, str] = {}
    seen: set[str] = set()
    for key, val in pairs:
        key, val = key.strip(), val.strip(" \t")
        shown = key[:40]
        if not _TOKEN.match(key) or len(key) > MAX_HEADER_NAME:
            errors.add(name, f"'{shown}' is not a valid header name.")
        elif key.lower() in _FORBIDDEN_HEADERS:
            errors.add(name, f"The {key} header is set by the checker and cannot be changed.")
        elif key.lower() in seen:
            errors.add(name, f"The {key} header is given twice.")
        elif not _VALUE.match(val):
            errors.add(name, f"The {shown} header has a line break, control or non-ASCII character.")
        elif len(val) > MAX_HEADER_VALUE:
            errors.add(name, f"The {shown} header is longer than {MAX_HEADER_VALUE} characters.")
        else:
            seen.add(key.lower())
            headers[key] = val
            continue
        return {}
    return headers


def clean_host(errors: Errors, name: str, value: object) -> str:
    """A host name (internal single-label names allowed) or an IP address, without scheme or port."""
    text = "" if value is None else str(value).strip().lower()
    if not text:
        errors.add(name, "A host is required.")
        return text
    if "://" in text or "/" in text:
        errors.add(name, "Give only a host name or IP address, without scheme or path.")
        return text
    literal = text[1:-1] if text.startswith("[") and text.endswith("]") else text
    try:
        return str(ipaddress.ip_address(literal))
    except ValueError:
        pass
    try:
        ascii_host = text.rstrip(".").encode("idna").decode("ascii")
    except UnicodeError:
        ascii_host = ""
    labels = ascii_host.split(".")
    if not ascii_host or len(ascii_host) > 253 or not all(_HOST_LABEL.match(label) for label in labels):
        errors.add(name, "Use a host name like db.internal or an IP address (no port).")
    return text


# --------------------------------------------------------------------------- per kind


def clean_timeout(errors: Errors, data: Mapping[str, object]) -> float:
    lo, hi = TIMEOUT_BOUNDS
    value = clean_number(errors, "timeout_seconds", data.get("timeout_seconds"), default=DEFAULT_TIMEOUT, lo=lo, hi=hi, integer=False)
    return DEFAULT_TIMEOUT if value is None else value


def clean_degraded_above(errors: Errors, data: Mapping[str, object], timeout: float) -> int | None:
    value = clean_number(errors, "degraded_above_ms", data.get("degraded_above_ms"), default=None, lo=1, hi=60_000)
    if value is not None and value >= timeout * 1000:
        errors.add("degraded_above_ms", f"Must be below the timeout ({timeout * 1000:g} ms).")
        return None
    return None if value is None else int(value)


def clean_http_check(errors: Errors, data: Mapping[str, object]) -> HttpCheck:
    method = str(data.get("method") or "GET").strip().upper()
    if method not in METHODS:
        errors.add("method", f"Use one of: {', '.join(METHODS)}.")
    timeout = clean_timeout(errors, data)
    keyword = str(data.get("keyword") or "")
    if not keyword.strip():
        keyword = ""
    elif len(keyword) > MAX_KEYWORD:
        errors.add("keyword", f"At most {MAX_KEYWORD} characters.")
    elif method == "HEAD":
        errors.add("keyword", "A HEAD response has no body to search: use GET.")
    return HttpCheck(
        url=clean_check_url(errors, "url", data.get("url")),
        method=method,
        expected_statuses=clean_status_ranges(errors, "expected_statuses", data.get("expected_statuses")),
        timeout_seconds=timeout,
        headers=clean_headers(errors, "headers", data.get("headers")),
        keyword=keyword or None,
        keyword_must_be_absent=clean_bool(errors, "keyword_must_be_absent", data.get("keyword_must_be_absent")),
        degraded_above_ms=clean_degraded_above(errors, data, timeout),
        ignore_tls_errors=clean_bool(errors, "ignore_tls_errors", data.get("ignore_tls_errors")),
    )


def clean_tcp_check(errors: Errors, data: Mapping[str, object]) -> TcpCheck:
    host = clean_host(errors, "host", data.get("host"))
    port = data.get("port")
    if port is None or (isinstance(port, str) and not port.strip()):
        errors.add("port", "A port is required.")
        port_number = 0
    else:
        port_number = int(clean_number(errors, "port", port, default=0, lo=1, hi=65535) or 0)
    timeout = clean_timeout(errors, data)
    return TcpCheck(host=host, port=port_number, timeout_seconds=timeout, degraded_above_ms=clean_degraded_above(errors, data, timeout))


def clean_push_check(errors: Errors, data: Mapping[str, object]) -> PushCheck:
    grace = clean_number(errors, "grace_seconds", data.get("grace_seconds"), default=60, lo=0, hi=86400)
    return PushCheck(grace_seconds=int(grace if grace is not None else 60))


def clean_thresholds(errors: Errors, data: Mapping[str, object]) -> Thresholds:
    failures = clean_number(errors, "failures_to_confirm", data.get("failures_to_confirm"), default=2, lo=1, hi=10)
    successes = clean_number(errors, "successes_to_recover", data.get("successes_to_recover"), default=1, lo=1, hi=10)
    status = ServiceStatus.major_outage
    raw = data.get("failure_status")
    if raw not in (None, ""):
        try:
            status = ServiceStatus(raw)
        except ValueError:
            status = None  # type: ignore[assignment]
        if status not in FAILURE_STATUSES:
            errors.add("failure_status", f"Use one of: {', '.join(s.value for s in FAILURE_STATUSES)}.")
            status = ServiceStatus.major_outage
    return Thresholds(failures_to_confirm=int(failures or 2), successes_to_recover=int(successes or 1), failure_status=status)


_CLEANERS = {CheckKind.http: clean_http_check, CheckKind.tcp: clean_tcp_check, CheckKind.push: clean_push_check}


def clean_monitor_spec(errors: Errors, data: Mapping[str, object]) -> MonitorSpec | None:
    """The whole spec from flat form/API fields; None when any field of it has an error."""
    mine = Errors()
    spec = _clean_monitor_spec(mine, data)
    for name, message in mine.errors.items():
        errors.add(name, message)
    return None if mine.errors else spec


def _clean_monitor_spec(errors: Errors, data: Mapping[str, object]) -> MonitorSpec | None:
    try:
        kind = CheckKind(data.get("kind") or "http")
    except ValueError:
        errors.add("kind", f"Use one of: {', '.join(k.value for k in CheckKind)}.")
        return None
    lo, hi = INTERVAL_BOUNDS[kind]
    interval = clean_number(errors, "interval_seconds", data.get("interval_seconds"), default=DEFAULT_INTERVAL, lo=lo, hi=hi)
    interval = int(interval or DEFAULT_INTERVAL)
    check = _CLEANERS[kind](errors, data)
    if isinstance(check, (HttpCheck, TcpCheck)) and check.timeout_seconds >= interval and "interval_seconds" not in errors.errors:
        errors.add("timeout_seconds", f"Must be shorter than the interval ({interval} s).")
    return MonitorSpec(kind=kind, interval_seconds=interval, check=check, thresholds=clean_thresholds(errors, data))


# --------------------------------------------------------------------------- storage and forms


def check_to_json(check: HttpCheck | TcpCheck | PushCheck) -> dict[str, object]:
    """The check's fields as stored in `Monitor.check` (JSON)."""
    data = dataclasses.asdict(check)
    if isinstance(check, HttpCheck):
        data["expected_statuses"] = [list(r) for r in check.expected_statuses]
    return data


def check_from_json(kind: CheckKind | str, data: Mapping[str, object]) -> HttpCheck | TcpCheck | PushCheck:
    """Rebuild a stored check (the inverse of `check_to_json`)."""
    kind = CheckKind(kind)
    if kind is CheckKind.http:
        fields = dict(data)
        fields["expected_statuses"] = tuple(tuple(r) for r in fields.get("expected_statuses") or DEFAULT_STATUSES)
        fields["headers"] = dict(fields.get("headers") or {})
        return HttpCheck(**fields)  # type: ignore[arg-type]
    if kind is CheckKind.tcp:
        return TcpCheck(**data)  # type: ignore[arg-type]
    return PushCheck(**data)  # type: ignore[arg-type]


def form_values(spec: MonitorSpec) -> dict[str, str]:
    """The flat form fields (strings) that `clean_monitor_spec` turns back into `spec`."""
    out = {
        "kind": spec.kind.value,
        "interval_seconds": str(spec.interval_seconds),
        "failures_to_confirm": str(spec.thresholds.failures_to_confirm),
        "successes_to_recover": str(spec.thresholds.successes_to_recover),
        "failure_status": spec.thresholds.failure_status.value,
    }
    check = spec.check
    if isinstance(check, HttpCheck):
        out.update(
            url=check.url,
            method=check.method,
            expected_statuses=format_status_ranges(check.expected_statuses),
            headers="\n".join(f"{k}: {v}" for k, v in check.headers.items()),
            keyword=check.keyword or "",
            keyword_must_be_absent="true" if check.keyword_must_be_absent else "",
            ignore_tls_errors="true" if check.ignore_tls_errors else "",
        )
    elif isinstance(check, TcpCheck):
        out.update(host=check.host, port=str(check.port))
    else:
        out.update(grace_seconds=str(check.grace_seconds))
    if isinstance(check, (HttpCheck, TcpCheck)):
        out.update(
            timeout_seconds=f"{check.timeout_seconds:g}",
            degraded_above_ms="" if check.degraded_above_ms is None else str(check.degraded_above_ms),
        )
    return out


def describe_target(kind: CheckKind | str, check: HttpCheck | TcpCheck | PushCheck) -> str:
    """A short line naming what is checked ("GET https://…", "tcp db:5432", "heartbeat")."""
    if isinstance(check, HttpCheck):
        return f"{check.method} {check.url}"
    if isinstance(check, TcpCheck):
        return f"TCP {check.host}:{check.port}"
    return "heartbeat (push)"
