"""What the user is told and offered around an edit: after a conflict the next edit starts from
the current value, and a bulk delete keeps a confirmation typed while its preview still counts."""

from __future__ import annotations

import pytest
import redis as redis_sync
from textual.widgets import Input

import realservers
from studio_tui.dialogs.fields import FieldsModal
from studio_tui.dialogs.redis.bulk_delete import RedisBulkDeleteModal
from studio_tui.widgets.redis.value_panel import ValuePanel
from ui import QUIET_SETTINGS, browse, burst, screen_text, seed, settle, studio_app

REDIS_DB = 9


@pytest.fixture
def client(redis_server):
    client = redis_sync.Redis.from_url(realservers.redis_db_url(redis_server.url, REDIS_DB))
    client.flushdb()
    yield client
    client.client_unpause()
    client.flushdb()
    client.close()


@pytest.fixture
async def app(tmp_path, redis_server, client):
    url = realservers.redis_db_url(redis_server.url, REDIS_DB)
    await seed(tmp_path, {"Acme": {"shop": [("cache", url)]}})
    return studio_app(tmp_path, QUIET_SETTINGS)


async def test_after_a_conflict_the_next_edit_starts_from_the_current_value(app, client):
    client.hset("user:1", mapping={"name": "ada"})
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await browse(pilot, "user:1")
        await pilot.press("e")
        await settle(pilot)
        assert app.screen.query_one("#value", Input).value == "ada"
        client.hset("user:1", "name", "changed elsewhere")
        app.screen.query_one("#value", Input).value = "grace"
        await pilot.click("#save")
        await settle(pilot)
        assert isinstance(app.screen, FieldsModal)  # the input is kept
        assert app.screen.query_one("#value", Input).value == "grace"
        assert "esc, then e, edits it" in screen_text(app)
        await pilot.press("escape")
        await settle(pilot)
        assert screen.query_one(ValuePanel).selected_item() == (b"name", b"changed elsewhere")
        await pilot.press("e")
        await settle(pilot)
        assert app.screen.query_one("#value", Input).value == "changed elsewhere"


async def test_typing_in_an_opened_field_adds_to_its_value(app, client):
    client.set("greeting", "hello world")
    async with app.run_test(size=(120, 40)) as pilot:
        await browse(pilot, "greeting")
        await pilot.press("e")
        await settle(pilot)
        await burst(pilot, *", again")
        await pilot.press("enter")
        await settle(pilot)
        assert client.get("greeting") == b"hello world, again"


async def test_bulk_delete_keeps_what_is_typed_while_the_preview_counts(app, client):
    client.mset({f"session:{n}": n for n in range(50)})
    client.set("keep", "1")
    async with app.run_test(size=(120, 40)) as pilot:
        await browse(pilot, "session:*")
        client.client_pause(5000)  # the preview's scan waits: it is still counting
        await pilot.press("D")
        modal = app.screen
        assert isinstance(modal, RedisBulkDeleteModal)
        await burst(pilot, *"session:*", "enter")
        assert modal.state == "previewing"
        assert modal.query_one("#pattern", Input).value == "session:*"  # untouched
        assert modal.query_one("#typed", Input).value == "session:*"
        client.client_unpause()
        await settle(pilot)
        assert modal.state == "ready" and modal.preview.matched == 50
        assert client.dbsize() == 51  # nothing went before the count was on show
        assert not modal.query_one("#confirm").disabled
        await pilot.press("enter")
        await settle(pilot)
        assert modal.state == "done" and client.keys() == [b"keep"]
