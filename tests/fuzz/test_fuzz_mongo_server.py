"""Bad input, MongoDB documents against the real server: any document (field names with '.',
'$', nothing, unicode or controls; every BSON type) written out as the editor shows it, read
back, inserted through ``MongoEdits.insert``, read through ``MongoService.document``, then
changed and saved through ``MongoEdits.save``.

Property: the server stores and gives back the same BSON, byte for byte; or a StudioError says
what it refused, specifically."""

from __future__ import annotations

import asyncio

import pytest
from bson import ObjectId
from hypothesis import example, given

from fuzz_checks import assert_specific, fuzz_settings
from studio_tui.services.catalog import Catalog
from studio_tui.services.errors import StudioError
from studio_tui.services.manager import ConnectionManager
from studio_tui.services.mongo.edits import MongoEdits
from studio_tui.services.mongo.ejson import from_editor_text, same_document, to_editor_text
from studio_tui.services.mongo.service import MongoService
from studio_tui.services.platform.sqlite_store import SqliteCatalogStore
from studio_tui.services.vault import KeyMaterial, Vault
from test_fuzz_mongo_text import DOCUMENTS

DATABASE, COLLECTION = "fuzz_documents", "docs"


@pytest.fixture(scope="module")
def mongo(mongo_server, tmp_path_factory):
    with asyncio.Runner() as runner:
        async def start():
            store = SqliteCatalogStore(tmp_path_factory.mktemp("fuzz-mongo") / "catalog.sqlite3")
            await store.__aenter__()
            catalog = Catalog(store, Vault(KeyMaterial(b"k" * 32, "fuzz key")))
            org = await catalog.create_organization("Fuzz")
            project = await catalog.create_project(org.id, "docs")
            entry = await catalog.add_database(project.id, "fuzz-mongo", mongo_server.url)
            manager = ConnectionManager(catalog)
            await manager.__aenter__()
            return store, manager, MongoService(manager, entry.id)

        store, manager, service = runner.run(start())
        edits = MongoEdits(service)
        yield runner, service, edits
        runner.run(edits.drop_database(DATABASE))
        runner.run(manager.__aexit__(None, None, None))
        runner.run(store.__aexit__(None, None, None))


async def _store_and_read(service: MongoService, edits: MongoEdits, document: dict) -> None:
    typed = from_editor_text(to_editor_text(document))  # what the user saves from the editor
    (id_,) = await edits.insert(DATABASE, COLLECTION, [typed])
    stored = await service.document(DATABASE, COLLECTION, id_)
    assert same_document(stored, {"_id": id_, **typed}), (stored, typed)
    changed = {**stored, "fuzz.changed": document}  # the whole document again, nested
    result = await edits.save(DATABASE, COLLECTION, stored, changed)
    assert result.written
    assert same_document(await service.document(DATABASE, COLLECTION, id_), changed)
    await edits.delete(DATABASE, COLLECTION, id_)


def test_any_document_is_stored_and_read_back_exactly(mongo) -> None:
    runner, service, edits = mongo

    @fuzz_settings(ci=40)
    @given(DOCUMENTS.map(lambda doc: {k: v for k, v in doc.items() if k != "_id"}))
    @example({"a.b": {"$x": 1}, "": [None], "$top": "dollar first"})
    @example({"_x": ObjectId(b"0123456789ab"), "ключ": {"\n": "\x00"}})
    def check(document: dict) -> None:
        try:
            runner.run(_store_and_read(service, edits, document))
        except StudioError as error:
            assert_specific(error)

    check()
