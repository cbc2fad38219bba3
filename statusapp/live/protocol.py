"""Everything this app knows about Reflex's socket protocol, in one place.

A Reflex client receives `event` messages of the shape `{"delta": {state: {field: value}},
"events": [...]}` on the `/_event` namespace. The live push builds those messages itself
(one precomputed delta for a whole room) instead of touching each visitor's state, so it must
spell the state's full name and the field key (`<var>` + Reflex's FIELD_MARKER) exactly as
Reflex does. Tests and benchmarks import these helpers instead of spelling the key.
"""

from __future__ import annotations

from typing import Any

from reflex_base.constants.state import FIELD_MARKER

EMIT_EVENT = "event"  # the socket.io event name Reflex's client listens to


def field_key(var_name: str) -> str:
    """The key of a state var inside a delta (`view` -> `view_rx_state_`)."""
    return var_name + FIELD_MARKER


def delta_update(state_name: str, var_name: str, value: Any) -> dict:
    """A message that sets one var of one state on every socket that receives it."""
    return {"delta": {state_name: {field_key(var_name): value}}, "events": []}


def delta_value(update: dict, state_name: str, var_name: str) -> Any:
    """The value a `delta_update` message carries (for tests and benchmarks)."""
    return update["delta"][state_name][field_key(var_name)]


def server_event(handler_full_name: str) -> dict:
    """A message that makes the client call back `handler_full_name` (e.g. the console refresh)."""
    return {"delta": {}, "events": [{"name": handler_full_name, "payload": {}, "router_data": {}}]}
