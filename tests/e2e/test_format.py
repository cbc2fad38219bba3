"""The browser-side time formatting every page uses (ui/format.py), run in Chromium."""

from __future__ import annotations

import pytest

from statusapp.ui.format import _FORMAT_TIME_JS, _RELATIVE_TIME_JS

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize(
    ("iso", "tz", "text"),
    [
        ("2024-01-15T12:30:00+00:00", "Europe/Paris", "Jan 15, 2024 13:30 CET"),
        ("2024-07-15T12:30:00+00:00", "Europe/Paris", "Jul 15, 2024 14:30 CEST"),
        ("2024-01-15T12:30:00+00:00", "America/New_York", "Jan 15, 2024 07:30 EST"),
        ("2024-01-15T00:05:00+00:00", "UTC", "Jan 15, 2024 00:05 UTC"),
        ("2024-01-15T12:30:00+00:00", "Not/AZone", "Jan 15, 2024 12:30 UTC"),
        ("", "UTC", ""),
    ],
)
def test_a_time_in_a_given_zone_names_the_zone(browser, iso, tz, text):
    page = browser.new_page()
    try:
        assert page.evaluate(f"{_FORMAT_TIME_JS}({iso!r}, 'UTC', {tz!r})") == text
    finally:
        page.close()


@pytest.mark.parametrize(
    ("zone", "text"),
    [("Asia/Tokyo", "Jan 15, 2024 21:30 GMT+9"), ("America/Los_Angeles", "Jan 15, 2024 04:30 PST"),
     ("Europe/Berlin", "Jan 15, 2024 13:30 CET")],
)
def test_times_are_shown_in_the_visitors_own_zone(browser, zone, text):
    """The page's zone is only the fallback: a browser in Tokyo reads Tokyo time."""
    ctx = browser.new_context(timezone_id=zone)
    try:
        page = ctx.new_page()
        assert page.evaluate(f"{_FORMAT_TIME_JS}('2024-01-15T12:30:00+00:00', 'Europe/Paris', '')") == text
    finally:
        ctx.close()


@pytest.mark.parametrize(
    ("offset_s", "text"),
    [(-5, "just now"), (-12 * 60, "12 minutes ago"), (-3 * 3600, "3 hours ago"), (-86400 - 60, "yesterday"),
     (2 * 3600, "in 2 hours")],
)
def test_relative_times(browser, offset_s, text):
    page = browser.new_page()
    try:
        js = f"(() => {{ const now = Date.now(); return {_RELATIVE_TIME_JS}(new Date(now + {offset_s * 1000}).toISOString(), now); }})()"
        assert page.evaluate(js) == text
    finally:
        page.close()
