"""The files under a page's URL (`badge.svg`, `history.atom`, `history.rss`, `maintenance.ics`)
behind one route per page form.

Why one route: every request the app serves through Reflex (pages, assets, the websocket) is
first matched against the routes added before Reflex's, so the API keeps their number small.
A path convertor matches only these file names, so `/status/<slug>/history` (a Reflex page) is
never taken by it.
"""

from __future__ import annotations

import re

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response
from starlette.convertors import Convertor, register_url_convertor

from statusapp import routes
from statusapp.api.badges import serve_page_badge
from statusapp.api.feeds import FEEDS, serve_feed
from statusapp.api.v2 import PlainRoute


class PageFileConvertor(Convertor):
    regex = "|".join(re.escape(name) for name in routes.PAGE_FILES)

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("pagefile", PageFileConvertor())
assert set(routes.PAGE_FILES) == {"badge.svg", *FEEDS}

router = APIRouter(tags=["badges and feeds"], route_class=PlainRoute)
FILE_PARAM = Path(description="badge.svg (overall status), history.atom / history.rss (incidents), "
                              "maintenance.ics (upcoming maintenance)",
                  json_schema_extra={"enum": list(routes.PAGE_FILES)})
RESPONSES = {
    200: {"content": {"image/svg+xml": {}, "application/atom+xml": {}, "application/rss+xml": {}, "text/calendar": {}}},
    304: {"description": "Not modified (ETag)"},
    404: {"description": "No such public page"},
}
_by_slug, _by_host = routes.page_patterns("{name:pagefile}")


async def serve(request: Request, name: str) -> Response:
    return await (serve_page_badge(request) if name == "badge.svg" else serve_feed(request, name))


@router.get(_by_slug, response_class=Response, responses=RESPONSES, summary="A badge or feed of the public page `slug`")
async def page_file(request: Request, slug: str, name: str = FILE_PARAM) -> Response:
    return await serve(request, name)


@router.get(_by_host, response_class=Response, responses=RESPONSES, summary="A badge or feed of the Host's page")
async def host_file(request: Request, name: str = FILE_PARAM) -> Response:
    return await serve(request, name)
