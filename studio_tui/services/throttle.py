"""An ops-per-second cap, so a full walk of a production keyspace never starves the server."""

from __future__ import annotations

import asyncio
import time
from collections import deque


class OpsThrottle:
    """Token bucket of ``rate`` operations per second (burst of one second's worth).
    ``rate=None`` lets everything through but still measures the current rate."""

    def __init__(self, rate: float | None, clock=time.monotonic) -> None:
        self.rate = rate
        self._clock = clock
        self._tokens = float(rate or 0)
        self._refilled = clock()
        self._recent: deque[float] = deque()

    async def acquire(self) -> None:
        if self.rate:
            while True:
                now = self._clock()
                self._tokens = min(self.rate, self._tokens + (now - self._refilled) * self.rate)
                self._refilled = now
                if self._tokens >= 1:
                    self._tokens -= 1
                    break
                await asyncio.sleep((1 - self._tokens) / self.rate)
        self._note(self._clock())

    def _note(self, now: float) -> None:
        self._recent.append(now)
        while self._recent and self._recent[0] < now - 1.0:
            self._recent.popleft()

    def current_rate(self) -> float:
        """Operations in the last second."""
        now = self._clock()
        while self._recent and self._recent[0] < now - 1.0:
            self._recent.popleft()
        return float(len(self._recent))
