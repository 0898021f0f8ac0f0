"""A Redis server that hangs rather than refuses: frozen with SIGSTOP in the middle of a scan,
thawed with SIGCONT, through the real app. The breaker opens once its thresholds are met, calls
fail at once while it is open, health says the server is not answering, the UI answers keys
within 100 ms throughout, the breaker closes by itself once the server answers, and the scan
resumes from its cursor."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis as redis_sync
from textual.widgets import Static

import realservers
from studio_tui.widgets.redis.value_panel import ValuePanel
from studio_tui.screens.health import HealthScreen
from studio_tui.screens.redis.browser import RedisBrowserScreen
from studio_tui.services.breaker import BreakerState, CircuitBreaker
from studio_tui.services.errors import CircuitOpenError, OperationTimeoutError
from studio_tui.widgets.catalog_table import CatalogTable
from studio_tui.widgets.redis.key_list import KeyList
from studio_tui.widgets.redis.namespace_tree import NamespaceTree
from ui import (QUIET_SETTINGS, SteppedClock, cursor_key_round_trip, run_command, screen_text,
                seed, settle, studio_app)

KEYS = 30_000
KEY_ROUND_TRIP = 0.1  # seconds: what a keypress may take, from the key to the repaint


@pytest.fixture
def server() -> Iterator[realservers.RunningServer]:
    """A Redis of this test's own (freezing the shared one would stall other tests)."""
    started = realservers.start_redis()
    client = redis_sync.Redis.from_url(started.url)
    with client.pipeline(transaction=False) as pipe:
        for n in range(KEYS):
            pipe.set(f"item:{n}", n)
        pipe.execute()
    client.close()
    try:
        yield started
    finally:
        os.kill(started.process.pid, signal.SIGCONT)  # a stopped process ignores SIGTERM
        started.stop()


def failures_to_open(breaker: CircuitBreaker) -> int:
    """How many more failures open ``breaker``, given what its window holds."""
    calls, failures = breaker.window_counts()
    config = breaker.config
    more = 0
    while calls + more < config.volume or (failures + more) / (calls + more) < config.threshold:
        more += 1
    return more


async def key_round_trips(pilot, presses: int = 2) -> list[float]:
    """Seconds from a keypress reaching the app to its effect painted, on the browser: down or
    up, in the key list, or in the namespace tree while it shows (moving between namespaces
    asks the server nothing). Timed from the key event to a callback after the next refresh,
    not around ``pilot.press``, whose wait for an idle process (in 20 ms steps) would be
    measured too."""
    app = pilot.app
    tree = app.screen.query_one(NamespaceTree)
    listed = app.screen.query_one(KeyList)
    return [await cursor_key_round_trip(
        app, (lambda: tree.cursor_line) if tree.display else (lambda: listed.cursor), limit=1)
        for _ in range(presses)]


async def until(pilot, condition, timeout: float, what: str, keys: list[float]) -> float:
    """Wait until ``condition()``, timing keypresses into ``keys`` meanwhile (while the browser
    is on screen); how long it took."""
    started = time.perf_counter()
    while not condition():
        assert time.perf_counter() - started < timeout, f"{what}: not within {timeout}s"
        if isinstance(pilot.app.screen, RedisBrowserScreen):
            keys.extend(await key_round_trips(pilot, 2))
        await pilot.pause(0.05)
    return time.perf_counter() - started


async def test_a_hung_server_opens_the_breaker_and_the_scan_resumes_once_it_answers(
        tmp_path: Path, server):
    await seed(tmp_path, {"Acme": {"shop": [("cache", server.url)]}})
    app = studio_app(tmp_path, QUIET_SETTINGS)
    clock = SteppedClock()
    keys_up, keys_frozen, keys_back = [], [], []
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        studio = app.studio
        studio.use_clock(clock)  # before any pool opens: its breaker reads this clock
        await run_command(pilot, "open cache")
        screen = app.screen
        assert isinstance(screen, RedisBrowserScreen) and screen.scan_state == "paused"
        listed = screen.query_one(KeyList)
        manager, service = studio.manager, screen.service
        breaker = manager.breaker(screen.entry.id)
        assert breaker.config.call_timeout == 1.0 and len(listed) < KEYS
        keys_up += await key_round_trips(pilot, 4)
        # The namespace tree, until the breaker opens: its keys ask the server nothing, so
        # only the test's calls count.
        await pilot.press("v")
        await settle(pilot)
        assert screen.query_one(NamespaceTree).display
        keys_up += await key_round_trips(pilot, 4)

        # A clean window, then a few answered calls in it: the ratio has something to beat.
        clock.skip(breaker.config.window)
        for _ in range(4):
            await service.dbsize()
        assert breaker.window_counts() == (4, 0)

        os.kill(server.process.pid, signal.SIGSTOP)
        try:
            # Mid-scan: `a` asks for every key, and the next SCAN hangs (a long call).
            cursor_at_freeze = screen.key_scan.cursor
            assert cursor_at_freeze != 0
            await pilot.press("a")
            scan_all_pressed = time.perf_counter()
            await pilot.pause(0.2)
            assert screen.scan_state == "scanning"

            # Interactive calls time out after the call timeout (1 s), and each counts.
            needed = failures_to_open(breaker)
            assert needed == 10  # 9 of 13 is under 70 %, 10 of 14 is not
            started = time.perf_counter()
            calls = [asyncio.ensure_future(service.dbsize()) for _ in range(needed - 1)]
            while not all(call.done() for call in calls):
                keys_frozen.extend(await key_round_trips(pilot, 2))
                await asyncio.sleep(0.02)
            waited = time.perf_counter() - started
            assert all(isinstance(call.exception(), OperationTimeoutError) for call in calls)
            assert 0.9 < waited < 2.0, waited
            assert breaker.window_counts() == (13, 9)
            assert breaker.state is BreakerState.CLOSED  # the volume is there, the ratio not
            with pytest.raises(OperationTimeoutError, match="did not answer within 1s"):
                await service.dbsize()
            assert breaker.state is BreakerState.OPEN

            # Open: every call fails at once, without touching the server.
            fast = []
            for _ in range(20):
                started = time.perf_counter()
                with pytest.raises(CircuitOpenError):
                    await service.dbsize()
                fast.append(time.perf_counter() - started)
            assert sorted(fast)[int(len(fast) * 0.9)] < 0.005
            # …and so does what a key starts: back to the list, its value is refused at once.
            started = time.perf_counter()
            await pilot.press("v")
            await until(pilot, lambda: "Temporarily unavailable" in screen_text(app), 0.8,
                        "the refusal on the status line", keys_frozen)
            assert time.perf_counter() - started < 0.8
            # The value pane says which key it could not load, not the previous key's value.
            summary = str(screen.query_one(ValuePanel).query_one("#summary").content)
            assert summary.startswith("Could not load ") and screen.shown is None

            # Health: not answering, no stale latencies, breaker open; `p` probes and says so.
            await pilot.press("H")
            await pilot.pause()
            assert isinstance(app.screen, HealthScreen)
            row = [str(cell) for cell in
                   app.screen.query_one(CatalogTable).table.get_row_at(0)]
            assert row[:3] == ["cache", "redis", "✖ no answer"]
            assert row[3].startswith("open (retry ") and row[7:9] == ["-", "-"]
            assert "TIMEOUT×" in row[9]
            answer = str(app.screen.query_one("#answer", Static).content)
            assert answer.startswith("cache is not answering: last answer at ")
            # 15 s from the opening; a busy machine may have ticked a second off already.
            assert re.search(r"Calls fail at once; next probe in 1[45]s\.", answer), answer
            await pilot.press("p")
            await until(pilot, lambda: "Probe at" in screen_text(app), 3, "the probe's result",
                        keys_frozen)
            assert "cache: down (Timed out) · cache did not answer within 1s." in \
                screen_text(app)
            assert breaker.state is BreakerState.OPEN  # the probe failed: open again
            await pilot.press("escape")
            await pilot.pause()
            assert app.screen is screen
            keys_frozen += await key_round_trips(pilot, 4)  # the list: each value refused
            await pilot.press("v")  # the tree again: no value errors over the scan's line

            # The scan's SCAN is long work: it waits out the tier's query timeout (10 s), then
            # the scan stops where it was and says how to go on.
            await until(pilot, lambda: screen.scan_state == "interrupted", 12,
                        "the interrupted scan", keys_frozen)
            assert time.perf_counter() - scan_all_pressed > 9.5
            stopped_at = screen.key_scan.cursor
            assert stopped_at == cursor_at_freeze
            assert "Scan stopped (Timed out) at ≈" in screen_text(app)
            assert "keys · a or m resumes, r restarts" in screen_text(app)
            # While the breaker is open, resuming is refused at once; the cursor stays.
            await pilot.press("m")
            await until(pilot, lambda: screen.scan_state == "interrupted" and
                        "Temporarily unavailable" in screen_text(app), 1, "the refused resume",
                        keys_frozen)
            assert screen.key_scan.cursor == stopped_at
        finally:
            os.kill(server.process.pid, signal.SIGCONT)

        # Back: once the reset time is up, the breaker probes and closes by itself.
        clock.skip(breaker.config.reset)
        await until(pilot, lambda: breaker.state is BreakerState.CLOSED, 3,
                    "the breaker closing by itself", keys_back)
        assert manager.metrics.get(screen.entry.id).answering is True
        await pilot.press("v")
        await settle(pilot)
        assert screen.shown is not None  # the highlighted key's value shows again

        # `a` resumes the scan from its cursor, says so, and every key is listed once.
        await pilot.press("a")
        await settle(pilot)
        assert screen.scan_state == "done"
        assert f"scan complete over {KEYS:,} keys (resumed from cursor {stopped_at})" in \
            screen_text(app)
        assert len(listed) == KEYS and len(set(listed.keys)) == KEYS
        keys_back += await key_round_trips(pilot, 4)

    for phase, timings in (("up", keys_up), ("frozen", keys_frozen), ("back", keys_back)):
        assert timings, phase
        print(f"{phase}: {len(timings)} keypresses, slowest {max(timings) * 1000:.1f} ms, "
              f"median {sorted(timings)[len(timings) // 2] * 1000:.1f} ms")
        assert max(timings) < KEY_ROUND_TRIP, (phase, max(timings))
