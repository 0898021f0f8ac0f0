"""The Redis key browser against the real Redis 8 server: scanning as you go, patterns, types,
exact lookups, previews of big and binary values."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis as redis_sync
from textual.widgets import Input, RichLog, Select, Static, TextArea, Tree

import realservers
from studio_tui.dialogs.confirm import ConfirmModal
from studio_tui.screens.redis.browser import RedisBrowserScreen
from studio_tui.screens.redis.console import RedisConsoleScreen
from studio_tui.screens.redis.insight import RedisInsightScreen
from studio_tui.widgets.catalog_table import CatalogTable
from studio_tui.widgets.redis.key_list import KeyList
from studio_tui.widgets.redis.namespace_tree import NamespaceTree
from studio_tui.widgets.redis.value_panel import ValuePanel
from studio_tui.services.studio import Studio
from studio_tui.services.settings import Settings
from ui import (
    QUIET_SETTINGS,
    SIZES,
    home_env,
    run_command,
    screen_text,
    seed,
    seed_now,
    settle,
    studio_app,
)


@pytest.fixture(scope="module")
def keyspace() -> Iterator[realservers.RunningServer]:
    """A server of its own: 5,000 users, a JSON string, binary data, a 20 MB string and a hash
    of a million fields."""
    server = realservers.start_redis()
    client = redis_sync.Redis.from_url(server.url)
    with client.pipeline(transaction=False) as pipe:
        for n in range(5000):
            pipe.set(f"user:{n}", f"name-{n}")
        pipe.set("json:1", '{"name": "Ada", "langs": ["en", "fr"]}')
        pipe.set(b"bin:\xff\x00", b"\x00\x01\xfe")
        pipe.hset("session:1", mapping={"user": "1"})
        pipe.set("big:string", b"x" * 20_000_000)
        pipe.execute()
    client.eval("for i = 1, 1000000 do redis.call('HSET', KEYS[1], i, i) end", 1, "big:hash")
    client.close()
    yield server
    server.stop()


async def _open(tmp_path: Path, server):
    await seed(tmp_path, {"Acme": {"shop": [("cache", server.url)]}})
    return studio_app(tmp_path, QUIET_SETTINGS)


async def _open_browser(pilot) -> RedisBrowserScreen:
    await run_command(pilot, "open cache")
    assert isinstance(pilot.app.screen, RedisBrowserScreen)
    return pilot.app.screen


async def _search(pilot, pattern: str) -> None:
    await pilot.press("slash")
    pilot.app.screen.query_one("#pattern", Input).value = pattern
    await pilot.press("enter")
    await settle(pilot)


async def test_the_list_fills_a_screenful_then_scans_on_demand(tmp_path: Path, keyspace):
    app = await _open(tmp_path, keyspace)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open_browser(pilot)
        keys = screen.query_one(KeyList)
        first = len(keys)
        assert 2000 <= first < 5005  # a screenful plus the look-ahead, not the whole keyspace
        assert "paused, m for more" in screen_text(app)
        # Details arrive for the rows on screen only.
        visible = keys.keys[:10]
        assert all(keys.info(k) is not None for k in visible)
        assert keys.info(keys.keys[-1]) is None
        await pilot.press("a")
        await settle(pilot)
        assert len(keys) == 5005 and len(set(keys.keys)) == 5005
        assert "scan complete" in screen_text(app)


async def test_a_new_pattern_replaces_the_scan_and_exact_names_are_looked_up(tmp_path: Path,
                                                                             keyspace):
    app = await _open(tmp_path, keyspace)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open_browser(pilot)
        keys = screen.query_one(KeyList)
        await _search(pilot, "user:12*")
        assert set(keys.keys) == {f"user:{n}".encode() for n in range(5000)
                                  if str(n).startswith("12")}
        await _search(pilot, "json:1")
        assert keys.keys == [b"json:1"]
        await _search(pilot, "no:such:key")
        assert keys.keys == []
        await _search(pilot, "*")
        screen.query_one("#type", Select).value = "hash"
        await settle(pilot)
        assert set(keys.keys) == {b"session:1", b"big:hash"}


async def test_json_is_pretty_and_binary_is_escaped(tmp_path: Path, keyspace):
    app = await _open(tmp_path, keyspace)
    async with app.run_test(size=(120, 40)) as pilot:
        await _open_browser(pilot)
        await _search(pilot, "json:1")
        await pilot.pause(0.2)
        await settle(pilot)
        shown = screen_text(app)
        assert '"langs": [' in shown and '"name": "Ada"' in shown
        await _search(pilot, "bin:*")
        await pilot.pause(0.2)
        await settle(pilot)
        shown = screen_text(app)
        assert "bin:\\xff\\x00" in shown and "\\x00\\x01\\xfe" in shown


async def test_a_20_mb_string_and_a_million_field_hash_open_at_once(tmp_path: Path, keyspace):
    app = await _open(tmp_path, keyspace)
    async with app.run_test(size=(120, 40)) as pilot:
        await _open_browser(pilot)
        for pattern, expected in (("big:string", "20,000,000 bytes"),
                                  ("big:hash", "1,000,000 items")):
            started = time.perf_counter()
            await _search(pilot, pattern)
            await pilot.pause(0.2)
            await settle(pilot)
            elapsed = time.perf_counter() - started
            shown = screen_text(app)
            assert expected in shown, shown
            # Reading either whole would take far longer than this; only a page is read.
            assert elapsed < 3.0
        assert "first 4,096 of 20,000,000 bytes" not in shown  # the hash shows no value head


@pytest.mark.parametrize("size", SIZES)
def test_redis_browser_snapshot(snap_compare, tmp_path: Path, keyspace, size):
    seed_now(tmp_path, {"Acme": {"shop": [("cache", keyspace.url)]}})
    app = studio_app(tmp_path, QUIET_SETTINGS)

    async def run_before(pilot):
        await _open_browser(pilot)
        await _search(pilot, "json:1")
        await pilot.pause(0.2)
        await settle(pilot)
        # The rate figure depends on timing; blank it like a clock.
        status = pilot.app.screen.query_one("#status", Static)
        status.update("1 key(s) found · scan complete")
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=run_before)


async def test_values_page_in_with_plus(tmp_path: Path, keyspace):
    app = await _open(tmp_path, keyspace)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open_browser(pilot)
        panel = screen.query_one(ValuePanel)
        await _search(pilot, "big:hash")
        await pilot.pause(0.2)
        await settle(pilot)
        first = panel.items.row_count
        assert 100 <= first < 1000  # one HSCAN page, not a million fields
        loaded = panel.query_one("#loaded", Static)
        assert str(loaded.content) == f"{first:,} of 1,000,000 loaded · + for more"
        await pilot.press("plus")
        await settle(pilot)
        assert panel.items.row_count > first
        assert str(loaded.content) == f"{panel.items.row_count:,} of 1,000,000 loaded · + for more"

        await _search(pilot, "big:string")
        await pilot.pause(0.2)
        await settle(pilot)
        assert str(loaded.content) == "4,096 of 20,000,000 bytes loaded · + for more"
        await pilot.press("plus")
        await settle(pilot)
        assert str(loaded.content) == "69,632 of 20,000,000 bytes loaded · + for more"

        # The text scrolls from the keyboard once tab gives the value pane the focus.
        await pilot.press("tab")
        assert app.focused is panel
        await pilot.press("pagedown", "pagedown")
        await pilot.pause()
        assert panel.scroll_y > 0
        await pilot.press("end")
        await pilot.pause()
        assert panel.scroll_y == panel.max_scroll_y > 0
        await pilot.press("tab")
        assert isinstance(app.focused, KeyList)
        await _search(pilot, "session:1")
        await pilot.pause(0.2)
        await settle(pilot)
        assert [tuple(map(str, panel.items.get_row_at(0)))] == [("user", "1")]
        await pilot.press("tab")
        assert app.focused is panel.items


def _fresh_db(server, db: int, keys: tuple[str, ...] = ()) -> str:
    """The URL of database ``db`` on the module's server, emptied, then holding ``keys``."""
    url = server.url.rsplit("/", 1)[0] + f"/{db}"
    client = redis_sync.Redis.from_url(url)
    client.flushdb()
    for key in keys:
        client.set(key, "1")
    client.close()
    return url


async def _open_db5(tmp_path: Path, server, *, read_only: bool = False):
    url = _fresh_db(server, 5, ("edit:me",))
    await seed(tmp_path, {"Acme": {"shop": [("cache", url)]}})
    if read_only:
        env = home_env(tmp_path)
        async with Studio(Settings.load(env), env) as studio:
            entry = (await studio.catalog.databases())[0]
            await studio.catalog.update_database(entry.id, read_only=True)
    return studio_app(tmp_path, QUIET_SETTINGS), url


async def test_keys_are_renamed_expired_and_deleted_with_confirmation(tmp_path: Path, keyspace):
    app, url = await _open_db5(tmp_path, keyspace)
    client = redis_sync.Redis.from_url(url)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open_browser(pilot)
        keys = screen.query_one(KeyList)
        assert keys.keys == [b"edit:me"]
        await pilot.press("R")
        await pilot.pause()
        pilot.app.screen.query_one(Input).value = "edit:renamed"
        await pilot.press("enter")
        await settle(pilot)
        assert keys.keys == [b"edit:renamed"] and client.exists("edit:renamed")
        await pilot.press("T")
        await pilot.pause()
        assert pilot.app.screen.query_one(Input).value == ""  # no expiry yet
        pilot.app.screen.query_one(Input).value = "120"
        await pilot.press("enter")
        await settle(pilot)
        assert 0 < client.ttl("edit:renamed") <= 120
        assert keys.info(b"edit:renamed").ttl_ms > 0
        await settle(pilot)
        # The value pane's TTL too: TTL's seconds, then the short form.
        assert re.search(r"TTL\s+1\d\ds \((1m\d+s|2m)\)", screen_text(app))
        await pilot.press("T")  # the form shows the TTL it has: enter keeps it
        await settle(pilot)
        assert 100 <= int(pilot.app.screen.query_one(Input).value) <= 120
        await pilot.press("enter")
        await settle(pilot)
        assert client.ttl("edit:renamed") > 0
        await pilot.press("d")
        await pilot.pause()
        assert "It cannot be undone" in str(app.screen.query_one("#detail", Static).content)
        await pilot.press("shift+tab", "enter")
        await settle(pilot)
        assert keys.keys == [] and not client.exists("edit:renamed")
        assert "Deleted edit:renamed." in screen_text(app)
    client.close()


async def test_a_read_only_entry_offers_no_write_and_says_why(tmp_path: Path, keyspace):
    """The write keys are dimmed and open no form (the service refuses writes in any case, which
    the service tests check); the breadcrumb and ? say why."""
    app, url = await _open_db5(tmp_path, keyspace, read_only=True)
    client = redis_sync.Redis.from_url(url)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open_browser(pilot)
        assert "(redis) · read-only" in screen_text(app)
        for key in ("d", "R", "T", "N", "e", "x"):
            await pilot.press(key)
            await pilot.pause()
            assert app.screen is screen, key  # no form, no confirmation
        assert "cache is a read-only entry: delete is off." not in screen_text(app)
        await pilot.press("d")
        await pilot.pause()
        assert "cache is a read-only entry: delete is off." in screen_text(app)  # why, at once
        assert screen.check_action("keys", ("delete",)) is None  # dimmed in the footer
        assert screen.check_action("keys", ("copy",)) is True
        await pilot.press("question_mark")
        await settle(pilot)
        assert "Delete (off here)" in screen_text(app)
    assert client.get("edit:me") == b"1"
    client.close()


async def test_console_pipelines_lines_and_asks_before_flushing(tmp_path: Path, keyspace):
    app, url = await _open_db5(tmp_path, keyspace)
    client = redis_sync.Redis.from_url(url)
    async with app.run_test(size=(120, 40)) as pilot:
        await _open_browser(pilot)
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, RedisConsoleScreen)
        area = app.screen.query_one(TextArea)
        area.text = "SET console:a 1\nINCR console:a\nGET console:a\nHGET console:a f"
        await pilot.press("ctrl+r")
        await settle(pilot)
        shown = "\n".join(str(line.text) for line in app.screen.query_one(RichLog).lines)
        assert "OK" in shown and "(integer) 2" in shown and '"2"' in shown
        assert "(error) WRONGTYPE" in shown
        assert area.text == ""

        # INFO reads as redis-cli prints it: sections, and one "key: value" a line.
        area.text = "INFO keyspace"
        await pilot.press("ctrl+r")
        await settle(pilot)
        shown = [str(line.text) for line in app.screen.query_one(RichLog).lines]
        figures = shown[shown.index("# Keyspace") + 1:]
        assert figures and all(re.match(r"db\d+: +keys=\d+,", line) for line in figures), shown

        area.text = "FLUSHDB"
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("escape")
        await settle(pilot)
        assert client.dbsize() == 2 and area.text == "FLUSHDB"  # nothing ran, nothing lost
        await pilot.press("ctrl+r")
        await settle(pilot)
        await type_into(pilot, "FLUSHDB")
        await pilot.press("enter")
        await settle(pilot)
        assert client.dbsize() == 0
        await pilot.press("ctrl+up")
        assert area.text == "FLUSHDB"
    client.close()


async def type_into(pilot, text: str) -> None:
    await pilot.press(*text)


@pytest.mark.parametrize("size", SIZES)
def test_console_snapshot(snap_compare, tmp_path: Path, keyspace, size):
    url = _fresh_db(keyspace, 6)
    seed_now(tmp_path, {"Acme": {"shop": [("cache", url)]}})
    app = studio_app(tmp_path, QUIET_SETTINGS)

    async def run_before(pilot):
        await _open_browser(pilot)
        await pilot.press("c")
        await settle(pilot)
        editor = pilot.app.screen.query_one(TextArea)
        editor.cursor_blink = False  # a blinking cursor is on or off depending on timing
        editor.text = 'SET greeting "hello"\nGET greeting\nDBSIZE'
        await pilot.press("ctrl+r")
        await settle(pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


async def test_keys_found_after_the_tree_was_opened_appear_and_the_parts_add_up(tmp_path: Path,
                                                                               keyspace):
    app = await _open(tmp_path, keyspace)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open_browser(pilot)
        await pilot.press("a")
        await settle(pilot)
        await pilot.press("v")
        await settle(pilot)
        tree = screen.query_one(NamespaceTree)
        tree.root.expand()
        await settle(pilot)
        # The scan goes on after the tree was opened: a root key and a new namespace arrive.
        tree.index.add([b"late-root-key", b"late:1"])
        tree.refresh_counts(complete=False)
        await pilot.pause()
        leaves = [child.data for child in tree.root.children]
        assert ("key", b"late-root-key") in leaves and ("prefix", b"late") in leaves
        assert tree.index.root.parts == tree.index.root.count


async def test_counts_from_a_paused_scan_are_floors_until_it_covers_everything(tmp_path: Path,
                                                                              keyspace):
    app = await _open(tmp_path, keyspace)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open_browser(pilot)
        assert screen.scan_state == "paused"  # enough keys for the screen, not all 5,005
        await pilot.press("v")
        await settle(pilot)
        tree = screen.query_one(NamespaceTree)
        labels = [str(child.label) for child in tree.root.children]
        users = next(label for label in labels if label.startswith("user:"))
        assert re.fullmatch(r"user:  ≥[\d,]+", users) and users != "user:  ≥5,000", labels
        assert str(tree.root.label).startswith("keys  ≥")
        await pilot.press("a")  # the rest: the counts become final
        await settle(pilot)
        assert screen.scan_state == "done"
        labels = [str(child.label) for child in tree.root.children]
        assert "user:  5,000" in labels and not any("≥" in label for label in labels), labels
        assert str(tree.root.label) == "keys  5,005"


async def test_namespace_tree_counts_prefixes_and_lists_one(tmp_path: Path, keyspace):
    app = await _open(tmp_path, keyspace)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open_browser(pilot)
        await pilot.press("a")  # the whole keyspace, so the counts are final
        await settle(pilot)
        await pilot.press("v")
        await settle(pilot)
        tree = screen.query_one("#tree", Tree)
        labels = {str(child.label): child for child in tree.root.children}
        assert "user:  5,000" in labels and "big:  2" in labels
        tree.move_cursor(labels["big:  2"])
        await pilot.press("enter")  # expand: its two keys appear
        await settle(pilot)
        assert sorted(str(c.label) for c in labels["big:  2"].children) == ["big:hash",
                                                                          "big:string"]
        await pilot.press("L")
        await settle(pilot)
        keys = screen.query_one(KeyList)
        assert screen.query_one("#pattern", Input).value == "big:*"
        assert sorted(keys.keys) == [b"big:hash", b"big:string"] and keys.display


@pytest.mark.parametrize("size", SIZES)
def test_namespace_tree_snapshot(snap_compare, tmp_path: Path, keyspace, size):
    url = _fresh_db(keyspace, 7, ("user:1:name", "user:2:name", "user:3:name", "session:a",
                                  "session:b", "plain"))
    seed_now(tmp_path, {"Acme": {"shop": [("cache", url)]}})
    app = studio_app(tmp_path, QUIET_SETTINGS)

    async def run_before(pilot):
        await _open_browser(pilot)
        await pilot.press("v")
        await settle(pilot)
        await pilot.press("down")  # onto "user:", whose value pane stays empty
        await settle(pilot)
        # The rate figure depends on timing; blank it like a clock.
        pilot.app.screen.query_one("#status", Static).update(
            "6 key(s) found · scan complete over 6 keys")
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=run_before)


async def test_server_insight_shows_info_slowlog_and_clients(tmp_path: Path, keyspace):
    app, url = await _open_db5(tmp_path, keyspace)
    async with app.run_test(size=(120, 40)) as pilot:
        await _open_browser(pilot)
        await pilot.press("i")
        await settle(pilot)
        assert isinstance(app.screen, RedisInsightScreen)
        info = app.screen.query_one("#info-table", CatalogTable)
        assert "server.redis_version" in info.all_keys and "memory.used_memory" in info.all_keys
        assert "client(s)" in str(app.screen.query_one("#status", Static).content)
        await pilot.press("x")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("shift+tab", "enter")
        await settle(pilot)
        assert isinstance(app.screen, RedisInsightScreen)
        assert "0 slowlog" in str(app.screen.query_one("#status", Static).content)


async def test_the_value_pane_says_which_key_it_loads_and_why_it_could_not(tmp_path: Path,
                                                                          keyspace):
    app = await _open(tmp_path, keyspace)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open_browser(pilot)
        await settle(pilot)  # the first key's own value has landed
        panel = screen.query_one(ValuePanel)
        panel.show_loading(b"user:1")
        await pilot.pause()
        assert "Loading user:1…" in screen_text(app)
        from studio_tui.services.errors import OperationTimeoutError

        panel.show_failed(b"user:1", OperationTimeoutError("cache did not answer within 1s."))
        await pilot.pause()
        summary = str(panel.query_one("#summary").content)
        assert "Could not load user:1" in summary and "did not answer within 1s" in summary
