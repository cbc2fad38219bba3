"""HTTP routes of subscriptions: the pages behind the links in subscribers' emails (confirm,
manage, unsubscribe, with RFC 8058's one-click POST), the console's CSV export, and Resend's
bounce webhook.

The email links work without JavaScript or a login: the signed token in the link is the only
credential. GET only shows a page and POST acts, because mail scanners and link previews
follow GET links on their own (a GET that unsubscribed would unsubscribe people who never
clicked). The pages are plain server-rendered HTML, every value escaped, with a strict CSP
and no Referer (the URL holds the token).
"""

from __future__ import annotations

import asyncio
import base64
import csv
import hashlib
import hmac
import html
import io
import json
import time
from collections.abc import Iterator

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse

from statusapp import access, routes
from statusapp.domain import DomainError, ValidationError, deliveries, subscribers, tokens
from statusapp.queries import notifications as reads
from statusapp.settings import get_settings

router = APIRouter()

PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src https:; "
                               "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
}
_CSS = """body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0;background:#f3f4f6;color:#111827}
header{padding:16px 24px;color:#fff;font-weight:700;font-size:18px}
main{max-width:560px;margin:24px auto;background:#fff;border:1px solid #e5e7eb;border-radius:8px;padding:24px}
h1{font-size:22px;margin:0 0 12px}p{line-height:1.5}
button{font:inherit;font-weight:600;padding:10px 18px;border:0;border-radius:6px;color:#fff;cursor:pointer}
button.secondary{background:#e5e7eb;color:#111827}
button:focus-visible,a:focus-visible,input:focus-visible{outline:3px solid #1d4ed8;outline-offset:2px}
.error{color:#b91c1c;font-weight:600}.ok{color:#15803d;font-weight:600}
code{background:#f3f4f6;padding:2px 6px;border-radius:4px;word-break:break-all}
label{display:block;margin:6px 0}fieldset{border:1px solid #e5e7eb;border-radius:6px;margin:12px 0}
@media (prefers-color-scheme:dark){body{background:#111827;color:#f9fafb}main{background:#1f2937;border-color:#374151}
code{background:#374151}button.secondary{background:#374151;color:#f9fafb}}"""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _color(value: str | None) -> str:
    """The brand colour only when it is a plain #rrggbb (it goes into a style attribute)."""
    from statusapp.notify.render import brand_color

    return brand_color(value)


def _page(title: str, body: str, *, brand: str = "", page_name: str = "", status: int = 200) -> HTMLResponse:
    color = _color(brand)
    head = f'<header style="background:{color}">{_e(page_name)}</header>' if page_name else ""
    doc = (f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
           f'<meta name="viewport" content="width=device-width,initial-scale=1"><title>{_e(title)}</title>'
           f'<style>{_CSS} button{{background:{color}}}</style></head>'
           f'<body>{head}<main id="subscription"><h1>{_e(title)}</h1>{body}</main></body></html>')
    return HTMLResponse(doc, status_code=status, headers=PAGE_HEADERS)


def _problem(exc: DomainError) -> HTMLResponse:
    message = next(iter(exc.errors.values())) if isinstance(exc, ValidationError) else str(exc)
    return _page("This link does not work", f'<p class="error" role="alert">{_e(message)}</p>', status=400)


def _form(action: str, token: str, label: str, *, extra: str = "", button_class: str = "", name: str = "") -> str:
    named = f' name="action" value="{_e(name)}"' if name else ""
    cls = f' class="{button_class}"' if button_class else ""
    return (f'<form method="post" action="{_e(action)}"><input type="hidden" name="token" value="{_e(token)}">'
            f'{extra}<button type="submit"{cls}{named}>{_e(label)}</button></form>')


async def _token(request: Request) -> str:
    """The token of a POST: in the form, or in the query (RFC 8058 POSTs to the link as is)."""
    if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        form = await request.form()
        token = form.get("token")
        if isinstance(token, str) and token:
            return token
    return request.query_params.get("token", "")


# --------------------------------------------------------------------------- confirm


@router.get(routes.SUBSCRIPTION_CONFIRM)
async def confirm_page(token: str = ""):
    try:
        page_name, brand, address = await asyncio.to_thread(reads.confirm_target, token)
    except DomainError as exc:
        return _problem(exc)
    body = (f"<p>Send status updates from <strong>{_e(page_name)}</strong> to <strong>{_e(address)}</strong>?</p>"
            + _form(routes.SUBSCRIPTION_CONFIRM, token, "Confirm subscription"))
    return _page("Confirm your subscription", body, brand=brand, page_name=page_name)


@router.post(routes.SUBSCRIPTION_CONFIRM)
async def confirm(request: Request):
    token = await _token(request)
    try:
        done = await asyncio.to_thread(subscribers.confirm, token=token)
        page_name, page_url, brand = await asyncio.to_thread(reads.page_link, done.page_id)
    except DomainError as exc:
        return _problem(exc)
    manage = routes.manage_path(tokens.manage_token(done.subscriber_id, done.address))
    body = (f'<p class="ok" role="status">You are subscribed: {_e(done.address)} will get status updates from '
            f"{_e(page_name)}.</p>")
    if done.secret:
        body += (
            "<p>Every POST to your webhook is signed. Keep this signing secret: it is shown only now.</p>"
            f'<p><code id="signing-secret">{_e(done.secret)}</code></p>'
            "<p>Header <code>X-Statusapp-Signature: t=&lt;unix time&gt;,v1=&lt;hex&gt;</code>, where "
            "<code>v1</code> is HMAC-SHA256 with this secret over <code>&lt;t&gt;.&lt;raw body&gt;</code>.</p>"
        )
    elif not done.newly:
        body = f'<p class="ok" role="status">{_e(done.address)} was already subscribed.</p>'
    body += f'<p><a href="{_e(manage)}">Choose services or unsubscribe</a> · <a href="{_e(page_url)}">{_e(page_name)}</a></p>'
    return _page("Subscription confirmed", body, brand=brand, page_name=page_name)


# --------------------------------------------------------------------------- manage


def _manage_body(sub: reads.Subscription, token: str, *, message: str = "", error: str = "", secret: str = "") -> str:
    what = f"the webhook {sub.address}" if sub.kind == "webhook" else sub.address
    out = []
    if message:
        out.append(f'<p class="ok" role="status">{_e(message)}</p>')
    if error:
        out.append(f'<p class="error" role="alert" id="services-error">{_e(error)}</p>')
    if secret:
        out.append(f'<p>Your new signing secret (shown only now): <code id="signing-secret">{_e(secret)}</code></p>')
    if sub.status == "unsubscribed":
        out.append(f"<p>{_e(what)} is <strong>unsubscribed</strong> from {_e(sub.page_name)}.</p>")
        out.append(_form(routes.SUBSCRIPTION_MANAGE, token, "Subscribe again", name="resubscribe"))
        return "".join(out)
    state = {"pending": "waiting for confirmation", "quarantined": "paused: emails to it bounced"}.get(sub.status, "subscribed")
    out.append(f"<p>{_e(what)} is <strong>{_e(state)}</strong> to updates from {_e(sub.page_name)}.</p>")
    boxes = "".join(
        f'<label><input type="checkbox" name="service" value="{s.id}"{" checked" if s.chosen and not sub.all_services else ""}>'
        f" {_e(s.name)}</label>" for s in sub.services)
    choice = (
        '<fieldset><legend>Which services?</legend>'
        f'<label><input type="radio" name="scope" value="all"{" checked" if sub.all_services else ""}> All services</label>'
        f'<label><input type="radio" name="scope" value="some"{"" if sub.all_services else " checked"}> Only these:</label>'
        f'<div style="margin-left:1.5em">{boxes}</div></fieldset>'
    )
    out.append(_form(routes.SUBSCRIPTION_MANAGE, token, "Save", extra=choice, name="save"))
    out.append("<hr>")
    out.append(_form(routes.SUBSCRIPTION_UNSUBSCRIBE, token, "Unsubscribe"))
    if sub.kind == "webhook":
        out.append(_form(routes.SUBSCRIPTION_MANAGE, token, "Issue a new signing secret", name="rotate",
                         button_class="secondary"))
    out.append(f'<p><a href="{_e(sub.page_url)}">{_e(sub.page_name)}</a></p>')
    return "".join(out)


@router.get(routes.SUBSCRIPTION_MANAGE)
async def manage_page(token: str = "", saved: str = ""):
    try:
        sub = await asyncio.to_thread(reads.load_subscription, token)
    except DomainError as exc:
        return _problem(exc)
    message = {"1": "Saved.", "resubscribed": "You are subscribed again."}.get(saved, "")
    return _page("Your subscription", _manage_body(sub, token, message=message), brand=sub.brand_color,
                 page_name=sub.page_name)


@router.post(routes.SUBSCRIPTION_MANAGE)
async def manage(request: Request):
    form = await request.form()
    token = str(form.get("token") or "")
    action = str(form.get("action") or "save")
    secret = ""
    try:
        if action == "resubscribe":
            await asyncio.to_thread(subscribers.resubscribe, token=token)
            return RedirectResponse(routes.manage_path(token) + "&saved=resubscribed", status_code=303)
        if action == "rotate":
            secret = await asyncio.to_thread(subscribers.rotate_secret, token=token)
        else:
            ids = [v for v in form.getlist("service") if isinstance(v, str)][:500]
            await asyncio.to_thread(subscribers.update_choice, token=token, all_services=form.get("scope") != "some",
                                    service_ids=ids)
            return RedirectResponse(routes.manage_path(token) + "&saved=1", status_code=303)
    except ValidationError as exc:
        if "token" in exc.errors:
            return _problem(exc)
        sub = await asyncio.to_thread(reads.load_subscription, token)
        return _page("Your subscription", _manage_body(sub, token, error=next(iter(exc.errors.values()))),
                     brand=sub.brand_color, page_name=sub.page_name, status=400)
    except DomainError as exc:
        return _problem(exc)
    sub = await asyncio.to_thread(reads.load_subscription, token)
    return _page("Your subscription", _manage_body(sub, token, secret=secret), brand=sub.brand_color,
                 page_name=sub.page_name)


# --------------------------------------------------------------------------- unsubscribe


@router.get(routes.SUBSCRIPTION_UNSUBSCRIBE)
async def unsubscribe_page(token: str = ""):
    try:
        sub = await asyncio.to_thread(reads.load_subscription, token)
    except DomainError as exc:
        return _problem(exc)
    what = f"the webhook {sub.address}" if sub.kind == "webhook" else sub.address
    if sub.status == "unsubscribed":
        body = (f'<p class="ok" role="status">{_e(what)} is unsubscribed.</p>'
                f'<p><a href="{_e(routes.manage_path(token))}">Subscribe again</a></p>')
        return _page("Unsubscribed", body, brand=sub.brand_color, page_name=sub.page_name)
    body = (f"<p>Stop sending status updates from <strong>{_e(sub.page_name)}</strong> to <strong>{_e(what)}</strong>?</p>"
            + _form(routes.SUBSCRIPTION_UNSUBSCRIBE, token, "Unsubscribe")
            + f'<p><a href="{_e(routes.manage_path(token))}">Choose services instead</a></p>')
    return _page("Unsubscribe", body, brand=sub.brand_color, page_name=sub.page_name)


@router.post(routes.SUBSCRIPTION_UNSUBSCRIBE)
async def unsubscribe(request: Request):
    """The button of the page above, and RFC 8058 one-click: a mail client POSTs
    `List-Unsubscribe=One-Click` to the List-Unsubscribe URL (token in the query)."""
    token = await _token(request)
    try:
        await asyncio.to_thread(subscribers.unsubscribe, token=token)
        sub = await asyncio.to_thread(reads.load_subscription, token)
    except DomainError as exc:
        return _problem(exc)
    body = (f'<p class="ok" role="status">Unsubscribed: no more status updates from {_e(sub.page_name)}.</p>'
            f'<p><a href="{_e(routes.manage_path(token))}">Changed your mind? Subscribe again</a></p>')
    return _page("Unsubscribed", body, brand=sub.brand_color, page_name=sub.page_name)


# --------------------------------------------------------------------------- console: CSV export


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: str) -> str:
    """A cell a spreadsheet will not run as a formula (CSV injection): quoted with a leading '."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def _csv_lines(rows: Iterator[list[str]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow([csv_cell(v) for v in row])
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


@router.get(routes.ADMIN_SUBSCRIBERS_CSV)
async def export_csv(request: Request, page_id: str = ""):
    token = access.session_token_from_cookie_header(request.headers.get("cookie"))
    user = await asyncio.to_thread(access.session_user, token)
    if user is None:
        return RedirectResponse(routes.ADMIN_LOGIN, status_code=303)
    if not page_id.isdigit():
        return Response("page_id: choose a status page", status_code=400, media_type="text/plain")
    rows = reads.export_subscribers(user.organization_id, int(page_id))
    # A sync iterator: Starlette pulls it in a worker thread, one chunk at a time.
    return StreamingResponse(_csv_lines(rows), media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": f'attachment; filename="subscribers-{int(page_id)}.csv"'})


# --------------------------------------------------------------------------- Resend's webhook


def verify_svix(secret: str, headers, body: bytes, *, tolerance_s: float = 300, now: float | None = None) -> bool:
    """Resend signs its webhooks the Svix way: base64 HMAC-SHA256 over `<id>.<timestamp>.<body>`
    keyed by the base64 part of `whsec_...`; `svix-signature` lists `v1,<sig>` values."""
    msg_id, stamp, sigs = headers.get("svix-id"), headers.get("svix-timestamp"), headers.get("svix-signature")
    if not (secret and msg_id and stamp and sigs):
        return False
    try:
        if abs((now or time.time()) - int(stamp)) > tolerance_s:
            return False
        key = base64.b64decode(secret.removeprefix("whsec_"))
    except ValueError:
        return False
    expected = base64.b64encode(hmac.new(key, f"{msg_id}.{stamp}.".encode() + body, hashlib.sha256).digest()).decode()
    return any(hmac.compare_digest(expected, part.split(",", 1)[-1]) for part in sigs.split())


BOUNCE_EVENTS = {"email.bounced": "bounced", "email.complained": "marked as spam"}


@router.post(routes.HOOKS_RESEND)
async def resend_webhook(request: Request):
    """Bounces and complaints after Resend accepted an email: each counts toward the
    address's quarantine (STATUSAPP_BOUNCE_QUARANTINE)."""
    secret = get_settings().resend_webhook_secret
    if not secret:
        return Response(status_code=404)
    body = await request.body()
    if len(body) > 256 * 1024 or not verify_svix(secret, request.headers, body):
        return Response("invalid signature", status_code=401, media_type="text/plain")
    try:
        event = json.loads(body)
        what = BOUNCE_EVENTS.get(event.get("type"))
        data = event.get("data") or {}
    except (ValueError, AttributeError):
        return Response("invalid JSON", status_code=400, media_type="text/plain")
    if what:
        to = data.get("to")
        address = to[0] if isinstance(to, list) and to else str(to or "")
        detail = ((data.get("bounce") or {}).get("message") or "") if isinstance(data.get("bounce"), dict) else ""
        await asyncio.to_thread(deliveries.record_bounce, provider_id=str(data.get("email_id") or ""),
                                address=address, reason=f"Resend: {what}" + (f" ({detail[:200]})" if detail else ""))
    return {"ok": True}

