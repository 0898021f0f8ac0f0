"""Keys that arrive in one burst (a paste, a laggy SSH link) act in the order they were typed: a
key that submits or edits an input acts on exactly what the input shows at that point."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis as redis_sync
from textual.widgets import Input, RichLog, TextArea

import realservers
from studio_tui.dialogs.fields import FieldsModal
from studio_tui.screens.redis.browser import RedisBrowserScreen
from studio_tui.screens.redis.console import RedisConsoleScreen
from studio_tui.widgets.catalog_table import CatalogTable
from studio_tui.widgets.redis.key_list import KeyList
from ui import QUIET_SETTINGS, browse, burst, open_command_bar, seed, settle, studio_app

REDIS_DB = 7
ROUNDS = 12  # the race lost about 1 time in 12 with keys pressed one by one


@pytest.fixture
def client(redis_server):
    client = redis_sync.Redis.from_url(realservers.redis_db_url(redis_server.url, REDIS_DB))
    client.flushdb()
    client.set("zz:123", "1")
    client.set("zz:1", "1")
    yield client
    client.flushdb()
    client.close()


@pytest.fixture
async def app(tmp_path: Path, redis_server, client):
    url = realservers.redis_db_url(redis_server.url, REDIS_DB)
    await seed(tmp_path, {"Acme": {"shop": [("cache", url)]}})
    return studio_app(tmp_path, QUIET_SETTINGS)


def _log(app) -> list[str]:
    return [str(line.text) for line in app.screen.query_one(RichLog).lines]


async def test_console_runs_the_whole_command_typed_in_the_same_burst_as_ctrl_r(app):
    async with app.run_test(size=(120, 40)) as pilot:
        await browse(pilot)
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, RedisConsoleScreen)
        for _ in range(ROUNDS):
            await burst(pilot, *"EXISTS zz:123", "ctrl+r")
            await settle(pilot)
            assert _log(app)[-2:] == ["> EXISTS zz:123", "(integer) 1"], _log(app)[-2:]
            assert app.screen.query_one(TextArea).text == ""


async def test_console_keeps_what_is_typed_after_ctrl_r(app):
    async with app.run_test(size=(120, 40)) as pilot:
        await browse(pilot)
        await pilot.press("c")
        await settle(pilot)
        await burst(pilot, *"EXISTS zz:1", "ctrl+r", *"GET zz:1")
        await settle(pilot)
        assert _log(app) == ["> EXISTS zz:1", "(integer) 1"]
        assert app.screen.query_one(TextArea).text == "GET zz:1"  # the next command, kept
        await pilot.press("escape")  # run by the editor too: back to the browser
        await settle(pilot)
        assert isinstance(app.screen, RedisBrowserScreen)


async def test_pattern_field_clears_then_scans_exactly_what_was_typed(app):
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await browse(pilot)
        keys = screen.query_one(KeyList)
        pattern = screen.query_one("#pattern", Input)
        for text, expected in [("zz:123", [b"zz:123"]), ("zz:1", [b"zz:1"])] * (ROUNDS // 2):
            await pilot.press("slash")
            await burst(pilot, "ctrl+u", *text, "enter")
            await settle(pilot)
            assert pattern.value == text
            assert keys.keys == expected


async def test_a_dialog_field_saves_exactly_what_was_typed(app, client):
    async with app.run_test(size=(120, 40)) as pilot:
        await browse(pilot)
        name = "zz:123"
        for round_ in range(ROUNDS):
            await pilot.press("slash")
            await burst(pilot, "ctrl+u", *name, "enter")
            await settle(pilot)
            await pilot.press("R")
            await settle(pilot)
            assert isinstance(app.screen, FieldsModal)
            name = f"renamed:{round_}"
            await burst(pilot, "ctrl+u", *name, "enter")
            await settle(pilot)
            assert client.exists(name), (name, client.keys())


async def test_command_bar_runs_exactly_what_was_typed(app):
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        for _ in range(ROUNDS // 2):
            await open_command_bar(pilot)
            await burst(pilot, *"orgs", "ctrl+u", *"open cache", "enter")
            await settle(pilot)
            assert isinstance(app.screen, RedisBrowserScreen), app.screen
            await pilot.press("escape")
            await settle(pilot)


async def test_list_filter_clears_then_filters_on_exactly_what_was_typed(app):
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        rows = app.screen.query_one(CatalogTable)
        await pilot.press("slash")
        for _ in range(ROUNDS):
            await burst(pilot, *"pers", "ctrl+u", *"acme")
            await settle(pilot)
            assert rows.filter_text == "acme"
            assert len(rows.shown_keys) == 1


async def test_keys_typed_before_the_lists_load_reach_the_database(app):
    """`down`, `enter` typed ahead, before each catalog list has its rows (a fast typist, a
    laggy link, a browser tab), are not lost: each list acts on them once its rows are in."""
    from studio_tui.screens.catalog.databases import DatabasesScreen

    async with app.run_test(size=(120, 40)) as pilot:
        # Before the first list has loaded: the organizations are Personal, then Acme.
        await burst(pilot, "down", "enter", "enter")
        await settle(pilot)
        assert isinstance(app.screen, DatabasesScreen), type(app.screen)
        assert app.screen.query_one(CatalogTable).all_keys
