"""The browser-side time formatter every page uses (ui/format.py), run in Chromium."""

from __future__ import annotations

import pytest

from statusapp.ui.format import _FORMAT_TIME_JS

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
def test_times_are_shown_in_the_page_zone_with_its_name(browser, iso, tz, text):
    page = browser.new_page()
    try:
        assert page.evaluate(f"{_FORMAT_TIME_JS}({iso!r}, {tz!r})") == text
    finally:
        page.close()
