"""Live pages: after-commit push of rebuilt page views to open pages and consoles (see hub.py)."""

from statusapp.live.hub import UNCHANGED, LiveHub, ViewTarget, admin_room, build_org_update, hub, page_room

__all__ = ["UNCHANGED", "LiveHub", "ViewTarget", "admin_room", "build_org_update", "hub", "page_room"]
