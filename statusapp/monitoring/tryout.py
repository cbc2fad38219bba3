""""Test now": run a monitor's check once from form fields, before saving; nothing is written."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Mapping

from statusapp.domain import Actor
from statusapp.domain.monitor_spec import CheckKind, clean_monitor_spec
from statusapp.domain.validation import Errors
from statusapp.monitoring.checker import run_check
from statusapp.monitoring.checks import CheckClients
from statusapp.settings import get_settings


@dataclasses.dataclass
class TryoutResult:
    ok: bool = False
    reason: str = ""
    latency_ms: float | None = None
    status_code: int | None = None
    degraded: bool = False


def try_monitor(*, actor: Actor, data: Mapping[str, object]) -> TryoutResult:
    """Validate the fields like saving would (ValidationError by field) and run the check once
    under the same outbound rules as the checker. Blocking: call it from a worker thread."""
    errors = Errors()
    spec = clean_monitor_spec(errors, data)
    errors.raise_if_any()
    assert spec is not None
    if spec.kind is CheckKind.push:
        return TryoutResult(False, "A push monitor has nothing to test: it is up while its URL is called.")
    result = asyncio.run(_once(spec))
    latency = None if result.latency_ms is None else round(result.latency_ms, 1)
    return TryoutResult(result.ok, result.reason, latency, result.status_code, result.degraded)


async def _once(spec):
    clients = CheckClients(allow_private=not get_settings().monitor_public_only, max_concurrent=1)
    try:
        return await run_check(clients, spec)
    finally:
        await clients.aclose()
