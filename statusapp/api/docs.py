"""The API's OpenAPI document (`/api/openapi.json`) and its Swagger UI (`/api/docs`).

The document covers only the API's own routes (admin v1, public v2, badges, feeds, embeds),
not the app's other HTTP routes. The Swagger UI page loads its script and style from the
jsDelivr CDN (FastAPI's default), so reading the docs needs a browser with internet access;
the JSON document itself is served by the app.
"""

from __future__ import annotations

import functools
from typing import Any

from fastapi import APIRouter
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.routing import APIRoute

from statusapp import routes

DESCRIPTION = """\
**Admin API** (`/api/v1`): send an API key (console → API keys, or `statusapp api-key create`)
as `Authorization: Bearer <key>`. Errors are JSON `{"error", "message", "errors": [{"field", "reason"}]}`:
401 without a valid key, 404 for ids outside your organization, 409 for a taken slug, 422 for bad
input, 429 with `Retry-After` past the per-key rate limit. Maintenance times are ISO 8601 with a
UTC offset (answers are in UTC).

**Public API** (no key): Statuspage-compatible documents under `<page url>/api/v2/`, badges and feeds.
"""

router = APIRouter(include_in_schema=False)
_documented: list[APIRoute] = []


def document(*api_routers: APIRouter) -> None:
    """Include these routers' routes in the OpenAPI document."""
    for r in api_routers:
        _documented.extend(route for route in r.routes if isinstance(route, APIRoute) and route.include_in_schema)
    openapi_schema.cache_clear()


@functools.cache
def openapi_schema() -> dict[str, Any]:
    return get_openapi(title="statusapp API", version="1", description=DESCRIPTION, routes=_documented)


@router.get(routes.API_OPENAPI)
async def openapi_json() -> JSONResponse:
    return JSONResponse(openapi_schema())


@router.get(routes.API_DOCS)
async def swagger_ui() -> HTMLResponse:
    return get_swagger_ui_html(openapi_url=routes.API_OPENAPI, title="statusapp API")
