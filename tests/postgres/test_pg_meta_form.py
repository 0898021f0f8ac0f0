"""The database form's pg-meta fields: shown for a PostgreSQL URL only, refused with a clear
message for pg-meta's default key, saved encrypted, shown masked when editing, and used."""

from __future__ import annotations

from textual.widgets import Input
from ui import QUIET_SETTINGS, run_command, screen_text, seed, settle, studio_app

from studio_tui.dialogs.database_form import DatabaseFormModal
from studio_tui.screens.catalog.databases import DatabasesScreen
from studio_tui.screens.postgres.browser import PostgresBrowserScreen


async def _set(pilot, selector: str, value: str) -> None:
    field = pilot.app.screen.query_one(selector, Input)
    field.focus()
    field.value = value
    await pilot.pause()


def _meta_shown(form) -> bool:
    return all(widget.display for widget in form.query(".meta"))


async def test_pg_meta_fields_refuse_the_default_key_then_save_and_open(
        catalog_db, pg_meta, tmp_path, redis_server):
    await seed(tmp_path, {"Acme": {"shop": []}})
    app = studio_app(tmp_path, QUIET_SETTINGS)
    async with app.run_test(size=(80, 24)) as pilot:
        await run_command(pilot, "dbs Acme/shop")
        await pilot.press("n")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, DatabaseFormModal) and not _meta_shown(form)
        await _set(pilot, "#name", "orders")
        await _set(pilot, "#url", redis_server.url)
        assert not _meta_shown(form)  # a Redis URL has no pg-meta
        await _set(pilot, "#url", catalog_db)
        assert _meta_shown(form)
        await _set(pilot, "#meta_url", pg_meta.url)
        await _set(pilot, "#meta_key", "SAMPLE_KEY")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form
        assert "'SAMPLE_KEY' is pg-meta's published default CRYPTO_KEY" in screen_text(app)
        assert form.query_one("#meta_key").has_class("-invalid")
        assert form.query_one("#meta_url", Input).value == pg_meta.url  # nothing lost
        await _set(pilot, "#meta_key", pg_meta.key)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, DatabasesScreen)
        await pilot.press("e")
        await settle(pilot)
        assert app.screen.query_one("#meta_url", Input).value == pg_meta.url
        assert app.screen.query_one("#meta_key", Input).password
        assert pg_meta.key not in screen_text(app)
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, PostgresBrowserScreen)
        assert f"pg-meta at {pg_meta.url[7:]}" in screen_text(app)


async def test_db_add_pg_meta_takes_the_key_from_the_environment_only(catalog_db, pg_meta,
                                                                      tmp_path):
    from test_cli import studio_tui

    from studio_tui.services.settings import Settings
    from studio_tui.services.studio import Studio

    missing = studio_tui(tmp_path, "db", "add", "meta", catalog_db, "--pg-meta", pg_meta.url)
    assert missing.returncode == 2 and "PG_META_CRYPTO_KEY" in missing.stderr
    weak = studio_tui(tmp_path, "db", "add", "meta", catalog_db, "--pg-meta", pg_meta.url,
                      env={"PG_META_CRYPTO_KEY": "SAMPLE_KEY"})
    assert weak.returncode == 2 and "published default CRYPTO_KEY" in weak.stderr
    added = studio_tui(tmp_path, "db", "add", "meta", catalog_db, "--pg-meta", pg_meta.url,
                       env={"PG_META_CRYPTO_KEY": pg_meta.key})
    assert added.returncode == 0, added.stderr
    assert f"through pg-meta at {pg_meta.url}" in added.stdout and pg_meta.key not in added.stdout
    environment = {"STUDIO_TUI_HOME": str(tmp_path)}
    async with Studio(Settings.load(environment), environment) as studio:
        entry = await studio.catalog.find_database("meta")
        assert studio.catalog.pg_meta(entry) == (pg_meta.url, pg_meta.key)


async def test_the_grid_and_sql_editor_of_a_pg_meta_entry_read_through_it(catalog_db, pg_meta,
                                                                          tmp_path):
    from studio_tui.screens.postgres.grid import GridScreen
    from studio_tui.screens.postgres.sql_editor import SqlEditorScreen
    from studio_tui.widgets.data_grid import DataGrid

    await seed(tmp_path, {"Acme": {"shop": [("shop", catalog_db)]}})
    app = studio_app(tmp_path, QUIET_SETTINGS)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        entry = await app.studio.catalog.find_database("shop")
        entry = await app.studio.catalog.update_database(entry.id,
                                                         pg_meta=(pg_meta.url, pg_meta.key))
        app.push_screen(GridScreen(entry, "Acme › shop", "shop", "orders"))
        await settle(pilot)
        grid = app.screen
        assert f"shop.orders · pg-meta at {pg_meta.url[7:]}" in screen_text(app)
        assert grid.service.source is not None and grid.query_one(DataGrid).row_count > 0
        await pilot.press("escape")
        await settle(pilot)
        assert grid.entry_source is None  # closed with its screen

        app.push_screen(SqlEditorScreen(entry, "Acme › shop"))
        await settle(pilot)
        editor = app.screen
        assert f"SQL · pg-meta at {pg_meta.url[7:]}" in screen_text(app)
        editor.editor.text = "select count(*) as n from shop.orders"
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert editor.last_result is not None and editor.last_result.columns == ("n",)
