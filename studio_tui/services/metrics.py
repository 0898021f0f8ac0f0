"""Per-database metrics: connections, pool, breaker state, durations and errors.

Cheap to record on every operation; read by the health screen and `studio-tui health --json`.
"""

from __future__ import annotations

import bisect
import time
from collections import Counter, deque
from dataclasses import dataclass, field

# Upper bounds in seconds, Prometheus style; the last bucket is +Inf.
DURATION_BUCKETS: tuple[float, ...] = (
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
)
_RECENT = 512
HISTORY_SECONDS = 600


@dataclass(slots=True)
class _Second:
    stamp: int = -1
    count: int = 0
    total: float = 0.0


@dataclass(slots=True)
class Histogram:
    bounds: tuple[float, ...] = DURATION_BUCKETS
    counts: list[int] = field(default_factory=lambda: [0] * (len(DURATION_BUCKETS) + 1))
    total: int = 0
    sum: float = 0.0

    def observe(self, seconds: float) -> None:
        self.counts[bisect.bisect_left(self.bounds, seconds)] += 1
        self.total += 1
        self.sum += seconds

    def to_dict(self) -> dict:
        return {
            "buckets": {("+Inf" if i == len(self.bounds) else str(self.bounds[i])): n
                        for i, n in enumerate(self.counts)},
            "count": self.total,
            "sum": round(self.sum, 6),
        }


@dataclass(frozen=True, slots=True)
class PoolStats:
    total: int = 0
    available: int = 0
    pending: int = 0
    max: int = 0


@dataclass(slots=True)
class DatabaseMetrics:
    """Live metrics of one database entry."""

    name: str
    kind: str
    active_operations: int = 0
    breaker_state: int = 0
    pool: PoolStats = field(default_factory=PoolStats)
    operation_seconds: Histogram = field(default_factory=Histogram)
    acquire_seconds: Histogram = field(default_factory=Histogram)
    errors: Counter = field(default_factory=Counter)
    # (monotonic time, seconds) of the latest operations, for percentiles and rates.
    recent: deque = field(default_factory=lambda: deque(maxlen=_RECENT))
    # One slot per second for the last HISTORY_SECONDS: O(1) to record, enough for trends.
    history: list[_Second] = field(default_factory=lambda: [_Second() for _ in
                                                            range(HISTORY_SECONDS)])
    last_error: str = ""
    # Wall-clock times: when the server last answered a call (with a result or an error about
    # the request), and since when calls have gone unanswered (None while it answers).
    last_answer: float | None = None
    silent_since: float | None = None

    @property
    def answering(self) -> bool | None:
        """Whether the latest call was answered; None before any call ended."""
        if self.silent_since is not None:
            return False
        return None if self.last_answer is None else True

    def observe_answer(self, *, now: float | None = None) -> None:
        self.last_answer = time.time() if now is None else now
        self.silent_since = None

    def observe_no_answer(self, *, now: float | None = None) -> None:
        """A call failed for want of an answer: a timeout, a refused or broken connection."""
        if self.silent_since is None:
            self.silent_since = time.time() if now is None else now

    def observe_operation(self, seconds: float, *, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        self.operation_seconds.observe(seconds)
        self.recent.append((now, seconds))
        second = int(now)
        slot = self.history[second % HISTORY_SECONDS]
        if slot.stamp != second:
            slot.stamp, slot.count, slot.total = second, 0, 0.0
        slot.count += 1
        slot.total += seconds

    def trend(self, *, span: int = 120, step: int = 5,
              now: float | None = None) -> tuple[list[float], list[float]]:
        """(ops/s, mean latency in ms) per ``step``-second window over the last ``span`` seconds,
        oldest first, for sparklines."""
        last = int(time.monotonic() if now is None else now)
        rates: list[float] = []
        latencies: list[float] = []
        for window_end in range(last - span + step, last + 1, step):
            count, total = 0, 0.0
            for second in range(window_end - step + 1, window_end + 1):
                slot = self.history[second % HISTORY_SECONDS]
                if slot.stamp == second:
                    count += slot.count
                    total += slot.total
            rates.append(count / step)
            latencies.append(total / count * 1000 if count else 0.0)
        return rates, latencies

    def observe_error(self, code: str, message: str) -> None:
        self.errors[code] += 1
        self.last_error = message

    def percentile(self, fraction: float) -> float | None:
        """Latency percentile over the most recent operations, in seconds."""
        if not self.recent:
            return None
        ordered = sorted(seconds for _, seconds in self.recent)
        index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
        return ordered[index]

    def ops_per_second(self, over: float = 10.0, *, now: float | None = None) -> float:
        now = time.monotonic() if now is None else now
        count = sum(1 for stamp, _ in self.recent if stamp >= now - over)
        return count / over

    def to_dict(self) -> dict:
        p50, p95 = self.percentile(0.5), self.percentile(0.95)
        return {
            "name": self.name,
            "kind": self.kind,
            "active_connections": self.active_operations,
            "pool": {"total": self.pool.total, "available": self.pool.available,
                     "pending": self.pool.pending, "max": self.pool.max},
            "breaker_state": self.breaker_state,
            "operation_duration_seconds": self.operation_seconds.to_dict(),
            "acquire_duration_seconds": self.acquire_seconds.to_dict(),
            "errors": dict(self.errors),
            "p50_ms": None if p50 is None else round(p50 * 1000, 3),
            "p95_ms": None if p95 is None else round(p95 * 1000, 3),
            "answering": self.answering,
            "last_answer_at": self.last_answer,
            "silent_since": self.silent_since,
        }


class MetricsRegistry:
    """Holds the metrics of every database entry, keyed by entry id."""

    def __init__(self) -> None:
        self._by_id: dict[str, DatabaseMetrics] = {}

    def for_database(self, database_id: str, name: str, kind: str) -> DatabaseMetrics:
        metrics = self._by_id.get(database_id)
        if metrics is None:
            metrics = self._by_id[database_id] = DatabaseMetrics(name=name, kind=kind)
        return metrics

    def get(self, database_id: str) -> DatabaseMetrics | None:
        return self._by_id.get(database_id)

    def all(self) -> dict[str, DatabaseMetrics]:
        return dict(self._by_id)
