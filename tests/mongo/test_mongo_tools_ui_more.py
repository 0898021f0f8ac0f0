"""The aggregation editor, export and import, and the transaction screen as a user drives
them, against the real MongoDB-wire server; snapshots of the aggregation editor."""

from __future__ import annotations

import json

import pytest
from pymongo import MongoClient
from textual.widgets import Input, Select, SelectionList, Static, TextArea

from mongo_tool_ui import (
    COLLECTION,
    DATABASE,
    WHERE,
    app_for,
    editor_writing,
    fill,
    open_tool,
    seeded_app,
)
from studio_tui.dialogs.confirm import ConfirmModal
from studio_tui.dialogs.fields import FieldsModal
from studio_tui.dialogs.name import NameModal
from studio_tui.dialogs.text_editor import TextEditorModal
from studio_tui.screens.mongo.aggregation import AggregationScreen
from studio_tui.screens.mongo.explain import ExplainScreen
from studio_tui.screens.mongo.transaction import TransactionScreen
from studio_tui.screens.mongo.transfer import ExportScreen, ImportScreen
from studio_tui.services.mongo.models import FindQuery
from studio_tui.widgets.catalog_table import CatalogTable
from studio_tui.widgets.data_grid import DataGrid
from ui import SIZES, screen_text, settle


def _aggregation(entry):
    return AggregationScreen(entry, WHERE, DATABASE, COLLECTION)


async def _write_stage(pilot, text: str) -> None:
    await settle(pilot)
    editor = pilot.app.screen
    assert isinstance(editor, TextEditorModal), editor
    editor.query_one(TextArea).text = text
    await pilot.press("ctrl+s")
    await settle(pilot)


# -- aggregation ----------------------------------------------------------------------------------
async def test_pipeline_editing_previews_runs_saves_and_explains(tmp_path, mongo_server):
    fill(mongo_server.url)
    app = await seeded_app(tmp_path, mongo_server.url)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_tool(pilot, _aggregation)
        await pilot.press("e")
        await _write_stage(pilot, "{$match: {status: 'paid'")  # a typo: the editor stays
        editor = app.screen
        assert isinstance(editor, TextEditorModal) and "stage 1" in str(
            editor.query_one("#error", Static).content)
        await _write_stage(pilot, "{$match: {status: 'paid'}}")
        assert "After stage 1" in screen_text(app) and "13 document(s)" in screen_text(app)
        await pilot.press("a")
        await _write_stage(pilot, "{$sort: {total: -1}}")
        await pilot.press("a")
        await _write_stage(pilot, "{$project: {_id: 1}}")
        assert [s.text for s in screen.pipeline.stages] == [
            "{$match: {status: 'paid'}}", "{$sort: {total: -1}}", "{$project: {_id: 1}}"]
        await pilot.press("shift+up")  # $project before $sort
        assert screen.pipeline.stages[1].text == "{$project: {_id: 1}}"
        await pilot.press("space")  # turned off
        assert not screen.pipeline.stages[1].enabled
        await pilot.press("R")
        await settle(pilot)
        # The output is the virtual grid: top-level fields as columns, nested values compact.
        grid = screen.query_one("#output", DataGrid)
        assert [c.name for c in grid.columns][:2] == ["_id", "status"]
        assert grid.row(0)[:2] == ("37", "\"paid\"")  # the $project is off, sorted by total
        assert "customer" in [c.name for c in grid.columns]
        assert grid.row(0)[[c.name for c in grid.columns].index("customer")].startswith("{")
        await pilot.press("space", "R")
        await settle(pilot)
        assert [c.name for c in grid.columns] == ["_id"]
        assert ("37",) in [grid.row(n) for n in range(grid.row_count)]
        grid.focus()
        await pilot.press("y")
        assert app.clipboard == f'{{\n  "_id": {grid.row(0)[0]}\n}}\n'
        screen.query_one(CatalogTable).focus_table()
        await pilot.press("s")
        await settle(pilot)
        assert isinstance(app.screen, NameModal)
        app.screen.query_one("#name", Input).value = "paid by total"
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("x")
        await settle(pilot)
        await pilot.click("#confirm")
        await settle(pilot)
        assert len(screen.pipeline.stages) == 2
        await pilot.press("o")
        await settle(pilot)
        assert isinstance(app.screen, FieldsModal)
        await pilot.click("#save")
        await settle(pilot)
        assert len(screen.pipeline.stages) == 3 and screen.saved_name == "paid by total"
        # K deletes a saved pipeline, after a confirm; the one on screen stays.
        await pilot.press("K")
        await settle(pilot)
        assert isinstance(app.screen, FieldsModal)
        await pilot.click("#save")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal) and "paid by total" in screen_text(app)
        await pilot.click("#confirm")
        await settle(pilot)
        assert screen.store.names() == [] and len(screen.pipeline.stages) == 3
        assert "Deleted the saved pipeline 'paid by total'" in str(screen.status_line.content)
        await pilot.press("K")
        assert "No saved pipelines" in str(screen.status_line.content)
        await pilot.press("X")
        await settle(pilot)
        assert isinstance(app.screen, ExplainScreen) and "$cursor" not in screen_text(app)
        assert app.screen.report is not None


async def test_a_pipeline_with_out_is_refused_on_read_only(tmp_path, mongo_server):
    fill(mongo_server.url)
    app = await seeded_app(tmp_path, mongo_server.url)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_tool(pilot, _aggregation, read_only=True)
        await pilot.press("a")
        await _write_stage(pilot, "{$out: 'copied'}")
        await pilot.press("R")
        await settle(pilot)
        assert not isinstance(app.screen, ConfirmModal)  # nothing to confirm: it is refused
        assert "read-only" in str(screen.status_line.content)
    with MongoClient(mongo_server.url) as client:
        assert "copied" not in client[DATABASE].list_collection_names()


async def test_a_pipeline_with_out_is_confirmed_then_written(tmp_path, mongo_server):
    fill(mongo_server.url)
    app = await seeded_app(tmp_path, mongo_server.url)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_tool(pilot, _aggregation)
        await pilot.press("a")
        await _write_stage(pilot, "{$out: 'copied'}")
        await pilot.press("R")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal) and "copied" in screen_text(app)
        await pilot.click("#confirm")
        await settle(pilot)
        assert "output was written" in str(screen.status_line.content)
    with MongoClient(mongo_server.url) as client:
        assert client[DATABASE].copied.count_documents({}) == 40


@pytest.mark.parametrize("size", SIZES)
def test_aggregation_snapshot(snap_compare, tmp_path, mongo_server, size):
    fill(mongo_server.url)
    app = app_for(tmp_path, mongo_server.url)

    async def run_before(pilot):
        screen = await open_tool(pilot, _aggregation)
        await pilot.press("e")
        await _write_stage(pilot, "{$match: {status: 'shipped'}}")
        await pilot.press("a")
        await _write_stage(pilot, "{$group: {_id: '$customer.tier', n: {$sum: 1}}}")
        await pilot.press("a")
        await _write_stage(pilot, "{$sort: {_id: 1}}")
        await pilot.press("up", "space", "down")
        await settle(pilot)
        screen.query_one(CatalogTable).focus_table()
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=run_before)


# -- export and import ----------------------------------------------------------------------------
async def test_export_a_query_to_csv_then_import_it_back_as_jsonl(tmp_path, mongo_server):
    fill(mongo_server.url)
    app = await seeded_app(tmp_path, mongo_server.url)
    target = tmp_path / "orders.csv"
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_tool(pilot, lambda entry: ExportScreen(
            entry, WHERE, DATABASE, COLLECTION, FindQuery(filter={"status": "new"},
                                                          sort={"_id": 1})))
        assert "Exports the query's result" in screen_text(app)
        screen.query_one("#format", Select).value = "csv"
        await settle(pilot)
        columns = screen.query_one("#columns", SelectionList)
        assert "customer\x1fname" in screen.columns
        assert set(columns.selected) >= {"_id", "total", "customer"}
        columns.deselect_all()
        columns.select("_id")
        columns.select("customer\x1fname")
        screen.query_one("#path", Input).value = str(target)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "Exported 14 documents" in screen_text(app)
    rows = target.read_text().splitlines()
    assert rows[:3] == ["_id,customer.name", "0,c0", "3,c3"] and len(rows) == 15


async def test_export_refuses_bad_paths_and_asks_before_replacing(tmp_path, mongo_server):
    fill(mongo_server.url)
    app = await seeded_app(tmp_path, mongo_server.url)
    existing = tmp_path / "there.jsonl"
    existing.write_text("old\n")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_tool(pilot, lambda entry: ExportScreen(entry, WHERE, DATABASE,
                                                                   COLLECTION))
        screen.query_one("#path", Input).value = str(tmp_path / "nowhere" / "x.jsonl")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "does not exist" in str(screen.status_line.content)
        screen.query_one("#path", Input).value = str(existing)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)
        await pilot.click("#confirm")
        await settle(pilot)
    lines = existing.read_text().splitlines()
    assert len(lines) == 40 and json.loads(lines[0])["_id"] == {"$numberInt": "0"}


async def test_import_lists_rejected_lines_and_refuses_read_only(tmp_path, mongo_server):
    source = tmp_path / "in.jsonl"
    source.write_text('{"_id": 1}\n{"_id": \n{"_id": 2}\n"text"\n{"_id": 1}\n')
    with MongoClient(mongo_server.url) as client:
        client.drop_database("importdb")
    app = await seeded_app(tmp_path, mongo_server.url)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_tool(pilot, lambda entry: ImportScreen(entry, WHERE, "importdb",
                                                                   "people"))
        screen.query_one("#path", Input).value = str(tmp_path / "missing.jsonl")
        await pilot.press("enter")
        await settle(pilot)
        assert "does not exist" in str(screen.status_line.content)
        screen.query_one("#path", Input).value = str(source)
        await pilot.press("enter")
        await settle(pilot)
        assert "Imported 2 documents; 3 line(s) rejected" in screen_text(app)
        rejects = screen.query_one("#rejects", CatalogTable)
        assert [screen.result.rejects[int(k)][0] for k in rejects.all_keys] == [2, 4, 5]
    with MongoClient(mongo_server.url) as client:
        assert client.importdb.people.count_documents({}) == 2
    app = await seeded_app(tmp_path / "ro", mongo_server.url)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_tool(pilot, lambda entry: ImportScreen(entry, WHERE, "importdb",
                                                                   "people"), read_only=True)
        screen.query_one("#path", Input).value = str(source)
        await pilot.press("enter")
        await settle(pilot)
        assert "read-only" in str(screen.status_line.content)
    with MongoClient(mongo_server.url) as client:
        assert client.importdb.people.count_documents({}) == 2
        client.drop_database("importdb")


# -- transactions ---------------------------------------------------------------------------------
BATCH = """[
  {updateMany: {filter: {status: 'new'}, update: {$set: {status: 'paid'}}}},
  {insertOne: {document: {_id: 1000, status: 'new'}}},
  {deleteOne: {filter: {_id: 1}}}
]"""


async def test_transaction_preview_then_apply_all(tmp_path, mongo_server):
    fill(mongo_server.url)
    app = await seeded_app(tmp_path, mongo_server.url)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_tool(pilot, lambda entry: TransactionScreen(entry, WHERE, DATABASE,
                                                                        COLLECTION))
        assert "replica set" in screen_text(app)
        screen.query_one(TextArea).text = BATCH
        await pilot.press("ctrl+r")
        await settle(pilot)
        text = screen_text(app)
        assert "updates 14 documents" in text and "inserts 1 document" in text
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)
        await pilot.click("#confirm")
        await settle(pilot)
        assert "Committed: 1 inserted, 14 modified, 1 deleted" in str(screen.status_line.content)
    with MongoClient(mongo_server.url) as client:
        orders = client[DATABASE][COLLECTION]
        assert orders.count_documents({"status": "new"}) == 1  # only the inserted one
        assert orders.count_documents({}) == 40


async def test_a_failed_transaction_keeps_the_text_and_writes_nothing(tmp_path, mongo_server):
    fill(mongo_server.url)
    app = await seeded_app(tmp_path, mongo_server.url)
    batch = "[{deleteMany: {filter: {}}}, {insertOne: {document: {_id: 5}}}]"
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_tool(pilot, lambda entry: TransactionScreen(entry, WHERE, DATABASE,
                                                                        COLLECTION))
        screen.query_one(TextArea).text = batch
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.click("#confirm")
        await settle(pilot)
        await settle(pilot)
        # The delete ran inside the transaction, so _id 5 was free: make it clash instead.
        assert "Committed" in str(screen.status_line.content)
        screen.query_one(TextArea).text = "[{insertOne: {document: {_id: 9}}}, " \
                                          "{insertOne: {document: {_id: 5}}}]"
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.click("#confirm")
        await settle(pilot)
        assert "aborted" in str(screen.status_line.content)
        assert "_id: 9" in screen.query_one(TextArea).text
    with MongoClient(mongo_server.url) as client:
        assert client[DATABASE][COLLECTION].count_documents({"_id": 9}) == 0


async def test_read_only_entries_cannot_apply_a_transaction(tmp_path, mongo_server):
    fill(mongo_server.url)
    app = await seeded_app(tmp_path, mongo_server.url)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_tool(pilot, lambda entry: TransactionScreen(entry, WHERE, DATABASE,
                                                                        COLLECTION),
                                 read_only=True)
        screen.query_one(TextArea).text = BATCH
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert not isinstance(app.screen, ConfirmModal)
        # The service refuses it too, whatever the UI lets through.
        screen.apply(__import__("studio_tui.services.mongo.transaction", fromlist=["x"])
                     .parse_batch(BATCH))
        await settle(pilot)
        assert "read-only" in str(screen.status_line.content)
    with MongoClient(mongo_server.url) as client:
        assert client[DATABASE][COLLECTION].count_documents({"status": "new"}) == 14


async def test_esc_stops_a_running_pipeline_on_the_server(tmp_path, mongo_server):
    with MongoClient(mongo_server.url) as client:
        client.drop_database("slowdb")
        client.slowdb.big.insert_many([{"n": n, "k": n % 50} for n in range(3000)])
    app = await seeded_app(tmp_path, mongo_server.url)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_tool(pilot, lambda entry: AggregationScreen(entry, WHERE, "slowdb",
                                                                        "big"))
        # A self-join of every document with every other: seconds of work on the server.
        screen.pipeline.stages[0].text = ("{$lookup: {from: 'big', let: {k: '$k'}, pipeline: "
                                          "[{$match: {$expr: {$eq: ['$k', '$$k']}}}], as: 'same'}}")
        await pilot.press("R")
        await pilot.pause(0.3)
        assert screen.running("mongo-aggregate")
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen and "Stopped" in str(screen.status_line.content)
    with MongoClient(mongo_server.url) as client:
        ops = client.admin.command("currentOp").get("inprog", [])
        assert not [op for op in ops if (op.get("command") or {}).get("aggregate") == "big"]
        client.drop_database("slowdb")


async def test_stages_and_batches_are_edited_in_the_editor(tmp_path, mongo_server):
    fill(mongo_server.url)
    app = await seeded_app(tmp_path, mongo_server.url,
                           EDITOR=editor_writing(tmp_path, "{$limit: 3}"))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_tool(pilot, _aggregation)
        await pilot.press("e")
        await settle(pilot)
        await pilot.press("ctrl+o")  # the stage goes to $EDITOR and comes back saved
        await settle(pilot)
        assert app.screen is screen and screen.pipeline.stages[0].text == "{$limit: 3}"
        assert "3 document(s)" in screen_text(app)
    batch = "[{deleteOne: {filter: {_id: 3}}}]"
    app = await seeded_app(tmp_path / "tx", mongo_server.url,
                           EDITOR=editor_writing(tmp_path, batch))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_tool(pilot, lambda entry: TransactionScreen(entry, WHERE, DATABASE,
                                                                        COLLECTION))
        await pilot.press("ctrl+o")
        await settle(pilot)
        assert screen.query_one(TextArea).text == batch
        assert "deletes 1 document" in screen_text(app)


async def test_the_preview_limit_is_chosen(tmp_path, mongo_server):
    fill(mongo_server.url)
    app = await seeded_app(tmp_path, mongo_server.url)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_tool(pilot, _aggregation)
        assert "20 document(s) (first 20; more left)" in screen_text(app)
        await pilot.press("l")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FieldsModal)
        form.query_one("#limit", Input).value = "5000"
        await pilot.click("#save")
        await settle(pilot)
        assert app.screen is form  # out of range: said, and kept
        form.query_one("#limit", Input).value = "5"
        await pilot.press("enter")  # in the field, which has the focus since the error
        for _ in range(100):  # the new limit previews again by itself
            await settle(pilot)
            if "5 document(s) (first 5; more left)" in screen_text(app):
                break
            await pilot.pause(0.05)
        assert "5 document(s) (first 5; more left)" in screen_text(app) and screen.limit == 5
