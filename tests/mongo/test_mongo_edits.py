"""MongoEdits against the real MongoDB-wire server: conflict-checked saves that keep every BSON
type, $-prefixed names, inserts, updates, deletes, and read-only refusals for every write."""

from __future__ import annotations

import pytest
from bson import ObjectId
from bson.int64 import Int64
from bson.raw_bson import RawBSONDocument

from studio_tui.services.errors import ReadOnlyError, ValidationError
from studio_tui.services.mongo.edits import DocumentConflict, MongoEdits
from studio_tui.services.mongo.ejson import from_editor_text, to_editor_text
from studio_tui.services.mongo.service import MongoService

from test_mongo_ejson import every_type


async def stored_bytes(raw_db, name, id_):
    raw = raw_db.get_collection(name, codec_options=raw_db.codec_options.with_options(
        document_class=RawBSONDocument))
    return (await raw.find_one({"_id": id_})).raw


def server_safe_every_type():
    document = every_type()
    del document["date_out_of_range"]  # the test server cannot decode dates past 9999
    return document


async def test_a_no_op_edit_writes_nothing_and_keeps_the_bytes(mongo_service, mongo_edits, raw_db,
                                                                mongo_db_name):
    document = server_safe_every_type()
    await raw_db.docs.insert_one(document)
    before = await stored_bytes(raw_db, "docs", document["_id"])
    loaded = await mongo_service.document(mongo_db_name, "docs", document["_id"])
    result = await mongo_edits.save(mongo_db_name, "docs", loaded,
                                    from_editor_text(to_editor_text(loaded)))
    assert not result.written
    assert await stored_bytes(raw_db, "docs", document["_id"]) == before


async def test_an_edit_keeps_every_other_type_and_key_order(mongo_service, mongo_edits, raw_db,
                                                             mongo_db_name):
    document = server_safe_every_type()
    await raw_db.docs.insert_one(document)
    loaded = await mongo_service.document(mongo_db_name, "docs", document["_id"])
    text = to_editor_text(loaded).replace('"first key stays first"', '"edited"')
    assert (await mongo_edits.save(mongo_db_name, "docs", loaded, from_editor_text(text))).written
    document["zeta"] = "edited"
    import bson

    assert await stored_bytes(raw_db, "docs", document["_id"]) == bson.encode(document)


async def test_a_save_over_someone_elses_change_is_a_conflict(mongo_service, mongo_edits, raw_db,
                                                               mongo_db_name):
    await raw_db.docs.insert_one({"_id": 1, "n": 1, "name": "a"})
    loaded = await mongo_service.document(mongo_db_name, "docs", 1)
    await raw_db.docs.update_one({"_id": 1}, {"$set": {"name": "theirs"}})
    with pytest.raises(DocumentConflict) as caught:
        await mongo_edits.save(mongo_db_name, "docs", loaded, {"_id": 1, "n": 1, "name": "mine"})
    assert caught.value.current == {"_id": 1, "n": 1, "name": "theirs"}
    assert (await raw_db.docs.find_one({"_id": 1}))["name"] == "theirs"


async def test_a_type_only_change_by_someone_else_is_a_conflict(mongo_service, mongo_edits,
                                                                 raw_db, mongo_db_name):
    """Int32 1 → Int64 1 compares equal as a value; the byte check still sees it."""
    await raw_db.docs.insert_one({"_id": 1, "n": 1})
    loaded = await mongo_service.document(mongo_db_name, "docs", 1)
    await raw_db.docs.replace_one({"_id": 1}, {"_id": 1, "n": Int64(1)})
    with pytest.raises(DocumentConflict):
        await mongo_edits.save(mongo_db_name, "docs", loaded, {"_id": 1, "n": 2})


async def test_saving_a_deleted_document_is_a_conflict(mongo_service, mongo_edits, raw_db,
                                                       mongo_db_name):
    await raw_db.docs.insert_one({"_id": 1, "n": 1})
    loaded = await mongo_service.document(mongo_db_name, "docs", 1)
    await raw_db.docs.delete_one({"_id": 1})
    with pytest.raises(DocumentConflict, match="deleted") as caught:
        await mongo_edits.save(mongo_db_name, "docs", loaded, {"_id": 1, "n": 2})
    assert caught.value.current is None
    assert await raw_db.docs.count_documents({}) == 0


async def test_the_conflict_guard_without_transactions(mongo_service, mongo_edits, raw_db,
                                                       mongo_db_name):
    """The $expr guard a standalone server gets: same value saves, a changed one conflicts."""
    mongo_service._topology = "standalone"
    await raw_db.docs.insert_one({"_id": 1, "n": 1})
    loaded = await mongo_service.document(mongo_db_name, "docs", 1)
    assert (await mongo_edits.save(mongo_db_name, "docs", loaded, {"_id": 1, "n": 2})).written
    with pytest.raises(DocumentConflict):
        await mongo_edits.save(mongo_db_name, "docs", loaded, {"_id": 1, "n": 3})
    assert (await raw_db.docs.find_one({"_id": 1}))["n"] == 2


async def test_top_level_dollar_and_odd_field_names_are_stored(mongo_service, mongo_edits, raw_db,
                                                                mongo_db_name):
    await raw_db.docs.insert_one({"_id": 1, "a": 1})
    loaded = await mongo_service.document(mongo_db_name, "docs", 1)
    edited = {"_id": 1, "$price": 5, "a.b": 2, "": 3, "nested": {"$x": 1}}
    assert (await mongo_edits.save(mongo_db_name, "docs", loaded, edited)).written
    assert await raw_db.docs.find_one({"_id": 1}) == edited
    ids = await mongo_edits.insert(mongo_db_name, "docs", [{"$weird": 1}, {"plain": 2}])
    assert (await raw_db.docs.find_one({"_id": ids[0]}))["$weird"] == 1


async def test_the_id_cannot_change(mongo_service, mongo_edits, raw_db, mongo_db_name):
    await raw_db.docs.insert_one({"_id": 1})
    loaded = await mongo_service.document(mongo_db_name, "docs", 1)
    with pytest.raises(ValidationError, match="_id"):
        await mongo_edits.save(mongo_db_name, "docs", loaded, {"_id": 2})


async def test_insert_duplicate_delete(mongo_edits, raw_db, mongo_db_name):
    ids = await mongo_edits.insert(mongo_db_name, "docs", from_editor_text_many('[{"a": 1}, {"a": 2}]'))
    assert len(ids) == 2 and await raw_db.docs.count_documents({}) == 2
    copy_id = await mongo_edits.duplicate(mongo_db_name, "docs", {"_id": ids[0], "a": 1})
    assert isinstance(copy_id, ObjectId) and copy_id != ids[0]
    await mongo_edits.delete(mongo_db_name, "docs", ids[0])
    assert await raw_db.docs.count_documents({}) == 2


def from_editor_text_many(text):
    from studio_tui.services.mongo.ejson import from_editor_many

    return from_editor_many(text)


async def test_update_one_and_many_and_delete_many(mongo_service, mongo_edits, raw_db,
                                                   mongo_db_name):
    await raw_db.docs.insert_many([{"_id": i, "n": i} for i in range(10)])
    filter_ = {"n": {"$gte": 5}}
    assert (await mongo_service.count(mongo_db_name, "docs", filter_)).value == 5
    assert await mongo_edits.update(mongo_db_name, "docs", filter_, {"$inc": {"n": 100}},
                                    many=True) == (5, 5)
    assert await mongo_edits.update(mongo_db_name, "docs", {}, {"$set": {"x": 1}},
                                    many=False) == (1, 1)
    with pytest.raises(ValidationError, match="operators"):
        await mongo_edits.update(mongo_db_name, "docs", {}, {"n": 1}, many=True)
    sample = await mongo_service.sample(mongo_db_name, "docs", {"n": {"$gte": 100}}, 3)
    assert len(sample) == 3
    assert await mongo_edits.delete_many(mongo_db_name, "docs", {"n": {"$gte": 100}}) == 5
    assert await raw_db.docs.count_documents({}) == 5


async def test_create_and_drop(mongo_edits, mongo_service, raw_db, mongo_db_name):
    await mongo_edits.create_collection(mongo_db_name, "fresh")
    assert "fresh" in [c.name for c in await mongo_service.collections(mongo_db_name)]
    with pytest.raises(ValidationError, match=r"\$"):
        await mongo_edits.create_collection(mongo_db_name, "bad$name")
    await mongo_edits.drop_collection(mongo_db_name, "fresh")
    assert "fresh" not in [c.name for c in await mongo_service.collections(mongo_db_name)]
    await mongo_edits.drop_database(mongo_db_name)
    assert mongo_db_name not in [d.name for d in await mongo_service.databases()]


async def test_every_write_is_refused_on_a_read_only_entry(manager, mongo_readonly_entry, raw_db,
                                                            mongo_db_name):
    await raw_db.docs.insert_one({"_id": 1, "n": 1})
    service = MongoService(manager, mongo_readonly_entry.id)
    edits = MongoEdits(service)
    loaded = await service.document(mongo_db_name, "docs", 1)  # reads work
    writes = [
        edits.save(mongo_db_name, "docs", loaded, {"_id": 1, "n": 2}),
        edits.insert(mongo_db_name, "docs", [{"a": 1}]),
        edits.duplicate(mongo_db_name, "docs", loaded),
        edits.delete(mongo_db_name, "docs", 1),
        edits.update(mongo_db_name, "docs", {}, {"$set": {"a": 1}}, many=True),
        edits.delete_many(mongo_db_name, "docs", {}),
        edits.create_collection(mongo_db_name, "new"),
        edits.drop_collection(mongo_db_name, "docs"),
        edits.drop_database(mongo_db_name),
    ]
    for write in writes:
        with pytest.raises(ReadOnlyError):
            await write
    assert await raw_db.docs.find_one({"_id": 1}) == {"_id": 1, "n": 1}
