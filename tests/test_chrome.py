"""The lines every screen shares, at the widths users have: the footer keeps the most used keys
when it cannot show them all, the breadcrumb keeps where you are, and a confirmation says what
enter does and that a cancel changed nothing."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import redis as redis_sync
from pymongo import MongoClient
from textual.binding import Binding
from textual.widgets import Button

from pgservers import create_database
from studio_tui.dialogs.confirm import ConfirmModal
from studio_tui.screens.mongo.browser import MongoBrowserScreen
from studio_tui.screens.postgres.browser import PostgresBrowserScreen
from studio_tui.screens.postgres.grid import GridScreen
from studio_tui.widgets.chrome import Breadcrumb, FittedKey, fit_crumb, fit_keys
from ui import QUIET_SETTINGS, browse, run_command, screen_text, seed, settle, studio_app


def footer(app) -> str:
    return screen_text(app).splitlines()[-1]


def crumb(app) -> str:
    return screen_text(app).splitlines()[1]


def test_every_key_fits_wide_and_narrow_keeps_help_then_the_priorities_in_order():
    keys = [FittedKey(Binding(key, key, description, id=binding_id), key, True, "")
            for key, description, binding_id in [
                ("esc", "Back", "nav.back"), ("?", "Help", "app.help"), ("m", "More", "more"),
                ("d", "Delete", "delete"), ("e", "Edit", "edit")]]
    compact, shown, _ = fit_keys(keys, None, 200, ("edit",))
    assert not compact and shown == tuple(keys)
    # 12 columns: room for "? Help" (7) and "e Edit" (7) less the indent: Help only, then Edit
    # once there is room for both; they stay in the order declared.
    compact, shown, _ = fit_keys(keys, None, 15, ("edit",))
    assert compact and [key.binding.id for key in shown] == ["app.help", "edit"]
    # A dimmed key (a write on a read-only entry) gives way to one that works.
    dimmed = [FittedKey(key.binding, key.display, key.binding.id != "edit", "") for key in keys]
    _, shown, _ = fit_keys(dimmed, None, 15, ("edit",))
    assert [key.binding.id for key in shown] == ["app.help", "more"]


def test_a_long_breadcrumb_loses_its_outer_places_first_and_keeps_its_end():
    path = "Personal › default › postgres (from DATABASE_URL) (postgres) › shop · direct"
    assert fit_crumb(path, 200) == path
    assert fit_crumb(path, 64) == "… › postgres (from DATABASE_URL) (postgres) › shop · direct"
    shortened = fit_crumb(path, 40)
    assert len(shortened) == 40 and shortened.endswith(" › shop · direct")


async def test_redis_browser_at_80_columns_shows_new_edit_and_ttl(tmp_path: Path, redis_server):
    client = redis_sync.Redis.from_url(redis_server.url)
    client.set(f"chrome:{uuid.uuid4().hex}", "v")
    client.close()
    await seed(tmp_path, {"Acme": {"shop": [("cache", redis_server.url)]}})
    app = studio_app(tmp_path, QUIET_SETTINGS)
    async with app.run_test(size=(80, 24)) as pilot:
        await browse(pilot, "chrome:*")
        line = footer(app)
        for key in ("? Help", "/ Pattern", "e Edit", "N New key", "d Delete", "T TTL"):
            assert key in line, line
        await pilot.resize_terminal(120, 40)
        await settle(pilot)
        assert "esc Back" in footer(app) and "i Server" in footer(app)


async def test_mongo_browser_at_80_columns_shows_aggregate_and_server(tmp_path: Path,
                                                                       mongo_server):
    name = "chrome_" + uuid.uuid4().hex[:8]
    client = MongoClient(mongo_server.url)
    client[name].orders.insert_one({"n": 1})
    try:
        url = mongo_server.url.replace("/?", f"/{name}?")
        await seed(tmp_path, {"Acme": {"shop": [("docs", url)]}})
        app = studio_app(tmp_path, QUIET_SETTINGS)
        async with app.run_test(size=(80, 24)) as pilot:
            await run_command(pilot, "open docs")
            assert isinstance(app.screen, MongoBrowserScreen)
            line = footer(app)
            for key in ("/ Query", "e Edit", "N New", "d Delete", "a Aggregate", "i Server"):
                assert key in line, line
    finally:
        client.drop_database(name)
        client.close()


@pytest.fixture(scope="module")
def people_db(postgres_server) -> str:
    return create_database(postgres_server.url, "chrome_grid",
                           "CREATE TABLE people (id int PRIMARY KEY, name text)")


async def test_postgres_grid_and_breadcrumb_at_80_columns(tmp_path: Path, people_db):
    # A long entry name, as admins give them: the breadcrumb would run past 80 columns.
    name = "shop-db (reporting replica in eu-west-1, read by finance)"
    await seed(tmp_path, {"Acme": {"shop": [(name, people_db)]}})
    app = studio_app(tmp_path, QUIET_SETTINGS)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        entry = await app.studio.catalog.find_database(name)
        app.push_screen(PostgresBrowserScreen(entry, "Acme › shop"))
        await settle(pilot)
        full = str(app.screen.query_one(Breadcrumb).content)
        assert len(full) > 78 and full.endswith("chrome_grid · direct")
        assert crumb(app).strip() == fit_crumb(full, 78)
        assert crumb(app).strip().endswith("(postgres) › chrome_grid · direct")
        app.push_screen(GridScreen(entry, "Acme › shop", "public", "people"))
        await settle(pilot)
        line = footer(app)
        for key in ("f Filter", "e Edit", "n Insert", "d Delete"):
            assert key in line, line


async def _confirm(app, pilot) -> ConfirmModal:
    """A deletion confirmation over the catalog's first screen, as the browsers open it."""
    answers: list[bool | None] = []
    app.push_screen(ConfirmModal("Delete user:1?", "UNLINK removes it now."), answers.append)
    await pilot.pause()
    modal = app.screen
    assert isinstance(modal, ConfirmModal)
    modal.answers = answers
    return modal


async def test_enter_in_a_confirmation_does_what_the_focused_button_says(tmp_path: Path):
    app = studio_app(tmp_path, QUIET_SETTINGS)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        modal = await _confirm(app, pilot)
        assert modal.focused is modal.query_one("#cancel", Button)
        assert "enter: cancel · tab/←: Delete" in screen_text(app)
        await pilot.press("enter")
        await pilot.pause()
        assert modal.answers == [False]
        assert "Cancelled: nothing deleted." in screen_text(app)
        modal = await _confirm(app, pilot)
        await pilot.press("left")
        assert modal.focused is modal.query_one("#confirm", Button)
        assert "enter: delete · tab: Cancel" in screen_text(app)
        await pilot.press("enter")
        await pilot.pause()
        assert modal.answers == [True]


@pytest.mark.parametrize("label, said", [("Drop", "Cancelled: nothing dropped."),
                                         ("Close", None)])
async def test_a_cancel_names_what_did_not_happen(tmp_path: Path, label: str, said: str | None):
    app = studio_app(tmp_path, QUIET_SETTINGS)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.push_screen(ConfirmModal("Sure?", "Detail.", confirm_label=label))
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert ("Cancelled:" in screen_text(app)) == (said is not None)
        if said:
            assert said in screen_text(app)
