"""The signed-in admin's account: change the password, sign out everywhere."""

from __future__ import annotations

import reflex as rx

from statusapp import access, routes
from statusapp.domain import auth
from statusapp.domain.organizations import MIN_PASSWORD_LENGTH
from statusapp.domain.validation import PASSWORD_MAX, bounded_text
from statusapp.ui.admin.layout import console, field
from statusapp.ui.admin.state import AdminState
from statusapp.ui.components import card, confirm_button


def _password(form: object, key: str) -> str:
    # One character over the limit keeps the domain's "at most" message instead of a silent cut.
    return bounded_text(form.get(key) if isinstance(form, dict) else None, PASSWORD_MAX + 1)


class AccountAdmin(AdminState):
    """Passwords arrive as the submitted form's data and are never kept in the page's state."""

    @rx.event
    async def change_password(self, form: dict):
        new = _password(form, "new_password")
        if new != _password(form, "confirm_password"):
            self.errors, self.notice = {"confirm_password": "The two new passwords differ."}, ""
            return None
        out = await self._call(
            auth.change_password, done="Password changed.",
            current_password=_password(form, "current_password"),
            new_password=new,
            client_ip=self._client_address(),
            keep_token=access.session_token_from_cookie_header(self.router.headers.cookie),
        )
        if out.ok:
            self.notice = "Password changed. Your other sessions have ended; this one stays signed in."
        return out.event

    @rx.event
    async def sign_out_everywhere(self):
        out = await self._call(auth.sign_out_everywhere, done="Signed out everywhere.")
        return rx.redirect(routes.ADMIN_LOGIN) if out.ok else out.event


def password_input(name: str, autocomplete: str) -> rx.Component:
    return rx.input(name=name, type="password", id=f"account-{name}", autocomplete=autocomplete,
                    max_length=PASSWORD_MAX, required=True, width="100%")


def account_page() -> rx.Component:
    s = AccountAdmin
    return console(
        "Account",
        card(
            rx.form(
                rx.vstack(
                    rx.heading("Change your password", size="4"),
                    field("Current password", password_input("current_password", "current-password"),
                          "current_password"),
                    field("New password", password_input("new_password", "new-password"), "new_password",
                          hint=f"At least {MIN_PASSWORD_LENGTH} characters."),
                    field("New password again", password_input("confirm_password", "new-password"),
                          "confirm_password"),
                    rx.text("Changing it signs you out everywhere else.", size="1", color_scheme="gray"),
                    rx.button("Change password", type="submit", id="change-password"),
                    width="100%",
                ),
                on_submit=s.change_password,
                reset_on_submit=True,
            )
        ),
        card(
            rx.vstack(
                rx.heading("Sessions", size="4"),
                rx.text("Ends every session of your account, in every browser, this one included.", size="2"),
                confirm_button("Sign out everywhere", "Sign out everywhere?",
                               "Every browser signed in as you, this one included, has to sign in again.",
                               s.sign_out_everywhere, variant="soft"),
            )
        ),
    )
