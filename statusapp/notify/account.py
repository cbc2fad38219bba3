"""The emails about a subscription itself: "confirm your subscription" (double opt-in) and
"you are already subscribed: manage it here". Same branding and escaping rules as render.py;
no unsubscribe footer on a confirmation (there is nothing to leave before confirming)."""

from __future__ import annotations

import html

from statusapp.notify.message import PageInfo
from statusapp.notify.render import RenderedEmail, brand_color, one_line, safe_url, text_color_on

_FONT = "-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,Helvetica,Arial,sans-serif"


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _layout(page: PageInfo, title: str, paragraphs: list[str], button: tuple[str, str], footer: str) -> str:
    brand = brand_color(page.brand_color)
    on_brand = text_color_on(brand)
    label, url = button
    body = "".join(f'<p style="margin:0 0 12px 0;font-size:14px;line-height:21px;">{_e(p)}</p>' for p in paragraphs)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{_e(title)}</title></head>\n"
        '<body style="margin:0;padding:0;background:#f3f4f6;">\n'
        '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="background:#f3f4f6;">'
        '<tr><td align="center" style="padding:24px 12px;">\n'
        '<table role="presentation" width="600" cellpadding="0" cellspacing="0" border="0" '
        'style="width:100%;max-width:600px;background:#ffffff;border:1px solid #e5e7eb;border-radius:8px;">\n'
        f'<tr><td bgcolor="{brand}" style="background:{brand};padding:16px 24px;border-radius:8px 8px 0 0;'
        f'font-family:{_FONT};font-size:18px;font-weight:700;color:{on_brand};">{_e(page.name)}</td></tr>\n'
        f'<tr><td style="padding:24px;font-family:{_FONT};color:#111827;">'
        f'<h1 style="margin:0 0 12px 0;font-size:20px;line-height:26px;">{_e(title)}</h1>{body}'
        '<table role="presentation" cellpadding="0" cellspacing="0" border="0" style="margin:16px 0;">'
        f'<tr><td bgcolor="{brand}" style="background:{brand};border-radius:6px;">'
        f'<a href="{_e(url)}" style="display:inline-block;padding:10px 18px;font-family:{_FONT};font-size:14px;'
        f'font-weight:600;color:{on_brand};text-decoration:none;">{_e(label)}</a></td></tr></table>'
        f'<p style="margin:0;font-size:12px;line-height:18px;color:#4b5563;">{_e(footer)}</p>'
        "</td></tr>\n</table>\n</td></tr></table>\n</body>\n</html>\n"
    )


def _what(kind: str, address: str) -> str:
    return f"the webhook {address}" if kind == "webhook" else address


def render_confirmation(page: PageInfo, *, confirm_url: str, kind: str, address: str, hours: int) -> RenderedEmail:
    """Double opt-in: nothing is sent to the subscription until this link is followed."""
    url = safe_url(confirm_url)
    if url is None:
        raise ValueError("confirm_url must be an absolute http(s) URL")
    name = one_line(page.name, 100)
    subject = one_line(f"[{name}] Confirm your subscription", 200)
    what = one_line(_what(kind, address), 300)
    lead = f"Someone (hopefully you) asked to send status updates from {name} to {what}."
    steps = f"Confirm within {hours} hours to start receiving them."
    ignore = "If you did not ask for this, ignore this email: nothing will be sent."
    html_part = _layout(page, "Confirm your subscription", [lead, steps], ("Confirm subscription", url), ignore)
    text = f"{name}: confirm your subscription\n\n{lead}\n{steps}\n\nConfirm: {url}\n\n{ignore}\n"
    return RenderedEmail(subject, html_part, text)


def render_manage_link(page: PageInfo, *, manage_url: str, kind: str, address: str) -> RenderedEmail:
    """Sent instead of a confirmation when the address is already subscribed."""
    url = safe_url(manage_url)
    if url is None:
        raise ValueError("manage_url must be an absolute http(s) URL")
    name = one_line(page.name, 100)
    subject = one_line(f"[{name}] You are already subscribed", 200)
    what = one_line(_what(kind, address), 300)
    lead = f"Someone (hopefully you) asked to subscribe {what} to status updates from {name}. It already is."
    manage = "To change which services you hear about, or to unsubscribe, open your subscription."
    ignore = "If you did not ask for this, ignore this email: nothing changed."
    html_part = _layout(page, "You are already subscribed", [lead, manage], ("Manage subscription", url), ignore)
    text = f"{name}: you are already subscribed\n\n{lead}\n{manage}\n\nManage: {url}\n\n{ignore}\n"
    return RenderedEmail(subject, html_part, text)
