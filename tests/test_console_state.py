"""What a client can park in a console tab's server-side state without signing in.

Any websocket client can call any handler by name with any JSON arguments. Every handler of
every console state is called here with megabytes of text, unknown keys and junk ids: what
the state then holds must stay within the fields' domain limits (a few hundred KB at most,
the longest being a postmortem), so a swarm of sockets cannot fill the server's memory.
"""

from __future__ import annotations

import asyncio
import inspect
import itertools

import pytest

import importlib

import statusapp.statusapp  # noqa: F401  (registers every page and state)
from statusapp.ui.admin.incident_detail import IncidentDetailAdmin
from statusapp.ui.admin.incidents import IncidentsAdmin
from statusapp.ui.admin.pages import PagesAdmin

HUGE = "x" * 1_000_000
JUNK = [HUGE, {"k" * 1000: HUGE}, [HUGE] * 3, 10**30, "1" * 5000, None]
STATES = ["state.AdminState", "dashboard.DashboardAdmin", "services.ServicesAdmin", "incidents.IncidentsAdmin",
          "incident_detail.IncidentDetailAdmin", "pages.PagesAdmin", "account.AccountAdmin"]
# The longest field (a postmortem, domain.validation.POSTMORTEM_MAX) and some room for the rest.
MOST_A_TAB_MAY_HOLD = 100_000 + 10_000


def _state_class(name: str):
    module, cls = name.split(".")
    return getattr(importlib.import_module(f"statusapp.ui.admin.{module}"), cls)


def _size(value) -> int:
    """Characters of text (and entries) a value holds, recursively."""
    if isinstance(value, str):
        return len(value)
    if isinstance(value, dict):
        return sum(_size(k) + _size(v) + 1 for k, v in value.items())
    if isinstance(value, (list, tuple, set)):
        return sum(_size(v) + 1 for v in value)
    return 1


def _held(state) -> int:
    return sum(_size(getattr(state, name)) for name in state.base_vars)


def _handlers(state_cls):
    own = {name: h for name, h in state_cls.event_handlers.items() if name not in ("setvar",)}
    return sorted(own.items())


def _call(state, handler, args):
    result = handler.fn(state, *args)
    if inspect.iscoroutine(result):
        result = asyncio.run(result)
    return result


@pytest.mark.parametrize("state_name", STATES)
def test_no_handler_lets_a_signed_out_client_park_data(state_name):
    state_cls = _state_class(state_name)
    state = state_cls()
    for name, handler in _handlers(state_cls):
        params = [p for p in inspect.signature(handler.fn).parameters.values()][1:]
        for args in itertools.product(JUNK, repeat=len(params)) if len(params) <= 2 else [[HUGE] * len(params)]:
            try:
                _call(state, handler, list(args))
            except (TypeError, AttributeError, ValueError, KeyError):
                pass  # refused by Python itself: nothing stored
        assert _held(state) <= MOST_A_TAB_MAY_HOLD, f"{state_cls.__name__}.{name} keeps {_held(state)} characters"


def test_setters_cap_at_the_domain_limits():
    from statusapp.domain.validation import NAME_MAX, POSTMORTEM_MAX, TITLE_MAX
    from statusapp.ui.admin.pages import FIELD_LIMITS

    pages = PagesAdmin()
    PagesAdmin.set_field.fn(pages, "name", HUGE)
    PagesAdmin.set_field.fn(pages, "not_a_field", "x")
    PagesAdmin.set_field.fn(pages, {"a": 1}, "x")
    assert len(pages.form["name"]) == NAME_MAX and set(pages.form) == set(FIELD_LIMITS)
    incidents = IncidentsAdmin()
    IncidentsAdmin.set_title.fn(incidents, HUGE)
    IncidentsAdmin.set_impact.fn(incidents, "catastrophic")
    IncidentsAdmin.pick_status.fn(incidents, HUGE)
    IncidentsAdmin.choose.fn(incidents, "123", "major_outage")  # not one of this organization's services
    assert (len(incidents.title), incidents.impact, incidents.status, incidents.choices) == (
        TITLE_MAX, "minor", "investigating", {})
    detail = IncidentDetailAdmin()
    IncidentDetailAdmin.set_postmortem.fn(detail, HUGE)
    assert len(detail.postmortem) == POSTMORTEM_MAX
