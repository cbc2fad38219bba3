"""Subscriber notifications: the channel-independent Notice, its rendering, and one module per channel.

Nothing here touches the database or Reflex: a sender job (elsewhere) reads Notice dicts from the
outbox, renders them, and calls a channel's `send`, retrying on `DeliveryError(retryable=True)`.
"""
