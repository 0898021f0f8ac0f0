"""How the connection manager meets a server that is slow or stuck, against real servers:
interactive calls have the kind's call timeout and long work the tier's query timeout, calls
queued behind stuck ones fail in their own time and count against the breaker, and the time
limit holds even when an operation swallows the cancel."""

from __future__ import annotations

import asyncio
import time

import pytest

import realservers
from studio_tui.services.catalog import Catalog
from studio_tui.services.errors import OperationTimeoutError
from studio_tui.services.manager import ConnectionManager

REDIS_DB = 7  # this module's own logical database


async def test_interactive_calls_have_the_call_timeout_and_long_work_the_query_timeout(
        catalog: Catalog, project_id, manager, redis_server):
    entries = {name: await catalog.add_database(project_id, name, url) for name, url in (
        ("cache", realservers.redis_db_url(redis_server.url, REDIS_DB)),
        ("orders", "postgresql://app@orders.invalid/shop"),
        ("docs", "mongodb://docs.invalid/"))}
    # The reference numbers: the kinds' call timeouts, the free tier's query timeout.
    assert {name: (manager.time_limit(entry), manager.time_limit(entry, long=True))
            for name, entry in entries.items()} == {
        "cache": (1.0, 10.0), "orders": (5.0, 10.0), "docs": (10.0, 10.0)}

    cache = entries["cache"].id
    started = time.perf_counter()
    with pytest.raises(OperationTimeoutError, match="cache did not answer within 1s"):
        await manager.run(cache, "BLPOP", lambda r: r.blpop(["nothing"], 1.5))
    assert 0.95 < time.perf_counter() - started < 1.4
    started = time.perf_counter()
    assert await manager.run(cache, "BLPOP", lambda r: r.blpop(["nothing"], 1.5),
                             long=True) is None
    assert time.perf_counter() - started >= 1.5


async def test_calls_queued_behind_stuck_ones_fail_in_their_own_time_and_count(
        catalog: Catalog, project_id, redis_server):
    entry = await catalog.add_database(project_id, "cache",
                                       realservers.redis_db_url(redis_server.url, REDIS_DB))
    release = asyncio.Event()

    async def stuck(client) -> None:
        await release.wait()

    async with ConnectionManager(catalog) as manager:
        await manager.run(entry.id, "PING", lambda r: r.ping())
        breaker = manager.breaker(entry.id)
        # The free tier runs 20 operations at once; a 21st waits for a turn…
        holders = [asyncio.create_task(manager.run(entry.id, "stuck", stuck, long=True))
                   for _ in range(20)]
        await asyncio.sleep(0.1)
        started = time.perf_counter()
        with pytest.raises(OperationTimeoutError, match="waited behind 20 running operations"):
            await manager.run(entry.id, "GET", lambda r: r.get("k"))
        assert 0.95 < time.perf_counter() - started < 1.4  # its 1 s, not the 10 s acquire
        assert breaker.window_counts() == (2, 1)  # it counted
        release.set()
        await asyncio.gather(*holders)

        # …and one behind the pool's 5 connections, all held by blocking commands.
        blockers = [asyncio.create_task(manager.run(
            entry.id, "BLPOP", lambda r: r.blpop(["nothing"], 2), long=True)) for _ in range(5)]
        await asyncio.sleep(0.2)
        started = time.perf_counter()
        with pytest.raises(OperationTimeoutError, match="did not answer within 1s"):
            await manager.run(entry.id, "GET", lambda r: r.get("k"))
        assert 0.95 < time.perf_counter() - started < 1.4
        assert breaker.window_counts()[1] == 2
        await asyncio.gather(*blockers)
        metrics = manager.metrics.get(entry.id)
        assert metrics.errors["TIMEOUT"] == 2 and metrics.answering is True


async def test_the_time_limit_holds_against_an_operation_that_swallows_a_cancel(
        catalog: Catalog, project_id, manager, redis_server):
    entry = await catalog.add_database(project_id, "cache",
                                       realservers.redis_db_url(redis_server.url, REDIS_DB))

    async def stubborn(client) -> None:
        # What Python 3.11's asyncio.wait_for does when a cancel lands as its write completes:
        # it swallows it, and the driver goes on waiting.
        try:
            await asyncio.sleep(5)
        except asyncio.CancelledError:
            pass
        await asyncio.sleep(5)

    started = time.perf_counter()
    with pytest.raises(OperationTimeoutError, match="did not answer within 1s"):
        await manager.run(entry.id, "stubborn", stubborn)
    assert time.perf_counter() - started < 1.5
    assert await manager.run(entry.id, "PING", lambda r: r.ping()) is True
