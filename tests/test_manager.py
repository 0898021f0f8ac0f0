"""The connection manager against real servers: pools, exhaustion, reaping, breakers, read-only,
timeouts and metrics."""

from __future__ import annotations

import asyncio
import time

import asyncpg
import pytest

import realservers
from conftest import FakeClock
from studio_tui.services.breaker import BreakerState
from studio_tui.services.catalog import Catalog
from studio_tui.services.errors import (
    AuthenticationError,
    CircuitOpenError,
    DnsError,
    OperationTimeoutError,
    PoolExhaustedError,
    ReadOnlyError,
    RefusedError,
    ServerError,
    ValidationError,
)
from studio_tui.services.manager import ConnectionManager


async def _studio_sessions(url: str) -> int:
    """How many server sessions studio-tui holds, seen from outside."""
    connection = await asyncpg.connect(url)
    try:
        return await connection.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'studio-tui'")
    finally:
        await connection.close()




async def test_pools_open_lazily_per_kind(catalog: Catalog, project_id: str, manager,
                                          redis_server, postgres_server, mongo_server):
    entries = [await catalog.add_database(project_id, name, server.url) for name, server in
               (("cache", redis_server), ("orders", postgres_server), ("docs", mongo_server))]
    assert not any(manager.is_open(e.id) for e in entries)
    reports = [await manager.check(e.id) for e in entries]
    assert [r.status for r in reports] == ["up", "up", "up"]
    assert reports[0].version.startswith("8.")
    assert reports[1].version.startswith("18")
    assert all(manager.is_open(e.id) for e in entries)
    metrics = manager.metrics.get(entries[1].id).to_dict()
    assert metrics["operation_duration_seconds"]["count"] == 1
    assert metrics["pool"]["total"] >= 2  # the free tier's min pool is opened eagerly
    assert metrics["breaker_state"] == 0


async def test_postgres_pool_exhaustion_queues_then_fails_clearly(catalog: Catalog, project_id,
                                                                  postgres_server):
    entry = await catalog.add_database(project_id, "orders", postgres_server.url)  # free: max 5
    release = asyncio.Event()

    async def hold(connection):
        await connection.fetchval("SELECT 1")
        await release.wait()

    async with ConnectionManager(catalog, pool_overrides={"acquire_timeout": 0.5}) as manager:
        holders = [asyncio.create_task(manager.run(entry.id, "hold", hold)) for _ in range(5)]
        await asyncio.sleep(0.3)
        assert manager.metrics.get(entry.id) is not None

        # A sixth operation waits in the queue and gets a connection when one comes back…
        queued = asyncio.create_task(manager.run(entry.id, "select", lambda c: c.fetchval("SELECT 2")))
        await asyncio.sleep(0.2)
        slot_pool = manager._slots[entry.id].connection.pool_stats()
        assert (slot_pool.total, slot_pool.available, slot_pool.pending) == (5, 0, 1)
        release.set()
        assert await queued == 2
        await asyncio.gather(*holders)

        # …but one that waits past the acquire timeout gets a clear error.
        release.clear()
        holders = [asyncio.create_task(manager.run(entry.id, "hold", hold)) for _ in range(5)]
        await asyncio.sleep(0.3)
        started = time.perf_counter()
        with pytest.raises(PoolExhaustedError) as caught:
            await manager.run(entry.id, "select", lambda c: c.fetchval("SELECT 3"))
        waited = time.perf_counter() - started
        release.set()
        await asyncio.gather(*holders)
    assert 0.45 <= waited < 1.5
    assert caught.value.database == "orders"
    assert "All 5 connections stayed busy for 0.5s" in str(caught.value)
    assert caught.value.retry_after == 1.0


async def test_redis_pool_exhaustion_queues_then_fails_clearly(catalog: Catalog, project_id,
                                                               redis_server):
    entry = await catalog.add_database(project_id, "cache", redis_server.url)  # free: max 5
    async with ConnectionManager(catalog, pool_overrides={"acquire_timeout": 0.4}) as manager:
        # BLPOP holds its connection for the whole wait: long work, past Redis's 1 s call
        # timeout.
        blockers = [asyncio.create_task(manager.run(entry.id, "blpop",
                                                    lambda r: r.blpop(["nothing-here"], 1.5),
                                                    long=True))
                    for _ in range(5)]
        await asyncio.sleep(0.2)
        started = time.perf_counter()
        with pytest.raises(PoolExhaustedError):
            await manager.run(entry.id, "ping", lambda r: r.ping())
        waited = time.perf_counter() - started
        await asyncio.gather(*blockers)
        # Once they finish, the pool serves again.
        assert await manager.run(entry.id, "ping", lambda r: r.ping()) is True
        acquired = manager.metrics.get(entry.id).acquire_seconds.total
    assert 0.35 <= waited < 1.2
    assert acquired >= 7


async def test_idle_pools_are_reaped_and_their_sessions_closed(catalog: Catalog, project_id,
                                                               postgres_server):
    entry = await catalog.add_database(project_id, "orders", postgres_server.url)
    clock = FakeClock()
    async with ConnectionManager(catalog, clock=clock, idle_timeout=60) as manager:
        await manager.run(entry.id, "select", lambda c: c.fetchval("SELECT 1"))
        assert await _studio_sessions(postgres_server.url) >= 2
        clock.advance(59)
        assert await manager.reap_idle() == []
        clock.advance(2)
        assert await manager.reap_idle() == ["orders"]
        assert not manager.is_open(entry.id)
        assert await _studio_sessions(postgres_server.url) == 0
        # The next operation reopens the pool transparently.
        assert await manager.run(entry.id, "select", lambda c: c.fetchval("SELECT 7")) == 7


async def test_background_reaper_closes_idle_pools(catalog: Catalog, project_id, redis_server):
    entry = await catalog.add_database(project_id, "cache", redis_server.url)
    async with ConnectionManager(catalog, idle_timeout=0.2) as manager:
        await manager.run(entry.id, "ping", lambda r: r.ping())
        assert manager.is_open(entry.id)
        deadline = time.monotonic() + 3
        while manager.is_open(entry.id) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert not manager.is_open(entry.id)


@pytest.fixture
async def refused(catalog: Catalog, project_id):
    """(manager on a fake clock, entry on a closed port, the clock, the port), once ten refused
    calls (the Redis breaker's volume, every one failed) have opened the entry's breaker."""
    port = realservers.closed_port()
    entry = await catalog.add_database(project_id, "cache", f"redis://127.0.0.1:{port}/0")
    clock = FakeClock()
    async with ConnectionManager(catalog, clock=clock) as manager:
        for _ in range(10):
            with pytest.raises(RefusedError):
                await manager.run(entry.id, "ping", lambda r: r.ping())
        assert manager.breaker(entry.id).state is BreakerState.OPEN
        yield manager, entry, clock, port


async def test_breaker_opens_on_a_closed_port_and_closes_when_the_server_appears(refused):
    manager, entry, clock, port = refused
    timings = []
    for _ in range(50):
        started = time.perf_counter()
        with pytest.raises(CircuitOpenError) as caught:
            await manager.run(entry.id, "ping", lambda r: r.ping())
        timings.append(time.perf_counter() - started)
    # Well under 5 ms; the 90th percentile, so one scheduler hiccup on a busy CI box
    # does not decide it.
    assert sorted(timings)[int(len(timings) * 0.9)] < 0.005
    assert caught.value.database == "cache"
    assert "CONNECTION_REFUSED" in caught.value.detail
    assert caught.value.retry_after == pytest.approx(15.0)
    assert manager.metrics.get(entry.id).breaker_state == 2

    server = realservers.start_redis(port=port)
    try:
        clock.advance(15)
        assert manager.breaker(entry.id).state is BreakerState.HALF_OPEN
        assert await manager.run(entry.id, "ping", lambda r: r.ping()) is True
        assert manager.breaker(entry.id).state is BreakerState.CLOSED
    finally:
        server.stop()


async def test_an_open_breaker_probes_by_itself_and_closes_once_the_server_answers(refused):
    manager, entry, clock, port = refused
    breaker = manager.breaker(entry.id)
    metrics = manager.metrics.get(entry.id)
    assert (metrics.answering, metrics.last_answer) == (False, None)
    silent_since = metrics.silent_since
    assert silent_since is not None

    server = realservers.start_redis(port=port)
    try:
        await asyncio.sleep(1.2)
        assert breaker.state is BreakerState.OPEN  # no probe before the reset time
        clock.advance(breaker.config.reset)
        deadline = time.monotonic() + 3
        while breaker.state is not BreakerState.CLOSED:  # nobody calls: it probes itself
            assert time.monotonic() < deadline, "the breaker did not close by itself"
            await asyncio.sleep(0.05)
        assert manager.last_health(entry.id).status == "up"
        assert metrics.answering is True and metrics.last_answer > silent_since
    finally:
        server.stop()


async def test_breaker_follows_a_postgres_server_that_dies_and_comes_back(catalog: Catalog,
                                                                         project_id):
    server = realservers.start_postgres()
    try:
        entry = await catalog.add_database(project_id, "orders", server.url)
        clock = FakeClock()
        async with ConnectionManager(catalog, clock=clock) as manager:
            assert await manager.run(entry.id, "select", lambda c: c.fetchval("SELECT 1")) == 1
            server.kill()
            failures = 0
            while manager.breaker(entry.id).state is BreakerState.CLOSED and failures < 20:
                with pytest.raises(Exception) as caught:
                    await manager.run(entry.id, "select", lambda c: c.fetchval("SELECT 1"))
                assert caught.value.is_outage, caught.value
                failures += 1
            # 1 success then failures: opens once 10 calls are in and ≥ 50 % failed.
            assert failures == 9
            with pytest.raises(CircuitOpenError):
                await manager.run(entry.id, "select", lambda c: c.fetchval("SELECT 1"))

            server.restart()
            clock.advance(30)
            assert await manager.run(entry.id, "select", lambda c: c.fetchval("SELECT 1")) == 1
            assert manager.breaker(entry.id).state is BreakerState.CLOSED
    finally:
        server.stop()


async def test_request_errors_do_not_open_the_breaker(catalog: Catalog, project_id, manager,
                                                      postgres_server):
    entry = await catalog.add_database(project_id, "orders", postgres_server.url)
    for _ in range(15):
        with pytest.raises(ServerError, match="syntax error"):
            await manager.run(entry.id, "select", lambda c: c.fetch("SELEKT 1"))
    assert manager.breaker(entry.id).state is BreakerState.CLOSED
    assert manager.metrics.get(entry.id).errors["SERVER_ERROR"] == 15


async def test_read_only_entries_refuse_writes_in_the_service(catalog: Catalog, project_id,
                                                              manager, redis_server):
    entry = await catalog.add_database(project_id, "cache", redis_server.url, read_only=True)
    with pytest.raises(ReadOnlyError, match="read-only entry; SET was refused"):
        await manager.run(entry.id, "SET", lambda r: r.set("k", "v"), write=True)
    assert await manager.run(entry.id, "GET", lambda r: r.get("k")) is None
    audit = await catalog.store.list_audit()
    assert (audit[0].action, audit[0].target, audit[0].outcome) == ("SET", "cache", "denied")


async def test_read_only_postgres_entry_is_enforced_by_the_server_too(catalog: Catalog,
                                                                      project_id, manager,
                                                                      postgres_server):
    entry = await catalog.add_database(project_id, "orders", postgres_server.url, read_only=True)
    # Even if a service wrongly declared a write as a read, the server refuses it.
    with pytest.raises(ReadOnlyError, match="read-only"):
        await manager.run(entry.id, "select", lambda c: c.execute("CREATE TABLE sneaky (id int)"))


async def test_writes_are_audited(catalog: Catalog, project_id, manager, redis_server):
    entry = await catalog.add_database(project_id, "cache", redis_server.url)
    await manager.run(entry.id, "SET", lambda r: r.set("audited", "1"), write=True)
    audit = await catalog.store.list_audit()
    assert (audit[0].action, audit[0].outcome, audit[0].user_id) == ("SET", "ok", "local")


async def test_query_timeout_cancels_on_the_server(catalog: Catalog, project_id, manager,
                                                   postgres_server):
    entry = await catalog.add_database(project_id, "orders", postgres_server.url)
    started = time.perf_counter()
    with pytest.raises(OperationTimeoutError, match="did not answer within 0.3s"):
        await manager.run(entry.id, "select", lambda c: c.fetchval("SELECT pg_sleep(30)"),
                          timeout=0.3)
    assert time.perf_counter() - started < 2
    assert await realservers.postgres_sessions_running(postgres_server.url,
                                                  "pg_sleep(30)") == 0


async def test_cancelling_an_operation_cancels_it_on_the_server(catalog: Catalog, project_id,
                                                                manager, postgres_server):
    entry = await catalog.add_database(project_id, "orders", postgres_server.url)
    task = asyncio.create_task(
        manager.run(entry.id, "select", lambda c: c.fetchval("SELECT pg_sleep(31)")))
    await asyncio.sleep(0.5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await realservers.postgres_sessions_running(postgres_server.url,
                                                  "pg_sleep(31)") == 0
    assert manager.breaker(entry.id).state is BreakerState.CLOSED


async def test_editing_an_entry_drops_its_old_pool(catalog: Catalog, project_id, manager,
                                                   redis_server):
    entry = await catalog.add_database(project_id, "cache", redis_server.url)
    await manager.run(entry.id, "ping", lambda r: r.ping())
    await catalog.update_database(entry.id, read_only=True)
    assert not manager.is_open(entry.id)
    with pytest.raises(ReadOnlyError):
        await manager.run(entry.id, "SET", lambda r: r.set("k", "v"), write=True)


async def test_mongo_operations_and_pool_metrics(catalog: Catalog, project_id, manager,
                                                 mongo_server):
    entry = await catalog.add_database(project_id, "docs", mongo_server.url)

    async def insert_and_count(client):
        collection = client["studio_test"]["things"]
        await collection.insert_one({"n": 1})
        return await collection.count_documents({})

    assert await manager.run(entry.id, "insert", insert_and_count, write=True) >= 1
    stats = manager.metrics.get(entry.id).to_dict()
    assert stats["pool"]["total"] >= 1
    assert stats["acquire_duration_seconds"]["count"] >= 1


async def test_redis_over_a_unix_socket(catalog: Catalog, project_id, manager, tmp_path):
    socket_path = f"/tmp/st-redis-{tmp_path.name[-12:]}.sock"
    server = realservers.start_redis(extra=["--unixsocket", socket_path, "--unixsocketperm", "700"])
    try:
        entry = await catalog.add_database(project_id, "local", f"unix://{socket_path}?db=0")
        assert entry.masked_url.startswith("unix:///tmp/")
        await manager.run(entry.id, "SET", lambda r: r.set("via", "socket"), write=True)
        assert await manager.run(entry.id, "GET", lambda r: r.get("via")) == b"socket"
    finally:
        server.stop()


async def test_probe_tests_an_unsaved_url_precisely(manager, redis_server, postgres_server,
                                                    mongo_server, redis_auth_server):
    for server, kind in ((redis_server, "redis"), (postgres_server, "postgres"),
                         (mongo_server, "mongodb")):
        result = await manager.probe(server.url)
        assert (result.kind, result.latency_ms > 0, bool(result.version)) == (kind, True, True)
    with pytest.raises(AuthenticationError):
        await manager.probe(redis_auth_server.url.replace("redis-s3cret", "nope"))
    with pytest.raises(RefusedError):
        await manager.probe(f"redis://127.0.0.1:{realservers.closed_port()}")
    with pytest.raises(DnsError):
        await manager.probe("postgresql://u:pw@nonexistent-host.invalid/db")
    with pytest.raises(ValidationError):
        await manager.probe("ftp://example.com")


def test_metrics_trend_buckets_operations_by_time():
    from studio_tui.services.metrics import DatabaseMetrics

    metrics = DatabaseMetrics("db", "redis")
    for second, latency in ((100.2, 0.010), (100.7, 0.030), (104.1, 0.002)):
        metrics.observe_operation(latency, now=second)
    rates, latencies = metrics.trend(span=10, step=5, now=104.5)
    assert rates == [0.0, 3 / 5]
    assert latencies[-1] == pytest.approx((10 + 30 + 2) / 3)
    assert metrics.ops_per_second(over=10, now=104.5) == pytest.approx(0.3)
