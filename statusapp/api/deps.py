"""What every admin REST route shares: the API key check, the rate limit, and errors as JSON.

`ApiRoute` (the route class of the v1 router) runs before FastAPI reads the body: a request
without a live key gets 401 whatever else is wrong with it, then the key's bucket is charged
(429 with Retry-After when empty), then the body size is capped (413). Around the endpoint it
turns every refusal into JSON with the field and the reason, so no input yields a 500:

    401 {"error": "unauthorized", "message": ...}
    404 {"error": "not_found", "message": ...}          (also for another organization's ids)
    409 {"error": "conflict", "message": ..., "errors": [{"field", "reason"}]}   (taken slug/domain)
    413 {"error": "too_large", ...}    422 {"error": "invalid", "message": ..., "errors": [...]}
    429 {"error": "rate_limited", ...} with Retry-After

Routes read their caller as `actor: ApiActor` (the FastAPI template's typed-dependency style).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from statusapp import access
from statusapp.api.ratelimit import TokenBuckets, retry_after
from statusapp.domain import Actor, DomainError, NotFound, ValidationError
from statusapp.settings import get_settings

MAX_BODY_BYTES = 256 * 1024

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="api_key",
    description="An API key, created in the console (API keys) or with `statusapp api-key create`.",
)
buckets = TokenBuckets(lambda: get_settings().api_rate_per_minute)


def error(status: int, code: str, message: str, errors: list[dict[str, str]] | None = None,
          headers: dict[str, str] | None = None) -> JSONResponse:
    body: dict[str, Any] = {"error": code, "message": message}
    if errors is not None:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, headers=headers)


def _field_of(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc[1:]] if loc and loc[0] in ("body", "query", "path", "header") else [str(p) for p in loc]
    return ".".join(parts) or "body"


def request_errors(exc: RequestValidationError) -> list[dict[str, str]]:
    out = []
    for err in exc.errors():
        loc = tuple(err.get("loc", ()))
        # pydantic puts the member type of a union in the location ("services.0.id.int"): drop it
        out.append({"field": _field_of(loc), "reason": str(err.get("msg", "Invalid value."))})
    return out


def domain_errors(exc: ValidationError) -> JSONResponse:
    errors = [{"field": f, "reason": m} for f, m in exc.errors.items()]
    if exc.conflicts and exc.conflicts == set(exc.errors):
        return error(409, "conflict", "Already in use.", errors)
    return error(422, "invalid", "Invalid input.", errors)


async def _body_too_large(request: Request) -> bool:
    """Cap what a request may make the server read (the body is cached for FastAPI)."""
    length = request.headers.get("content-length")
    if length is not None:
        return not length.isdigit() or int(length) > MAX_BODY_BYTES
    if request.method in ("POST", "PUT", "PATCH"):
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY_BYTES:
                return True
        request._body = body  # what request.body() returns from now on
    return False


class ApiRoute(APIRoute):
    def get_route_handler(self) -> Callable:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            actor = await asyncio.to_thread(access.api_key_actor, request.headers.get("authorization"))
            if actor is None:
                return error(401, "unauthorized", "Send a valid API key as 'Authorization: Bearer <key>'.",
                             headers={"WWW-Authenticate": "Bearer"})
            wait = buckets.take(actor.api_key_id or 0)
            if wait:
                return error(429, "rate_limited", "Too many requests for this API key; retry later.",
                             headers={"Retry-After": retry_after(wait)})
            if await _body_too_large(request):
                return error(413, "too_large", f"The body may hold at most {MAX_BODY_BYTES} bytes.")
            request.state.api_actor = actor
            try:
                return await handler(request)
            except RequestValidationError as exc:
                return error(422, "invalid", "Invalid input.", request_errors(exc))
            except ValidationError as exc:
                return domain_errors(exc)
            except NotFound as exc:
                return error(404, "not_found", str(exc).capitalize() + ".")
            except DomainError as exc:
                return error(422, "invalid", str(exc))

        return guarded


async def _api_actor(request: Request, _credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> Actor:
    """The caller ApiRoute resolved (declared through HTTPBearer so OpenAPI shows the scheme)."""
    return request.state.api_actor


ApiActor = Annotated[Actor, Depends(_api_actor)]
