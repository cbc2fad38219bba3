"""Notification channels, one module each, looked up by name (importing only the one asked for).

Only `email` imports the `resend` SDK, so looking up a chat channel never loads it.
"""

from __future__ import annotations

import importlib

from statusapp.notify.channels.base import Channel, DeliveryError, Recipient, SendResult

CHANNELS = {
    "email": "statusapp.notify.channels.email:EmailChannel",
    "webhook": "statusapp.notify.channels.webhook:WebhookChannel",
    "slack": "statusapp.notify.channels.slack:SlackChannel",
    "discord": "statusapp.notify.channels.discord:DiscordChannel",
}


def channel_class(name: str) -> type[Channel]:
    try:
        module, attr = CHANNELS[name].split(":")
    except KeyError:
        raise ValueError(f"unknown channel {name!r}; known: {', '.join(sorted(CHANNELS))}") from None
    return getattr(importlib.import_module(module), attr)


__all__ = ["CHANNELS", "Channel", "DeliveryError", "Recipient", "SendResult", "channel_class"]
