"""Cancelling the task that awaits ``manager.run`` stops the operation on the server, against
the real servers: PostgreSQL cancels the query, MongoDB kills the operation and its cursors,
Redis sends nothing more; the breaker does not count it, and the next operation works."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import time

import asyncpg
import pytest

import realservers
from studio_tui.services.breaker import BreakerState
from studio_tui.services.catalog import Catalog
from studio_tui.services.drivers.base import operation_comment

REDIS_DB = 6  # this module's own logical database, for the raw fixture


async def _cancel_after(coroutine, seconds: float) -> float:
    """Start ``coroutine`` as a task, cancel it after ``seconds``; return how long the cancel
    took to come back (it must come back as CancelledError)."""
    task = asyncio.create_task(coroutine)
    await asyncio.sleep(seconds)
    assert not task.done(), "the operation ended before it could be cancelled"
    started = time.perf_counter()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    return time.perf_counter() - started


def _assert_no_failure_counted(manager, database_id: str) -> None:
    """A user's cancel is not the server's failure: the breaker saw none."""
    breaker = manager.breaker(database_id)
    assert breaker.state is BreakerState.CLOSED
    assert breaker.window_counts()[1] == 0


# -- PostgreSQL --------------------------------------------------------------------------------


async def _state_of(url: str, pid: int) -> str | None:
    connection = await asyncpg.connect(url)
    try:
        return await connection.fetchval("SELECT state FROM pg_stat_activity WHERE pid = $1", pid)
    finally:
        await connection.close()


async def test_asyncpg_itself_sends_a_cancel_request_when_the_awaiting_task_is_cancelled(
        postgres_server):
    # The driver behaviour the Postgres adapter builds on: should an asyncpg release stop doing
    # this, this test says so first.
    connection = await asyncpg.connect(postgres_server.url)
    try:
        await _cancel_after(connection.fetchval("SELECT pg_sleep(30.2)"), 0.3)
        assert await realservers.postgres_sessions_running(
            postgres_server.url, "pg_sleep(30.2)", wait=2.0) == 0
        assert await _state_of(postgres_server.url, connection.get_server_pid()) == "idle"
        assert await connection.fetchval("SELECT 1") == 1
    finally:
        await connection.close()


async def test_cancelled_postgres_query_stops_on_the_server_and_its_connection_is_reused(
        catalog: Catalog, project_id, manager, postgres_server):
    entry = await catalog.add_database(project_id, "orders", postgres_server.url)
    pids: list[int] = []

    async def sleep(connection):
        pids.append(connection.get_server_pid())
        return await connection.fetchval("SELECT pg_sleep(30)")

    took = await _cancel_after(manager.run(entry.id, "select", sleep), 0.3)
    assert took < 1.5
    # The query is no longer running on the server, and its session is idle, not gone: the
    # connection went back to the pool usable.
    assert await realservers.postgres_sessions_running(
        postgres_server.url, "pg_sleep(30)", wait=2.0) == 0
    assert await _state_of(postgres_server.url, pids[0]) == "idle"
    pool = manager._slots[entry.id].connection.pool_stats()
    assert pool.available == pool.total
    assert await manager.run(entry.id, "select", lambda c: c.fetchval("SELECT 42")) == 42
    _assert_no_failure_counted(manager, entry.id)
    assert manager.metrics.get(entry.id).errors == {}


async def test_a_query_the_cancel_request_missed_is_cancelled_by_its_backend_pid(
        catalog: Catalog, project_id, manager, postgres_server):
    entry = await catalog.add_database(project_id, "orders", postgres_server.url)
    inner: list[asyncio.Future] = []
    pids: list[int] = []

    async def sleep_outside_the_cancelled_await(connection):
        pids.append(connection.get_server_pid())
        # The query runs in a future the cancel does not reach, so asyncpg sends no
        # CancelRequest for it: the adapter has to find and cancel the backend itself.
        inner.append(asyncio.ensure_future(connection.fetchval("SELECT pg_sleep(30.3)")))
        return await asyncio.shield(inner[0])

    took = await _cancel_after(manager.run(entry.id, "select", sleep_outside_the_cancelled_await),
                               0.3)
    assert took < 1.5
    assert await realservers.postgres_sessions_running(
        postgres_server.url, "pg_sleep(30.3)", wait=2.0) == 0
    deadline = time.monotonic() + 2  # and its connection was discarded, not pooled
    while await _state_of(postgres_server.url, pids[0]) is not None and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert await _state_of(postgres_server.url, pids[0]) is None
    with pytest.raises((asyncpg.QueryCanceledError, asyncpg.ConnectionDoesNotExistError,
                        asyncpg.InterfaceError)):
        await inner[0]
    assert await manager.run(entry.id, "select", lambda c: c.fetchval("SELECT 43")) == 43
    _assert_no_failure_counted(manager, entry.id)


async def test_a_cancel_the_server_does_not_answer_is_given_up_in_time(
        catalog: Catalog, project_id, manager, postgres_server, caplog):
    entry = await catalog.add_database(project_id, "orders", postgres_server.url)
    assert await manager.run(entry.id, "select", lambda c: c.fetchval("SELECT 1")) == 1
    manager._slots[entry.id].connection.cancel_timeout = 0.5
    pids: list[int] = []

    async def sleep(connection):
        pids.append(connection.get_server_pid())
        return await connection.fetchval("SELECT pg_sleep(30.4)")

    task = asyncio.create_task(manager.run(entry.id, "select", sleep))
    await asyncio.sleep(0.3)
    os.kill(pids[0], signal.SIGSTOP)  # the backend can no longer act on the CancelRequest
    try:
        started = time.perf_counter()
        task.cancel()
        with caplog.at_level(logging.WARNING), pytest.raises(asyncio.CancelledError):
            await task
        took = time.perf_counter() - started
    finally:
        os.kill(pids[0], signal.SIGCONT)
    assert 0.45 < took < 1.5
    assert any("took over 0.5s; given up" in r.getMessage() for r in caplog.records)
    # The connection was dropped rather than pooled busy; the next operation gets another.
    assert await manager.run(entry.id, "select",
                             lambda c: c.fetchval("SELECT pg_backend_pid()")) != pids[0]
    assert await realservers.postgres_sessions_running(
        postgres_server.url, "pg_sleep(30.4)", wait=2.0) == 0
    _assert_no_failure_counted(manager, entry.id)


# -- MongoDB (SecantusDB on the wire) -------------------------------------------------------
# What the test server offers, checked against secantusdb 0.7.0b3: ``killCursors`` works as on
# mongod; ``currentOp`` (the command) lists one entry per connection, its opid being the
# connection id and its ``command`` only the last command's name (no comment), and ignores
# filters; the ``$currentOp`` stage is a stub; ``killOp`` shuts that connection's socket but
# cannot interrupt a command already running, which runs to its end.
@pytest.fixture
async def raw_mongo(mongo_server):
    from pymongo import AsyncMongoClient

    client = AsyncMongoClient(mongo_server.url)
    await client.drop_database("studio_cancel")
    yield client
    await client.drop_database("studio_cancel")
    await client.close()


async def test_cancelled_mongo_operation_kills_its_open_cursor(catalog: Catalog, project_id,
                                                               manager, mongo_server, raw_mongo):
    from pymongo.errors import OperationFailure

    await raw_mongo.studio_cancel.docs.insert_many([{"n": n} for n in range(50)])
    entry = await catalog.add_database(project_id, "docs", mongo_server.url)
    opened: list[int] = []
    comments: list[str | None] = []

    async def read_slowly(client):
        comments.append(operation_comment())
        cursor = client.studio_cancel.docs.find({}, batch_size=5, comment=operation_comment())
        await cursor.next()
        opened.append(cursor.cursor_id)
        await asyncio.Event().wait()  # a reader that takes its time over the first batch

    task = asyncio.create_task(manager.run(entry.id, "find", read_slowly))
    await asyncio.sleep(0.3)
    # The server holds the cursor open between batches (this server lets another session read
    # it; a real mongod would refuse that getMore for its session, so it is only checked here).
    alive = await raw_mongo.studio_cancel.command("getMore", opened[0], collection="docs",
                                                  batchSize=1)
    assert len(alive["cursor"]["nextBatch"]) == 1
    started = time.perf_counter()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert time.perf_counter() - started < 1.5

    with pytest.raises(OperationFailure) as caught:
        await raw_mongo.studio_cancel.command("getMore", opened[0], collection="docs",
                                              batchSize=1)
    assert caught.value.code == 43  # CursorNotFound
    listing = await raw_mongo.admin.command("currentOp")
    assert opened[0] not in [op.get("cursorId") for op in listing["inprog"]]
    assert comments[0] and comments[0].startswith("studio-tui:") and operation_comment() is None
    assert await manager.run(entry.id, "count",
                             lambda c: c.studio_cancel.docs.count_documents({})) == 50
    _assert_no_failure_counted(manager, entry.id)


async def test_cancelled_mongo_command_in_flight_is_killed_on_the_server(
        catalog: Catalog, project_id, manager, mongo_server, raw_mongo, caplog):
    await raw_mongo.studio_cancel.docs.insert_many([{"n": n} for n in range(700)])
    entry = await catalog.add_database(project_id, "docs", mongo_server.url)
    self_join = [{"$lookup": {"from": "docs", "let": {"n": "$n"}, "as": "same", "pipeline": [
        {"$match": {"$expr": {"$eq": ["$n", "$$n"]}}}]}}, {"$count": "documents"}]

    async def slow_aggregate(client):  # seconds of work on this server
        cursor = await client.studio_cancel.docs.aggregate(self_join, comment=operation_comment())
        return await cursor.to_list()

    with caplog.at_level(logging.INFO, logger="studio_tui.services.drivers.mongo_driver"):
        took = await _cancel_after(manager.run(entry.id, "aggregate", slow_aggregate), 0.5)
    assert took < 1.5
    # The adapter found the aggregate in currentOp (by the server connection it was sent on) and
    # the server answered its killOp. This server closes that connection rather than interrupt
    # the command (see above); a mongod interrupts it.
    kills = [r.getMessage() for r in caplog.records if "killOp" in r.getMessage()]
    assert kills and "(aggregate): operation killed" in kills[0], kills
    assert await manager.run(entry.id, "count",
                             lambda c: c.studio_cancel.docs.count_documents({})) == 700
    _assert_no_failure_counted(manager, entry.id)


# -- Redis -------------------------------------------------------------------------------------
async def _scan_calls(raw) -> int:
    return int((await raw.info("commandstats")).get("cmdstat_scan", {}).get("calls", 0))


async def _fill(raw, count: int) -> None:
    async with raw.pipeline(transaction=False) as pipe:
        for start in range(0, count, 1000):
            pipe.mset({f"walk:{n}": n for n in range(start, min(count, start + 1000))})
        await pipe.execute()


@pytest.mark.parametrize("in_a_task_of_its_own", [False, True],
                         ids=["awaited", "shielded-task"])
async def test_cancelled_scan_walk_sends_no_scan_after_the_cancel(
        catalog: Catalog, project_id, manager, redis_server, raw, in_a_task_of_its_own):
    await _fill(raw, 20_000)
    entry = await catalog.add_database(project_id, "cache",
                                       realservers.redis_db_url(redis_server.url, REDIS_DB))
    pages: list[int] = []
    walks: list[asyncio.Future] = []

    async def walk(client) -> int:
        cursor = 0
        while True:
            cursor, _ = await client.scan(cursor=cursor, match="walk:*", count=10)
            pages.append(cursor)
            if cursor == 0:
                return len(pages)

    async def run_walk(client) -> int:
        if not in_a_task_of_its_own:
            return await walk(client)
        # A walk in a task the cancel does not reach: only the adapter can stop it.
        walks.append(asyncio.ensure_future(walk(client)))
        return await asyncio.shield(walks[0])

    before = await _scan_calls(raw)
    took = await _cancel_after(manager.run(entry.id, "walk", run_walk), 0.3)
    assert took < 1.0
    after_cancel = await _scan_calls(raw)
    assert 0 < len(pages) and pages[-1] != 0  # cancelled mid-way
    await asyncio.sleep(0.5)
    assert await _scan_calls(raw) == after_cancel  # nothing more was sent
    assert after_cancel - before <= len(pages) + 1  # at most the one in flight besides
    if walks:
        with pytest.raises(asyncio.CancelledError):
            await walks[0]
    assert await manager.run(entry.id, "get", lambda r: r.get("walk:7")) == b"7"
    _assert_no_failure_counted(manager, entry.id)


async def test_cancelled_redis_command_connection_is_not_reused_half_read(
        catalog: Catalog, project_id, manager, redis_server, raw):
    entry = await catalog.add_database(project_id, "cache",
                                       realservers.redis_db_url(redis_server.url, REDIS_DB))
    await raw.set("answer", "42")
    await _cancel_after(manager.run(entry.id, "blpop", lambda r: r.blpop(["queue"], 5)), 0.3)
    # Had the blocked connection gone back to the pool, the server would hand it this item and
    # its next user would read BLPOP's reply instead of its own.
    await raw.rpush("queue", "item")
    await asyncio.sleep(0.1)
    assert await raw.llen("queue") == 1
    assert not [c for c in await raw.client_list() if c.get("cmd") == "blpop"]
    replies = await asyncio.gather(*(manager.run(entry.id, "get", lambda r: r.get("answer"))
                                     for _ in range(8)))
    assert replies == [b"42"] * 8
    _assert_no_failure_counted(manager, entry.id)
