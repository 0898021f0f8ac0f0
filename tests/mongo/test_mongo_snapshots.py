"""Snapshots of the MongoDB browser at 80x24 and 120x40: the collection tree, documents as a
table and as a tree, and the editor conflict. A server of this module's own, so the database
list is the same on every run."""

from __future__ import annotations

import stat
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest
from bson import Decimal128
from bson.int64 import Int64
from pymongo import MongoClient
from textual.widgets import Static

import realservers
from studio_tui.dialogs.mongo.conflict import DocumentConflictModal
from ui import QUIET_SETTINGS, SIZES, run_command, seed_now, settle, studio_app


@pytest.fixture(scope="module")
def server() -> Iterator[realservers.RunningServer]:
    running = realservers.start_mongo()
    client = MongoClient(running.url)
    shop = client.shop
    start = datetime(2024, 3, 1, tzinfo=timezone.utc)
    shop.orders.insert_many([
        {"_id": n, "customer": f"customer-{n % 7}", "total": Decimal128(f"{n * 3}.25"),
         "items": [{"sku": f"sku-{n % 5}", "qty": n % 3 + 1}], "placed": start + timedelta(hours=n),
         "units": Int64(n * 10), "paid": n % 2 == 0}
        for n in range(120)])
    shop.users.insert_one({"_id": "ada", "name": "Ada Lovelace", "languages": ["en", "fr"]})
    shop.create_collection("big_orders", viewOn="orders", pipeline=[{"$match": {"units": {"$gt": 500}}}])
    client.close()
    yield running
    running.stop()


def _url(server) -> str:
    return server.url.replace("/?", "/shop?")


async def _browser(pilot, *, collection: bool):
    await run_command(pilot, "open docs")
    await settle(pilot)
    if collection:
        await pilot.press("down", "enter")  # orders (after the big_orders view)
        await settle(pilot)
    return pilot.app.screen


@pytest.mark.parametrize("size", SIZES)
def test_collection_tree_snapshot(snap_compare, tmp_path, server, size):
    seed_now(tmp_path, {"Acme": {"shop": [("docs", _url(server))]}})

    async def run_before(pilot):
        await _browser(pilot, collection=False)

    assert snap_compare(studio_app(tmp_path, QUIET_SETTINGS), terminal_size=size,
                        run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_documents_table_snapshot(snap_compare, tmp_path, server, size):
    seed_now(tmp_path, {"Acme": {"shop": [("docs", _url(server))]}})

    async def run_before(pilot):
        await _browser(pilot, collection=True)
        await pilot.press("down", "right")

    assert snap_compare(studio_app(tmp_path, QUIET_SETTINGS), terminal_size=size,
                        run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_documents_tree_snapshot(snap_compare, tmp_path, server, size):
    seed_now(tmp_path, {"Acme": {"shop": [("docs", _url(server))]}})

    async def run_before(pilot):
        await _browser(pilot, collection=True)
        await pilot.press("v")  # the first document opens
        await pilot.press("down", "down", "down", "down", "right")  # and its items

    assert snap_compare(studio_app(tmp_path, QUIET_SETTINGS), terminal_size=size,
                        run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_editor_conflict_snapshot(snap_compare, tmp_path, server, size):
    seed_now(tmp_path, {"Acme": {"shop": [("docs", _url(server))]}})
    editor = tmp_path / "editor.py"
    editor.write_text(
        f"#!{sys.executable}\nimport json, pathlib, sys\nfrom pymongo import MongoClient\n"
        "path = pathlib.Path(sys.argv[1])\n"
        "path.write_text(path.read_text().replace('\"customer-0\"', '\"mine\"'))\n"
        f"MongoClient({server.url!r}).shop.orders.update_one({{'_id': 0}}, "
        "{'$set': {'customer': 'theirs'}})\n")
    editor.chmod(editor.stat().st_mode | stat.S_IXUSR)

    async def run_before(pilot):
        await _browser(pilot, collection=True)
        await pilot.press("e")
        await settle(pilot)
        modal = pilot.app.screen
        assert isinstance(modal, DocumentConflictModal)
        # The kept copy's path has a time in it: keep the snapshot stable.
        modal.query_one("#detail", Static).update(
            "The document changed since you opened it. Nothing was written; your edit is "
            "kept.\nAlso kept in …/unsaved/0.json; press e to reopen it on top of the stored "
            "version.")
        await pilot.pause()

    try:
        assert snap_compare(studio_app(tmp_path, QUIET_SETTINGS, EDITOR=str(editor)),
                            terminal_size=size, run_before=run_before)
    finally:
        with MongoClient(server.url) as client:
            client.shop.orders.update_one({"_id": 0}, {"$set": {"customer": "customer-0"}})
