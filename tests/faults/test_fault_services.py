"""Network faults between the app's services and each real server, through the fault proxy: a
reply cut off mid-page (close after N bytes, or a reset while it streams), a slow server (delay,
bandwidth cap), a burst of operations larger than the pool. Each ends in a specific StudioError
within the call's time, and the next call works on the same manager: no restart."""

from __future__ import annotations

import asyncio
import time

import pytest

from faultkit import KIND_PARAMS, PAYLOAD, ROWS, SERVER_FIXTURES, Kind
from faultproxy import FaultProxy
from studio_tui.services.breaker import BreakerState
from studio_tui.services.kinds import DatabaseKind
from studio_tui.services.errors import (
    OperationTimeoutError,
    PoolExhaustedError,
    StudioError,
    TooManyOperationsError,
)
from studio_tui.services.tiers import TIER_LIMITS, Tier

pytestmark = pytest.mark.parametrize("kind_name", KIND_PARAMS)


@pytest.fixture
async def kind(request, kind_name):
    server = request.getfixturevalue(SERVER_FIXTURES[kind_name])
    made = Kind(kind_name, server.url)
    await made.seed()
    yield made
    await made.drop()


@pytest.fixture
def proxy(kind):
    with FaultProxy.to(kind.url) as started:
        yield started


async def proxied_entry(catalog, project_id, kind: Kind, proxy: FaultProxy, name: str = "db"):
    return await catalog.add_database(project_id, name, proxy.url(kind.entry_url()))


def assert_clear_outage(error: StudioError, name: str) -> None:
    """A failure the user can act on: says which database and what happened, in the app's
    words, and counts as the server's (not the request's) fault."""
    assert error.is_outage, repr(error)
    assert error.database == name
    assert not str(error).startswith(("Unexpected", "[db] Unexpected")), str(error)
    assert "Traceback" not in str(error)


@pytest.mark.parametrize("fault", ["close_after", "reset"])
async def test_a_reply_cut_off_mid_page_fails_clearly_and_the_next_page_loads(
        catalog, project_id, manager, kind: Kind, proxy: FaultProxy, fault: str):
    entry = await proxied_entry(catalog, project_id, kind, proxy)
    assert await kind.page(manager, entry.id) == ROWS  # the pool is open and warm
    if fault == "close_after":
        proxy.close_after(ROWS * PAYLOAD // 8)
        with pytest.raises(StudioError) as caught:
            await kind.page(manager, entry.id)
    else:
        proxy.bandwidth(ROWS * PAYLOAD)  # the page streams for a while…
        page = asyncio.create_task(kind.page(manager, entry.id))
        await asyncio.sleep(0.15)
        assert not page.done()
        proxy.reset()  # …and is reset half-way
        if kind.kind is not DatabaseKind.POSTGRES:
            # redis-py and pymongo (retryReads) send a read again on a new connection, once;
            # a write redis-py would not (test_fault_redis_writes.py).
            accepted = proxy.accepted
            assert await page == ROWS
            assert proxy.accepted > accepted
            return
        with pytest.raises(StudioError) as caught:
            await page
    assert_clear_outage(caught.value, "db")
    breaker = manager.breaker(entry.id)
    assert breaker.window_counts()[1] == 1  # it counted once

    proxy.normal()
    assert await kind.page(manager, entry.id) == ROWS  # at once, on the same manager
    assert breaker.state is BreakerState.CLOSED


async def test_a_slow_server_ends_at_the_call_timeout_with_a_clear_error(
        catalog, project_id, manager, kind: Kind, proxy: FaultProxy):
    # Two entries, each through its own proxy, slowed two ways at once: a delay on every chunk
    # (a long way off), and a bandwidth cap (a thin pipe) on a page that would need far longer
    # than the call's time.
    with FaultProxy.to(kind.url) as thin:
        delayed = await proxied_entry(catalog, project_id, kind, proxy, "delayed")
        capped = await proxied_entry(catalog, project_id, kind, thin, "capped")
        for entry in (delayed, capped):
            await kind.ping(manager, entry.id)
        limit = kind.breaker.call_timeout
        page_limit = limit if kind.kind.value != "mongodb" else TIER_LIMITS[Tier.FREE].query_timeout
        proxy.delay(limit * 0.6)  # there and back: 1.2 times the call's time
        thin.bandwidth(10_000)  # a page is 100 kB or more: ten seconds at least

        async def timed(call, entry) -> tuple[float, BaseException | None]:
            started = time.perf_counter()
            try:
                await call(manager, entry.id)
            except StudioError as error:
                return time.perf_counter() - started, error
            return time.perf_counter() - started, None

        (slow_took, slow_error), (thin_took, thin_error) = await asyncio.gather(
            timed(kind.ping, delayed), timed(kind.page, capped))
        for took, error, name, expected in ((slow_took, slow_error, "delayed", limit),
                                            (thin_took, thin_error, "capped", page_limit)):
            assert isinstance(error, OperationTimeoutError), (name, error)
            assert f"{name} did not answer within {expected:g}s" in str(error)
            # The page of PostgreSQL first reads the table's shape (three short calls).
            assert expected - 0.05 < took < expected + 0.8, (name, took)
            print(f"{kind.kind.value} {name}: timed out after {took:.2f}s (limit {expected:g}s)")
        proxy.normal()
        thin.normal()
        for entry in (delayed, capped):
            assert await kind.page(manager, entry.id) == ROWS


async def test_a_burst_larger_than_the_pool_queues_or_fails_clearly_and_the_pool_recovers(
        catalog, project_id, manager, kind: Kind, proxy: FaultProxy):
    entry = await proxied_entry(catalog, project_id, kind, proxy)
    await kind.ping(manager, entry.id)
    limits = TIER_LIMITS[Tier.FREE]
    proxy.delay(0.05)  # each call holds its connection for 0.1 s or more
    limit = 2.0  # the same rules as the kinds' call timeouts, in less time

    async def one(n: int):
        started = time.perf_counter()
        try:
            await manager.run(entry.id, "ping", lambda handle: manager._slots[entry.id]
                              .connection.ping(handle), timeout=limit)
        except StudioError as error:
            return time.perf_counter() - started, error
        return time.perf_counter() - started, None

    started = time.perf_counter()
    outcomes = await asyncio.wait_for(asyncio.gather(*(one(n) for n in range(50))), limit + 3)
    took = time.perf_counter() - started
    errors = [error for _, error in outcomes if error is not None]
    ok = len(outcomes) - len(errors)
    print(f"{kind.kind.value}: 50 calls in {took:.2f}s: {ok} answered, "
          f"{sorted({type(e).__name__ for e in errors})} for {len(errors)}")
    assert ok >= limits.max_pool  # the pool served calls while the rest queued
    for error in errors:  # the rest waited their whole time behind the others, and said so
        assert isinstance(error, (OperationTimeoutError, TooManyOperationsError,
                                  PoolExhaustedError)), repr(error)
        assert "db" in str(error)
    assert all(elapsed < limit + 0.8 for elapsed, _ in outcomes)

    proxy.normal()
    slot = manager._slots[entry.id]
    # Calls that timed out are still being stopped on the server (each within the driver's
    # cancel timeout), holding their connections meanwhile; then all is given back.
    for _ in range(60):
        if slot.active == 0:
            break
        await asyncio.sleep(0.05)
    assert slot.active == 0 and not slot.gate.locked()
    breaker = manager.breaker(entry.id)
    if breaker.state is not BreakerState.CLOSED:
        breaker.force_probe()
    await kind.ping(manager, entry.id)
    assert await kind.page(manager, entry.id) == ROWS
    stats = slot.connection.pool_stats()
    assert stats.pending == 0 and stats.total <= limits.max_pool
