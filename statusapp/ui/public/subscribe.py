"""The subscribe form on every public page: an email address (or a webhook URL plus the email
that confirms it), and all of the page's services or a chosen set.

The answer is the same whatever the address's state, so the form cannot tell anyone who is
subscribed; the only refusals are about the input itself and about too many requests from the
visitor's own network.
"""

from __future__ import annotations

import asyncio

import reflex as rx

from statusapp import access
from statusapp.domain import NotFound, ValidationError, subscribers

SENT = ("Thanks! If this address can receive our emails, a message with a confirmation link is on its way. "
        "Nothing is sent until you follow it.")


class SubscribeState(rx.State):
    """A visitor's subscribe form (view state only; the domain operation does the work)."""

    open: bool = False
    method: str = "email"  # email | webhook
    email: str = ""
    webhook_url: str = ""
    scope: str = "all"  # all | some
    chosen: list[str] = []
    errors: dict[str, str] = {}
    sent: bool = False

    @rx.event
    def toggle_open(self):
        self.open = not self.open

    @rx.event
    def set_method(self, value: str):
        self.method = "webhook" if value == "webhook" else "email"

    @rx.event
    def set_email(self, value: str):
        self.email = value[:400]

    @rx.event
    def set_webhook_url(self, value: str):
        self.webhook_url = value[:1200]

    @rx.event
    def set_scope(self, value: str):
        self.scope = "some" if value == "some" else "all"

    @rx.event
    def choose(self, service_id: str, checked: bool):
        chosen = [c for c in self.chosen if c != service_id]
        if checked and len(chosen) < 500:
            chosen.append(str(service_id)[:20])
        self.chosen = chosen

    @rx.event
    def again(self):
        self.sent, self.errors, self.email, self.webhook_url = False, {}, "", ""

    @rx.event
    async def submit(self, page_id: int):
        try:
            await asyncio.to_thread(
                subscribers.subscribe,
                page_id=page_id,
                email=self.email,
                all_services=self.scope != "some",
                service_ids=self.chosen if self.scope == "some" else [],
                webhook_url=self.webhook_url if self.method == "webhook" else "",
                client_ip=access.visitor_address(self.router.session.client_ip,
                                                 self.router.headers.raw_headers.get("x-forwarded-for")),
            )
        except ValidationError as exc:
            self.errors = exc.errors
            return
        except NotFound:
            self.errors = {"_": "This page does not take subscriptions."}
            return
        self.errors, self.sent = {}, True


def _error(key: str) -> rx.Component:
    return rx.cond(
        SubscribeState.errors.contains(key),
        rx.text(SubscribeState.errors[key], color="var(--red-11)", size="1", role="alert", class_name="field-error",
                data_field=key),
    )


def _service_box(svc) -> rx.Component:
    sid = svc.id.to_string()
    return rx.checkbox(
        svc.name,
        checked=SubscribeState.chosen.contains(sid),
        on_change=lambda checked: SubscribeState.choose(sid, checked),
        class_name="subscribe-service",
    )


def subscribe_box(view) -> rx.Component:
    """The "Subscribe to updates" card, folded until asked for."""
    s = SubscribeState
    form = rx.vstack(
        rx.radio_group.root(
            rx.hstack(
                rx.radio_group.item(value="email", id="subscribe-by-email"),
                rx.text("Email", as_="label", html_for="subscribe-by-email", size="2"),
                rx.radio_group.item(value="webhook", id="subscribe-by-webhook"),
                rx.text("Webhook", as_="label", html_for="subscribe-by-webhook", size="2"),
                align="center",
                spacing="2",
            ),
            value=s.method,
            on_change=s.set_method,
            aria_label="Receive updates by",
        ),
        rx.cond(
            s.method == "webhook",
            rx.vstack(
                rx.text("Webhook URL", as_="label", html_for="subscribe-webhook", size="2", weight="medium"),
                rx.input(id="subscribe-webhook", value=s.webhook_url, on_change=s.set_webhook_url,
                         placeholder="https://example.com/hooks/status", width="100%", type="url"),
                _error("webhook_url"),
                spacing="1",
                width="100%",
            ),
        ),
        rx.text(rx.cond(s.method == "webhook", "Email to confirm and manage the webhook", "Email address"),
                as_="label", html_for="subscribe-email", size="2", weight="medium"),
        rx.input(id="subscribe-email", value=s.email, on_change=s.set_email, type="email",
                 placeholder="you@example.com", width="100%", auto_complete="email"),
        _error("email"),
        rx.radio_group.root(
            rx.vstack(
                rx.hstack(rx.radio_group.item(value="all", id="subscribe-all"),
                          rx.text("All services", as_="label", html_for="subscribe-all", size="2"), align="center"),
                rx.hstack(rx.radio_group.item(value="some", id="subscribe-some"),
                          rx.text("Only the services I choose", as_="label", html_for="subscribe-some", size="2"),
                          align="center"),
                spacing="1",
            ),
            value=s.scope,
            on_change=s.set_scope,
            aria_label="Which services",
        ),
        rx.cond(
            s.scope == "some",
            rx.vstack(rx.foreach(view.groups, lambda g: rx.foreach(g.services, _service_box)),
                      spacing="1", padding_left="1.5em", id="subscribe-services"),
        ),
        _error("services"),
        _error("_"),
        rx.button("Subscribe", on_click=s.submit(view.id), id="subscribe-submit"),
        spacing="2",
        width="100%",
    )
    return rx.card(
        rx.vstack(
            rx.button(
                rx.cond(s.open, "Hide subscription form", "Subscribe to updates"),
                on_click=s.toggle_open,
                variant="soft",
                id="subscribe-open",
                aria_expanded=rx.cond(s.open, "true", "false"),
                aria_controls="subscribe-form",
            ),
            rx.cond(
                s.open,
                rx.box(
                    rx.cond(
                        s.sent,
                        rx.vstack(
                            rx.text(SENT, role="status", id="subscribe-sent"),
                            rx.button("Subscribe another address", variant="ghost", size="1", on_click=s.again),
                        ),
                        form,
                    ),
                    id="subscribe-form",
                    width="100%",
                ),
            ),
            width="100%",
            spacing="3",
        ),
        width="100%",
        id="subscribe",
    )
