"""OpenAPI-driven fuzzing (schemathesis) of every documented endpoint, in process (ASGI).

Every operation of /api/openapi.json (admin v1 with a valid key, public v2, badges, feeds) gets
generated valid and invalid inputs; no answer may be a 5xx, and every documented success must
match its response schema. Bounded: a few dozen examples per operation and mode, derandomized
so a failure reproduces. For a deeper local run: STATUSAPP_FUZZ_EXAMPLES=500 STATUSAPP_FUZZ_RANDOM=1.
"""

from __future__ import annotations

import os

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from statusapp.settings import get_settings
from statusapp.web import api
from tests.api.conftest import bearer

EXAMPLES = int(os.environ.get("STATUSAPP_FUZZ_EXAMPLES", "20"))
RANDOM = os.environ.get("STATUSAPP_FUZZ_RANDOM") == "1"


def can_be_invalid(operation) -> bool:
    """Whether any input of the operation has a wrong form (a body, a number, a choice); a
    plain string parameter (a slug) cannot be invalid, so negative generation finds nothing."""
    raw = operation.definition.raw
    params = raw.get("parameters", [])
    constrained = [p for p in params if p.get("schema", {}).get("type") != "string" or "enum" in p.get("schema", {})]
    return "requestBody" in raw or bool(constrained)


def test_no_input_makes_any_endpoint_fail(db, org, key, acme, other_org, monkeypatch):
    monkeypatch.setattr(get_settings(), "api_rate_per_minute", 10**9)
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", api)
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    for operation in operations:
        writes = operation.method.upper() != "GET"
        modes = [GenerationMode.POSITIVE] + ([GenerationMode.NEGATIVE] if can_be_invalid(operation) else [])
        for mode in modes:

            @settings(max_examples=EXAMPLES if writes else max(5, EXAMPLES // 2), deadline=None, database=None,
                      derandomize=not RANDOM, suppress_health_check=list(HealthCheck),
                      phases=[Phase.explicit, Phase.generate, Phase.shrink])
            @given(case=operation.as_strategy(generation_mode=mode, headers=bearer(key)))
            def fuzz(case):
                case.call_and_validate(checks=[not_a_server_error, response_schema_conformance])

            try:
                fuzz()
            except Unsatisfiable:
                assert mode is GenerationMode.NEGATIVE, operation.label  # nothing can be invalid (no body, any slug)
            except Exception as exc:  # noqa: BLE001 - collected, reported together below
                failures.append(f"{operation.label} ({mode.value}): {exc}"[:3000])
    assert not failures, "\n\n".join(failures)
