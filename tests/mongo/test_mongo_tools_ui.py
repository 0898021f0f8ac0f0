"""The MongoDB tool screens as a user drives them, against the real MongoDB-wire server:
server view, indexes, schema, explain; snapshots at 80x24 and 120x40 without live figures."""

from __future__ import annotations

import pytest
from pymongo import MongoClient
from textual.widgets import Sparkline, Static

from mongo_tool_ui import (
    COLLECTION,
    DATABASE,
    WHERE,
    app_for,
    fill,
    freeze,
    open_tool,
    seeded_app,
)
from studio_tui.dialogs.confirm import ConfirmModal
from studio_tui.dialogs.fields import FieldsModal
from studio_tui.screens.mongo.explain import ExplainScreen
from studio_tui.screens.mongo.indexes import IndexesScreen
from studio_tui.screens.mongo.schema import SchemaScreen
from studio_tui.screens.mongo.server import ServerScreen
from studio_tui.services.mongo.models import FindQuery
from studio_tui.widgets.catalog_table import CatalogTable
from studio_tui.widgets.vitals import VitalSparkline
from ui import SIZES, screen_text, settle


def _indexes(entry):
    return IndexesScreen(entry, WHERE, DATABASE, COLLECTION)


def _schema(entry):
    return SchemaScreen(entry, WHERE, DATABASE, COLLECTION)


# -- server view ----------------------------------------------------------------------------------
async def test_server_view_shows_topology_vitals_members_and_operations(tmp_path, mongo_server):
    app = await seeded_app(tmp_path, mongo_server.url)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_tool(pilot, lambda entry: ServerScreen(entry, WHERE))
        text = screen_text(app)
        assert "replica set secantus" in text and "transactions supported" in text
        assert screen.query_one("#connections", VitalSparkline).history
        await pilot.press("k")  # first k shows the operations
        await settle(pilot)
        assert screen.query_one("#tabs").active == "operations"
        members = screen.query_one("#members-table", CatalogTable)
        assert len(members.all_keys) == 1


async def test_kill_op_is_confirmed_and_reaches_the_server(tmp_path, mongo_server):
    app = await seeded_app(tmp_path, mongo_server.url)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_tool(pilot, lambda entry: ServerScreen(entry, WHERE))
        await pilot.press("I")  # idle connections too: the test server's own are listed
        await settle(pilot)
        await pilot.press("k")
        await settle(pilot)
        table = screen.query_one("#ops-table", CatalogTable)
        assert table.all_keys
        await pilot.press("k")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)
        await pilot.click("#confirm")
        await settle(pilot)
        assert "killOp" in str(screen.status_line.content)


async def test_read_only_entry_cannot_kill(tmp_path, mongo_server):
    app = await seeded_app(tmp_path, mongo_server.url)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_tool(pilot, lambda entry: ServerScreen(entry, WHERE), read_only=True)
        screen.query_one("#tabs").active = "operations"
        await settle(pilot)
        await pilot.press("k")
        await settle(pilot)
        assert not isinstance(app.screen, ConfirmModal)
        assert "read-only" in str(screen.status_line.content)


@pytest.mark.parametrize("size", SIZES)
def test_server_view_snapshot(snap_compare, tmp_path, mongo_server, size):
    app = app_for(tmp_path, mongo_server.url)

    async def run_before(pilot):
        screen = await open_tool(pilot, lambda entry: ServerScreen(entry, WHERE))
        freeze(screen)
        await settle(pilot)
        for vital, label in (("#ops", "ops/s          -"), ("#connections", "connections    -"),
                             ("#memory", "resident       -")):
            screen.query_one(f"{vital} Sparkline", Sparkline).data = [1, 3, 2, 4, 3]
            screen.query_one(f"{vital} .vital-label", Static).update(label)
        screen.query_one("#counters", Static).update("per second: insert 0 · query 0 · …")
        screen.query_one("#topology", Static).update(
            "MongoDB 8.2 · replica set secantus · primary (host) · transactions supported")
        screen.status_line.update("replica set secantus · operations running")
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=run_before)


# -- indexes --------------------------------------------------------------------------------------
async def test_indexes_create_and_drop_from_the_screen(tmp_path, mongo_server):
    fill(mongo_server.url)
    app = await seeded_app(tmp_path, mongo_server.url)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_tool(pilot, _indexes)
        table = screen.query_one(CatalogTable)
        assert sorted(table.all_keys) == ["_id_", "customer", "status_placed"]
        assert "sparse" in screen_text(app)
        await pilot.press("c")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FieldsModal)
        form.query_one("#keys").value = "{total: -1"
        await pilot.click("#save")
        await settle(pilot)
        assert isinstance(app.screen, FieldsModal)  # the typo is shown; what was typed stays
        assert "keys" in str(form.query_one("#error", Static).content)
        form.query_one("#keys").value = "{total: -1}"
        form.query_one("#name").value = "by_total"
        form.query_one("#partial").value = "{status: 'paid'}"
        # Enter in the keys field (focused since the error): the error line moved the button.
        await pilot.press("enter")
        await settle(pilot)
        assert "by_total" in table.all_keys
        with MongoClient(mongo_server.url) as client:
            info = client[DATABASE][COLLECTION].index_information()["by_total"]
            assert info["partialFilterExpression"] == {"status": "paid"}
        table.table.move_cursor(row=table.all_keys.index("by_total"))
        await pilot.press("d")
        await settle(pilot)
        confirm = app.screen
        assert isinstance(confirm, ConfirmModal)
        confirm.query_one("#typed").value = "by_total"
        await settle(pilot)  # the confirm button is enabled once the change is handled
        await pilot.click("#confirm")
        await settle(pilot)
        assert "by_total" not in table.all_keys


async def test_read_only_indexes_refuse_create_and_drop(tmp_path, mongo_server):
    fill(mongo_server.url)
    app = await seeded_app(tmp_path, mongo_server.url)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_tool(pilot, _indexes, read_only=True)
        for key in ("c", "d"):
            await pilot.press(key)
            await settle(pilot)
            assert app.screen is screen
        assert "read-only" in str(screen.status_line.content)


@pytest.mark.parametrize("size", SIZES)
def test_indexes_snapshot(snap_compare, tmp_path, mongo_server, size):
    fill(mongo_server.url)
    app = app_for(tmp_path, mongo_server.url)

    async def run_before(pilot):
        await open_tool(pilot, _indexes)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


# -- schema ---------------------------------------------------------------------------------------
async def test_schema_enter_dismisses_with_a_filter(tmp_path, mongo_server):
    fill(mongo_server.url)
    app = await seeded_app(tmp_path, mongo_server.url)
    chosen = []
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        entry = await app.studio.catalog.find_database("docs")
        await app.push_screen(_schema(entry), chosen.append)
        await settle(pilot)
        screen = app.screen
        table = screen.query_one(CatalogTable)
        keys = table.all_keys
        assert "lines\x1fsku" in keys and "promo.code" in keys
        assert "50.0%" in screen_text(app)  # lines: every other order
        await pilot.press("n")
        await settle(pilot)
        app.screen.query_one("#size").value = "10"
        await pilot.click("#save")
        await settle(pilot)
        assert "random sample of 10 document(s)" in screen_text(app)
        keys = table.all_keys
        if "lines\x1fsku" not in keys:  # ten random orders may all lack lines: sample again
            await pilot.press("s")
            await settle(pilot)
            keys = table.all_keys
        table.table.move_cursor(row=keys.index("lines\x1fsku"))
        await pilot.press("enter")
        await settle(pilot)
    assert chosen == ['{"lines.sku": {"$exists": true}}']


@pytest.mark.parametrize("size", SIZES)
def test_schema_snapshot(snap_compare, tmp_path, mongo_server, size):
    fill(mongo_server.url)
    app = app_for(tmp_path, mongo_server.url)

    async def run_before(pilot):
        await open_tool(pilot, _schema)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


# -- explain --------------------------------------------------------------------------------------
async def test_explain_shows_the_plan_and_the_costly_stage(tmp_path, mongo_server):
    fill(mongo_server.url)
    app = await seeded_app(tmp_path, mongo_server.url)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_tool(pilot, lambda entry: ExplainScreen(
            entry, WHERE, DATABASE, COLLECTION, FindQuery(filter={"total": {"$gt": 10}})))
        text = screen_text(app)
        assert "COLLSCAN" in text and "◀ most work" in text and "Collection scan" in text
        assert screen.report.docs_examined == 40 and screen.report.returned == 35


def _stable(report):
    """The explain report without its timings."""
    report.millis = None
    for _, node in report.root.walk():
        node.millis = None
    return report


@pytest.mark.parametrize("size", SIZES)
def test_explain_snapshot(snap_compare, tmp_path, mongo_server, size):
    fill(mongo_server.url)
    app = app_for(tmp_path, mongo_server.url)

    async def run_before(pilot):
        screen = await open_tool(pilot, lambda entry: ExplainScreen(
            entry, WHERE, DATABASE, COLLECTION,
            FindQuery(filter={"status": "paid"}, sort={"total": -1})))
        screen.show(_stable(screen.report))
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=run_before)
