"""Server insight against the real Redis 8 server: keyspace per database and switching to one,
MEMORY STATS, the sampled memory scan, and the vitals the overview plots."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import redis.asyncio as redis

from studio_tui.services.catalog import Catalog
from studio_tui.services.redis.edits import RedisEdits
from studio_tui.services.redis.insight import (
    database_count,
    info_sections,
    keyspace,
    memory_stats,
    random_memory_sample,
    sample_memory,
    vitals,
)
from studio_tui.services.redis.service import RedisService


def _db(url: str, db: int) -> str:
    return url.rsplit("/", 1)[0] + f"/{db}"


@pytest.fixture
async def raw(redis_server) -> AsyncIterator[tuple[redis.Redis, redis.Redis]]:
    first = redis.Redis.from_url(_db(redis_server.url, 7))
    second = redis.Redis.from_url(_db(redis_server.url, 8))
    for client in (first, second):
        await client.flushdb()
    yield first, second
    for client in (first, second):
        await client.flushdb()
        await client.aclose()


@pytest.fixture
async def service(catalog: Catalog, project_id: str, manager, redis_server) -> RedisService:
    entry = await catalog.add_database(project_id, "cache", _db(redis_server.url, 7))
    return RedisService(manager, entry.id)


async def test_keyspace_per_database_and_switching_to_another(raw, service, manager):
    first, second = raw
    await first.set("only-in-7", 1)
    await second.mset({"a": 1, "b": 2})
    await second.expire("a", 100)
    rows = {row.db: row for row in keyspace(await info_sections(service))}
    assert rows[7].keys == 1 and rows[8].keys == 2 and rows[8].expires == 1
    other = service.on_db(8)
    assert await other.dbsize() == 2 and await service.dbsize() == 1
    assert sorted([k async for page in other.walk() for k in page.keys]) == [b"a", b"b"]
    assert other.throttle is service.throttle  # one ops cap per server
    # Both databases' pools are the entry's: one breaker, pool figures summed.
    await RedisEdits(other).create(b"c", "string", value=b"3")
    assert await second.get("c") == b"3" and not await first.exists("c")
    assert manager.metrics.get(service.database_id).pool.total >= 2
    assert await database_count(service) == 16


async def test_memory_stats_and_vitals(raw, service):
    stats = await memory_stats(service)
    assert stats["total.allocated"] > 0 and "keys.count" in stats
    figures = await vitals(service)
    assert figures.used_memory > 0 and figures.connected_clients >= 1


async def test_sampled_memory_finds_the_biggest_keys_and_prefixes(raw, service):
    first, _ = raw
    pipe = first.pipeline(transaction=False)
    for n in range(300):
        pipe.set(f"small:{n}", "x")
    pipe.set("big:one", "y" * 100_000)
    pipe.set("big:two", "y" * 50_000)
    pipe.set("plain", "z")
    await pipe.execute()
    steps = [(s.sampled, s.complete) async for s in sample_memory(service, count=100)]
    assert steps[-1] == (303, True) and len(steps) > 1
    last = None
    async for last in sample_memory(service, top=2):
        pass
    assert [key for _, key, _ in last.top] == [b"big:one", b"big:two"]
    prefixes = {prefix: (size, keys) for prefix, size, keys in last.top_prefixes()}
    assert prefixes[b"big"][1] == 2 and prefixes[b"big"][0] > 150_000
    assert prefixes[b"small"][1] == 300 and prefixes[b""][1] == 1
    assert last.top_prefixes(1)[0][0] == b"big"
    partial = None
    async for partial in sample_memory(service, limit=50, count=100):
        pass
    assert partial.sampled == 50 and not partial.complete


async def test_the_memory_walk_covers_the_whole_keyspace_and_finds_a_big_key_late_in_it(
        raw, service):
    client = raw[0]
    pipe = client.pipeline(transaction=False)
    for n in range(3000):
        pipe.set(f"small:{n}", "x")
    await pipe.execute()
    await client.set("huge:late", "y" * 300_000)  # wherever SCAN order puts it
    last = None
    async for last in sample_memory(service, count=100):
        pass
    assert last.complete and last.kind == "walk" and last.sampled == 3001
    assert last.top[0][1] == b"huge:late"


async def test_a_random_sample_is_spread_over_the_keyspace_and_says_so(raw, service):
    pipe = raw[0].pipeline(transaction=False)
    for n in range(2000):
        pipe.set(f"{'a' if n < 1000 else 'z'}:{n}", "x")
    await pipe.execute()
    last = None
    async for last in random_memory_sample(service, size=200, batch=100):
        pass
    assert last.kind == "random" and 150 <= last.sampled <= 200
    counts = {prefix: keys for prefix, _, keys in last.top_prefixes()}
    assert counts.get(b"a", 0) > 30 and counts.get(b"z", 0) > 30  # both halves, not SCAN order
