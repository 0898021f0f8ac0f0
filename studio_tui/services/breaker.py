"""A circuit breaker over a rolling window, so a sick server is left alone instead of hammered.

closed → (enough calls, enough of them failed) → open → (reset elapsed) → half-open: one probe
→ closed on success, open again on failure. The clock is injectable for tests. Every transition
is logged.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum

from studio_tui.services.errors import CircuitOpenError
from studio_tui.services.tiers import BreakerConfig

Clock = Callable[[], float]

_BUCKETS = 10
log = logging.getLogger(__name__)


class BreakerState(IntEnum):
    """Numbered as the metrics expose them."""

    CLOSED = 0
    HALF_OPEN = 1
    OPEN = 2


@dataclass(slots=True)
class _Bucket:
    start: float = -math.inf
    calls: int = 0
    failures: int = 0


class CircuitBreaker:
    """Counts outcomes in ``_BUCKETS`` time buckets spanning ``config.window`` seconds."""

    def __init__(self, name: str, config: BreakerConfig, clock: Clock = time.monotonic) -> None:
        self.name = name
        self.config = config
        self._clock = clock
        self._bucket_span = config.window / _BUCKETS
        self._buckets = [_Bucket() for _ in range(_BUCKETS)]
        self._state = BreakerState.CLOSED
        self._opened_at = 0.0
        self._probe_in_flight = False
        self.last_failure: str = ""
        self.times_opened = 0

    # -- state -------------------------------------------------------------------------
    @property
    def state(self) -> BreakerState:
        if self._state is BreakerState.OPEN and self._clock() >= self.retry_at:
            return BreakerState.HALF_OPEN
        return self._state

    @property
    def retry_at(self) -> float:
        return self._opened_at + self.config.reset

    @property
    def probing(self) -> bool:
        """The one probe of the half-open state is under way."""
        return self._probe_in_flight

    def retry_in(self) -> float:
        return max(0.0, self.retry_at - self._clock())

    def window_counts(self) -> tuple[int, int]:
        """(calls, failures) within the rolling window."""
        horizon = self._clock() - self.config.window
        calls = failures = 0
        for bucket in self._buckets:
            if bucket.start > horizon:
                calls += bucket.calls
                failures += bucket.failures
        return calls, failures

    # -- the call protocol: before_call, then exactly one of on_success / on_failure -----
    def before_call(self) -> None:
        """Raise CircuitOpenError at once if the call may not go through."""
        state = self.state
        if state is BreakerState.CLOSED:
            return
        if state is BreakerState.HALF_OPEN and not self._probe_in_flight:
            self._state = BreakerState.HALF_OPEN
            self._probe_in_flight = True
            log.info("breaker of %s half-open: one probe goes through", self.name)
            return
        waiting = "a probe is in flight" if state is BreakerState.HALF_OPEN else "the breaker is open"
        raise CircuitOpenError(
            f"{self.name} failed too often recently ({self.last_failure or 'errors'}); "
            f"calls are paused while {waiting}.",
            retry_after=max(self.retry_in(), 0.0),
            database=self.name,
        )

    def on_success(self) -> None:
        if self._state is not BreakerState.CLOSED:
            self._close()
            return
        self._record(failed=False)

    def on_failure(self, reason: str) -> None:
        self.last_failure = reason
        if self._state is BreakerState.HALF_OPEN:
            self._open(f"the probe failed ({reason})")
            return
        if self._state is BreakerState.OPEN:
            # A call let through before the breaker opened, ending late (a long call's timeout
            # runs past the open): it must not restart the wait for the probe.
            return
        self._record(failed=True)
        calls, failures = self.window_counts()
        if calls >= self.config.volume and failures / calls >= self.config.threshold:
            self._open(f"{failures} of {calls} calls failed within {self.config.window:g}s, "
                       f"last: {reason}")

    def on_abandoned(self) -> None:
        """A call was cancelled by the user: it proves nothing either way."""
        if self._probe_in_flight:
            self._probe_in_flight = False

    def force_probe(self) -> None:
        """Let the next call through as a probe now, without waiting for the reset time."""
        if self._state is BreakerState.OPEN:
            self._opened_at = self._clock() - self.config.reset

    # -- internals -------------------------------------------------------------------------
    def _record(self, *, failed: bool) -> None:
        now = self._clock()
        slot_start = now - (now % self._bucket_span)
        bucket = self._buckets[int(now / self._bucket_span) % _BUCKETS]
        if bucket.start != slot_start:
            bucket.start, bucket.calls, bucket.failures = slot_start, 0, 0
        bucket.calls += 1
        bucket.failures += failed

    def _open(self, why: str) -> None:
        self._state = BreakerState.OPEN
        self._opened_at = self._clock()
        self._probe_in_flight = False
        self.times_opened += 1
        log.warning("breaker of %s opened: %s; calls fail at once for %gs, then one probe",
                    self.name, why, self.config.reset)

    def _close(self) -> None:
        log.info("breaker of %s closed: the server answered again", self.name)
        self._state = BreakerState.CLOSED
        self._probe_in_flight = False
        self.last_failure = ""
        for bucket in self._buckets:
            bucket.start, bucket.calls, bucket.failures = -math.inf, 0, 0
