"""Input checks shared by every operation; each failure names its field."""

from __future__ import annotations

import enum
import re
from typing import Any, TypeVar
from zoneinfo import available_timezones

from statusapp.domain.errors import ValidationError

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
COLOR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")
DOMAIN_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")

E = TypeVar("E", bound=enum.Enum)
# Ids are INTEGER columns: anything outside this range cannot name a row (and would make
# PostgreSQL fail instead of answering "unknown").
# Row ids are INTEGER columns: no row has a larger id, and PostgreSQL refuses to compare or
# store a larger one, so a bigger number from a client is simply not an id.
MAX_ID = 2**31 - 1
# Text may hold tabs and line breaks, not other control characters: they break the XML of
# feeds and badges, and PostgreSQL refuses NUL outright.
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

# The longest value each kind of field keeps. Forms cap what they hold at these same numbers,
# so a client can never park more in its server-side state than an operation would accept.
NAME_MAX = 200
SLUG_MAX = 100
DESCRIPTION_MAX = 2000  # services and groups
PAGE_DESCRIPTION_MAX = 5000
URL_MAX = 1000
DOMAIN_MAX = 253
COLOR_MAX = 7  # "#rrggbb"
TIME_ZONE_MAX = 64
TITLE_MAX = 300  # incidents
MESSAGE_MAX = 20_000  # incident updates
POSTMORTEM_MAX = 100_000
EMAIL_MAX = 320
PASSWORD_MAX = 1024  # longer is refused before hashing: argon2's cost grows with the input

# Database ids are signed 64-bit integers (PostgreSQL bigint, SQLite INTEGER).
_ID_RE = re.compile(r"^[0-9]{1,19}$")


class _Unset:
    """The default of an optional keyword argument the caller did not pass (None can be a value)."""

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()


class Errors:
    """Collects every field error of one input, so a form shows them all at once."""

    def __init__(self) -> None:
        self.errors: dict[str, str] = {}
        self.conflicts: set[str] = set()

    def add(self, field: str, message: str) -> None:
        self.errors.setdefault(field, message)

    def conflict(self, field: str, message: str) -> None:
        """The value is well-formed but already used (a taken slug or domain)."""
        if field not in self.errors:
            self.errors[field] = message
            self.conflicts.add(field)

    def raise_if_any(self) -> None:
        if self.errors:
            raise ValidationError(self.errors, frozenset(self.conflicts))


def _storable(text: str) -> str | None:
    """Why `text` cannot be stored as is (None when it can)."""
    if _CONTROL_RE.search(text):
        return "Control characters are not allowed."
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "Invalid characters (lone surrogates) are not allowed."
    return None


def parse_id(value: object) -> int | None:
    """An id from a client (a path segment, a form value, a handler argument), or None.

    Only a positive integer up to MAX_ID (the INTEGER columns' range, well inside the 2**63
    the attack review asked for), as an int or a string of ASCII digits, is an id: anything
    else ("abc", "1e3", "²", -1, 10**30, True, a list) is None, which every caller treats as
    "not found". Parsing costs the same whatever the client sends.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and _ID_RE.match(value):
        number = int(value)
    else:
        return None
    return number if 1 <= number <= MAX_ID else None


def clean_id(errors: Errors, field: str, value: object, *, what: str = "id") -> int | None:
    """`parse_id` for form input: a field error when the value is not an id."""
    number = parse_id(value)
    if number is None:
        errors.add(field, f"Unknown {what}.")
    return number


def bounded_text(value: object, max_len: int) -> str:
    """A client's text as a string of at most `max_len` characters (anything else is "")."""
    return value[:max_len] if isinstance(value, str) else ""


def clean_text(errors: Errors, field: str, value: object, *, max_len: int, required: bool = False) -> str:
    text = "" if value is None else str(value).strip()
    problem = _storable(text)
    if problem:
        errors.add(field, problem)
    elif required and not text:
        errors.add(field, "This field is required.")
    elif len(text) > max_len:
        errors.add(field, f"At most {max_len} characters.")
    return text


def clean_slug(errors: Errors, field: str, value: object) -> str:
    slug = "" if value is None else str(value).strip()
    if not slug:
        errors.add(field, "A slug is required.")
    elif len(slug) > SLUG_MAX:
        errors.add(field, f"At most {SLUG_MAX} characters.")
    elif not SLUG_RE.match(slug):
        errors.add(field, "Use lowercase letters, digits and single dashes (e.g. 'api-eu').")
    return slug


def shown(value: object) -> str:
    """User input quoted in an error message: short, and printable whatever it holds."""
    text = str(value)
    return repr(text[:40] + ("…" if len(text) > 40 else ""))


def clean_enum(errors: Errors, field: str, value: object, enum_cls: type[E]) -> E | None:
    try:
        return enum_cls(value)
    except (ValueError, TypeError):
        allowed = ", ".join(m.value for m in enum_cls)
        errors.add(field, f"{shown(value)} is not one of: {allowed}.")
        return None


def clean_color(errors: Errors, field: str, value: object, *, allow_empty: bool = False) -> str:
    text = "" if value is None else str(value).strip()
    if allow_empty and not text:
        return ""
    if not COLOR_RE.match(text):
        errors.add(field, "Use a colour like #2563eb.")
    return text.lower()


def clean_url(errors: Errors, field: str, value: object) -> str:
    text = "" if value is None else str(value).strip()
    if _storable(text) or any(c.isspace() for c in text):
        errors.add(field, "Use an http(s):// URL or a path starting with /, without spaces or control characters.")
    elif text and not (text.startswith("https://") or text.startswith("http://") or text.startswith("/")):
        errors.add(field, "Use an http(s):// URL or a path starting with /.")
    elif len(text) > URL_MAX:
        errors.add(field, f"At most {URL_MAX} characters.")
    return text


def clean_domain(errors: Errors, field: str, value: object) -> str | None:
    text = "" if value is None else str(value).strip().lower()
    if not text:
        return None
    if len(text) > DOMAIN_MAX or not DOMAIN_RE.match(text):
        errors.add(field, "Use a host name like status.example.com.")
    return text


_TIMEZONES: set[str] | None = None


def clean_timezone(errors: Errors, field: str, value: object) -> str:
    global _TIMEZONES
    if _TIMEZONES is None:
        _TIMEZONES = available_timezones() | {"UTC"}
    text = "UTC" if not value else str(value).strip()
    if text not in _TIMEZONES:
        if _storable(text):
            errors.add(field, "Unknown time zone (use e.g. Europe/Paris).")
            return "UTC"
        errors.add(field, f"Unknown time zone {shown(text[:TIME_ZONE_MAX])} (use e.g. Europe/Paris).")
    return text
