"""The PostgreSQL browser in the app: snapshots of the tree and of each detail pane, and pilot
tests of search, the system schemas toggle, opening rows and the other screens, and pg-meta
mode with its fallback."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import realservers
from textual.widgets import Input
from ui import (QUIET_SETTINGS, SIZES, burst, home_env, run_command, screen_text, settle,
                studio_app)

from studio_tui.screens.postgres.browser import GRID_SCREEN, PostgresBrowserScreen, screen_class
from studio_tui.services.settings import Settings
from studio_tui.services.studio import Studio
from studio_tui.widgets.postgres.object_tree import ObjectTree

ODD = 'Odd "Schema" ü'


async def _seed(home: Path, url: str, pg_meta: tuple[str, str] | None = None) -> None:
    env = home_env(home)
    async with Studio(Settings.load(env), env) as studio:
        org = await studio.catalog.create_organization("Acme")
        project = await studio.catalog.create_project(org.id, "shop")
        await studio.catalog.add_database(project.id, "orders", url, pg_meta=pg_meta)


def _home(tmp_path: Path, url: str, pg_meta: tuple[str, str] | None = None) -> Path:
    """For snapshot tests, which run outside an event loop."""
    asyncio.run(_seed(tmp_path, url, pg_meta))
    return tmp_path


async def _app(tmp_path: Path, url: str, pg_meta: tuple[str, str] | None = None):
    await _seed(tmp_path, url, pg_meta)
    return studio_app(tmp_path, QUIET_SETTINGS)


async def _open(pilot) -> PostgresBrowserScreen:
    await run_command(pilot, "open orders")
    screen = pilot.app.screen
    assert isinstance(screen, PostgresBrowserScreen), screen
    await settle(pilot)
    return screen


async def _select(pilot, kind: str, schema: str, name: str, section: int | None = None):
    screen = await _open(pilot)
    assert screen.query_one(ObjectTree).select_object(kind, schema, name)
    await pilot.pause(0.15)  # the cursor settles before the object's own details are read
    await settle(pilot)
    if section is not None:
        await pilot.press(str(section))
        await settle(pilot)
    return screen


# -- snapshots ----------------------------------------------------------------------------------
PANES = {
    "tree": None,
    "columns": ("table", "shop", "customers", 1),
    "constraints": ("table", "shop", "orders", 2),
    "indexes": ("table", "shop", "orders", 3),
    "policies": ("table", "shop", "orders", 4),
    "triggers": ("table", "shop", "orders", 5),
    "view_definition": ("view", "shop", "big_orders", 6),
    "partition": ("table", "shop", "events_2025", 1),
    "quoted_identifiers": ("table", ODD, "select", 1),
    "function": ("function", "shop", "order_total", None),
    "composite_type": ("type", "shop", "address", None),
    "publication": ("publication", "", "fixture_pub", None),
}


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("pane", list(PANES))
def test_browser_snapshots(snap_compare, snapshot_db, tmp_path, pane, size):
    home = _home(tmp_path, snapshot_db)
    target = PANES[pane]

    async def run_before(pilot):
        if target is None:
            await _open(pilot)
        else:
            await _select(pilot, *target)

    assert snap_compare(studio_app(home, QUIET_SETTINGS), terminal_size=size,
                        run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_search_snapshot(snap_compare, snapshot_db, tmp_path, size):
    home = _home(tmp_path, snapshot_db)

    async def run_before(pilot):
        await _open(pilot)
        await pilot.press("slash", *"order")
        await settle(pilot)

    assert snap_compare(studio_app(home, QUIET_SETTINGS), terminal_size=size,
                        run_before=run_before)


# -- pilot tests --------------------------------------------------------------------------------
def _labels(screen) -> list[str]:
    return [row.label for row in screen.query_one(ObjectTree).rows]


async def test_search_finds_objects_across_the_catalog(catalog_db, tmp_path):
    app = await _app(tmp_path, catalog_db)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open(pilot)
        await pilot.press("slash", *"2026")
        await settle(pilot)
        tree = screen.query_one(ObjectTree)
        assert [r.obj.name for r in tree.rows if r.obj] == ["events_2026"]  # a partition
        assert "1 object(s) named like '2026'" in screen_text(app)
        search = screen.query_one("#search", Input)
        search.value = "SELECT"  # case-insensitive, across schemas, quoted names as they are
        await settle(pilot)
        assert [(r.obj.schema, r.obj.name) for r in tree.rows if r.obj] == [(ODD, "select")]
        assert _labels(screen)[:3] == [ODD, "Tables", "select"]
        assert tree.current.obj.name == "select"  # the cursor lands on the first match
        search.value = "📈"
        await settle(pilot)
        assert [r.obj.name for r in tree.rows if r.obj] == ["📈 view"]
        search.value = "pg_class"
        await settle(pilot)
        assert not [r for r in tree.rows if r.obj]  # system schemas are hidden…
        await pilot.press("enter", "s")
        await settle(pilot)
        assert [(r.obj.schema, r.obj.name) for r in tree.rows if r.obj and r.obj.kind == "table"] \
            == [("pg_catalog", "pg_class")]  # …until s shows them
        await pilot.press("escape")
        await settle(pilot)
        assert search.value == "" and "pg_catalog" in _labels(screen)
        await pilot.press("s")
        await settle(pilot)
        assert "pg_catalog" not in _labels(screen) and "shop" in _labels(screen)
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, PostgresBrowserScreen)


async def test_esc_after_a_search_keeps_the_place_the_user_expects(catalog_db, tmp_path):
    app = await _app(tmp_path, catalog_db)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open(pilot)
        tree = screen.query_one(ObjectTree)
        assert tree.select_object("table", "shop", "customers")
        await settle(pilot)
        # Abandoned (esc in the search box): back where the search began.
        await pilot.press("slash", *"2026")
        await settle(pilot)
        assert tree.current.obj.name == "events_2026"
        await pilot.press("escape")
        await settle(pilot)
        assert tree.filter == "" and tree.current.obj.name == "customers"
        assert screen.focused is tree
        # Gone through (enter, then down the matches): esc leaves the cursor on the object
        # chosen, in the whole tree, opened down to it.
        await pilot.press("slash", *"events_202", "enter")
        await settle(pilot)
        while tree.current.obj is None or tree.current.obj.name != "events_2026":
            await pilot.press("down")
        await pilot.press("escape")
        await settle(pilot)
        assert tree.filter == "" and screen.query_one("#search", Input).value == ""
        assert tree.current.obj.name == "events_2026" and "customers" in _labels(screen)
        assert "events_2026" in screen_text(app)  # on screen, not only in the list


async def test_keys_typed_in_one_burst_with_slash_all_land_in_the_search(catalog_db, tmp_path):
    app = await _app(tmp_path, catalog_db)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open(pilot)
        # r, e, i and s are keys of the browser: typed right after /, they are text.
        await burst(pilot, "slash", *"order", "enter")
        await settle(pilot)
        assert app.screen is screen
        assert screen.query_one("#search", Input).value == "order"
        assert screen.focused is screen.query_one(ObjectTree)
        assert "8 object(s) named like 'order'" in screen_text(app)


async def test_tree_expands_collapses_and_shows_details_as_they_stream_in(catalog_db, tmp_path):
    app = await _app(tmp_path, catalog_db)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open(pilot)
        labels = _labels(screen)
        # Schemas by name; public is open at first, the others closed; database-wide groups
        # follow the schemas.
        assert labels[:2] == [ODD, "public"] and labels[2] == "Functions"
        assert labels[-3:] == ["Extensions", "Publications", "Roles"]
        assert ODD in labels and "shop" in labels
        tree = screen.query_one(ObjectTree)
        tree.cursor = labels.index("shop")
        await pilot.press("right")
        await settle(pilot)
        assert "Tables" in _labels(screen)[labels.index("shop"):]
        await pilot.press("down", "enter")  # enter on a kind opens it
        await settle(pilot)
        assert tree.current.label == "Tables"
        assert {"customers", "events", "orders"} <= set(_labels(screen))
        assert "events_2025" not in _labels(screen)  # partitions under a closed table
        tree.cursor = _labels(screen).index("events")
        await pilot.press("space")
        await settle(pilot)
        assert "events_2025" in _labels(screen)
        await pilot.press("left", "left")  # collapse, then up to the parent
        await settle(pilot)
        assert "events_2025" not in _labels(screen) and tree.current.label == "Tables"
        assert screen.details is not None and screen.columns is not None
        tree.select_object("table", "shop", "orders")
        await pilot.pause(0.15)
        await settle(pilot)
        text = screen_text(app)
        assert "rows ≈200 · RLS forced" in text and "(estimated)" not in text  # exact sizes
        await pilot.press("4")
        await settle(pilot)
        assert "own_orders  SELECT permissive  to public" in screen_text(app)
        tree.select_object("sequence", "shop", "invoice_numbers")
        await pilot.pause(0.15)
        await settle(pilot)
        assert "size 8.0K · table 8.0K" in screen_text(app)  # sizes as every screen shows them
        tree.select_object("role", "", "fixture_reader")
        await pilot.pause(0.15)
        await settle(pilot)
        assert "connection limit no limit" in screen_text(app)
        tree.select_object("extension", "public", "pg_trgm")
        await pilot.pause(0.15)
        await settle(pilot)
        assert "installed 1." in screen_text(app)


async def test_enter_on_a_table_opens_the_grid_or_says_it_is_not_available(catalog_db,
                                                                            tmp_path):
    app = await _app(tmp_path, catalog_db)
    grid = screen_class(GRID_SCREEN)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _select(pilot, "table", ODD, "select")
        await pilot.press("enter")
        await settle(pilot)
        if grid is None:
            assert app.screen is screen
            assert "The data grid is not available in this version." in screen_text(app)
        else:
            assert isinstance(app.screen, grid)
            assert (app.screen.schema, app.screen.relation) == (ODD, "select")
            await pilot.press("escape")
            await settle(pilot)
        screen.query_one(ObjectTree).select_object("sequence", "shop", "invoice_numbers")
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is screen and "Sequences have no rows to browse." in screen_text(app)
        for key, path, what in (("e", "sql_editor:SqlEditorScreen", "The SQL editor"),
                                ("i", "server:ServerScreen", "The server view")):
            target = screen_class(f"studio_tui.screens.postgres.{path}")
            await pilot.press(key)
            await settle(pilot)
            if target is None:
                assert f"{what} is not available in this version." in screen_text(app)
            else:
                assert isinstance(app.screen, target)
                await pilot.press("escape")
                await settle(pilot)


async def test_pg_meta_mode_reads_the_same_tree(catalog_db, pg_meta, tmp_path):
    app = await _app(tmp_path, catalog_db, (pg_meta.url, pg_meta.key))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _select(pilot, "table", "shop", "orders", 5)
        assert f"· pg-meta at {pg_meta.url[7:]}" in screen_text(app)
        assert "orders_touch" in screen_text(app) and "BEFORE ROW" in screen_text(app)
        assert pg_meta.key not in screen_text(app)


async def test_pg_meta_down_falls_back_and_says_so(catalog_db, tmp_path):
    meta_url = f"http://127.0.0.1:{realservers.closed_port()}"
    app = await _app(tmp_path, catalog_db, (meta_url, "a-long-enough-key-123"))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _open(pilot)
        text = screen_text(app)
        assert "· direct (pg-meta unavailable)" in text
        assert f"pg-meta at {meta_url[7:]} is down; reading the catalog directly" in text
        assert "shop" in _labels(screen)
        assert app.problems  # the whole reason is kept for !
