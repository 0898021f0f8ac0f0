"""The MongoDB browser as a user drives it, against the real MongoDB-wire server: open a
collection, query, page, edit in a real $EDITOR (conflicts and bad text kept), insert, delete,
delete by filter with the typed count, read-only entries, tool keys."""

from __future__ import annotations

import stat
import sys
import uuid
from pathlib import Path

import pytest
from pymongo import MongoClient
from textual.widgets import Input

from studio_tui.dialogs.confirm import ConfirmModal
from studio_tui.dialogs.fields import FieldsModal
from studio_tui.dialogs.mongo.conflict import DocumentConflictModal
from studio_tui.screens.mongo.browser import MongoBrowserScreen
from studio_tui.widgets.data_grid import DataGrid
from studio_tui.widgets.mongo.document_tree import DocumentTree
from studio_tui.widgets.mongo.query_bar import QueryBar
from ui import QUIET_SETTINGS, run_command, screen_text, settle, studio_app


def db_url(server_url: str, database: str) -> str:
    """The server's URL naming ``database``; with credentials, the users are in admin (a URL's
    database is otherwise where the driver authenticates)."""
    url = server_url.replace("/?", f"/{database}?")
    return url + "&authSource=admin" if "@" in url else url


@pytest.fixture
def database(mongo_server):
    name = "ui_" + uuid.uuid4().hex[:8]
    client = MongoClient(mongo_server.url)
    yield client[name]
    client.drop_database(name)
    client.close()


async def open_browser(tmp_path: Path, mongo_server, database, *, read_only: bool = False,
                       **env: str):
    """An app whose catalog holds "docs": the test's database on the server."""
    from studio_tui.services.settings import Settings
    from studio_tui.services.studio import Studio
    from ui import home_env

    settings_env = home_env(tmp_path)
    async with Studio(Settings.load(settings_env), settings_env) as studio:
        org = await studio.catalog.create_organization("Acme")
        project = await studio.catalog.create_project(org.id, "shop")
        await studio.catalog.add_database(project.id, "docs",
                                          db_url(mongo_server.url, database.name),
                                          read_only=read_only)
    return studio_app(tmp_path, QUIET_SETTINGS, **env)


async def browse(pilot) -> MongoBrowserScreen:
    """``:open docs``, then enter on the first collection (the tree selects it)."""
    await run_command(pilot, "open docs")
    screen = pilot.app.screen
    assert isinstance(screen, MongoBrowserScreen), screen
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)
    assert screen.collection is not None
    return screen


def editor_script(tmp_path: Path, body: str) -> str:
    editor = tmp_path / "editor.py"
    editor.write_text(f"#!{sys.executable}\nimport json, pathlib, sys\n"
                      "path = pathlib.Path(sys.argv[1])\ntext = path.read_text()\n" + body)
    editor.chmod(editor.stat().st_mode | stat.S_IXUSR)
    return str(editor)


async def test_query_bar_filters_sorts_remembers_and_points_at_mistakes(tmp_path, mongo_server,
                                                                       database):
    database.people.insert_many([{"_id": i, "n": i, "name": f"p{i}"} for i in range(30)])
    app = await open_browser(tmp_path, mongo_server, database)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await browse(pilot)
        grid = screen.query_one(DataGrid)
        assert grid.row_count == 30 and [c.name for c in grid.columns] == ["_id", "n", "name"]
        await pilot.press("slash")
        screen.query_one("#filter", Input).value = "{n: {$gte: 25}}"
        screen.query_one("#sort", Input).value = "{n: -1}"
        await pilot.press("enter")
        await settle(pilot)
        assert [grid.row(i)[0] for i in range(grid.row_count)] == ["29", "28", "27", "26", "25"]
        assert "5 shown" in screen_text(app)
        await pilot.press("number_sign")
        await settle(pilot)
        assert "5 shown of 5 (exact)" in screen_text(app)
        # < and > sort by the column under the cursor.
        await pilot.press("right", "less_than_sign")
        await settle(pilot)
        assert screen.query_one("#sort", Input).value == "{n: 1}"
        assert [grid.row(i)[1] for i in range(2)] == ["25", "26"]
        await pilot.press("greater_than_sign")
        await settle(pilot)
        assert screen.query_one("#sort", Input).value == "{n: -1}"
        assert [grid.row(i)[1] for i in range(2)] == ["29", "28"]
        # y copies the document; in the tree, the field under the cursor with its path.
        await pilot.press("y")
        assert '"_id": 29' in app.clipboard
        await pilot.press("v", "down", "down", "y")
        assert app.clipboard == "n: 29"
        await pilot.press("v")
        # A mistake: the message names the field and the column, and nothing is lost.
        await pilot.press("slash")
        screen.query_one("#filter", Input).value = "{n: {$gte: }}"
        await pilot.press("enter")
        await settle(pilot)
        assert "filter: unexpected \"}\" at column 12" in screen_text(app)
        assert screen.query_one("#filter", Input).value == "{n: {$gte: }}"
        assert screen.focused is screen.query_one("#filter", Input)
        assert "filter {n: {$gte: }}" in " ".join(screen_text(app).split())  # seen, focused
        assert screen.query_one("#filter", Input).cursor_position == 11  # on the mistake
        assert grid.row_count == 5
        # History: up brings back the last query that ran.
        await pilot.press("slash")
        screen.query_one("#filter", Input).value = ""
        await pilot.press("up")
        assert screen.query_one("#filter", Input).value == "{n: {$gte: 25}}"
        assert screen.query_one("#sort", Input).value == "{n: -1}"
        await pilot.press("enter")
        await settle(pilot)
        assert "unexpected" not in screen_text(app)  # the mistake's message went with it
    history = (tmp_path / "data" / "mongo-query-history.json").read_text()
    assert "$gte: 25" in history


async def test_pages_arrive_as_you_scroll_without_duplicates(tmp_path, mongo_server, database):
    database.many.insert_many([{"_id": i, "k": i % 4} for i in range(350)])
    app = await open_browser(tmp_path, mongo_server, database)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await browse(pilot)
        grid = screen.query_one(DataGrid)
        assert grid.row_count == 100 and "more ↓" in screen_text(app)
        assert "≈350 documents (estimate" in screen_text(app)
        for _ in range(6):
            await pilot.press("G")
            await settle(pilot)
        assert grid.row_count == 350
        assert sorted(int(grid.row(i)[0]) for i in range(350)) == list(range(350))
        assert "more ↓" not in screen_text(app) and "350 shown (all) · ≈350" in screen_text(app)
        # The tree view pages too, and shows the same documents.
        await pilot.press("v")
        tree = screen.query_one(DocumentTree)
        assert tree.display and tree.row_count >= 350


async def test_esc_cancels_a_running_find(tmp_path, mongo_server, database):
    database.c.insert_many([{"_id": i} for i in range(50)])
    app = await open_browser(tmp_path, mongo_server, database)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await browse(pilot)
        worker = screen.load_page(first=True)
        screen.action_back()
        await settle(pilot)
        assert worker.is_cancelled
        assert "Find cancelled" in screen_text(app)
        assert app.screen is screen  # esc stopped the find; it did not leave the browser


async def test_edit_in_editor_conflict_keeps_the_edit_and_reopens_it(tmp_path, mongo_server,
                                                                    database):
    database.docs.insert_one({"_id": 1, "name": "ada", "visits": 3})
    race = tmp_path / "race"
    editor = editor_script(tmp_path, (
        "doc = json.loads(text)\n"
        "doc['name'] = doc['name'] + '!'\n"
        "path.write_text(json.dumps(doc, indent=2))\n"
        f"if pathlib.Path({str(race)!r}).exists():\n"
        "    from pymongo import MongoClient\n"
        f"    MongoClient({mongo_server.url!r})[{database.name!r}].docs.update_one("
        "{'_id': 1}, {'$set': {'visits': 99}})\n"
        f"    pathlib.Path({str(race)!r}).unlink()\n"))
    app = await open_browser(tmp_path, mongo_server, database, EDITOR=editor)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await browse(pilot)
        await pilot.press("e")
        await settle(pilot)
        assert database.docs.find_one({"_id": 1})["name"] == "ada!"
        assert "Saved 1." in screen_text(app)
        race.touch()
        await pilot.press("e")
        await settle(pilot)
        assert isinstance(app.screen, DocumentConflictModal)
        assert "(1 difference, at your line 3)" in screen_text(app)  # name and visits, together
        assert database.docs.find_one({"_id": 1}) == {"_id": 1, "name": "ada!", "visits": 99}
        kept = list((tmp_path / "data" / "unsaved").glob("*.json"))
        assert len(kept) == 1 and '"ada!!"' in kept[0].read_text()
        await pilot.press("escape")
        # e reopens the kept edit, over the stored version: saving it now is no conflict.
        await pilot.press("e")
        await settle(pilot)
        assert database.docs.find_one({"_id": 1})["name"] == "ada!!!"
        assert not screen.unsaved


async def test_invalid_text_from_the_editor_is_kept_with_its_position(tmp_path, mongo_server,
                                                                     database):
    database.docs.insert_one({"_id": 1, "name": "ada"})
    editor = editor_script(tmp_path, (
        "if 'BROKEN' in text:\n"
        "    path.write_text(text.replace('\"BROKEN\" \"x\"', '\"fixed\"'))\n"
        "else:\n"
        "    path.write_text(text.replace('\"ada\"', '\"BROKEN\" \"x\"'))\n"))
    app = await open_browser(tmp_path, mongo_server, database, EDITOR=editor)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await browse(pilot)
        await pilot.press("e")
        await settle(pilot)
        assert "line 3, column 20" in screen_text(app)
        assert database.docs.find_one({"_id": 1})["name"] == "ada"
        assert screen.unsaved
        kept = list((tmp_path / "data" / "unsaved").glob("*.json"))
        assert len(kept) == 1 and '"BROKEN" "x"' in kept[0].read_text()
        # e reopens the kept text (the script fixes it this time), and it saves.
        await pilot.press("e")
        await settle(pilot)
        assert database.docs.find_one({"_id": 1})["name"] == "fixed"
        assert not screen.unsaved


async def test_insert_many_duplicate_and_delete_one(tmp_path, mongo_server, database):
    database.docs.insert_one({"_id": 0, "name": "first"})
    editor = editor_script(tmp_path, "path.write_text('[{\"_id\": 1, \"a\": 1}, {_id: 2, a: NumberLong(2)}]')\n")
    app = await open_browser(tmp_path, mongo_server, database, EDITOR=editor)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await browse(pilot)
        await pilot.press("N")
        await settle(pilot)
        assert "Inserted 2 document(s)." in screen_text(app)
        assert database.docs.count_documents({}) == 3
        assert screen.query_one(DataGrid).row_count == 3
        await pilot.press("C")
        await settle(pilot)
        assert database.docs.count_documents({"name": "first"}) == 2
        await pilot.press("G")
        await pilot.press("d")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)
        await pilot.click("#confirm")
        await settle(pilot)
        assert database.docs.count_documents({}) == 3
        # space marks rows; d then deletes the marked ones together.
        await pilot.press("g", "space", "space")
        await pilot.press("d")
        await settle(pilot)
        assert "Delete the 2 marked document(s)?" in screen_text(app)
        await pilot.click("#confirm")
        await settle(pilot)
        assert database.docs.count_documents({}) == 1
        assert screen.query_one(DataGrid).row_count == 1


async def test_update_many_and_delete_many_show_counts_first(tmp_path, mongo_server, database):
    database.docs.insert_many([{"_id": i, "n": i} for i in range(20)])
    app = await open_browser(tmp_path, mongo_server, database)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await browse(pilot)
        await pilot.press("slash")
        screen.query_one("#filter", Input).value = "{n: {$lt: 5}}"
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("U")
        await settle(pilot)
        assert isinstance(app.screen, FieldsModal)
        app.screen.query_one("#update", Input).value = "{$inc: {n: 100}}"
        await pilot.click("#save")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)
        assert "Update 5 document(s)?" in screen_text(app)
        await pilot.press("escape")  # not now: said, and nothing written
        await settle(pilot)
        assert "Nothing updated." in screen_text(app)
        assert database.docs.count_documents({"n": {"$gte": 100}}) == 0
        await pilot.press("U")
        await settle(pilot)
        app.screen.query_one("#update", Input).value = "{$inc: {n: 100}}"
        await pilot.click("#save")
        await settle(pilot)
        await pilot.click("#confirm")
        await settle(pilot)
        assert database.docs.count_documents({"n": {"$gte": 100}}) == 5
        await pilot.press("slash")
        screen.query_one("#filter", Input).value = "{n: {$gte: 100}}"
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("D")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)
        assert "Delete 5 document(s)?" in screen_text(app)
        assert "Counting the documents the filter matches" in screen_text(app)  # while it was
        await pilot.press("escape")
        await settle(pilot)
        assert "Nothing deleted." in screen_text(app)
        await pilot.press("D")
        await settle(pilot)
        await pilot.press("4", "enter")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)  # the wrong count does not delete
        app.screen.query_one("#typed", Input).value = "5"
        await pilot.press("enter")
        await settle(pilot)
        assert database.docs.count_documents({}) == 15


async def test_create_and_drop_a_collection_from_the_tree(tmp_path, mongo_server, database):
    database.docs.insert_one({"_id": 1})
    app = await open_browser(tmp_path, mongo_server, database)
    async with app.run_test(size=(120, 40)) as pilot:
        await run_command(pilot, "open docs")
        await settle(pilot)
        await pilot.press("N")
        await settle(pilot)
        modal = app.screen
        assert isinstance(modal, FieldsModal)
        assert modal.query_one("#database", Input).value == database.name
        modal.query_one("#collection", Input).value = "bad$name"
        await pilot.click("#save")
        await settle(pilot)
        assert "cannot contain $" in screen_text(app)
        collection_field = modal.query_one("#collection", Input)
        collection_field.value = "fresh"
        collection_field.focus()
        await pilot.press("enter")
        await settle(pilot)
        assert "fresh" in database.list_collection_names(), screen_text(app)
        screen = app.screen
        assert isinstance(screen, MongoBrowserScreen)
        from studio_tui.widgets.mongo.collection_tree import CollectionTree

        tree = screen.query_one(CollectionTree)
        tree.select_collection(database.name, "fresh")
        await pilot.press("d")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)
        app.screen.query_one("#typed", Input).value = "fresh"
        await pilot.press("enter")
        await settle(pilot)
        assert "fresh" not in database.list_collection_names()


async def test_a_read_only_entry_refuses_every_write_key(tmp_path, mongo_server, database):
    database.docs.insert_one({"_id": 1, "n": 1})
    app = await open_browser(tmp_path, mongo_server, database, read_only=True,
                             EDITOR="/bin/false")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await browse(pilot)
        for key in ("e", "E", "N", "C", "d", "U", "D"):
            await pilot.press(key)
            await settle(pilot)
            assert app.screen is screen, key
            assert "read-only entry" in screen_text(app), key
        assert database.docs.find_one({"_id": 1}) == {"_id": 1, "n": 1}


async def test_tool_keys_say_when_a_tool_is_missing(tmp_path, mongo_server, database,
                                                     monkeypatch):
    from studio_tui.screens.mongo import browser

    monkeypatch.setitem(browser.TOOLS, "aggregation",
                        "studio_tui.screens.mongo.no_such_tool:AggregationScreen")
    database.docs.insert_one({"_id": 1})
    app = await open_browser(tmp_path, mongo_server, database)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await browse(pilot)
        await pilot.press("a")
        assert "The aggregation screen is not available" in screen_text(app)
        assert app.screen is screen


async def test_the_schema_tools_filter_lands_in_the_query_bar_and_runs(tmp_path, mongo_server,
                                                                      database):
    database.docs.insert_many([{"_id": n, "kind": "a" if n % 2 else "b"} for n in range(6)])
    app = await open_browser(tmp_path, mongo_server, database)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await browse(pilot)
        screen._schema_filter("{kind: 'a'}")
        await settle(pilot)
        assert screen.query_one("#filter", Input).value == "{kind: 'a'}"
        assert screen.query_one(DataGrid).row_count == 3


async def test_a_view_is_browsed_but_not_written(tmp_path, mongo_server, database):
    database.people.insert_many([{"_id": n, "age": n * 10} for n in range(6)])
    database.create_collection("adults", viewOn="people", pipeline=[{"$match": {"age": {"$gte": 30}}}])
    app = await open_browser(tmp_path, mongo_server, database)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await browse(pilot)  # the view sorts first: "adults"
        assert screen.collection.type == "view"
        assert screen.query_one(DataGrid).row_count == 3
        for key in ("e", "N", "d", "D"):
            await pilot.press(key)
            await settle(pilot)
            assert app.screen is screen
            assert "A view is read-only" in screen_text(app), key
        assert database.people.count_documents({}) == 6


async def test_a_field_is_edited_in_place_from_the_tree(tmp_path, mongo_server, database):
    from bson.int64 import Int64

    database.docs.insert_one({"_id": 1, "name": "ada", "visits": 3, "tags": ["a"]})
    app = await open_browser(tmp_path, mongo_server, database)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await browse(pilot)
        await pilot.press("v", "down", "down", "down")  # _id, name, visits
        await pilot.press("e")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FieldsModal) and "Edit visits (Int32)" in screen_text(app)
        assert form.query_one("#value", Input).value == "3"
        form.query_one("#value", Input).value = "NumberLong(4)"
        await pilot.press("enter")
        await settle(pilot)
        stored = database.docs.find_one({"_id": 1})
        assert stored == {"_id": 1, "name": "ada", "visits": 4, "tags": ["a"]}
        assert type(stored["visits"]) is Int64 and list(stored) == ["_id", "name", "visits", "tags"]
        assert "Saved visits." in screen_text(app)
        # Someone else changes the document: the form says so and keeps what was typed.
        database.docs.update_one({"_id": 1}, {"$set": {"name": "grace"}})
        await pilot.press("e")
        await settle(pilot)
        app.screen.query_one("#value", Input).value = "5"
        await pilot.press("enter")
        await settle(pilot)
        # Both versions side by side, the edit also kept in the data directory.
        conflict = app.screen
        assert isinstance(conflict, DocumentConflictModal)
        assert '"visits": 5' in conflict.query_one("#mine").text
        assert '"name": "grace"' in conflict.query_one("#stored").text
        assert '"$numberLong": "4"' in conflict.query_one("#stored").text
        assert "save the form again" in screen_text(app)
        kept = list((tmp_path / "data" / "unsaved").glob("*.json"))
        assert len(kept) == 1 and '"visits": 5' in kept[0].read_text()
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, FieldsModal) and "changed since you opened it" in screen_text(app)
        assert app.screen.query_one("#value", Input).value == "5"
        assert database.docs.find_one({"_id": 1})["visits"] == 4
        # Saving again sets the value on the version stored now.
        await pilot.press("enter")
        await settle(pilot)
        assert database.docs.find_one({"_id": 1}) == {"_id": 1, "name": "grace", "visits": 5,
                                                      "tags": ["a"]}


async def test_a_small_terminal_gives_an_opened_collection_the_whole_width(tmp_path, mongo_server,
                                                                         database):
    from studio_tui.widgets.mongo.collection_tree import CollectionTree

    database.docs.insert_one({"_id": 1, "name": "ada"})
    app = await open_browser(tmp_path, mongo_server, database)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await browse(pilot)
        tree, grid = screen.query_one(CollectionTree), screen.query_one(DataGrid)
        assert not tree.display and screen.focused is grid
        assert grid.size.width >= 76  # the documents have the terminal's width
        await pilot.press("tab")  # the tree comes back, with the focus
        assert tree.display and screen.focused is tree
        await pilot.press("tab")
        assert not tree.display and screen.focused is grid
        await pilot.press("tab", "slash")  # the query bar's fields get the width too
        assert not tree.display and screen.focused is screen.query_one("#filter", Input)
        assert screen.query_one("#sort", Input).size.width >= 12
    app = await open_browser(tmp_path / "wide", mongo_server, database)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await browse(pilot)
        assert screen.query_one(CollectionTree).display  # room for both
        await pilot.press("tab", "tab")
        assert screen.query_one(CollectionTree).display


async def test_help_says_what_each_key_does(tmp_path, mongo_server, database):
    from textual.widgets import DataTable

    from studio_tui.dialogs.help import HelpModal

    database.docs.insert_one({"_id": 1})
    app = await open_browser(tmp_path, mongo_server, database, read_only=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await browse(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpModal)
        table = app.screen.query_one(DataTable)
        rows = {str(table.get_row_at(n)[2]): str(table.get_row_at(n)[1])
                for n in range(table.row_count)}
        assert rows["mongo.delete_many"] == "Delete the documents matched (off here)"
        assert rows["mongo.count"] == "Exact count (time-limited)"
        assert rows["mongo.switch_pane"] == "Collection tree ⇄ documents"
        assert all(len(text) <= 48 for text in rows.values())  # the column fits 80 columns


async def test_aggregation_starts_from_the_query_that_ran(tmp_path, mongo_server, database):
    from studio_tui.screens.mongo.aggregation import AggregationScreen

    database.docs.insert_many([{"_id": i, "n": i} for i in range(10)])
    app = await open_browser(tmp_path, mongo_server, database)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await browse(pilot)
        await pilot.press("a")
        await settle(pilot)
        assert [s.text for s in app.screen.pipeline.stages] == ["{$match: {}}"]  # no query yet
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("slash")
        screen.query_one("#filter", Input).value = "{n: {$gte: 3}}"
        screen.query_one("#sort", Input).value = "{n: -1}"
        screen.query_one("#limit", Input).value = "4"
        await pilot.press("enter")
        await settle(pilot)
        screen.query_one("#filter", Input).value = "{typed: 'but not run'}"
        screen.query_one(DataGrid).focus()
        await pilot.press("a")
        await settle(pilot)
        aggregation = app.screen
        assert isinstance(aggregation, AggregationScreen)
        assert [s.text for s in aggregation.pipeline.stages] == [
            "{$match: {n: {$gte: 3}}}", "{$sort: {n: -1}}", "{$limit: 4}"]
        assert "4 document(s)" in screen_text(app)  # previewed: the same documents as the find


async def test_an_empty_result_says_so(tmp_path, mongo_server, database):
    database.docs.insert_one({"_id": 1, "n": 1})
    app = await open_browser(tmp_path, mongo_server, database)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await browse(pilot)
        await pilot.press("slash")
        screen.query_one("#filter", Input).value = "{n: 2}"
        await pilot.press("enter")
        await settle(pilot)
        assert "No document matches the filter." in screen_text(app)
        assert screen.query_one(DataGrid).row_count == 0


async def test_a_query_the_server_refuses_keeps_the_focus_in_the_query_bar(tmp_path, mongo_server,
                                                                            database):
    database.docs.insert_one({"_id": 1, "age": 40})
    app = await open_browser(tmp_path, mongo_server, database)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await browse(pilot)
        await pilot.press("slash")
        screen.query_one("#filter", Input).value = "{age: {$gtt: 30}}"
        await pilot.press("enter")
        await settle(pilot)
        text = screen_text(app)
        # The server's own words, without the reply document pymongo appends.
        assert "unknown operator: $gtt" in text and "full error" not in text
        # Keys typed next go into the query, not to the documents as commands (a = aggregate).
        assert isinstance(app.focused, Input) and app.focused.id == "filter"
        await pilot.press("a")
        assert isinstance(app.screen, MongoBrowserScreen)
        assert app.focused.value.endswith("a")


async def test_odd_field_names_show_quoted_and_round_trip(tmp_path, mongo_server, database):
    odd = {"_id": 1, "a.b": 1, "$price": 2, "": 3, "sp ace": {"$inner": 4}}
    database.docs.update_one({"_id": 1}, [{"$replaceWith": {"$literal": odd}}], upsert=True)
    editor = editor_script(tmp_path, "path.write_text(text.replace('4', '5'))\n")
    app = await open_browser(tmp_path, mongo_server, database, EDITOR=editor)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await browse(pilot)
        grid = screen.query_one(DataGrid)
        assert [c.name for c in grid.columns] == ["_id", '"a.b"', '"$price"', '""', '"sp ace"']
        await pilot.press("e")
        await settle(pilot)
        assert database.docs.find_one({"_id": 1}) == {**odd, "sp ace": {"$inner": 5}}
        await pilot.press("v", "down", "down")
        await pilot.press("y")
        assert app.clipboard == '["a.b"]: 1'


async def test_the_tree_tells_a_collections_and_a_databases_stats(tmp_path, mongo_server,
                                                                 database):
    database.docs.insert_many([{"_id": n, "text": "x" * 50} for n in range(12)])
    app = await open_browser(tmp_path, mongo_server, database)
    async with app.run_test(size=(120, 40)) as pilot:
        await run_command(pilot, "open docs")
        await settle(pilot)
        assert f"{database.name}.docs: collection · 12 documents" in screen_text(app)
        await pilot.press("up")  # the database
        await settle(pilot)
        assert f"{database.name}: 1 collection(s) · 12 documents" in screen_text(app)


async def test_a_server_with_authentication_is_browsed_and_its_password_never_shown(
        tmp_path, mongo_auth_server):
    from urllib.parse import urlsplit

    password = urlsplit(mongo_auth_server.url).password
    assert password
    client = MongoClient(mongo_auth_server.url)
    client.authdb.things.insert_many([{"_id": n} for n in range(3)])
    try:
        app = await open_browser(tmp_path, mongo_auth_server, client.authdb)
        async with app.run_test(size=(120, 40)) as pilot:
            screen = await browse(pilot)
            assert screen.query_one(DataGrid).row_count == 3
            assert password not in screen_text(app)
            assert password not in str(screen.query_one("#breadcrumb").content)
    finally:
        client.drop_database("authdb")
        client.close()


async def test_empty_query_fields_show_hints_not_values(tmp_path, mongo_server, database):
    """A placeholder that looks like a value ({_id: -1}, 0) reads as a setting in force: each
    says first what the empty field means, then gives an example, dim and in italics."""
    database.items.insert_one({"n": 1})
    app = await open_browser(tmp_path, mongo_server, database)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await browse(pilot)
        bar = screen.query_one(QueryBar)
        for name, meaning in (("filter", "all documents · e.g. "), ("projection", "all · e.g. "),
                              ("sort", "_id · e.g. "), ("skip", "none"), ("limit", "none")):
            field = bar.query_one(f"#{name}", Input)
            assert field.value == "" and field.placeholder.startswith(meaning), field.placeholder
            placeholder = field.get_component_rich_style("input--placeholder")
            assert placeholder.italic and placeholder.color != field.rich_style.color


async def test_a_document_the_editor_text_cannot_give_back_does_not_open(tmp_path, mongo_server,
                                                                          database):
    """A stored sub-document {"$oid": "…"} reads back from Extended JSON as an ObjectId: saving
    the editor's text unchanged would have changed it (found by tests/fuzz)."""
    database.docs.insert_one({"_id": 1, "ref": {"$oid": "507f1f77bcf86cd799439011"}})
    editor = editor_script(tmp_path, "path.write_text(text)\n")  # saves what it was given
    app = await open_browser(tmp_path, mongo_server, database, EDITOR=editor)
    async with app.run_test(size=(120, 40)) as pilot:
        await browse(pilot)
        await pilot.press("e")
        await settle(pilot)
        assert "cannot be edited as text" in screen_text(app)
    assert database.docs.find_one({"_id": 1})["ref"] == {"$oid": "507f1f77bcf86cd799439011"}
