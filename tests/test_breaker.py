"""Circuit breaker state machine, with the reference thresholds and an injected clock."""

from __future__ import annotations

import time

import pytest

from conftest import FakeClock

from studio_tui.services.breaker import BreakerState, CircuitBreaker
from studio_tui.services.errors import CircuitOpenError
from studio_tui.services.kinds import KINDS
from studio_tui.services.kinds import DatabaseKind


def _feed(breaker: CircuitBreaker, failures: int, successes: int) -> None:
    for _ in range(successes):
        breaker.before_call()
        breaker.on_success()
    for _ in range(failures):
        breaker.before_call()
        breaker.on_failure("CONNECTION_REFUSED")


@pytest.mark.parametrize("kind, opens_at, stays_at", [
    (DatabaseKind.POSTGRES, 5, 4),   # 50 % of 10
    (DatabaseKind.MONGODB, 6, 5),    # 60 % of 10
    (DatabaseKind.REDIS, 7, 6),      # 70 % of 10
])
def test_reference_thresholds(kind: DatabaseKind, opens_at: int, stays_at: int):
    clock = FakeClock()
    below = CircuitBreaker("db", KINDS[kind].breaker, clock)
    _feed(below, failures=stays_at, successes=10 - stays_at)
    assert below.state is BreakerState.CLOSED

    at = CircuitBreaker("db", KINDS[kind].breaker, clock)
    _feed(at, failures=opens_at, successes=10 - opens_at)
    assert at.state is BreakerState.OPEN


def test_too_few_calls_never_open_it():
    breaker = CircuitBreaker("db", KINDS[DatabaseKind.REDIS].breaker, FakeClock())
    _feed(breaker, failures=9, successes=0)
    assert breaker.state is BreakerState.CLOSED
    _feed(breaker, failures=1, successes=0)
    assert breaker.state is BreakerState.OPEN


def test_failures_older_than_the_window_are_forgotten():
    clock = FakeClock()
    breaker = CircuitBreaker("db", KINDS[DatabaseKind.REDIS].breaker, clock)
    _feed(breaker, failures=9, successes=0)
    clock.advance(KINDS[DatabaseKind.REDIS].breaker.window + 1)
    _feed(breaker, failures=1, successes=0)
    assert breaker.state is BreakerState.CLOSED
    assert breaker.window_counts() == (1, 1)


def test_open_fails_fast_with_who_why_and_when():
    clock = FakeClock()
    breaker = CircuitBreaker("orders-db", KINDS[DatabaseKind.POSTGRES].breaker, clock)
    _feed(breaker, failures=10, successes=0)
    clock.advance(10)
    with pytest.raises(CircuitOpenError) as caught:
        breaker.before_call()
    error = caught.value
    assert error.database == "orders-db"
    assert "CONNECTION_REFUSED" in error.detail
    assert error.retry_after == pytest.approx(20.0)
    assert "retry in 20s" in str(error)


def test_half_open_lets_exactly_one_probe_through_then_closes_on_success():
    clock = FakeClock()
    breaker = CircuitBreaker("db", KINDS[DatabaseKind.MONGODB].breaker, clock)
    _feed(breaker, failures=10, successes=0)
    clock.advance(45)
    assert breaker.state is BreakerState.HALF_OPEN
    breaker.before_call()  # the probe
    with pytest.raises(CircuitOpenError, match="probe is in flight"):
        breaker.before_call()
    breaker.on_success()
    assert breaker.state is BreakerState.CLOSED
    assert breaker.window_counts() == (0, 0)


def test_failed_probe_reopens_for_a_full_reset_period():
    clock = FakeClock()
    breaker = CircuitBreaker("db", KINDS[DatabaseKind.REDIS].breaker, clock)
    _feed(breaker, failures=10, successes=0)
    clock.advance(15)
    breaker.before_call()
    breaker.on_failure("TIMEOUT")
    assert breaker.state is BreakerState.OPEN
    assert breaker.retry_in() == pytest.approx(15.0)
    assert breaker.times_opened == 2


def test_a_call_failing_late_while_open_does_not_restart_the_wait_for_the_probe():
    clock = FakeClock()
    breaker = CircuitBreaker("db", KINDS[DatabaseKind.REDIS].breaker, clock)
    _feed(breaker, failures=10, successes=0)
    clock.advance(10)
    breaker.on_failure("TIMEOUT")  # a long call let through before it opened, ending now
    assert breaker.state is BreakerState.OPEN and breaker.times_opened == 1
    assert breaker.retry_in() == pytest.approx(5.0)
    clock.advance(5)
    assert breaker.state is BreakerState.HALF_OPEN


def test_cancelled_probe_frees_the_probe_slot():
    clock = FakeClock()
    breaker = CircuitBreaker("db", KINDS[DatabaseKind.REDIS].breaker, clock)
    _feed(breaker, failures=10, successes=0)
    clock.advance(15)
    breaker.before_call()
    breaker.on_abandoned()
    breaker.before_call()  # another probe may go


def test_force_probe_skips_the_wait():
    clock = FakeClock()
    breaker = CircuitBreaker("db", KINDS[DatabaseKind.POSTGRES].breaker, clock)
    _feed(breaker, failures=10, successes=0)
    breaker.force_probe()
    assert breaker.state is BreakerState.HALF_OPEN


def test_open_breaker_rejects_in_microseconds():
    breaker = CircuitBreaker("db", KINDS[DatabaseKind.REDIS].breaker, FakeClock())
    _feed(breaker, failures=10, successes=0)
    started = time.perf_counter()
    for _ in range(1000):
        with pytest.raises(CircuitOpenError):
            breaker.before_call()
    per_call = (time.perf_counter() - started) / 1000
    assert per_call < 0.001
