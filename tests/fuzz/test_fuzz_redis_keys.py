"""Bad input, Redis key names against the real server: binary, control characters, invalid
UTF-8, glob characters and 1 MB names, through the services the browser uses (create, look up,
preview, read, rename, delete; SCAN with any MATCH pattern and TYPE filter), and the name as
the key list shows it and as the user types it back (``display_key`` / ``parse_key``).

Property: each operation succeeds and gives back the exact bytes, or raises a StudioError
whose message is specific and short (a 1 MB name is not repeated whole)."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import realservers
from fuzz_checks import assert_specific, fuzz_settings
from studio_tui.services.catalog import Catalog
from studio_tui.services.errors import ConflictError, StudioError
from studio_tui.services.manager import ConnectionManager
from studio_tui.services.platform.sqlite_store import SqliteCatalogStore
from studio_tui.services.redis.edits import RedisEdits
from studio_tui.services.redis.keys import display_key, has_glob, parse_key
from studio_tui.services.redis.service import RedisService
from studio_tui.services.vault import KeyMaterial, Vault

REDIS_DB = 11  # this module's own logical database
MESSAGE_LIMIT = 2_000  # a status line, not a dump of the key
MB = 1 << 20

KEYS = st.one_of(
    st.binary(min_size=1, max_size=48),
    st.text(min_size=1, max_size=24).map(str.encode),
    st.sampled_from([b"*", b"?", b"[", b"\\", b"a\\*b", b"\x00", b"\xff\xfe", b"\r\n",
                     b"\x1b[31mred", "ключ:😀".encode(), b" ", b"\xed\xa0\x80"]),
    # Big names, at a low rate: each one crosses the wire several times.
    st.integers(1, MB).map(lambda size: b"\xfe" * size),
)
TYPES = st.sampled_from([None, "string", "hash", "list", "set", "zset", "stream", "ReJSON-RL",
                         "none", "", "STRING", "nosuchtype", "a b", "\x00"])


@pytest.fixture(scope="module")
def redis_services(redis_server, tmp_path_factory):
    """A RedisService and RedisEdits on this module's database, on one event loop that the
    examples share (a new catalog and pool per example would be most of the time spent)."""
    url = realservers.redis_db_url(redis_server.url, REDIS_DB)
    with asyncio.Runner() as runner:
        async def start():
            store = SqliteCatalogStore(tmp_path_factory.mktemp("fuzz-redis") / "catalog.sqlite3")
            await store.__aenter__()
            catalog = Catalog(store, Vault(KeyMaterial(b"k" * 32, "fuzz key")))
            org = await catalog.create_organization("Fuzz")
            project = await catalog.create_project(org.id, "keys")
            entry = await catalog.add_database(project.id, "fuzz-redis", url)
            manager = ConnectionManager(catalog)
            await manager.__aenter__()
            service = RedisService(manager, entry.id)
            return store, manager, service

        store, manager, service = runner.run(start())
        runner.run(service.run("FLUSHDB", lambda client: client.flushdb(), write=True))
        yield runner, service, RedisEdits(service)
        runner.run(service.run("FLUSHDB", lambda client: client.flushdb(), write=True))
        runner.run(manager.__aexit__(None, None, None))
        runner.run(store.__aexit__(None, None, None))


def _refused(error: BaseException) -> None:
    assert_specific(error)
    assert len(str(error)) <= MESSAGE_LIMIT, f"{len(str(error)):,}-character message"


async def _round_trip(service: RedisService, edits: RedisEdits, key: bytes) -> None:
    value = b"v\x00\xff" + key[:16]
    await edits.create(key, "string", value=value, ttl=600)
    found = await service.lookup(key)
    assert found is not None and found.key == key and found.type == "string"
    assert (await service.preview(key, "string")).length == len(value)
    assert await service.string_value(key, limit=1024) == value
    if not has_glob(key):  # the browser's pattern box: a name without wildcards is looked up
        pages = [page async for page in service.walk(match=key)]
        assert [k for page in pages for k in page.keys] == [key]
    try:
        await edits.create(key, "hash", field=b"f", value=b"x")
    except ConflictError as error:  # never over an existing key
        _refused(error)
    else:
        raise AssertionError("a key was created over an existing one")
    renamed = key + b"\x00renamed"
    await edits.rename(key, renamed)
    assert await service.lookup(key) is None
    assert await service.string_value(renamed, limit=1024) == value
    assert await edits.delete([renamed]) == 1
    try:
        await edits.rename(renamed, key)
    except StudioError as error:  # gone: a NotFoundError naming it, briefly
        _refused(error)
    else:
        raise AssertionError("a deleted key was renamed")


def test_any_key_name_round_trips_through_the_services(redis_services) -> None:
    runner, service, edits = redis_services

    @fuzz_settings(ci=60)
    @given(KEYS)
    @example(b"\xff" * MB)  # a 1 MB binary name
    @example(b"\x00")
    @example(b"a*b?c[d")
    def check(key: bytes) -> None:
        try:
            runner.run(_round_trip(service, edits, key))
        except StudioError as error:
            _refused(error)
            raise AssertionError(f"refused a valid key name: {error}") from None
        finally:
            runner.run(edits.delete([key, key + b"\x00renamed"]))

    check()


def test_any_scan_pattern_and_type_filter_is_scanned_or_refused(redis_services) -> None:
    runner, service, edits = redis_services
    runner.run(edits.create(b"fuzz:probe", "string", value=b"1"))

    async def scan(match: bytes | None, type_: str | None) -> list[bytes]:
        keys: list[bytes] = []
        async for page in service.walk(match=match, type_=type_, count=50):
            keys.extend(page.keys)
        return keys

    @fuzz_settings(ci=80)
    @given(st.one_of(st.none(), KEYS.filter(lambda k: len(k) < 4096),
                     st.text(max_size=20).map(lambda text: parse_key(text))), TYPES)
    @example(b"[", "string")
    @example(b"\\", None)
    @example(b"[a-", "nosuchtype")
    def check(match: bytes | None, type_: str | None) -> None:
        try:
            keys = runner.run(scan(match, type_))
        except StudioError as error:
            _refused(error)
            return
        if type_ in (None, "string") and match in (None, b"*", b"fuzz:probe", b"fuzz:*"):
            assert b"fuzz:probe" in keys

    check()


@fuzz_settings(ci=500)
@given(st.binary(max_size=64) | st.text(max_size=32).map(str.encode))
@example(b"\x1b[2J")  # a terminal escape must not reach the screen raw
@example("\u2028\u200b\ufeff".encode())
def test_a_key_is_shown_printable_and_typed_back_exactly(raw: bytes) -> None:
    shown = display_key(raw)
    assert shown.isprintable()
    assert parse_key(shown) == raw


async def test_the_key_list_keeps_its_columns_whatever_the_name() -> None:
    """The key list's row: the name cut to its column by terminal cells, so the type, TTL and
    size columns stay in place for CJK, emoji, combining marks, escapes and 1 MB names."""
    from textual.app import App

    from studio_tui.services.redis.models import KeyInfo
    from studio_tui.widgets.redis.key_list import KeyList

    class KeyListApp(App):
        def compose(self):
            yield KeyList()

    app = KeyListApp()
    async with app.run_test(size=(70, 8)) as pilot:
        key_list = app.query_one(KeyList)
        await pilot.pause()
        width = key_list.scrollable_content_region.width

        def row_of(key: bytes):
            key_list.clear()
            key_list.append([key])
            key_list.set_infos([KeyInfo(key, "string", -1, 1234)])
            return key_list.render_line(0)

        columns = row_of(b"k").text[-28:]  # type, TTL and size, as a short name shows them
        assert "string" in columns and "∞" in columns

        @fuzz_settings(ci=300)
        @given(KEYS.filter(lambda key: len(key) < 4096) | st.text(min_size=1, max_size=60).map(
            str.encode))
        @example("漢字".encode() * 30)  # was two cells a character: the columns went off the row
        @example("😀".encode() * 40)
        @example("e\u0301".encode() * 50)  # combining marks: zero cells, the row fell short
        @example(b"\xfe" * MB)
        def check(key: bytes) -> None:
            row = row_of(key)
            assert row.cell_length == width
            assert row.text.endswith(columns), row.text

        check()
