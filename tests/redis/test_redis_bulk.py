"""Bulk delete, set algebra and the richer readers (zset by score, stream groups, RedisJSON)
against the real Redis 8 server."""

from __future__ import annotations

import asyncio

import pytest
import redis.asyncio as redis

import realservers
from studio_tui.services.errors import ReadOnlyError, ValidationError
from studio_tui.services.redis.bulk import delete_matching, preview_delete, set_algebra
from studio_tui.services.redis.edits import RedisEdits
from studio_tui.services.redis.service import RedisService

REDIS_DB = 5  # this module's own logical database, for the raw and service fixtures


async def _fill(raw: redis.Redis, prefix: str, count: int) -> None:
    pipe = raw.pipeline(transaction=False)
    for index in range(count):
        pipe.set(f"{prefix}{index}", index)
    await pipe.execute()


async def test_preview_counts_every_match_and_samples_a_few(raw, service):
    await _fill(raw, "session:", 3500)
    await _fill(raw, "user:", 100)
    previews = [(p.matched, p.complete) async for p in preview_delete(service, b"session:*")]
    assert previews[-1] == (3500, True)
    assert len(previews) > 1  # progress after every page, not only at the end
    last = await _last(preview_delete(service, b"session:*", sample=5))
    assert len(last.sample) == 5 and all(k.startswith(b"session:") for k in last.sample)
    assert await raw.dbsize() == 3600  # a preview deletes nothing


async def _last(iterator):
    last = None
    async for last in iterator:
        pass
    return last


async def test_bulk_delete_unlinks_in_batches_and_reports(raw, edits):
    await _fill(raw, "session:", 2300)
    await _fill(raw, "keep:", 50)
    progress = [(p.deleted, p.batches) async for p in
                delete_matching(edits, b"session:*", batch=500)]
    assert progress[-1] == (2300, 5)
    assert [deleted for deleted, _ in progress[:-1]] == sorted(d for d, _ in progress[:-1])
    assert await raw.dbsize() == 50
    unlinks = (await raw.info("commandstats"))["cmdstat_unlink"]["calls"]
    assert unlinks >= 5
    with pytest.raises(ValidationError):
        await _last(delete_matching(edits, b"  "))


async def test_a_cancelled_bulk_delete_stops_between_batches_and_says_how_far(raw, edits):
    await _fill(raw, "gone:", 20_000)
    seen = []

    async def consume() -> None:
        async for step in delete_matching(edits, b"gone:*", batch=500):
            seen.append(step.deleted)
            if step.batches == 3:
                await asyncio.sleep(10)  # the user presses Esc here

    task = asyncio.create_task(consume())
    while len(seen) < 3:
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert seen[-1] == 1500
    assert await raw.dbsize() == 20_000 - 1500


async def test_bulk_delete_is_refused_on_read_only_entries(raw, catalog, project_id, manager,
                                                           redis_server):
    await _fill(raw, "k:", 10)
    entry = await catalog.add_database(project_id, "ro", realservers.redis_db_url(redis_server.url, REDIS_DB), read_only=True)
    with pytest.raises(ReadOnlyError):
        await _last(delete_matching(RedisEdits(RedisService(manager, entry.id)), b"k:*"))
    assert await raw.dbsize() == 10


async def test_set_algebra_with_and_without_store(raw, edits):
    await raw.sadd("a", "1", "2", "3", "\xff")
    await raw.sadd("b", "2", "3", "4")
    inter = await set_algebra(edits, "intersection", [b"a", b"b"])
    assert inter.members == [b"2", b"3"] and inter.count == 2
    union = await set_algebra(edits, "union", [b"a", b"b"], limit=3)
    assert union.count == 5 and len(union.members) == 3
    diff = await set_algebra(edits, "difference", [b"a", b"b"])
    assert diff.members == [b"1", "\xff".encode()]
    stored = await set_algebra(edits, "union", [b"a", b"b"], store=b"both")
    assert stored.count == 5 and await raw.scard("both") == 5
    with pytest.raises(ValidationError):
        await set_algebra(edits, "xor", [b"a", b"b"])
    with pytest.raises(ValidationError):
        await set_algebra(edits, "union", [b"a"])


async def test_sorted_sets_by_score_range_with_paging(raw, service):
    await raw.zadd("z", {f"m{i}": i for i in range(100)})
    page = await service.zset_by_score(b"z", "10", "(20", count=4)
    assert [m for m, _ in page.items] == [b"m10", b"m11", b"m12", b"m13"] and page.next == 4
    rest = await service.zset_by_score(b"z", "10", "(20", offset=page.next, count=100)
    assert len(rest.items) == 6 and rest.done
    assert (await service.zset_by_score(b"z", "-inf", "+inf", count=1)).items == [(b"m0", b"0.0")]
    with pytest.raises(ValidationError, match="min score 'low'"):
        await service.zset_by_score(b"z", "low", "10")


async def test_stream_groups_and_consumers(raw, service):
    for index in range(5):
        await raw.xadd("s", {"n": index})
    await raw.xgroup_create("s", "billing", id="0")
    await raw.xreadgroup("billing", "worker-1", {"s": ">"}, count=3)
    await raw.xgroup_create("s", "audit", id="$")
    groups = {g.name: g for g in await service.stream_groups(b"s")}
    assert groups[b"billing"].pending == 3 and groups[b"billing"].lag == 2
    assert [(name, pending) for name, pending, _ in groups[b"billing"].consumers] == [
        (b"worker-1", 3)]
    assert groups[b"audit"].consumers == [] and groups[b"audit"].pending == 0
    await raw.xadd("plain", {"a": 1})
    assert await service.stream_groups(b"plain") == []


async def test_json_documents_whole_when_small_and_by_shape_when_big(raw, service):
    await raw.execute_command("JSON.SET", "small", "$", '{"name": "ada", "tags": [1, 2]}')
    document = await service.json_document(b"small")
    assert document.text is not None and b'"ada"' in document.text
    await raw.execute_command("JSON.SET", "big", "$",
                              '{"items": [' + ",".join(["1"] * 5000) + '], "name": "x"}')
    big = await service.json_document(b"big", limit=1000)
    assert big.text is None and big.kind == "object" and sorted(big.keys) == [b"items", b"name"]
    assert big.size > 1000
