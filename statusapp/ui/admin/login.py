"""Sign-in page: a native HTML form posted to /auth/login, which sets an HttpOnly cookie.

Reflex's form component always prevents the native submit, so the form is static HTML
(no user data in it); the error message comes back in the query string.
"""

from __future__ import annotations

import reflex as rx

from statusapp import routes


class LoginState(rx.State):
    @rx.var
    def error(self) -> str:
        return self.router.url.query_parameters.get("error", "")


_INPUT_STYLE = (
    "width:100%;box-sizing:border-box;padding:0.5em;border:1px solid var(--gray-7);border-radius:6px;"
    "background:var(--color-surface);color:inherit;font:inherit"
)
LOGIN_FORM_HTML = f"""
<form action="{routes.AUTH_LOGIN}" method="post" style="display:flex;flex-direction:column;gap:0.6em">
  <label for="email">Email</label>
  <input id="email" name="email" type="email" required autocomplete="username" style="{_INPUT_STYLE}">
  <label for="password">Password</label>
  <input id="password" name="password" type="password" required autocomplete="current-password" style="{_INPUT_STYLE}">
  <button id="sign-in" type="submit" style="margin-top:0.5em;padding:0.6em;border:0;border-radius:6px;
    background:var(--accent-9);color:white;font:inherit;font-weight:600;cursor:pointer">Sign in</button>
</form>
"""


def login_page() -> rx.Component:
    return rx.center(
        rx.card(
            rx.vstack(
                rx.heading("Sign in to statusapp", size="5"),
                rx.cond(
                    LoginState.error != "",
                    rx.callout(LoginState.error, color_scheme="red", role="alert", id="login-error"),
                ),
                rx.html(LOGIN_FORM_HTML, width="100%"),
                spacing="3",
                width="100%",
            ),
            width="22em",
        ),
        min_height="80vh",
    )
