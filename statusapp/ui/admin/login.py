"""Sign-in page: a native HTML form posted to /auth/login, which sets an HttpOnly cookie.

Reflex's forms always prevent the native submit, so the <form> element is static HTML and
the fields are React elements joined to it by their `form` attribute: the browser submits
them natively, and the page's state can still fill them. After a failed sign-in the page
shows a fixed message for the error code in the URL (never text from the URL) and the email
typed, which comes back in a short-lived HttpOnly cookie read over the socket (never in the
URL, where it would reach history and proxy logs). `next` brings the admin back to the console
page they started from (console paths only: routes.safe_next).
"""

from __future__ import annotations

import reflex as rx

from statusapp import access, routes
from statusapp.domain.auth import LOCKED_MESSAGE, WRONG_MESSAGE
from statusapp.domain.validation import EMAIL_MAX, PASSWORD_MAX

ERROR_MESSAGES = {"credentials": WRONG_MESSAGE, "locked": LOCKED_MESSAGE}
FORM_ID = "login-form"


class LoginState(rx.State):
    @rx.var
    def error(self) -> str:
        return ERROR_MESSAGES.get(self.router.url.query_parameters.get("error", ""), "")

    @rx.var
    def next_path(self) -> str:
        return routes.safe_next(self.router.url.query_parameters.get("next")) or ""

    @rx.var
    def email_hint(self) -> str:
        """The email of the failed attempt (see statusapp.web.login), only after a failure."""
        if not self.error:
            return ""
        value = access.cookie_value(self.router.headers.cookie, access.LOGIN_EMAIL_COOKIE) or ""
        return value[:EMAIL_MAX]


_INPUT_STYLE = {
    "width": "100%", "box_sizing": "border-box", "padding": "0.5em", "border": "1px solid var(--gray-7)",
    "border_radius": "6px", "background": "var(--color-surface)", "color": "inherit", "font": "inherit",
}
FORM_HTML = f'<form id="{FORM_ID}" action="{routes.AUTH_LOGIN}" method="post"></form>'


def login_page() -> rx.Component:
    s = LoginState
    return rx.center(
        rx.card(
            rx.vstack(
                rx.heading("Sign in to statusapp", size="5"),
                rx.cond(s.error != "", rx.callout(s.error, color_scheme="red", role="alert", id="login-error")),
                rx.html(FORM_HTML),
                rx.el.label("Email", html_for="email"),
                rx.el.input(
                    id="email", name="email", type="email", required=True, autocomplete="username",
                    form=FORM_ID, max_length=EMAIL_MAX, default_value=s.email_hint,
                    # A new key when the hint arrives over the socket: the field is made again with it.
                    key="email-" + s.email_hint, style=_INPUT_STYLE,
                ),
                rx.el.label("Password", html_for="password"),
                rx.el.input(
                    id="password", name="password", type="password", required=True,
                    autocomplete="current-password", form=FORM_ID, max_length=PASSWORD_MAX, style=_INPUT_STYLE,
                ),
                rx.el.input(type="hidden", name="next", form=FORM_ID, value=s.next_path),
                rx.el.button(
                    "Sign in", id="sign-in", type="submit", form=FORM_ID,
                    style={"margin_top": "0.5em", "padding": "0.6em", "border": "0", "border_radius": "6px",
                           "background": "var(--accent-9)", "color": "white", "font": "inherit",
                           "font_weight": "600", "cursor": "pointer", "width": "100%"},
                ),
                spacing="2",
                width="100%",
            ),
            width="22em",
        ),
        min_height="80vh",
    )
