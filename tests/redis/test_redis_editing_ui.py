"""Editing Redis values from the browser, as a user does it, against a real server: create keys,
edit and remove items, conflicts that keep the input, $EDITOR, bulk delete and set algebra, and
snapshots of every type's viewer."""

from __future__ import annotations

import stat
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis as redis_sync
from textual.widgets import Input, Static

import realservers
from studio_tui.dialogs.confirm import ConfirmModal
from studio_tui.dialogs.fields import FieldsModal
from studio_tui.screens.redis.browser import RedisBrowserScreen
from studio_tui.dialogs.redis.bulk_delete import RedisBulkDeleteModal
from studio_tui.screens.redis.insight import RedisInsightScreen
from studio_tui.widgets.catalog_table import CatalogTable
from studio_tui.widgets.redis.key_list import KeyList
from studio_tui.widgets.redis.value_panel import ValuePanel
from ui import (
    QUIET_SETTINGS,
    SIZES,
    browse,
    screen_text,
    seed,
    seed_now,
    settle,
    studio_app,
)


def _fill(client: redis_sync.Redis) -> None:
    client.flushdb()
    client.hset("user:1", mapping={"name": "ada", "visits": "3", "bio": "mathematician"})
    client.rpush("queue:jobs", "resize", "email", "resize", "report")
    client.sadd("tags:a", "red", "green", "blue")
    client.sadd("tags:b", "green", "blue", "black")
    client.zadd("board", {"ann": 10, "bob": 20, "cy": 5, "dee": 12.5})
    client.xadd("events", {"type": "login", "user": "1"}, id="1700000000000-0")
    client.xadd("events", {"type": "logout", "user": "1"}, id="1700000000500-0")
    client.xgroup_create("events", "billing", id="0")
    client.execute_command("JSON.SET", "doc:1", "$", '{"name": "Ada", "langs": ["en", "fr"]}')
    client.set("greeting", "hello world")
    with client.pipeline(transaction=False) as pipe:
        for n in range(1200):
            pipe.set(f"session:{n}", n)
        pipe.execute()


@pytest.fixture(scope="module")
def server() -> Iterator[realservers.RunningServer]:
    running = realservers.start_redis()
    yield running
    running.stop()


@pytest.fixture
def client(server) -> Iterator[redis_sync.Redis]:
    connection = redis_sync.Redis.from_url(server.url)
    _fill(connection)
    yield connection
    connection.close()


async def _fill_form(pilot, **values: str) -> None:
    await settle(pilot)  # the key that opens the form may still be on its way on a busy machine
    modal = pilot.app.screen
    assert isinstance(modal, FieldsModal), modal
    for name, value in values.items():
        widget = modal.query_one(f"#{name}")
        widget.value = value
    await pilot.click("#save")
    await settle(pilot)


async def _app(tmp_path: Path, server, **env: str):
    await seed(tmp_path, {"Acme": {"shop": [("cache", server.url)]}})
    return studio_app(tmp_path, QUIET_SETTINGS, **env)


async def test_create_keys_of_several_types_from_the_form(tmp_path: Path, server, client):
    app = await _app(tmp_path, server)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await browse(pilot, "new:*")
        await pilot.press("N")
        await pilot.pause()
        await _fill_form(pilot, key="new:h", type="hash", field="f", value="v", ttl="300")
        assert client.hgetall("new:h") == {b"f": b"v"} and 0 < client.ttl("new:h") <= 300
        assert b"new:h" in screen.query_one(KeyList).keys
        assert "Created hash new:h." in screen_text(app)
        await pilot.press("N")
        await pilot.pause()
        await _fill_form(pilot, key="new:z", type="zset", value="m", score="not a number")
        assert isinstance(app.screen, FieldsModal)  # stays open with what was typed
        assert "not a number" in screen_text(app)
        assert app.screen.query_one("#key", Input).value == "new:z"
        await _fill_form(pilot, score="4.5")
        assert client.zscore("new:z", "m") == 4.5
        await pilot.press("N")
        await pilot.pause()
        await _fill_form(pilot, key="user:1", type="string", value="x")
        assert "already exists" in screen_text(app)
        assert client.type("user:1") == b"hash"


async def test_a_hash_field_changed_meanwhile_is_a_conflict_and_the_input_stays(
        tmp_path: Path, server, client):
    app = await _app(tmp_path, server)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await browse(pilot, "user:1")
        panel = screen.query_one(ValuePanel)
        assert panel.selected_item() == (b"name", b"ada")
        await pilot.press("y")
        assert app.clipboard == "user:1"
        await pilot.press("e")
        await pilot.pause()
        client.hset("user:1", "name", "changed elsewhere")
        await _fill_form(pilot, value="grace")
        assert isinstance(app.screen, FieldsModal)
        assert "changed or removed by someone else" in screen_text(app)
        assert app.screen.query_one("#value", Input).value == "grace"
        assert client.hget("user:1", "name") == b"changed elsewhere"
        await pilot.press("escape")
        await settle(pilot)
        # After a reload the edit goes through.
        screen.load_value(b"user:1")
        await settle(pilot)
        await pilot.press("e")
        await pilot.pause()
        await _fill_form(pilot, value="grace")
        assert client.hget("user:1", "name") == b"grace"
        assert panel.selected_item() == (b"name", b"grace")
        # Increment the second field.
        panel.items.move_cursor(row=1)
        await pilot.press("I")
        await pilot.pause()
        await _fill_form(pilot, amount="39")
        assert client.hget("user:1", "visits") == b"42"
        assert "visits is now 42." in screen_text(app)


async def test_list_items_are_removed_by_position_after_confirmation(tmp_path: Path, server,
                                                                    client):
    app = await _app(tmp_path, server)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await browse(pilot, "queue:jobs")
        panel = screen.query_one(ValuePanel)
        panel.items.move_cursor(row=2)  # the second "resize"
        await pilot.press("x")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmModal)
        assert "element [2] = resize" in screen_text(app)
        await pilot.click("#confirm")
        await settle(pilot)
        assert client.lrange("queue:jobs", 0, -1) == [b"resize", b"email", b"report"]
        await pilot.press("n")
        await pilot.pause()
        await _fill_form(pilot, value="urgent", where="head")
        assert client.lindex("queue:jobs", 0) == b"urgent"


async def test_edit_a_string_in_the_editor_and_keep_it_on_conflict(tmp_path: Path, server,
                                                                   client):
    editor = tmp_path / "editor.py"
    editor.write_text(
        f"#!{sys.executable}\n"
        "import pathlib, sys, redis\n"
        "path = pathlib.Path(sys.argv[1])\n"
        "path.write_bytes(path.read_bytes().replace(b'hello', b'goodbye'))\n"
        f"if pathlib.Path({str(tmp_path / 'race')!r}).exists():\n"
        f"    redis.Redis.from_url({server.url!r}).set('greeting', 'someone else')\n")
    editor.chmod(editor.stat().st_mode | stat.S_IXUSR)
    app = await _app(tmp_path, server, EDITOR=str(editor))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await browse(pilot, "greeting")
        await pilot.press("E")
        await settle(pilot)
        assert client.get("greeting") == b"goodbye world"
        assert "Saved 13 bytes to greeting." in screen_text(app)
        # Now another client writes while the editor is open: nothing is overwritten and the
        # user's text is kept on disk.
        client.set("greeting", "hello again")
        (tmp_path / "race").touch()
        await pilot.press("E")
        await settle(pilot)
        assert client.get("greeting") == b"someone else"
        kept = list((tmp_path / "data" / "unsaved").glob("*greeting*"))
        assert [p.read_bytes() for p in kept] == [b"goodbye again"]
        assert "Conflict: not saved. Your text is kept." in screen_text(app)
        told = " ".join(note.message for note in app._notifications)
        assert f"A copy is in {kept[0]}" in told and "Press E to reopen" in told
        assert screen._unsaved[b"greeting"] == b"goodbye again"


async def test_a_json_document_in_the_editor_survives_invalid_json(tmp_path: Path, server,
                                                                    client):
    # The first save is broken JSON; the second run of the editor fixes it.
    editor = tmp_path / "editor.py"
    editor.write_text(
        f"#!{sys.executable}\n"
        "import json, pathlib, sys\n"
        "path = pathlib.Path(sys.argv[1])\n"
        "text = path.read_text()\n"
        "if text.rstrip().endswith(','):\n"
        "    path.write_text(text.rstrip()[:-1] + '}')\n"
        "else:\n"
        "    doc = json.loads(text)\n"
        "    doc['name'] = 'Grace'\n"
        "    path.write_text(json.dumps(doc)[:-1] + ',')\n")
    editor.chmod(editor.stat().st_mode | stat.S_IXUSR)
    app = await _app(tmp_path, server, EDITOR=str(editor))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await browse(pilot, "doc:1")
        await pilot.press("E")
        await settle(pilot)
        assert "Invalid input: not saved. Your text is kept." in screen_text(app)
        assert screen._unsaved[b"doc:1"].endswith(b",")
        assert client.execute_command("JSON.GET", "doc:1", "$.name") == b'["Ada"]'
        await pilot.press("E")
        await settle(pilot)
        assert client.execute_command("JSON.GET", "doc:1", "$.name") == b'["Grace"]'
        assert b"doc:1" not in screen._unsaved


async def test_bulk_delete_previews_asks_for_the_pattern_and_reports(tmp_path: Path, server,
                                                                     client):
    app = await _app(tmp_path, server)
    async with app.run_test(size=(120, 40)) as pilot:
        await browse(pilot, "session:1*")
        await pilot.press("D")
        await settle(pilot)
        modal = app.screen
        assert isinstance(modal, RedisBulkDeleteModal) and modal.state == "ready"
        matching = sum(1 for n in range(1200) if str(n).startswith("1"))
        assert modal.preview.matched == matching
        assert f"{matching:,} key(s) match 'session:1*'" in screen_text(app)
        assert modal.query_one("#confirm").disabled
        modal.query_one("#typed", Input).value = "session:*"  # not what was previewed
        await pilot.pause()
        assert modal.query_one("#confirm").disabled
        modal.query_one("#typed", Input).value = "session:1*"
        await pilot.pause()
        await pilot.click("#confirm")
        await settle(pilot)
        assert modal.state == "done" and modal.deleted == matching
        assert f"Deleted {matching:,} key(s)" in screen_text(app)
        assert len(client.keys("session:1*")) == 0
        assert len(client.keys("session:*")) == 1200 - matching
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, RedisBrowserScreen)


async def test_set_algebra_shows_the_result_or_stores_it(tmp_path: Path, server, client):
    app = await _app(tmp_path, server)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await browse(pilot, "tags:a")
        await pilot.press("S")
        await pilot.pause()
        assert app.screen.query_one("#keys", Input).value == "tags:a "
        await _fill_form(pilot, keys="tags:a tags:b", operation="intersection")
        panel = screen.query_one(ValuePanel)
        assert sorted(item[0] for item in panel.raw_items) == [b"blue", b"green"]
        assert "Intersection: 2 member(s)." in screen_text(app)
        await pilot.press("S")
        await pilot.pause()
        await _fill_form(pilot, keys="tags:a tags:b", operation="union", store="tags:all")
        assert client.scard("tags:all") == 4


async def test_streams_show_their_groups_and_zsets_filter_by_score(tmp_path: Path, server,
                                                                   client):
    client.xreadgroup("billing", "worker-1", {"events": ">"}, count=1)
    app = await _app(tmp_path, server)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await browse(pilot, "events")
        text = screen_text(app)
        assert "Group billing · 1 pending · lag 1" in text
        assert "worker-1: 1 pending, idle" in text
        await pilot.press("slash")
        screen.query_one("#pattern", Input).value = "board"
        await pilot.press("enter")
        await settle(pilot)
        await pilot.pause(0.1)
        await settle(pilot)
        await pilot.press("f")
        await pilot.pause()
        await _fill_form(pilot, filter="10 (20")
        await settle(pilot)
        panel = screen.query_one(ValuePanel)
        assert [item[0] for item in panel.raw_items] == [b"ann", b"dee"]


VIEWERS = ["user:1", "queue:jobs", "tags:a", "board", "events", "doc:1"]


@pytest.mark.parametrize("key", VIEWERS)
def test_value_viewer_snapshot(snap_compare, tmp_path: Path, server, client, key):
    seed_now(tmp_path, {"Acme": {"shop": [("cache", server.url)]}})
    app = studio_app(tmp_path, QUIET_SETTINGS)

    async def run_before(pilot):
        screen = await browse(pilot, key)
        screen.query_one("#status", Static).update("1 key(s) found · scan complete")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(100, 30), run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_bulk_delete_preview_snapshot(snap_compare, tmp_path: Path, server, client, size):
    seed_now(tmp_path, {"Acme": {"shop": [("cache", server.url)]}})
    app = studio_app(tmp_path, QUIET_SETTINGS)

    async def run_before(pilot):
        # One exact key behind the dialog, since SCAN order changes from server to server.
        screen = await browse(pilot, "tags:a")
        screen.query_one("#status", Static).update("1 key(s) found · scan complete")
        await pilot.press("D")
        await settle(pilot)
        pilot.app.screen.query_one("#pattern", Input).value = "tags:*"
        await pilot.press("shift+tab")  # back to the pattern field
        await pilot.press("enter")
        await settle(pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)



async def test_insight_switches_database_and_samples_memory(tmp_path: Path, server, client):
    other = redis_sync.Redis.from_url(server.url.rsplit("/", 1)[0] + "/1")
    other.flushdb()
    other.set("in-db-1", "x")
    app = await _app(tmp_path, server)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await browse(pilot)
        await pilot.press("i")
        await settle(pilot)
        insight = app.screen
        assert isinstance(insight, RedisInsightScreen)
        table = insight.query_one("#keyspace-table", CatalogTable)
        assert table.all_keys[:2] == ["0", "1"]
        assert "0 (open)" in screen_text(app)
        await pilot.press("a")
        await settle(pilot)
        assert insight.sample is not None and insight.sample.complete
        assert insight.sample.top[0][1] == b"events"  # the stream is the biggest value here
        assert "Every key, walked" in screen_text(app)
        insight.query_one("#tabs").active = "overview"
        await pilot.pause()
        table.table.move_cursor(row=1)
        table.table.focus()
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is screen and screen.service.db == 1
        assert screen.query_one(KeyList).keys == [b"in-db-1"]
        assert "cache (redis) db 1" in screen_text(app)
    other.flushdb()
    other.close()


@pytest.mark.parametrize("tab", ["overview", "memory"])
def test_insight_snapshot(snap_compare, tmp_path: Path, server, client, tab):
    seed_now(tmp_path, {"Acme": {"shop": [("cache", server.url)]}})
    app = studio_app(tmp_path, QUIET_SETTINGS)

    async def run_before(pilot):
        await browse(pilot)
        await pilot.press("i")
        await settle(pilot)
        if tab == "memory":
            await pilot.press("a")
            await settle(pilot)
        insight = pilot.app.screen
        insight.workers.cancel_group(insight, "insight-vitals")
        for timer in list(insight._timers):
            timer.stop()
        # Live figures change from run to run; blank them like a clock.
        for vital, label in (("#ops", "ops/s        -"), ("#memory-vital", "memory       -")):
            insight.query_one(f"{vital} Sparkline").data = [1, 2, 3, 2, 1]
            insight.query_one(f"{vital} .vital-label", Static).update(label)
        insight.query_one("#memory-stats", Static).update("(MEMORY STATS figures)")
        insight.query_one("#status", Static).update("Redis · used · slowlog · clients")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(100, 30), run_before=run_before)


async def test_marked_keys_feed_set_algebra_and_are_deleted_together(tmp_path: Path, server,
                                                                     client):
    app = await _app(tmp_path, server)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await browse(pilot, "tags:*")
        keys = screen.query_one(KeyList)
        keys.focus()
        await pilot.press("space", "space")
        assert sorted(keys.marked) == [b"tags:a", b"tags:b"]
        assert "2 key(s) marked" in screen_text(app)
        await pilot.press("S")
        await pilot.pause()
        assert sorted(app.screen.query_one("#keys", Input).value.split()) == ["tags:a", "tags:b"]
        await _fill_form(pilot, operation="difference", keys="tags:a tags:b")
        assert [item[0] for item in screen.query_one(ValuePanel).raw_items] == [b"red"]
        await pilot.press("d")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmModal)
        assert "Delete 2 marked key(s)?" in screen_text(app)
        await pilot.click("#confirm")
        await settle(pilot)
        assert not client.exists("tags:a", "tags:b") and keys.keys == [] and keys.marked == []
        assert "Deleted 2 of 2 marked key(s)." in screen_text(app)


async def test_a_browser_left_is_collected_and_nothing_of_it_was_frozen(tmp_path: Path, server,
                                                                      client):
    import gc
    import weakref

    app = await _app(tmp_path, server)
    async with app.run_test(size=(120, 40)) as pilot:
        await browse(pilot)  # a first browser, opened and left: the second must go too
        await pilot.press("escape")
        await settle(pilot)
        screen = weakref.ref(await browse(pilot))
        keys = weakref.ref(screen().query_one(KeyList))
        frozen = gc.get_freeze_count()  # the app's long-lived part, frozen before the browser
        assert frozen > 0
        await pilot.press("a")
        await settle(pilot)
        assert gc.get_freeze_count() <= frozen  # nothing more frozen: the keys stay collectable
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, RedisBrowserScreen)
        # Nothing (a pooled socket's callback, the idle reaper, a cancelled timer still on the
        # loop, a worker) holds the screen once its cancelled workers have unwound, which on a
        # busy machine takes a few turns of the loop.
        for _ in range(30):
            await pilot.pause(0.1)
            gc.collect()
            if screen() is None and keys() is None:
                break
        assert screen() is None and keys() is None
    assert gc.get_freeze_count() == 0  # the app gives it all back when it ends
