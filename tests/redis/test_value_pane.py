"""The value pane from the keyboard: tab enters a string's or a JSON document's text, which then
scrolls; a collection says how much of it is loaded, and of how much."""

from __future__ import annotations

import json
import re

import pytest
import redis as redis_sync
from textual.widgets import Input, Static

import realservers
from studio_tui.widgets.redis.key_list import KeyList, format_ttl, format_ttl_detail
from studio_tui.widgets.redis.value_panel import ValuePanel
from ui import QUIET_SETTINGS, browse, list_matching, screen_text, seed, settle, studio_app

REDIS_DB = 8


@pytest.fixture
async def app(tmp_path, redis_server):
    url = realservers.redis_db_url(redis_server.url, REDIS_DB)
    client = redis_sync.Redis.from_url(url)
    client.flushdb()
    document = {f"field{n}": list(range(3)) for n in range(100)}
    client.execute_command("JSON.SET", "doc:long", "$", json.dumps(document))
    client.hset("hash:big", mapping={f"f{n}": n for n in range(3000)})
    client.close()
    await seed(tmp_path, {"Acme": {"shop": [("cache", url)]}})
    yield studio_app(tmp_path, QUIET_SETTINGS)
    client = redis_sync.Redis.from_url(url)
    client.flushdb()
    client.close()


async def _show(pilot, pattern: str) -> ValuePanel:
    return (await browse(pilot, pattern)).query_one(ValuePanel)


async def test_tab_enters_a_long_json_document_which_then_scrolls(app):
    async with app.run_test(size=(100, 30)) as pilot:
        panel = await _show(pilot, "doc:long")
        assert panel.max_scroll_y > 0  # taller than the pane
        await pilot.press("tab")
        assert app.focused is panel
        await pilot.press("down", "down", "pagedown")
        await pilot.pause()
        assert panel.scroll_y > 2
        await pilot.press("end")
        await pilot.pause()
        assert panel.scroll_y == panel.max_scroll_y
        await pilot.press("tab")
        assert isinstance(app.focused, KeyList)


async def test_a_collection_says_how_much_is_loaded_and_of_how_much(app):
    async with app.run_test(size=(100, 30)) as pilot:
        panel = await _show(pilot, "hash:big")
        loaded = panel.query_one("#loaded", Static)
        first = panel.items.row_count
        assert 0 < first < 3000
        assert str(loaded.content) == f"{first:,} of 3,000 loaded · + for more"
        while panel.items.row_count < 3000:
            await pilot.press("plus")
            await settle(pilot)
        assert not loaded.display  # all of it: nothing more to say
        await pilot.press("f")
        await settle(pilot)
        app.screen.query_one("#filter", Input).value = "f1*"
        await pilot.press("enter")
        await settle(pilot)
        await pilot.pause(0.2)
        await settle(pilot)
        assert str(loaded.content).endswith("loaded matching f1* · + for more")


@pytest.mark.parametrize("ttl_ms, listed, detail", [
    (59_900, "1m", "60s (1m)"),  # what TTL says (the server rounds), not 59 then 60
    (59_400, "59s", "59s"), (100_000, "1m40s", "100s (1m40s)"), (3_700_000, "1h1m", "3,700s (1h1m)"),
    (90_061_000, "1d1h", "90,061s (1d1h)"), (-1, "∞", "∞"), (-2, "gone", "gone")])
def test_a_ttl_reads_as_redis_cli_says_it(ttl_ms: int, listed: str, detail: str):
    assert (format_ttl(ttl_ms), format_ttl_detail(ttl_ms)) == (listed, detail)


async def test_the_list_and_the_value_pane_show_the_same_ttl(tmp_path, redis_server):
    url = realservers.redis_db_url(redis_server.url, REDIS_DB + 1)
    client = redis_sync.Redis.from_url(url)
    client.flushdb()
    await seed(tmp_path, {"Acme": {"shop": [("cache", url)]}})
    app = studio_app(tmp_path, QUIET_SETTINGS)
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await browse(pilot)
            # 120.4 s: TTL says 120 for the next 0.9 s; floored, the list said 1m59s and the
            # pane 119 s once 0.4 s had gone.
            client.set("ttl:two-minutes", "v", px=120_400)
            await list_matching(pilot, "ttl:*")
            screen = app.screen
            info = screen.query_one(KeyList).info(b"ttl:two-minutes")
            assert format_ttl(info.ttl_ms) == "2m" and format_ttl_detail(info.ttl_ms) == "120s (2m)"
            text = screen_text(app)
            assert re.search(r"ttl:two-minutes\s+string\s+2m\b", text), text
            assert re.search(r"TTL\s+120s \(2m\)", text), text
    finally:
        client.flushdb()
        client.close()
