"""A blackholed server (the network swallows everything; nothing is refused) under the real app,
for each kind: with a UI worker stuck on it, keys are handled within 100 ms; calls end at the
kind's call timeout; the breaker opens per the reference thresholds (volume 10; 70 % / 60 % /
50 %), calls then fail at once; after the reset time (15 s / 45 s / 30 s, skipped on an injected
clock) it goes half-open, its probe closes it once the network is back, and the same app reads
the page again. No exception escapes a worker and the app exits cleanly."""

from __future__ import annotations

import asyncio
import time

import pytest

from faultkit import KIND_PARAMS, ROWS, SERVER_FIXTURES, Kind, record_worker_errors
from faultproxy import FaultProxy
from studio_tui.screens.base import DatabaseScreen
from studio_tui.screens.health import HealthScreen
from studio_tui.services.breaker import BreakerState
from studio_tui.services.errors import CircuitOpenError, OperationTimeoutError
from studio_tui.services.kinds import KINDS
from studio_tui.widgets.catalog_table import CatalogTable
from ui import (QUIET_SETTINGS, SteppedClock, cursor_key_round_trip, run_command, seed, settle,
                studio_app)

KEY_ROUND_TRIP = 0.1  # seconds from a keypress to its effect painted


async def cursor_round_trips(pilot, presses: int = 2) -> list[float]:
    """Down or up in the health screen's table (its answer line and trends follow the cursor,
    asking no server): seconds from each key to its effect painted, timed from the key event,
    not around ``pilot.press`` (whose wait for an idle app would count)."""
    app = pilot.app
    table = app.screen.query_one(CatalogTable).table
    return [await cursor_key_round_trip(app, lambda: table.cursor_row, limit=2)
            for _ in range(presses)]


@pytest.mark.parametrize("kind_name", KIND_PARAMS)
async def test_a_blackholed_server_times_out_opens_the_breaker_and_recovers_in_the_same_app(
        request, tmp_path, kind_name):
    kind = Kind(kind_name, request.getfixturevalue(SERVER_FIXTURES[kind_name]).url)
    await kind.seed()
    proxy = FaultProxy.to(kind.url)
    config = KINDS[kind_name].breaker
    figures: dict[str, float] = {}
    try:
        await seed(tmp_path, {"Acme": {"shop": [("db", proxy.url(kind.entry_url())),
                                                ("direct", kind.entry_url())]}})
        app = studio_app(tmp_path, QUIET_SETTINGS)
        clock = SteppedClock()
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            errored = record_worker_errors(app)
            app.studio.use_clock(clock)  # before the pool opens: its breaker reads this clock
            await run_command(pilot, "open db")
            browser = app.screen
            assert isinstance(browser, DatabaseScreen), browser
            manager = app.studio.manager
            entry_id = browser.entry.id
            breaker = manager.breaker(entry_id)
            assert (breaker.config.volume, breaker.config.threshold, breaker.config.reset) == \
                (config.volume, config.threshold, config.reset) == \
                (10, {"redis": 0.7, "mongodb": 0.6, "postgres": 0.5}[kind_name.value],
                 {"redis": 15.0, "mongodb": 45.0, "postgres": 30.0}[kind_name.value])
            assert await kind.page(manager, entry_id) == ROWS
            # A second entry, straight to the server: the health screen lists both.
            await kind.ping(manager, (await app.studio.catalog.find_database("direct")).id)
            clock.skip(config.window)  # a clean window
            assert breaker.window_counts() == (0, 0)

            await pilot.press("H")
            await pilot.pause()
            health = app.screen
            assert isinstance(health, HealthScreen)
            assert len(health.query_one(CatalogTable).table.rows) == 2
            keys_before = await cursor_round_trips(pilot, 6)
            # 100 ms, unless the machine itself is that slow before any fault (other work on
            # a small CI box): then no slower during the fault than before it.
            key_limit = max(KEY_ROUND_TRIP, 1.5 * sorted(keys_before)[-2])
            proxy.blackhole()
            health.query_one(CatalogTable).table.move_cursor(row=0)
            await pilot.press("p")  # a UI worker now waits on the blackholed server
            await pilot.pause()
            assert any(w.group == "health-probe" and not w.is_finished for w in app.workers)

            # Enough calls to reach the volume, all into the hole: each ends at the call
            # timeout, and together they open the breaker.
            started = time.perf_counter()

            async def timed_ping() -> tuple[float, BaseException | None]:
                began = time.perf_counter()
                try:
                    await kind.ping(manager, entry_id)
                except Exception as error:  # noqa: BLE001 - what it raised is the subject
                    return time.perf_counter() - began, error
                return time.perf_counter() - began, None

            calls = [asyncio.create_task(timed_ping()) for _ in range(config.volume - 1)]
            keys_stuck: list[float] = []  # while every call waits on the hole
            keys_ending: list[float] = []  # while they all time out and are stopped
            while not all(call.done() for call in calls):
                stuck = time.perf_counter() - started < config.call_timeout - 0.2
                (keys_stuck if stuck else keys_ending).extend(await cursor_round_trips(pilot))
                await asyncio.sleep(0.05)
            outcomes = [call.result() for call in calls]
            for took, error in outcomes:
                assert isinstance(error, OperationTimeoutError), repr(error)
                assert f"db did not answer within {config.call_timeout:g}s" in str(error)
                assert config.call_timeout - 0.05 < took < config.call_timeout + 0.5, took
            figures["timeout_s"] = max(took for took, _ in outcomes)
            # The probe worker (a ping with the tier's connect timeout at most) ended too.
            await until(lambda: not any(w.group == "health-probe" for w in app.workers), 6)
            assert breaker.state is BreakerState.OPEN, breaker.window_counts()
            assert breaker.times_opened == 1
            figures["keys_before_ms"] = max(keys_before) * 1000
            figures["keys_stuck_ms"] = max(keys_stuck) * 1000
            figures["keys_ending_ms"] = max(keys_ending, default=0) * 1000
            assert keys_stuck and max(keys_stuck) < key_limit, (keys_stuck, keys_before)
            # Ten calls timing out at the same instant (each logged, mapped, its stop on the
            # server started) may hold one key back a little longer on a busy machine.
            assert max(keys_ending, default=0) < 2.5 * key_limit, keys_ending

            # Open: calls fail at once, without touching the server.
            fast = []
            for _ in range(20):
                began = time.perf_counter()
                with pytest.raises(CircuitOpenError, match="calls are paused"):
                    await kind.ping(manager, entry_id)
                fast.append(time.perf_counter() - began)
            figures["fail_fast_ms"] = max(fast) * 1000
            assert max(fast) < 0.01, fast
            keys_open = await cursor_round_trips(pilot, 4)
            assert max(keys_open) < key_limit, keys_open

            # The network comes back; after the reset time the breaker lets one probe through
            # (the app's own recovery probe), which closes it.
            proxy.normal()
            clock.skip(config.reset)
            assert breaker.state is BreakerState.HALF_OPEN
            began = time.perf_counter()
            await until(lambda: breaker.state is BreakerState.CLOSED, 5)
            figures["recover_s"] = time.perf_counter() - began
            await pilot.press("escape")
            await pilot.pause()
            assert app.screen is browser
            assert await kind.page(manager, entry_id) == ROWS  # the same app, no restart
            assert errored == []
        assert app._exception is None
        assert app.return_code in (0, None)
        print(f"{kind_name.value}: " + ", ".join(f"{k}={v:.3g}" for k, v in figures.items()))
    finally:
        proxy.stop()
        await kind.drop()


async def until(condition, timeout: float) -> None:
    started = time.perf_counter()
    while not condition():
        assert time.perf_counter() - started < timeout, "not within the time"
        await asyncio.sleep(0.02)
