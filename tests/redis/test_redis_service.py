"""Redis key browsing against the real Redis 8 server: SCAN walks, lookups, key details,
binary keys and the ops cap."""

from __future__ import annotations

import time

import pytest
import redis.asyncio as redis
from hypothesis import given
from hypothesis import strategies as st

import realservers
from studio_tui.services.errors import (
    ConflictError,
    NotFoundError,
    ReadOnlyError,
    ServerError,
    ValidationError,
)
from studio_tui.services.redis.console import ConfirmationRequired, InfoReply, run_console
from studio_tui.services.redis.edits import RedisEdits
from studio_tui.services.redis.keys import display_key, has_glob, parse_key
from studio_tui.services.redis.service import RedisService
from studio_tui.services.throttle import OpsThrottle

REDIS_DB = 3  # this module's own logical database, for the raw and service fixtures

BINARY_KEYS = [b"bin:\xff\x00\xfe", b"bin:caf\xc3\xa9", b"bin:tab\there", b"bin:back\\slash"]


async def _commandstat(client: redis.Redis, command: str) -> int:
    stats = await client.info("commandstats")
    return int(stats.get(f"cmdstat_{command}", {}).get("calls", 0))


async def test_a_walk_covers_every_key_with_match_and_type_filters(raw, service):
    async with raw.pipeline(transaction=False) as pipe:
        for n in range(2500):
            pipe.set(f"user:{n}", n)
        for n in range(300):
            pipe.hset(f"session:{n}", "user", n)
        await pipe.execute()
    keys_before = await _commandstat(raw, "keys")

    everything = set()
    pages = 0
    async for page in service.walk(count=500):
        everything.update(page.keys)
        pages += 1
    assert len(everything) == 2800 and pages > 1

    users = set()
    async for page in service.walk(match=b"user:1*", count=1000):
        users.update(page.keys)
    assert users == {f"user:{n}".encode() for n in range(2500) if str(n).startswith("1")}

    hashes = set()
    async for page in service.walk(type_="hash"):
        hashes.update(page.keys)
    assert hashes == {f"session:{n}".encode() for n in range(300)}
    assert await service.dbsize() == 2800
    assert await _commandstat(raw, "keys") == keys_before  # never KEYS


async def test_a_walk_resumes_from_the_cursor_of_its_last_page(raw, service):
    async with raw.pipeline(transaction=False) as pipe:
        for n in range(3000):
            pipe.set(f"item:{n}", n)
        await pipe.execute()
    first = []
    async for page in service.walk(count=500):
        first.extend(page.keys)
        if len(first) >= 1000:
            stopped_at = page.cursor
            break
    assert stopped_at != 0
    rest = [key async for page in service.walk(count=500, cursor=stopped_at, long=True)
            for key in page.keys]
    assert sorted(first + rest) == sorted(f"item:{n}".encode() for n in range(3000))


async def test_a_pattern_without_wildcards_is_a_direct_lookup(raw, service):
    await raw.set("exact:key", "v")
    scans_before = await _commandstat(raw, "scan")
    pages = [page async for page in service.walk(match=b"exact:key")]
    assert [p.keys for p in pages] == [[b"exact:key"]]
    missing = [page async for page in service.walk(match=b"exact:nope")]
    assert [p.keys for p in missing] == [[]]
    wrong_type = [page async for page in service.walk(match=b"exact:key", type_="hash")]
    assert [p.keys for p in wrong_type] == [[]]
    assert await _commandstat(raw, "scan") == scans_before


async def test_key_details_for_every_type_in_one_round_trip(raw, service):
    await raw.set("s", "x" * 100, px=60_000)
    await raw.hset("h", mapping={"a": 1})
    await raw.rpush("l", 1, 2)
    await raw.sadd("st", 1)
    await raw.zadd("z", {"a": 1.0})
    await raw.xadd("x", {"f": "v"})
    await raw.execute_command("JSON.SET", "j", "$", '{"a": 1}')
    keys = [b"s", b"h", b"l", b"st", b"z", b"x", b"j", b"gone"]
    infos = await service.key_infos(keys)
    assert [i.type for i in infos] == ["string", "hash", "list", "set", "zset", "stream",
                                       "ReJSON-RL", "none"]
    assert 0 < infos[0].ttl_ms <= 60_000
    assert infos[1].ttl_ms == -1 and infos[-1].ttl_ms == -2
    assert infos[0].memory is not None and infos[0].memory >= 100
    assert infos[-1].memory is None


async def test_binary_keys_scan_display_and_round_trip_exactly(raw, service):
    for key in BINARY_KEYS:
        await raw.set(key, b"\x00\x01")
    found = set()
    async for page in service.walk(match=b"bin:*"):
        found.update(page.keys)
    assert found == set(BINARY_KEYS)
    shown = {display_key(k) for k in found}
    assert shown == {"bin:\\xff\\x00\\xfe", "bin:café", "bin:tab\\there", "bin:back\\\\slash"}
    for text in shown:
        assert (await service.lookup(parse_key(text))) is not None


async def test_the_ops_cap_slows_a_walk_and_reports_the_rate(raw, service):
    async with raw.pipeline(transaction=False) as pipe:
        for n in range(2000):
            pipe.set(f"k:{n}", n)
        await pipe.execute()
    service.throttle = OpsThrottle(20)
    started = time.perf_counter()
    pages = 0
    async for _page in service.walk(count=10):
        pages += 1
        if pages == 50:
            break
    elapsed = time.perf_counter() - started
    assert elapsed >= (50 - 20) / 20 * 0.9  # a one-second burst, then 20 per second
    assert 15 <= service.throttle.current_rate() <= 25


@given(st.binary(max_size=40))
def test_any_key_round_trips_through_its_display_form(raw_key: bytes):
    shown = display_key(raw_key)
    assert parse_key(shown) == raw_key
    assert shown.isprintable()


def test_printable_keys_are_shown_as_they_are():
    assert display_key(b"user:42:profile") == "user:42:profile"
    assert display_key("ключ:😀".encode()) == "ключ:😀"


@pytest.mark.parametrize("pattern, expected", [
    (b"user:*", True), (b"user:?", True), (b"user:[ab]", True), (b"user:42", False),
    (b"literal\\*star", False), (b"", False),
])
def test_wildcards_are_recognised(pattern: bytes, expected: bool):
    assert has_glob(pattern) is expected


async def _all_pages(fetch) -> list:
    items, position = [], 0
    for _ in range(1000):
        page = await fetch(position)
        items.extend(page.items)
        if page.done:
            return items
        position = page.next
    raise AssertionError("paging never ended")


async def test_collections_page_through_every_item(raw, service):
    await raw.hset("h", mapping={f"f{n}": n for n in range(1000)})
    await raw.rpush("l", *range(450))
    await raw.sadd("s", *range(700))
    await raw.zadd("z", {f"m{n}": n for n in range(300)})
    hash_items = await _all_pages(lambda c: service.hash_page(b"h", c, count=100))
    assert dict(hash_items) == {f"f{n}".encode(): str(n).encode() for n in range(1000)}
    list_items = await _all_pages(lambda s: service.list_page(b"l", s, count=100))
    assert [v for _, v in list_items] == [str(n).encode() for n in range(450)]
    assert list_items[123][0] == b"123"
    set_items = await _all_pages(lambda c: service.set_page(b"s", c, count=100))
    assert {m for m, _ in set_items} == {str(n).encode() for n in range(700)}
    zset_items = await _all_pages(lambda s: service.zset_page(b"z", s, count=64))
    assert [m for m, _ in zset_items] == [f"m{n}".encode() for n in range(300)]
    assert zset_items[5][1] == b"5.0"


async def test_streams_page_newest_first_and_oldest_first(raw, service):
    ids = [await raw.xadd("x", {"n": n}) for n in range(25)]
    newest = []
    after = b"-"
    while True:
        page = await service.stream_page(b"x", after, count=10)
        newest.extend(entry_id for entry_id, _ in page.entries)
        if page.last_id is None:
            break
        after = page.last_id
    assert newest == list(reversed(ids))
    oldest = await service.stream_page(b"x", count=5, newest_first=False)
    assert [e for e, _ in oldest.entries] == ids[:5]
    assert oldest.entries[0][1] == {b"n": b"0"}


async def test_big_strings_are_read_in_ranges(raw, service):
    await raw.set("big", b"a" * 10_000 + b"b" * 10_000)
    preview = await service.preview(b"big", "string")
    assert preview.length == 20_000 and len(preview.head) == 4096
    assert await service.string_range(b"big", 9_998, 4) == b"aabb"


async def test_edits_delete_expire_persist_and_rename_safely(raw, edits):
    await raw.set("a", "1")
    await raw.set("b", "2")
    await edits.set_ttl(b"a", 100)
    assert 0 < await raw.ttl("a") <= 100
    await edits.set_ttl(b"a", None)
    assert await raw.ttl("a") == -1
    with pytest.raises(ConflictError, match="already exists; nothing was renamed"):
        await edits.rename(b"a", b"b")
    assert await raw.get("b") == b"2"
    await edits.rename(b"a", b"c")
    assert await raw.get("c") == b"1"
    with pytest.raises(NotFoundError):
        await edits.rename(b"gone", b"d")
    with pytest.raises(ValidationError):
        await edits.set_ttl(b"c", 0)
    assert await edits.delete([b"b", b"c", b"never"]) == 2


async def test_a_string_changed_by_someone_else_is_a_conflict_not_an_overwrite(raw, edits):
    await raw.set("doc", "v1", ex=500)
    loaded = await raw.get("doc")
    await raw.set("doc", "someone else", keepttl=True)
    with pytest.raises(ConflictError, match="changed by someone else"):
        await edits.string_set(b"doc", b"my edit", expected=loaded)
    assert await raw.get("doc") == b"someone else"
    await edits.string_set(b"doc", b"my edit", expected=b"someone else")
    assert await raw.get("doc") == b"my edit"
    assert await raw.ttl("doc") > 0  # the TTL survives an edit
    with pytest.raises(ConflictError):
        await edits.string_set(b"new", b"x", expected=b"thought it existed")
    await edits.string_set(b"new", b"x", expected=None)
    assert await raw.get("new") == b"x"


async def test_read_only_entries_refuse_every_edit_in_the_service(catalog, project_id, manager,
                                                                  redis_server, raw):
    await raw.set("keep", "1")
    entry = await catalog.add_database(project_id, "ro", realservers.redis_db_url(redis_server.url, REDIS_DB), read_only=True)
    read_only = RedisService(manager, entry.id)
    refused = RedisEdits(read_only)
    for attempt in (refused.delete([b"keep"]), refused.set_ttl(b"keep", 5),
                    refused.rename(b"keep", b"moved"),
                    refused.string_set(b"keep", b"2", expected=b"1"),
                    run_console(read_only, "SET keep 3"),
                    run_console(read_only, "FLUSHDB", confirmation="FLUSHDB")):
        with pytest.raises(ReadOnlyError):
            await attempt
    assert await raw.get("keep") == b"1" and await raw.ttl("keep") == -1
    assert await run_console(read_only, "GET keep") == [b"1"]


async def test_console_runs_lines_as_a_pipeline_and_guards_dangerous_commands(raw, service):
    replies = await run_console(service, 'SET greeting "hello world"\nGET greeting\nHGET nope')
    assert replies[:2] == [True, b"hello world"]
    assert isinstance(replies[2], ServerError)  # one bad line does not hide the others
    with pytest.raises(ConfirmationRequired) as caught:
        await run_console(service, "GET greeting\nFLUSHDB")
    assert caught.value.field_errors == {"confirm": "FLUSHDB"}
    assert await raw.get("greeting") == b"hello world"
    with pytest.raises(ConfirmationRequired):
        await run_console(service, "KEYS *", confirmation="yes")
    assert await run_console(service, "FLUSHDB", confirmation="flushdb") == [True]
    assert await raw.dbsize() == 0
    with pytest.raises(ValidationError, match="Line 1"):
        await run_console(service, 'GET "unterminated')
    with pytest.raises(ConfirmationRequired):
        await run_console(service, "config set maxmemory 1")


async def test_console_info_keeps_the_servers_sections(raw, service):
    await raw.set("info:probe", "1")
    keyspace, everything = await run_console(service, "INFO keyspace\nINFO")
    assert isinstance(keyspace, InfoReply) and [name for name, _ in keyspace.sections] == [
        "Keyspace"]
    figures = dict(keyspace.sections[0][1])
    assert any(figure.startswith("keys=") for figure in figures.values()), figures
    names = [name for name, _ in everything.sections]
    assert names[:3] == ["Server", "Clients", "Memory"] and "Keyspace" in names
    assert dict(everything.sections[0][1])["redis_version"].count(".") == 2


async def test_console_says_unknown_command_as_redis_does(raw, service, catalog, project_id,
                                                          manager, redis_server):
    with pytest.raises(ServerError, match="unknown command 'NOSUCHCMD'"):
        await run_console(service, "NOSUCHCMD a b")
    replies = await run_console(service, "SET known 1\nNOSUCHCMD\nGET known")
    assert replies[0] is True and replies[2] == b"1"
    assert isinstance(replies[1], ServerError) and "unknown command" in replies[1].detail
    with pytest.raises(ServerError, match="unknown subcommand"):
        await run_console(service, "OBJECT NOSUCHSUB key")
    info = await run_console(service, "COMMAND INFO get nosuchcmd")
    assert info[0][0][0] == b"get" and info[0][1] is None  # as the server sent it
    entry = await catalog.add_database(
        project_id, "ro", realservers.redis_db_url(redis_server.url, REDIS_DB), read_only=True)
    with pytest.raises(ServerError, match="unknown command"):  # not "read-only"
        await run_console(RedisService(manager, entry.id), "NOSUCHCMD")


async def test_server_insight_info_slowlog_and_clients(raw, service, catalog, project_id,
                                                       manager, redis_server):
    from studio_tui.services.redis.insight import clients, info_sections, slowlog

    sections = await info_sections(service)
    assert sections["server"]["redis_version"].startswith("8.")
    assert "used_memory" in sections["memory"]
    await raw.config_set("slowlog-log-slower-than", 0)
    try:
        await raw.set("slow:key", "v")
        entries = await slowlog(service)
        assert any(e.command.startswith("set slow:key") or e.command.startswith("SET slow:key")
                   for e in entries)
        await RedisEdits(service).reset_slowlog()
        assert all(not e.command.lower().startswith("set slow:key") for e in await slowlog(service))
        entry = await catalog.add_database(project_id, "ro", realservers.redis_db_url(redis_server.url, REDIS_DB),
                                           read_only=True)
        with pytest.raises(ReadOnlyError):
            await RedisEdits(RedisService(manager, entry.id)).reset_slowlog()
    finally:
        await raw.config_set("slowlog-log-slower-than", 10000)
    listed = await clients(service)
    assert any(c.get("name") == "studio-tui" for c in listed)
