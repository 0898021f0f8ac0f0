"""The data grid, the SQL editor and the server view as a user drives them, against a real
PostgreSQL: values in full, filters, edits and their conflicts, write mode and its commit,
cancel reaching the server, refusals on read-only entries; and snapshots at 80x24 and 120x40."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import asyncpg
import pytest
from textual.widgets import Input, Select, TextArea

import realservers
from pg_grid_data import create_grid_database
from studio_tui.dialogs.confirm import ConfirmModal
from studio_tui.dialogs.fields import FieldsModal
from studio_tui.dialogs.postgres.commit import CommitModal
from studio_tui.dialogs.postgres.filter import FilterModal
from studio_tui.dialogs.postgres.value import RowDetailModal, ValueModal
from studio_tui.screens.postgres.grid import GridScreen
from studio_tui.screens.postgres.server import ServerScreen
from studio_tui.screens.postgres.sql_editor import SqlEditorScreen
from studio_tui.services.postgres.data_models import (
    Backend,
    LockInfo,
    ServerOverview,
    StatementsReport,
)
from studio_tui.widgets.chrome import StatusLine
from studio_tui.widgets.data_grid import DataGrid
from ui import QUIET_SETTINGS, SIZES, screen_text, seed, seed_now, settle, studio_app


@pytest.fixture(scope="module")
def db_url(postgres_server) -> str:
    return create_grid_database(postgres_server.url, "grid_ui")


def _app(tmp_path: Path, url: str, *, read_only: bool = False):
    """For a snapshot test (plain def)."""
    seed_now(tmp_path, {"Acme": {"shop": [("shop", url)]}})
    app = studio_app(tmp_path, QUIET_SETTINGS)
    app.read_only_entry = read_only
    return app


async def app_for(tmp_path: Path, url: str, *, read_only: bool = False, **env: str):
    await seed(tmp_path, {"Acme": {"shop": [("shop", url)]}})
    app = studio_app(tmp_path, QUIET_SETTINGS, **env)
    app.read_only_entry = read_only
    return app


async def open_screen(pilot, make: Callable):
    """Push the screen ``make(entry)`` makes for the seeded entry (the browser is elsewhere)."""
    app = pilot.app
    await settle(pilot)
    entry = await app.studio.catalog.find_database("shop")
    if app.read_only_entry:
        entry = await app.studio.catalog.update_database(entry.id, read_only=True)
    app.push_screen(make(entry))
    await settle(pilot)
    return app.screen


def grid_screen(schema: str = "public", name: str = "people"):
    return lambda entry: GridScreen(entry, "Acme › shop", schema, name)


async def raw_connection(url: str):
    return await asyncpg.connect(url)


# -- the grid -----------------------------------------------------------------------------------
async def test_a_cut_value_opens_in_full_and_json_pretty_printed(tmp_path, db_url):
    app = await app_for(tmp_path, db_url)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_screen(pilot, grid_screen())
        grid = screen.query_one(DataGrid)
        assert grid.row_count == 200 and "keyset on primary key (id)" in screen_text(app)
        grid.cursor_row, grid.cursor_column = 2, 3  # id 3's bio: 180,000 characters
        await pilot.pause()
        assert grid.row(2)[3].endswith("… [175.8K]")
        await pilot.press("v")
        await settle(pilot)
        assert isinstance(app.screen, ValueModal)
        assert app.screen.query_one(TextArea).text == "long bio " * 20000
        await pilot.press("escape")
        grid.cursor_column = 4
        await pilot.press("v")
        await settle(pilot)
        assert app.screen.query_one(TextArea).text.startswith('{\n  "n": 3,\n  "tags": [')
        await pilot.press("escape")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, RowDetailModal)
        text = screen_text(app)
        assert "cut short: 175.8K; v shows all" in text and "person 3" in text


async def test_the_filter_builder_and_sort_reload_the_grid(tmp_path, db_url):
    app = await app_for(tmp_path, db_url)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_screen(pilot, grid_screen())
        grid = screen.query_one(DataGrid)
        grid.cursor_column = 2  # age
        await pilot.press("f")
        await settle(pilot)
        modal = app.screen
        assert isinstance(modal, FilterModal)
        assert modal.query_one("#column-0", Select).value == "age"
        modal.query_one("#operator-0", Select).value = ">="
        modal.query_one("#value-0", Input).value = "9"
        await pilot.click("#apply")
        await settle(pilot)
        assert grid.row_count == 86 and all(grid.row(n)[2] == "9" for n in range(86))
        status = str(screen.query_one(StatusLine).render())
        # The filter comes first, and the table's estimate is not passed off as the matches'.
        assert status.startswith("table · where age >= 9 · ~1,000 rows in all (c counts the "
                                 "matches)"), status
        grid.cursor_column = 0
        await pilot.press("s", "s")  # id descending
        await settle(pilot)
        assert grid.row(0)[0] == "999" and "sorted by id descending" in screen_text(app)
        await pilot.press("c")
        await settle(pilot)
        assert "86 rows (counted)" in screen_text(app)


async def test_esc_cancels_a_slow_read_on_the_server(tmp_path, db_url):
    app = await app_for(tmp_path, db_url)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        entry = await app.studio.catalog.find_database("shop")
        app.push_screen(GridScreen(entry, "Acme › shop", "public", "slow"))
        await asyncio.sleep(0.8)
        query = '"public"."slow"'
        assert await realservers.postgres_sessions_running(db_url, query, wait=0) == 1
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, GridScreen)  # the first esc stops; it does not leave
        assert "cancelled on the server" in screen_text(app)
        assert await realservers.postgres_sessions_running(db_url, query) == 0


async def test_an_edit_conflict_keeps_the_form_and_its_input(tmp_path, db_url):
    raw = await raw_connection(db_url)
    await raw.execute("UPDATE people SET name = 'person 2' WHERE id = 2")
    app = await app_for(tmp_path, db_url)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            screen = await open_screen(pilot, grid_screen())
            grid = screen.query_one(DataGrid)
            grid.cursor_row, grid.cursor_column = 1, 1
            await pilot.press("e")
            assert "Write mode is off" in screen_text(app)
            await pilot.press("ctrl+w")
            assert "write mode" in screen_text(app)
            await pilot.press("e")
            await settle(pilot)
            assert isinstance(app.screen, FieldsModal)
            await raw.execute("UPDATE people SET age = 77 WHERE id = 2")  # someone else
            app.screen.query_one("#value", Input).value = "mine"
            await pilot.click("#save")
            await settle(pilot)
            assert isinstance(app.screen, FieldsModal)
            shown = screen_text(app)
            assert "Someone else changed the row since it was read: age is now" in shown
            assert "'77' (was '2'). Nothing was written; your input is kept." in shown
            assert app.screen.query_one("#value", Input).value == "mine"
            assert await raw.fetchval("SELECT name FROM people WHERE id = 2") == "person 2"
            await pilot.press("escape")
            await pilot.press("r")
            await settle(pilot)
            grid.cursor_row, grid.cursor_column = 1, 1
            await pilot.press("e")
            await settle(pilot)
            app.screen.query_one("#value", Input).value = "mine"
            await pilot.click("#save")
            await settle(pilot)
            assert await raw.fetchval("SELECT name FROM people WHERE id = 2") == "mine"
            assert grid.row(1)[1] == "mine"
    finally:
        await raw.execute("UPDATE people SET name = 'person 2', age = 2 WHERE id = 2")
        await raw.close()


async def test_insert_and_delete_marked_rows_with_the_count_confirmed(tmp_path, db_url):
    raw = await raw_connection(db_url)
    app = await app_for(tmp_path, db_url)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            screen = await open_screen(pilot, grid_screen(name="gen"))
            await pilot.press("ctrl+w", "n")
            await settle(pilot)
            modal = app.screen
            assert isinstance(modal, FieldsModal)
            assert not modal.query("#c0") and not modal.query("#c3")  # identity, generated
            modal.query_one("#c1", Input).value = "1.5"
            modal.query_one("#c4", Input).value = "\\N"
            await pilot.click("#save")
            await settle(pilot)
            grid = screen.query_one(DataGrid)
            assert grid.row_count == 2 and grid.row(1)[3] == "3.00" and grid.row(1)[4] is None
            await pilot.press("space", "up", "space")
            await pilot.press("d")
            await settle(pilot)
            assert isinstance(app.screen, ConfirmModal)
            assert "Delete 2 rows from public.gen?" in screen_text(app)
            await pilot.click("#confirm")
            await settle(pilot)
            assert grid.row_count == 0 and await raw.fetchval("SELECT count(*) FROM gen") == 0
    finally:
        await raw.execute("INSERT INTO gen (price, qty, note) OVERRIDING SYSTEM VALUE "
                          "VALUES (2.50, 4, 'first') ON CONFLICT DO NOTHING")
        await raw.close()


async def test_the_insert_form_of_a_wide_table_scrolls_at_80x24(tmp_path, db_url):
    raw = await raw_connection(db_url)
    columns = ", ".join(f"c{n:02d} text" for n in range(1, 31))
    await raw.execute(f"DROP TABLE IF EXISTS wide; CREATE TABLE wide (id serial PRIMARY KEY, "
                      f"{columns})")
    app = await app_for(tmp_path, db_url)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await open_screen(pilot, grid_screen(name="wide"))
            await pilot.press("ctrl+w", "n")
            await settle(pilot)
            modal = app.screen
            assert isinstance(modal, FieldsModal)
            save = modal.query_one("#save")
            assert save.region.bottom <= 24 and save.region.height > 0  # the button shows
            last = modal.query_one("#c30", Input)
            last.focus()
            await settle(pilot)
            assert 0 < last.region.bottom <= 24  # scrolled into view
            last.value = "the last one"
            await pilot.click("#save")
            await settle(pilot)
            assert await raw.fetchval("SELECT c30 FROM wide") == "the last one"
    finally:
        await raw.execute("DROP TABLE IF EXISTS wide")
        await raw.close()


async def test_a_table_without_a_key_says_why_edits_are_off(tmp_path, db_url):
    app = await app_for(tmp_path, db_url)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_screen(pilot, grid_screen(name="nokey"))
        assert "No key: pages follow the physical row order (ctid); edits are off." in \
            screen_text(app)
        await pilot.press("ctrl+w", "e")
        # The reason shows whole even at 80 columns.
        assert "Edits are off: no primary key or unique not-null index names a" in \
            screen_text(app)
        assert not isinstance(app.screen, FieldsModal)


async def test_a_read_only_entry_dims_the_write_keys(tmp_path, db_url):
    app = await app_for(tmp_path, db_url, read_only=True)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_screen(pilot, grid_screen())
        assert "read-only" in screen_text(app)
        await pilot.press("ctrl+w")
        assert not screen.write_mode and "write mode is off" in screen_text(app)
        await pilot.press("d")
        assert not isinstance(app.screen, ConfirmModal)


# -- the SQL editor -----------------------------------------------------------------------------
def sql_editor(entry):
    return SqlEditorScreen(entry, "Acme › shop")


async def type_sql(pilot, text: str, cursor: tuple[int, int] = (0, 0)) -> None:
    area = pilot.app.screen.query_one("#sql", TextArea)
    area.text = text
    area.cursor_location = cursor
    await pilot.pause()


async def test_write_mode_commits_when_asked_and_read_only_entries_refuse_it(tmp_path, db_url):
    raw = await raw_connection(db_url)
    await raw.execute("DROP TABLE IF EXISTS notes; CREATE TABLE notes (n int)")
    app = await app_for(tmp_path, db_url)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            screen = await open_screen(pilot, sql_editor)
            await type_sql(pilot, "select 1;\ninsert into notes values (1), (2)", (1, 3))
            await pilot.press("ctrl+r")
            await settle(pilot)
            # The entry takes writes: it is the editor's mode that refused, and it says so.
            assert "Read mode: the editor runs statements read only" in screen_text(app)
            assert "Read-only database" not in screen_text(app)
            assert screen_text(app).splitlines()[1].rstrip().endswith("SQL · read mode")
            await pilot.press("ctrl+w")
            await settle(pilot)
            assert "WRITE MODE" in screen_text(app)
            await pilot.press("ctrl+r")
            for _ in range(100):
                await pilot.pause(0.05)
                if isinstance(app.screen, CommitModal):
                    break
            assert "INSERT 0 2" in screen_text(app)
            # The transaction is still open: nobody else sees the rows yet.
            assert await raw.fetchval("select count(*) from notes") == 0
            await pilot.press("c")
            await settle(pilot)
            assert await raw.fetchval("select count(*) from notes") == 2
            assert "Committed." in screen_text(app)
            await pilot.press("ctrl+up")
            assert screen.query_one("#sql", TextArea).text == "insert into notes values (1), (2)"
    finally:
        await raw.close()
    app = await app_for(tmp_path / "ro", db_url, read_only=True)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_screen(pilot, sql_editor)
        # A read-only entry has no modes: the breadcrumb says read-only, once.
        assert screen_text(app).splitlines()[1].rstrip().endswith("SQL · read-only")
        screen.switch_write_mode()  # as if the dimmed key had run: the service refuses
        await settle(pilot)
        assert "write mode is refused" in screen_text(app) and not screen.session.write_mode


async def test_results_left_by_a_failed_statement_are_marked_stale(tmp_path, db_url):
    app = await app_for(tmp_path, db_url)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_screen(pilot, sql_editor)
        output = screen.query_one("#output")
        await type_sql(pilot, "select 41 + 1 as answer")
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert output.border_title == "result · SELECT 1" and not output.has_class("-stale")
        await type_sql(pilot, "select no_such_column from people")
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert output.has_class("-stale")
        assert "stale: the last run failed; this is the result before" in screen_text(app)
        await type_sql(pilot, "select 1")
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert not output.has_class("-stale")


async def test_alt_arrows_resize_the_editor_and_the_output_keeps_some_rows(tmp_path, db_url):
    app = await app_for(tmp_path, db_url)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_screen(pilot, sql_editor)
        area = screen.query_one("#sql", TextArea)
        output = screen.query_one("#output")
        before = area.outer_size.height
        assert before >= 5  # three lines of text at the least, by default too
        await pilot.press("alt+down")
        await pilot.pause()
        assert area.outer_size.height == before + 2
        for _ in range(20):
            await pilot.press("alt+down")
        await pilot.pause()
        assert output.outer_size.height == 5
        for _ in range(20):
            await pilot.press("alt+up")
        await pilot.pause()
        assert area.outer_size.height == 5


async def test_typing_in_the_editor_types_even_keys_bound_elsewhere(tmp_path, db_url):
    app = await app_for(tmp_path, db_url)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_screen(pilot, sql_editor)
        await pilot.press(*"select 'q?H!'", "backspace")
        assert screen.query_one("#sql", TextArea).text == "select 'q?H!"
        assert app.screen is screen


async def test_esc_cancels_a_running_statement_on_the_server(tmp_path, db_url):
    app = await app_for(tmp_path, db_url)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_screen(pilot, sql_editor)
        await type_sql(pilot, "select pg_sleep(20) /* editor-cancel */")
        await pilot.press("ctrl+r")
        await asyncio.sleep(0.6)
        assert await realservers.postgres_sessions_running(db_url, "editor-cancel", wait=0) == 1
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen
        assert await realservers.postgres_sessions_running(db_url, "editor-cancel") == 0


async def test_completion_inserts_a_single_candidate(tmp_path, db_url):
    app = await app_for(tmp_path, db_url)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_screen(pilot, sql_editor)
        await type_sql(pilot, "select * from pai", (0, 17))
        await pilot.press("ctrl+n")
        assert screen.query_one("#sql", TextArea).text == "select * from pairs"
        await type_sql(pilot, "select * from peo", (0, 17))
        await pilot.press("ctrl+n")
        await pilot.press("down", "enter")
        assert screen.query_one("#sql", TextArea).text == "select * from people_mv"


async def test_export_writes_the_whole_result(tmp_path, db_url):
    app = await app_for(tmp_path, db_url)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_screen(pilot, sql_editor)
        await type_sql(pilot, "select id from people order by id")
        await pilot.press("ctrl+o")
        await settle(pilot)
        target = tmp_path / "out.csv"
        app.screen.query_one("#path", Input).value = str(target)
        await pilot.click("#save")
        await settle(pilot)
        assert "Exported 1,000 rows" in screen_text(app)
        assert target.read_text().splitlines()[:3] == ["id", "1", "2"]


async def test_a_long_statement_comes_back_from_the_editor_and_history_is_kept(tmp_path,
                                                                             db_url):
    editor = tmp_path / "editor.sh"
    editor.write_text('#!/bin/sh\ncase "$1" in *.sql) ;; *) exit 1;; esac\n'
                      'printf "select count(*)\\nfrom people" > "$1"\n')
    editor.chmod(0o755)
    app = await app_for(tmp_path, db_url, EDITOR=str(editor))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_screen(pilot, sql_editor)
        await pilot.press("f2")
        await settle(pilot)
        assert screen.query_one("#sql", TextArea).text == "select count(*)\nfrom people"
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert screen.query_one("#results", DataGrid).row(0) == ("1000",)
    app = studio_app(tmp_path, QUIET_SETTINGS)  # a new session on the same database
    app.read_only_entry = False
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_screen(pilot, sql_editor)
        await pilot.press("ctrl+up")
        assert screen.query_one("#sql", TextArea).text == "select count(*)\nfrom people"


# -- the server view ----------------------------------------------------------------------------
async def test_the_server_view_cancels_a_backend_after_confirming(tmp_path, db_url):
    other = await raw_connection(db_url)
    sleeping = asyncio.create_task(other.execute("select pg_sleep(20) /* server-view */"))
    app = await app_for(tmp_path, db_url)
    try:
        async with app.run_test(size=(160, 40)) as pilot:
            screen = await open_screen(pilot, lambda e: ServerScreen(e, "Acme › shop"))
            table = screen.query_one("#sessions-table")
            pid = str(other.get_server_pid())
            assert pid in table.all_keys
            row = table.shown_keys.index(pid)
            table.table.move_cursor(row=row)
            await pilot.press("x")
            await settle(pilot)
            assert isinstance(app.screen, ConfirmModal) and pid in screen_text(app)
            await pilot.click("#confirm")
            await settle(pilot)
            with pytest.raises(asyncpg.QueryCanceledError):
                await sleeping
            assert f"Backend {pid}: query cancelled" in screen_text(app)
    finally:
        sleeping.cancel()
        await other.close()


async def test_the_server_view_refuses_signals_on_a_read_only_entry(tmp_path, db_url):
    other = await raw_connection(db_url)
    app = await app_for(tmp_path, db_url, read_only=True)
    try:
        async with app.run_test(size=(160, 40)) as pilot:
            screen = await open_screen(pilot, lambda e: ServerScreen(e, "Acme › shop"))
            await pilot.press("K")
            assert not isinstance(app.screen, ConfirmModal)
            screen.signal(other.get_server_pid(), "terminate")  # the service is the guard
            await settle(pilot)
            assert "read-only" in screen_text(app)
            assert await other.fetchval("select 1") == 1
    finally:
        await other.close()


# -- snapshots ----------------------------------------------------------------------------------
@pytest.mark.parametrize("size", SIZES)
def test_grid_snapshot(snap_compare, tmp_path, db_url, size):
    app = _app(tmp_path, db_url)

    async def run_before(pilot):
        await open_screen(pilot, grid_screen())

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_edit_conflict_snapshot(snap_compare, tmp_path, db_url, size):
    app = _app(tmp_path, db_url)

    async def run_before(pilot):
        raw = await raw_connection(db_url)
        try:
            await raw.execute("UPDATE pairs SET v = 10 WHERE a = 1 AND b = 'k0'")
            screen = await open_screen(pilot, grid_screen(name="pairs"))
            grid = screen.query_one(DataGrid)
            grid.cursor_row, grid.cursor_column = 10, 2
            await pilot.press("ctrl+w", "e")
            await settle(pilot)
            await raw.execute("UPDATE pairs SET v = 11 WHERE a = 1 AND b = 'k0'")
            field = app.screen.query_one("#value", Input)
            field.value = "100"
            field.focus()
            await pilot.press("enter")  # a click would leave the button lit for a moment
            await settle(pilot)
        finally:
            await raw.execute("UPDATE pairs SET v = 10 WHERE a = 1 AND b = 'k0'")
            await raw.close()

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_sql_results_snapshot(snap_compare, tmp_path, db_url, size):
    app = _app(tmp_path, db_url)

    async def run_before(pilot):
        screen = await open_screen(pilot, sql_editor)
        await type_sql(pilot, "-- people by age\nselect age, count(*), min(name)\n"
                              "from people group by age order by age;", (1, 2))
        await pilot.press("ctrl+r")
        await settle(pilot)
        screen.say("SELECT 11")  # without the time it took

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_sql_stale_results_snapshot(snap_compare, tmp_path, db_url, size):
    """A failed statement leaves the results before it dimmed, under a title that says so."""
    app = _app(tmp_path, db_url)

    async def run_before(pilot):
        screen = await open_screen(pilot, sql_editor)
        await type_sql(pilot, "select n, n * n as square from generate_series(1, 30) n;")
        await pilot.press("ctrl+r")
        await settle(pilot)
        await type_sql(pilot, "select no_such_column from people;")
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert screen.query_one("#output").has_class("-stale")

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.fixture(scope="module")
def plan_db_url(postgres_server) -> str:
    """The plan's costs come from statistics: a database no other test writes to."""
    return create_grid_database(postgres_server.url, "grid_ui_plan", frozen=True)


@pytest.mark.parametrize("size", SIZES)
def test_plan_snapshot(snap_compare, tmp_path, plan_db_url, size):
    app = _app(tmp_path, plan_db_url)

    async def run_before(pilot):
        await open_screen(pilot, sql_editor)
        await type_sql(pilot, "select p.name, q.v from people p join pairs q on q.a = p.id "
                              "where p.age > 5 order by q.v desc limit 10")
        await pilot.press("ctrl+l")
        await settle(pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_write_mode_confirm_snapshot(snap_compare, tmp_path, db_url, size):
    app = _app(tmp_path, db_url)

    async def run_before(pilot):
        await open_screen(pilot, sql_editor)
        await type_sql(pilot, "update pairs set v = v where a < 3;\ndelete from pairs where false")
        await pilot.press("ctrl+w")
        await settle(pilot)
        await pilot.press("f5")
        for _ in range(100):
            await pilot.pause(0.05)
            if isinstance(pilot.app.screen, CommitModal):
                break
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_server_view_snapshot(snap_compare, tmp_path, db_url, size):
    app = _app(tmp_path, db_url)

    async def run_before(pilot):
        screen = await open_screen(pilot, lambda e: ServerScreen(e, "Acme › shop"))
        screen.paused = True
        # Live figures (pids, times, sizes) change from run to run: draw fixed ones.
        backends = [
            Backend(101, "app", "shop", "api", "10.0.0.5", "active", "Lock:transactionid",
                    "client backend", 12.5, "update orders set paid = true where id = $1",
                    (102,)),
            Backend(102, "app", "shop", "worker", "10.0.0.6", "idle in transaction", "",
                    "client backend", 95.0, "select * from orders where id = $1 for update"),
            Backend(103, "admin", "shop", "psql", "socket", "idle", "Client:ClientRead",
                    "client backend", None, "select 1"),
            Backend(104, "", "", "", "", "", "", "logical replication launcher", None, "")]
        locks = [LockInfo(101, "ShareLock", "transactionid", "7301", False),
                 LockInfo(102, "ExclusiveLock", "transactionid", "7301", True)]
        screen.show(ServerOverview("PostgreSQL 18.6 on x86_64", "shop", 52_428_800, 0.9987, 3,
                                   100), backends, locks,
                    StatementsReport(unavailable="pg_stat_statements is not installed in this "
                                     "database."))
        await pilot.pause()
        chain = str(screen.query_one("#chains").render())
        assert ("101 (app, active 12.5s: update orders set paid = true where id =…) ← "
                "102 (app, idle in transaction 1m35s: select * from orders where id = $1 for "
                "u…)") in chain
        launcher = next(r for r in screen.query_one("#sessions-table")._rows if r.key == "104")
        assert launcher.cells[1] == "background" and \
            launcher.cells[7] == "logical replication launcher"

    assert snap_compare(app, terminal_size=size, run_before=run_before)
