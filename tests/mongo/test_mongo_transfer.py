"""Export and import against the real MongoDB-wire server: canonical Extended JSON round trips,
CSV columns, a query's result, files with bad lines (reported by line number, the rest
imported), JSON arrays, checked paths, cancel, and read-only refusal."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import datetime as dt
import json
import os

import pytest
from bson import Binary, Decimal128, Int64, ObjectId

from mongo_tool_fixtures import audit_outcomes, readonly_scope, scope  # noqa: F401
from studio_tui.services.errors import ReadOnlyError, ValidationError
from studio_tui.services.mongo import transfer
from studio_tui.services.mongo.models import FindQuery
from studio_tui.services.mongo.scope import MongoScope

TYPED = {"_id": ObjectId("650000000000000000000001"), "long": Int64(5), "int": 5, "double": 5.0,
         "dec": Decimal128("1.10"), "when": dt.datetime(2024, 5, 1, 12, 30, tzinfo=dt.timezone.utc),
         "bin": Binary(b"\x00\x01", 0), "nested": {"list": [1, {"x": "y"}]}, "text": "a,b\n\"c\""}


async def _last(progress_iterator):
    last = None
    async for progress in progress_iterator:
        last = progress
    return last


async def test_export_jsonl_then_import_round_trips_every_type(scope, raw_db, tmp_path):
    await raw_db.items.insert_many([TYPED, *({"n": i} for i in range(2500))])
    target = tmp_path / "out.jsonl"
    done = await _last(transfer.export_documents(scope, str(target), batch=1000))
    assert done.finished and done.done == 2501 and done.total == 2501
    lines = target.read_text().splitlines()
    assert len(lines) == 2501
    first = json.loads(lines[0])
    assert first["long"] == {"$numberLong": "5"} and first["int"] == {"$numberInt": "5"}
    assert first["dec"] == {"$numberDecimal": "1.10"}
    assert not (tmp_path / "out.jsonl.part").exists()
    copy = MongoScope(scope.manager, scope.database_id, scope.database, "copy")
    imported = await _last(transfer.import_documents(copy, str(target)))
    assert imported.done == 2501 and imported.rejected == 0 and imported.fraction == 1.0
    assert await raw_db.copy.find_one({"_id": TYPED["_id"]}) == await raw_db.items.find_one(
        {"_id": TYPED["_id"]})
    assert type((await raw_db.copy.find_one({"_id": TYPED["_id"]}))["long"]) is Int64


async def test_export_a_query_result_to_csv_with_chosen_columns(scope, raw_db, tmp_path):
    await raw_db.items.insert_many([TYPED, {"n": 1, "nested": {"list": []}}, {"n": 2}])
    target = tmp_path / "out.csv"
    query = FindQuery(filter={"n": {"$exists": False}}, sort={"_id": 1})
    done = await _last(transfer.export_documents(
        scope, str(target), fmt="csv", query=query,
        columns=[("_id",), ("long",), ("when",), ("dec",), ("nested",), ("nested", "list", "1", "x"),
                 ("text",), ("missing",)]))
    assert done.done == 1 and done.total is None
    rows = list(csv.reader(target.open()))
    assert rows[0] == ["_id", "long", "when", "dec", "nested", "nested.list.1.x", "text", "missing"]
    assert rows[1] == ["650000000000000000000001", "5", "2024-05-01T12:30:00Z", "1.10",
                       '{"list": [1, {"x": "y"}]}', "y", 'a,b\n"c"', ""]


async def test_import_reports_bad_lines_by_number_and_keeps_going(scope, raw_db, tmp_path):
    await raw_db.items.insert_one({"_id": 3})
    source = tmp_path / "in.jsonl"
    source.write_bytes(b'{"_id": 1, "a": {"$numberLong": "7"}}\n'
                       b'{"_id": 2, "a": \n'  # broken JSON
                       b'\n'
                       b'[1, 2]\n'  # not a document
                       b'{"_id": 3}\n'  # a duplicate key: refused by the server
                       b'{"_id": 4, "d": {"$date": "2024-01-01T00:00:00Z"}}\n'
                       b'{"_id": 5, "bad": {"$oid": "nope"}}\n'  # not Extended JSON
                       b'\xff\xfe\n'
                       b'{"_id": 6}')
    done = await _last(transfer.import_documents(scope, str(source), batch=2))
    assert done.done == 3 and done.rejected == 5
    assert [line for line, _ in done.rejects] == [2, 4, 5, 7, 8]
    reasons = dict(done.rejects)
    assert "not JSON" in reasons[2] and "not a document but a value of type Array" in reasons[4]
    assert "refused by the server" in reasons[5] and "duplicate" in reasons[5].lower()
    assert "not UTF-8" in reasons[8]
    assert sorted(await raw_db.items.distinct("_id")) == [1, 3, 4, 6]
    assert type((await raw_db.items.find_one({"_id": 1}))["a"]) is Int64


async def test_import_a_json_array_in_chunks(scope, raw_db, tmp_path, monkeypatch):
    source = tmp_path / "in.json"
    source.write_text("[\n" + ",\n".join(
        [json.dumps({"n": i, "pad": "é" * 50}) for i in range(300)]
        + ['"just text"', '{"bad": {"$numberLong": []}}', '{"n": 300}']) + "\n]\n")
    monkeypatch.setattr(transfer, "MAX_ELEMENT", 10**9)
    done = await _last(transfer.import_documents(scope, str(source), batch=100))
    assert done.done == 301 and [line for line, _ in done.rejects] == [302, 303]
    assert await raw_db.items.count_documents({"pad": "é" * 50}) == 300
    broken = tmp_path / "broken.json"
    broken.write_text('[{"n": 1},\n{"n": 2,,}\n, {"n": 3}]')
    done = await _last(transfer.import_documents(scope, str(broken)))
    assert done.done == 1 and done.rejects[0][0] == 2 and "rest of the array" in done.rejects[0][1]


def test_paths_are_checked_with_clear_errors(tmp_path):
    with pytest.raises(ValidationError, match="does not exist"):
        transfer.check_export_path(str(tmp_path / "no" / "out.jsonl"))
    existing = tmp_path / "there.jsonl"
    existing.write_text("")
    with pytest.raises(ValidationError, match="already exists"):
        transfer.check_export_path(str(existing))
    assert transfer.check_export_path(str(existing), overwrite=True) == existing
    with pytest.raises(ValidationError, match="is a folder"):
        transfer.check_export_path(str(tmp_path))
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    if not os.access(locked, os.W_OK):  # root may write anywhere
        with pytest.raises(ValidationError, match="not writable"):
            transfer.check_export_path(str(locked / "x.jsonl"))
    with pytest.raises(ValidationError, match="does not exist"):
        transfer.check_import_path(str(tmp_path / "nothing.jsonl"))
    with pytest.raises(ValidationError, match="not a file"):
        transfer.check_import_path(str(tmp_path))
    with pytest.raises(ValidationError, match="file path"):
        transfer.check_import_path("  ")


async def test_cancelled_export_leaves_no_file_and_closes_the_cursor(scope, raw_db, tmp_path):
    await raw_db.items.insert_many([{"n": i} for i in range(5000)])
    target = tmp_path / "out.jsonl"
    seen = []
    # The server counts every client's cursors: compare with the count before the export.
    before = (await raw_db.client.admin.command("serverStatus"))["metrics"]["cursor"]["open"]
    open_before = before["total"]

    async def export():
        async with contextlib.aclosing(transfer.export_documents(scope, str(target),
                                                                 batch=500)) as steps:
            async for progress in steps:
                seen.append(progress.done)
                if progress.done >= 1000:
                    await asyncio.sleep(10)

    task = asyncio.create_task(export())
    while not seen or seen[-1] < 1000:
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not target.exists() and not (tmp_path / "out.jsonl.part").exists()
    # The driver may send the killCursors from its background task a moment later.
    open_now = None
    for _ in range(50):
        status = await raw_db.client.admin.command("serverStatus")
        open_now = status["metrics"]["cursor"]["open"]["total"]
        if open_now <= open_before:
            break
        await asyncio.sleep(0.1)
    assert open_now <= open_before


async def test_import_is_refused_on_read_only_before_reading(readonly_scope, raw_db, tmp_path,
                                                             catalog):
    source = tmp_path / "in.jsonl"
    source.write_text('{"a": 1}\n')
    with pytest.raises(ReadOnlyError):
        await _last(transfer.import_documents(readonly_scope, str(source)))
    assert await raw_db.items.count_documents({}) == 0
    assert await audit_outcomes(catalog, "import into") == ["denied"]


async def test_csv_needs_columns_and_a_known_format(scope, tmp_path):
    with pytest.raises(ValidationError, match="column"):
        await _last(transfer.export_documents(scope, str(tmp_path / "a.csv"), fmt="csv"))
    with pytest.raises(ValidationError, match="format"):
        await _last(transfer.export_documents(scope, str(tmp_path / "a.x"), fmt="xml"))
