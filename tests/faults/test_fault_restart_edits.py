"""The server is killed while the user edits, and restarted: the save fails with a clear error,
the user's unsaved edit survives it (the Redis field form, the MongoDB document from $EDITOR,
the PostgreSQL cell form), and saving again once the server is back writes it, in the same app.
Each test kills a server of its own, so the session's servers are not disturbed."""

from __future__ import annotations

import stat
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
import redis as redis_sync
from pymongo import MongoClient
from textual.widgets import Input

import realservers
from faultkit import record_worker_errors
from pgservers import create_database
from studio_tui.dialogs.fields import FieldsModal
from studio_tui.screens.mongo.browser import MongoBrowserScreen
from studio_tui.screens.postgres.grid import GridScreen
from studio_tui.widgets.data_grid import DataGrid
from studio_tui.widgets.redis.value_panel import ValuePanel
from ui import QUIET_SETTINGS, browse, run_command, screen_text, seed, settle, studio_app


async def save_form(pilot) -> None:
    await pilot.click("#save")
    await settle(pilot, timeout=30)


# -- Redis: a hash field's form --------------------------------------------------------------
@pytest.fixture
def own_redis() -> Iterator[realservers.RunningServer]:
    # Append-only, so the data is there again after the restart, as on a real server.
    server = realservers.start_redis(extra=["--appendonly", "yes"])
    yield server
    server.stop()


async def test_redis_a_field_edit_survives_a_restart_of_the_server(tmp_path: Path, own_redis):
    with redis_sync.Redis.from_url(own_redis.url) as raw:
        raw.hset("user:1", mapping={"name": "ada", "visits": "3"})
    await seed(tmp_path, {"Acme": {"shop": [("cache", own_redis.url)]}})
    app = studio_app(tmp_path, QUIET_SETTINGS)
    async with app.run_test(size=(120, 40)) as pilot:
        errored = record_worker_errors(app)
        screen = await browse(pilot, "user:1")
        assert screen.query_one(ValuePanel).selected_item() == (b"name", b"ada")
        await pilot.press("e")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FieldsModal)
        form.query_one("#value", Input).value = "grace"

        own_redis.kill()
        started = time.perf_counter()
        await save_form(pilot)
        failed_in = time.perf_counter() - started
        assert app.screen is form  # the form stays, with the input
        assert form.query_one("#value", Input).value == "grace"
        shown = screen_text(app)
        assert "Nothing is listening at 127.0.0.1" in shown or "was lost" in shown, shown

        own_redis.restart()
        await save_form(pilot)
        assert app.screen is screen
        with redis_sync.Redis.from_url(own_redis.url) as raw:
            assert raw.hget("user:1", "name") == b"grace"
        assert screen.query_one(ValuePanel).selected_item() == (b"name", b"grace")
        assert errored == []
    assert app._exception is None
    print(f"redis: the save failed in {failed_in:.2f}s")


# -- MongoDB: the document in $EDITOR --------------------------------------------------------
@pytest.fixture
def own_mongo() -> Iterator[realservers.RunningServer]:
    server = realservers.start_mongo()
    yield server
    server.stop()


def editor_that_kills(tmp_path: Path, server: realservers.RunningServer, flag: Path) -> str:
    """An $EDITOR that, while ``flag`` exists, renames the document's "name" and kills the
    server before it returns (the user saves the file as the server goes away); otherwise it
    saves the text as it finds it."""
    editor = tmp_path / "editor.py"
    editor.write_text(
        f"#!{sys.executable}\nimport json, os, pathlib, signal, socket, sys, time\n"
        "path = pathlib.Path(sys.argv[1])\n"
        f"if pathlib.Path({str(flag)!r}).exists():\n"
        "    doc = json.loads(path.read_text())\n"
        "    doc['name'] = 'grace'\n"
        "    path.write_text(json.dumps(doc, indent=2))\n"
        f"    os.kill({server.process.pid}, signal.SIGKILL)\n"
        "    for _ in range(200):\n"
        "        try:\n"
        f"            socket.create_connection(('127.0.0.1', {server.port}), 0.1).close()\n"
        "        except OSError:\n"
        "            break\n"
        "        time.sleep(0.05)\n")
    editor.chmod(editor.stat().st_mode | stat.S_IXUSR)
    return str(editor)


async def test_mongo_a_document_edited_in_the_editor_survives_a_restart_of_the_server(
        tmp_path: Path, own_mongo):
    with MongoClient(own_mongo.url) as raw:
        raw.shop.people.insert_one({"_id": 1, "name": "ada", "visits": 3})
    flag = tmp_path / "kill-now"
    flag.touch()
    url = own_mongo.url.replace("/?", "/shop?")
    await seed(tmp_path, {"Acme": {"shop": [("docs", url)]}})
    app = studio_app(tmp_path, QUIET_SETTINGS, EDITOR=editor_that_kills(tmp_path, own_mongo,
                                                                         flag))
    async with app.run_test(size=(120, 40)) as pilot:
        errored = record_worker_errors(app)
        await run_command(pilot, "open docs")
        screen = app.screen
        assert isinstance(screen, MongoBrowserScreen), screen
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert screen.collection is not None

        started = time.perf_counter()
        await pilot.press("e")  # the editor saves "grace", and the server dies meanwhile
        await settle(pilot, timeout=30)
        failed_in = time.perf_counter() - started
        assert own_mongo.process.poll() is not None
        kept = list((tmp_path / "data" / "unsaved").glob("*.json"))
        assert len(kept) == 1 and '"grace"' in kept[0].read_text()
        assert screen.unsaved  # e reopens it
        shown = screen_text(app)
        assert "Nothing is listening at 127.0.0.1" in shown or "No answer from" in shown, shown

        own_mongo.restart()
        flag.unlink()  # the editor now saves the kept text as it is
        await pilot.press("e")
        await settle(pilot, timeout=30)
        assert not screen.unsaved
        assert "Saved 1." in screen_text(app)
        with MongoClient(own_mongo.url) as raw:
            assert raw.shop.people.find_one({"_id": 1}) == {"_id": 1, "name": "grace",
                                                            "visits": 3}
        assert errored == []
    assert app._exception is None
    print(f"mongodb: the save failed in {failed_in:.2f}s (the editor's kill included)")


# -- PostgreSQL: a cell's form in the grid ---------------------------------------------------
PEOPLE_SQL = """
CREATE TABLE people (id integer PRIMARY KEY, name text NOT NULL, age integer);
INSERT INTO people SELECT n, 'person ' || n, n % 10 FROM generate_series(1, 100) n;
"""


@pytest.fixture
def own_postgres() -> Iterator[tuple[realservers.RunningServer, str]]:
    server = realservers.start_postgres()
    url = create_database(server.url, "grid_faults", PEOPLE_SQL)
    yield server, url
    server.stop()


async def test_postgres_a_cell_edit_survives_a_restart_of_the_server(tmp_path: Path,
                                                                      own_postgres):
    server, url = own_postgres
    await seed(tmp_path, {"Acme": {"shop": [("shop", url)]}})
    app = studio_app(tmp_path, QUIET_SETTINGS)
    async with app.run_test(size=(120, 40)) as pilot:
        errored = record_worker_errors(app)
        await settle(pilot)
        entry = await app.studio.catalog.find_database("shop")
        app.push_screen(GridScreen(entry, "Acme › shop", "public", "people"))
        await settle(pilot)
        screen = app.screen
        grid = screen.query_one(DataGrid)
        grid.cursor_row, grid.cursor_column = 1, 1
        await pilot.press("ctrl+w")  # write mode
        await pilot.press("e")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FieldsModal)
        form.query_one("#value", Input).value = "mine"

        server.kill()
        started = time.perf_counter()
        await save_form(pilot)
        failed_in = time.perf_counter() - started
        assert app.screen is form
        assert form.query_one("#value", Input).value == "mine"
        shown = screen_text(app)
        assert "Nothing is listening at 127.0.0.1" in shown or "was lost" in shown or \
            "cannot serve now" in shown, shown

        server.restart()
        await save_form(pilot)
        assert app.screen is screen, app.screen
        connection = await asyncpg.connect(url)
        try:
            assert await connection.fetchval("SELECT name FROM people WHERE id = 2") == "mine"
        finally:
            await connection.close()
        assert grid.row(1)[1] == "mine"
        assert errored == []
    assert app._exception is None
    print(f"postgres: the save failed in {failed_in:.2f}s")
