"""Documents near MongoDB's limits (about 12 MB, nested 99 levels) open in the browser at once:
the tree makes rows only for what is opened, big arrays come in slices, deep levels stay
readable."""

from __future__ import annotations

import uuid

import pytest
from pymongo import MongoClient

from studio_tui.services.mongo.outline import CHUNK, DocumentsOutline
from studio_tui.widgets.data_grid import DataGrid
from studio_tui.widgets.mongo.document_tree import DocumentTree
from test_mongo_browser_ui import browse, open_browser
from ui import screen_text, settle

DEPTH = 99


def deep_document() -> dict:
    inner: dict = {"leaf": "bottom"}
    for level in range(DEPTH - 1, 0, -1):
        inner = {f"level{level}": inner}
    return {"_id": 1, **inner}


def big_document() -> dict:
    return {"_id": 2, "items": [{"i": n, "text": "x" * 100} for n in range(100_000)],
            "wide": {f"f{n}": n for n in range(20_000)}}


@pytest.fixture
def database(mongo_server):
    name = "big_" + uuid.uuid4().hex[:8]
    client = MongoClient(mongo_server.url)
    client[name].docs.insert_many([deep_document(), big_document()])
    yield client[name]
    client.drop_database(name)
    client.close()


def test_the_outline_makes_rows_only_for_opened_nodes_and_slices_big_arrays():
    outline = DocumentsOutline([big_document()])
    root = outline.root(0)  # labelled by its _id, which the summary does not repeat
    assert root.label == "2" and root.summary.startswith("{items: [{i: 0, text: ")
    items = outline.children((0,), 1)
    assert [row.label for row in items] == ["_id", "items", "wide"]
    first = outline.children((0, "items"), 2)
    assert len(first) == CHUNK + 1 and first[-1].label == f"… {100_000 - CHUNK:,} more"
    following = outline.children((0, "items"), 2, CHUNK)
    assert following[0].label == f"[{CHUNK}]"


async def test_big_and_deep_documents_open_and_expand_in_the_browser(tmp_path, mongo_server,
                                                                     database):
    app = await open_browser(tmp_path, mongo_server, database)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await browse(pilot)
        grid = screen.query_one(DataGrid)
        assert grid.row_count == 2
        assert [column.name for column in grid.columns] == ["_id", "level1", "items", "wide"]
        await pilot.press("v")
        tree = screen.query_one(DocumentTree)
        # The deep one: open level after level, down to the leaf.
        await pilot.press("down")  # past _id
        for _ in range(DEPTH - 1):
            await pilot.press("down", "right")
        await pilot.press("down")
        assert tree.current.label == "leaf" and tree.current.depth == DEPTH
        assert "bottom" in screen_text(app)
        assert f"{DEPTH - 1:>3}" in screen_text(app)  # deep levels show their depth
        # The big one: its 100,000 items come CHUNK at a time.
        await pilot.press("end")
        tree.select_document(1, expand=True)
        await pilot.pause()
        rows_before = tree.row_count
        await pilot.press("down", "down", "right")
        assert tree.current.label == "items"
        assert tree.row_count == rows_before + CHUNK + 1
        await pilot.press("end", "up", "enter")  # the "more" row, just above "wide"
        assert tree.row_count == rows_before + 2 * CHUNK + 1
        await settle(pilot)
