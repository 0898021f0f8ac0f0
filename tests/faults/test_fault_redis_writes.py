"""A Redis write whose reply is lost with its connection (the server applied it, the app never
heard): it is not sent again behind the user's back, and the user is told the truth about it.
A read in the same situation is simply sent again (redis-py's retries), which is harmless."""

from __future__ import annotations

import asyncio

import pytest
import redis.asyncio as redis

import realservers
from faultproxy import FaultProxy
from studio_tui.services.errors import ConnectionFailedError
from studio_tui.services.redis.edits import RedisEdits
from studio_tui.services.redis.service import RedisService

REDIS_DB = 12  # this module's own logical database


@pytest.fixture
async def direct(redis_server):
    client = redis.Redis.from_url(realservers.redis_db_url(redis_server.url, REDIS_DB))
    await client.flushdb()
    yield client
    await client.flushdb()
    await client.aclose()


@pytest.fixture
def proxy(redis_server):
    with FaultProxy.to(redis_server.url) as started:
        yield started


@pytest.fixture
async def proxied(catalog, project_id, manager, proxy, redis_server):
    entry = await catalog.add_database(
        project_id, "cache", proxy.url(realservers.redis_db_url(redis_server.url, REDIS_DB)))
    service = RedisService(manager, entry.id)
    await service.dbsize()  # the pool is open
    return service


async def lose_the_reply(proxy: FaultProxy, write, applied) -> BaseException | None:
    """Run ``write`` with replies held back, reset its connection as soon as the server has
    applied it (``applied()``, asked directly), and return what ``write`` raised."""
    proxy.delay(0.05)  # a reply is 50 ms on its way: time to cut it off
    task = asyncio.create_task(write)
    for _ in range(200):
        if await applied():
            break
        await asyncio.sleep(0.005)
    else:
        raise AssertionError("the write never reached the server")
    proxy.reset()
    proxy.normal()
    try:
        await task
    except Exception as error:  # noqa: BLE001 - what it raised is the subject
        return error
    return None


async def test_an_increment_whose_reply_is_lost_is_not_applied_twice(proxied, proxy, direct):
    edits = RedisEdits(proxied)
    await direct.hset("counters", "visits", 10)
    error = await lose_the_reply(
        proxy, edits.hash_increment(b"counters", b"visits", "1"),
        lambda: _field_is(direct, b"11"))
    assert isinstance(error, ConnectionFailedError), repr(error)
    assert "reset by peer" in str(error)
    assert await direct.hget("counters", "visits") == b"11"  # once, not 12


async def test_a_watched_save_whose_reply_is_lost_says_so_rather_than_a_conflict(
        proxied, proxy, direct):
    edits = RedisEdits(proxied)
    await direct.set("greeting", "hello")

    async def written() -> bool:
        return await direct.get("greeting") == b"bonjour"

    error = await lose_the_reply(
        proxy, edits.string_set(b"greeting", b"bonjour", expected=b"hello"), written)
    # Not "greeting changed while saving. Nothing was written": it was written.
    assert isinstance(error, ConnectionFailedError), repr(error)
    assert "may or may not have been written" in str(error)
    assert "your input is kept" in str(error)


async def test_a_read_whose_reply_is_lost_is_sent_again(proxied, proxy, direct):
    await direct.set("k", "v")
    accepted = proxy.accepted
    proxy.delay(0.2)
    task = asyncio.create_task(proxied.dbsize())
    await asyncio.sleep(0.3)  # the request is there, the reply on its way
    proxy.reset()
    proxy.normal()
    assert await task == 1
    assert proxy.accepted > accepted  # on a new connection


async def _field_is(client, value: bytes) -> bool:
    return await client.hget("counters", "visits") == value
