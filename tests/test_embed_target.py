"""The widget's live target: a pushed page view reaches the widgets' room cut down to what they show."""

from __future__ import annotations

from statusapp.domain import incidents
from statusapp.live import build_org_update, page_room
from statusapp.live.protocol import delta_value
from statusapp.ui.public.embed import EMBED_TARGET, embed_projection
from tests.support.aio import run
from tests.test_live_hub import TARGET, RecordingNamespace, _demo, _hub


def test_one_change_is_one_emit_to_the_page_room_and_one_to_the_widget_room(db, org):
    page_id = _demo(org)
    ns = RecordingNamespace()
    hub = _hub(ns)
    hub.configure(targets=[TARGET, EMBED_TARGET], admin_event="state.admin_state.refresh")
    pushed: list[int] = []
    hub.on_page_pushed(lambda pid, _view: pushed.append(pid))
    run(hub.apply([build_org_update(org.organization_id)]))
    inc = incidents.create_incident(actor=org, title="<b>Checkout</b> down", impact="critical", message="m")
    run(hub.apply([build_org_update(org.organization_id)]))
    widget = [e for e in ns.emits if e[2] == EMBED_TARGET.room(page_id)]
    assert len(widget) == 2 and EMBED_TARGET.room(page_id) == f"embed-{page_id}" != page_room(page_id)
    shown = delta_value(widget[-1][1], EMBED_TARGET.state_name, "view")
    assert shown["status_text"] == "Major System Outage" and shown["incident_title"] == "<b>Checkout</b> down"
    assert shown["incident_id"] == inc.id and shown["active_count"] == 1
    assert "groups" not in shown and "recent" not in shown  # cut down
    assert [r["name"] for r in shown["rows"]] == [g["name"] or g["services"][0]["name"]
                                                 for g in hub.cached_view(page_id)["groups"]]
    assert pushed == [page_id, page_id]  # listeners hear every pushed rebuild


def test_projection_of_a_missing_page_shows_nothing():
    assert embed_projection({"found": False})["found"] is False
