"""A token bucket per API key, in this worker's memory.

Per worker, on purpose: no shared store is touched per request. With W workers a key can make
up to W times the configured rate in total; set STATUSAPP_API_RATE_PER_MINUTE with that in mind.
A key may spend its whole minute's budget in a burst, then one request per 60/N seconds.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable


class TokenBuckets:
    def __init__(self, per_minute: Callable[[], int], clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self.clock = clock
        self._buckets: dict[int, tuple[float, float]] = {}  # key id -> (tokens, at)
        self._lock = threading.Lock()

    def take(self, key_id: int) -> float:
        """Spend one token of `key_id`'s bucket; returns 0 when allowed, else the seconds to
        wait before the next token."""
        capacity = max(1, self.per_minute())
        rate = capacity / 60.0
        now = self.clock()
        with self._lock:
            tokens, at = self._buckets.get(key_id, (float(capacity), now))
            tokens = min(float(capacity), tokens + (now - at) * rate)
            if tokens >= 1.0:
                self._buckets[key_id] = (tokens - 1.0, now)
                return 0.0
            self._buckets[key_id] = (tokens, now)
            return (1.0 - tokens) / rate


def retry_after(wait_seconds: float) -> str:
    return str(max(1, math.ceil(wait_seconds)))
