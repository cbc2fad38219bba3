"""Sign-in page: a plain HTML form posted to /auth/login, which sets an HttpOnly cookie."""

from __future__ import annotations

import reflex as rx

from statusapp.ui import routes


class LoginState(rx.State):
    @rx.var
    def error(self) -> str:
        return self.router.url.query_parameters.get("error", "")

    @rx.var
    def email(self) -> str:
        return self.router.url.query_parameters.get("email", "")


def login_page() -> rx.Component:
    return rx.center(
        rx.card(
            rx.el.form(
                rx.vstack(
                    rx.heading("Sign in to statusapp", size="5"),
                    rx.cond(LoginState.error != "", rx.callout(LoginState.error, color_scheme="red", role="alert", id="login-error")),
                    rx.text("Email", as_="label", size="2"),
                    rx.el.input(name="email", type="email", required=True, default_value=LoginState.email,
                                autocomplete="username", id="email",
                                style={"width": "100%", "padding": "0.5em", "border": "1px solid var(--gray-7)",
                                       "border_radius": "6px", "background": "var(--color-surface)"}),
                    rx.text("Password", as_="label", size="2"),
                    rx.el.input(name="password", type="password", required=True, autocomplete="current-password",
                                id="password",
                                style={"width": "100%", "padding": "0.5em", "border": "1px solid var(--gray-7)",
                                       "border_radius": "6px", "background": "var(--color-surface)"}),
                    rx.button("Sign in", type="submit", width="100%", id="sign-in"),
                    spacing="3",
                    width="100%",
                ),
                action=routes.AUTH_LOGIN,
                method="post",
            ),
            width="22em",
        ),
        min_height="80vh",
    )
