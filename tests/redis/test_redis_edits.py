"""Value edits of every Redis type against the real server: each one writes what was asked, and
each one is refused as a conflict, writing nothing, when another client changed what the user
saw."""

from __future__ import annotations


import pytest

import realservers
from studio_tui.services.errors import ConflictError, NotFoundError, ReadOnlyError, ValidationError
from studio_tui.services.redis.edits import RedisEdits
from studio_tui.services.redis.service import RedisService

REDIS_DB = 4  # this module's own logical database, for the raw and service fixtures


async def test_create_a_key_of_every_type_and_never_over_an_existing_one(raw, edits):
    await edits.create(b"s", "string", value=b"\xff\x00bin", ttl=60)
    await edits.create(b"h", "hash", field=b"f", value=b"v")
    await edits.create(b"l", "list", value=b"first")
    await edits.create(b"S", "set", value=b"m")
    await edits.create(b"z", "zset", value=b"m", score="2.5")
    await edits.create(b"x", "stream", field=b"event", value=b"login")
    await edits.create(b"j", "ReJSON-RL", value=b'{"a": [1, 2]}')
    assert await raw.get("s") == b"\xff\x00bin" and 0 < await raw.ttl("s") <= 60
    assert await raw.hgetall("h") == {b"f": b"v"}
    assert await raw.lrange("l", 0, -1) == [b"first"]
    assert await raw.smembers("S") == {b"m"}
    assert await raw.zscore("z", "m") == 2.5
    assert [fields for _, fields in await raw.xrange("x")] == [{b"event": b"login"}]
    assert await raw.execute_command("JSON.GET", "j", "$.a") == b"[[1,2]]"
    assert await raw.ttl("h") == -1
    with pytest.raises(ConflictError, match="already exists"):
        await edits.create(b"s", "hash", field=b"f", value=b"v")
    assert await raw.type("s") == b"string"
    with pytest.raises(ValidationError, match="JSON"):
        await edits.create(b"j2", "ReJSON-RL", value=b"{not json")
    with pytest.raises(ValidationError, match="score"):
        await edits.create(b"z2", "zset", value=b"m", score="high")
    with pytest.raises(ValidationError):
        await edits.create(b"", "string", value=b"x")
    assert not await raw.exists("j2", "z2")


async def test_hash_fields_set_delete_and_increment_with_conflicts(raw, edits):
    await raw.hset("h", mapping={"name": "ada", "visits": "1", "score": "1.5"})
    await edits.hash_set(b"h", b"name", b"grace", expected=b"ada")
    await edits.hash_set(b"h", b"new", b"field", expected=None)
    assert await raw.hget("h", "name") == b"grace" and await raw.hget("h", "new") == b"field"
    await raw.hset("h", "name", "someone else")
    with pytest.raises(ConflictError, match="changed or removed by someone else"):
        await edits.hash_set(b"h", b"name", b"mine", expected=b"grace")
    with pytest.raises(ConflictError, match="added by someone else"):
        await edits.hash_set(b"h", b"name", b"mine", expected=None)
    assert await raw.hget("h", "name") == b"someone else"
    with pytest.raises(ConflictError):
        await edits.hash_delete(b"h", b"name", expected=b"grace")
    await edits.hash_delete(b"h", b"name", expected=b"someone else")
    assert not await raw.hexists("h", "name")
    assert await edits.hash_increment(b"h", b"visits", "41") == b"42"
    assert float(await edits.hash_increment(b"h", b"score", "0.25")) == 1.75
    with pytest.raises(ValidationError, match="not a number"):
        await edits.hash_increment(b"h", b"visits", "lots")
    await raw.delete("h")
    with pytest.raises(ConflictError, match="no longer exists"):
        await edits.hash_set(b"h", b"f", b"v", expected=None)
    assert not await raw.exists("h")  # a deleted key is not brought back by an edit


async def test_list_elements_by_index_with_conflicts(raw, edits):
    await raw.rpush("l", "a", "b", "c", "b")
    await edits.list_set(b"l", 1, b"B", expected=b"b")
    await edits.list_push(b"l", [b"head"], head=True)
    await edits.list_push(b"l", [b"tail1", b"tail2"], head=False)
    assert await raw.lrange("l", 0, -1) == [b"head", b"a", b"B", b"c", b"b", b"tail1", b"tail2"]
    # Removing by index removes that element, not an equal one elsewhere.
    await raw.rpush("l", "a")
    await edits.list_remove_at(b"l", 7, expected=b"a")
    assert await raw.lrange("l", 0, -1) == [b"head", b"a", b"B", b"c", b"b", b"tail1", b"tail2"]
    await edits.list_insert(b"l", 2, b"before-B", expected=b"B", before=True)
    await edits.list_insert(b"l", 3, b"after-B", expected=b"B", before=False)
    assert await raw.lrange("l", 1, 4) == [b"a", b"before-B", b"B", b"after-B"]
    # LINSERT finds its pivot by value: refused when an equal element sits earlier.
    await raw.rpush("l", "a")
    with pytest.raises(ConflictError, match="equal element sits earlier, at index 1"):
        await edits.list_insert(b"l", 9, b"x", expected=b"a", before=True)
    await raw.lpush("l", "pushed by someone")  # every index moves by one
    with pytest.raises(ConflictError, match="index 3 was changed, moved or removed"):
        await edits.list_set(b"l", 3, b"mine", expected=b"B")
    with pytest.raises(ConflictError):
        await edits.list_remove_at(b"l", 3, expected=b"B")
    assert await raw.lindex("l", 4) == b"B"
    assert await edits.list_remove_value(b"l", b"a", 0) == 2
    assert b"a" not in await raw.lrange("l", 0, -1)


async def test_sets_add_and_remove_with_conflicts(raw, edits):
    await raw.sadd("s", "a", "b")
    assert await edits.set_add(b"s", [b"b", b"c", b"\xff"]) == 2
    await edits.set_remove(b"s", b"a")
    assert await raw.smembers("s") == {b"b", b"c", b"\xff"}
    with pytest.raises(ConflictError, match="already removed"):
        await edits.set_remove(b"s", b"a")
    await raw.delete("s")
    with pytest.raises(ConflictError, match="no longer exists"):
        await edits.set_add(b"s", [b"x"])


async def test_sorted_sets_score_edits_increments_and_conflicts(raw, edits):
    await raw.zadd("z", {"a": 1, "b": 2})
    await edits.zset_add(b"z", b"a", "10", expected=1.0)
    await edits.zset_add(b"z", b"c", "-3.5", expected=None)
    assert await edits.zset_increment(b"z", b"b", "0.5") == 2.5
    assert await raw.zrange("z", 0, -1, withscores=True) == [(b"c", -3.5), (b"b", 2.5),
                                                             (b"a", 10.0)]
    await raw.zadd("z", {"a": 11})
    with pytest.raises(ConflictError, match="score of a was changed"):
        await edits.zset_add(b"z", b"a", "0", expected=10.0)
    with pytest.raises(ConflictError):
        await edits.zset_remove(b"z", b"a", expected=10.0)
    await edits.zset_remove(b"z", b"a", expected=11.0)
    assert await raw.zscore("z", "a") is None


async def test_stream_entries_add_and_delete(raw, edits):
    await raw.xadd("x", {"a": "1"})
    first = await edits.stream_add(b"x", {b"k": b"v"})
    assert await raw.xlen("x") == 2
    fixed = await edits.stream_add(b"x", {b"k": b"v2"}, entry_id=b"99999999999999-0")
    assert fixed == b"99999999999999-0"
    await edits.stream_delete(b"x", first)
    with pytest.raises(ConflictError, match="already removed"):
        await edits.stream_delete(b"x", first)
    assert await raw.xlen("x") == 2
    with pytest.raises(ValidationError):
        await edits.stream_add(b"x", {})


async def test_string_for_the_editor_is_refused_when_too_big_before_reading_it(raw, service):
    await raw.set("big", b"x" * 5000)
    with pytest.raises(ValidationError, match="5,000 bytes"):
        await service.string_value(b"big", limit=4096)
    assert await service.string_value(b"big", limit=8192) == b"x" * 5000
    with pytest.raises(NotFoundError):
        await service.string_value(b"gone", limit=10)


async def test_read_only_entries_refuse_every_value_edit(catalog, project_id, manager,
                                                         redis_server, raw):
    await raw.hset("h", "f", "1")
    await raw.rpush("l", "a")
    entry = await catalog.add_database(project_id, "ro", realservers.redis_db_url(redis_server.url, REDIS_DB), read_only=True)
    edits = RedisEdits(RedisService(manager, entry.id))
    for attempt in (edits.create(b"n", "string", value=b"x"),
                    edits.hash_set(b"h", b"f", b"2", expected=b"1"),
                    edits.hash_increment(b"h", b"f", "1"),
                    edits.list_remove_at(b"l", 0, expected=b"a"),
                    edits.list_remove_value(b"l", b"a"),
                    edits.set_add(b"s", [b"m"]),
                    edits.zset_increment(b"z", b"m", "1"),
                    edits.stream_add(b"x", {b"f": b"v"})):
        with pytest.raises(ReadOnlyError):
            await attempt
    assert await raw.hgetall("h") == {b"f": b"1"} and await raw.lrange("l", 0, -1) == [b"a"]
    assert not await raw.exists("n", "s", "z", "x")


async def test_json_documents_are_replaced_whole_unless_changed_meanwhile(raw, service, edits):
    await raw.execute_command("JSON.SET", "doc", "$", '{"name": "ada", "n": 1}')
    await raw.expire("doc", 500)
    loaded = await service.json_text(b"doc", limit=1 << 20)
    with pytest.raises(ValidationError, match="Not valid JSON"):
        await edits.json_set(b"doc", b'{"name": ', expected=loaded)
    await edits.json_set(b"doc", b'{"name": "grace", "n": 2}', expected=loaded)
    assert await raw.execute_command("JSON.GET", "doc", "$.name") == b'["grace"]'
    assert await raw.ttl("doc") > 0
    with pytest.raises(ConflictError, match="changed by someone else"):
        await edits.json_set(b"doc", b'{"mine": true}', expected=loaded)
    with pytest.raises(ValidationError, match="editor opens documents up to 10"):
        await service.json_text(b"doc", limit=10)
