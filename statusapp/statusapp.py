"""Builds the Reflex app: pages, HTTP routes, live hub. No logic lives here."""

from __future__ import annotations

import contextlib
import logging

import reflex as rx

from statusapp import db, routes
from statusapp.jobs import jobs_lifespan
from statusapp.api import install as install_api
from statusapp.live import hub
from statusapp.ui import overlay
from statusapp.ui.admin.account import account_page
from statusapp.ui.admin.dashboard import dashboard_page
from statusapp.ui.admin.incident_detail import IncidentDetailAdmin, detail_page
from statusapp.ui.admin.incidents import incidents_page
from statusapp.ui.admin.login import login_page
from statusapp.ui.admin.maintenance import MaintenanceAdmin, maintenance_page
from statusapp.ui.admin.maintenance_detail import MaintenanceDetailAdmin, maintenance_detail_page
from statusapp.ui.admin.monitor_detail import MonitorDetailAdmin, monitor_detail_page
from statusapp.ui.admin.monitors import MonitorsAdmin, monitors_page
from statusapp.ui.admin.pages import pages_page
from statusapp.ui.admin.services import services_page
from statusapp.ui.admin.channels import ChannelsAdmin, channels_page
from statusapp.ui.admin.mailbox import MailboxAdmin, mailbox_page
from statusapp.ui.admin.notifications import NotificationsAdmin, notifications_page
from statusapp.ui.admin.subscribers import SubscribersAdmin, subscribers_page
from statusapp.ui.admin.state import AdminState
from statusapp.ui.admin.api_keys import ApiKeysAdmin, api_keys_page
from statusapp.ui.public import EMBED_TARGET, HISTORY_TARGET, PAGE_TARGET, STORAGE_FALLBACK_JS, add_public_pages, storage_fallback
from statusapp.web import allow_inline_script, api, restrict_socket_origins
from statusapp.web_subscriptions import router as subscription_routes

logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
logging.getLogger("alembic").setLevel(logging.WARNING)


@contextlib.asynccontextmanager
async def migrate_on_start():
    """Bring the schema up to date before serving (idempotent; `statusapp migrate` does the same)."""
    import asyncio

    await asyncio.to_thread(db.migrate_locked)
    yield


api.include_router(subscription_routes)
app = rx.App(
    api_transformer=api,
    head_components=[rx.el.link(rel="icon", href="/favicon.svg", type="image/svg+xml"), storage_fallback()],
    stylesheets=["/console.css"],
)
overlay.install(app)
restrict_socket_origins(app)
allow_inline_script(STORAGE_FALLBACK_JS)
app.register_lifespan_task(migrate_on_start)
app.register_lifespan_task(hub.lifespan, app=app)
app.register_lifespan_task(jobs_lifespan)
install_api(api)
hub.configure(targets=[HISTORY_TARGET, PAGE_TARGET, EMBED_TARGET], admin_event=AdminState.get_full_name() + ".refresh")

add_public_pages(app)
app.add_page(login_page, route=routes.ADMIN_LOGIN, title="Sign in · statusapp")
app.add_page(dashboard_page, route=routes.ADMIN, on_load=AdminState.open_console, title="Dashboard · statusapp")
app.add_page(incidents_page, route=routes.ADMIN_INCIDENTS, on_load=AdminState.open_console, title="Incidents · statusapp")
app.add_page(detail_page, route=routes.ADMIN_INCIDENT, on_load=IncidentDetailAdmin.open_incident, title="Incident · statusapp")
app.add_page(maintenance_page, route=routes.ADMIN_MAINTENANCE_LIST, on_load=MaintenanceAdmin.open_maintenance,
             title="Maintenance · statusapp")
app.add_page(maintenance_detail_page, route=routes.ADMIN_MAINTENANCE, on_load=MaintenanceDetailAdmin.open_maintenance,
             title="Maintenance · statusapp")
app.add_page(services_page, route=routes.ADMIN_SERVICES, on_load=AdminState.open_console, title="Services · statusapp")
app.add_page(pages_page, route=routes.ADMIN_PAGES, on_load=AdminState.open_console, title="Status pages · statusapp")
app.add_page(api_keys_page, route=routes.ADMIN_API_KEYS, on_load=ApiKeysAdmin.open_keys, title="API keys · statusapp")
app.add_page(account_page, route=routes.ADMIN_ACCOUNT, on_load=AdminState.open_console, title="Account · statusapp")
app.add_page(subscribers_page, route=routes.ADMIN_SUBSCRIBERS, on_load=[AdminState.open_console, SubscribersAdmin.load],
             title="Subscribers · statusapp")
app.add_page(notifications_page, route=routes.ADMIN_NOTIFICATIONS,
             on_load=[AdminState.open_console, NotificationsAdmin.load], title="Notifications · statusapp")
app.add_page(channels_page, route=routes.ADMIN_CHANNELS, on_load=[AdminState.open_console, ChannelsAdmin.load],
             title="Channels · statusapp")
app.add_page(mailbox_page, route=routes.ADMIN_MAILBOX, on_load=[AdminState.open_console, MailboxAdmin.load],
             title="Dev mailbox · statusapp")
app.add_page(monitors_page, route=routes.ADMIN_MONITORS, on_load=MonitorsAdmin.open_monitors, title="Monitors · statusapp")
app.add_page(monitor_detail_page, route=routes.ADMIN_MONITOR, on_load=MonitorDetailAdmin.open_monitor,
             title="Monitor · statusapp")
