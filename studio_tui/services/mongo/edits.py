"""Every write to MongoDB, each through ``MongoEdits.run`` (``write=True``: refused on read-only
entries in the connection manager, and audited), none silently overwriting someone else's change.

A document save replaces the stored document only if it still is, byte for byte, the version the
user loaded: inside a transaction where the deployment has them (replica set, sharded cluster),
else with a filter comparing ``$$ROOT`` to the loaded version."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from studio_tui.services.drivers.base import operation_comment
from studio_tui.services.errors import ConflictError, NotFoundError, ServerError, ValidationError
from studio_tui.services.mongo.ejson import bson_bytes, read_codec_options
from studio_tui.services.mongo.models import SaveResult
from studio_tui.services.mongo.names import check_collection_name, check_database_name

if TYPE_CHECKING:
    from studio_tui.services.mongo.service import MongoService

_MISSING_ID = object()


@dataclass(eq=False)
class DocumentConflict(ConflictError):
    """The stored document changed since it was loaded; ``current`` is what is stored now
    (None: it was deleted)."""

    current: dict | None = None


def _has_dollar_field(document: dict) -> bool:
    return any(name.startswith("$") for name in document)


def _check_update(update: Any) -> None:
    if isinstance(update, list):
        if not update or not all(isinstance(stage, dict) for stage in update):
            raise ValidationError("An update pipeline is a list of stages like [{$set: {…}}].",
                                  field_errors={"update": "pipeline of stages"})
        return
    if not isinstance(update, dict) or not update:
        raise ValidationError("An update needs operators, like {$set: {field: value}}.",
                              field_errors={"update": "operators"})
    plain = [name for name in update if not name.startswith("$")]
    if plain:
        raise ValidationError(f"An update uses operators ($set, $inc, $unset, …); {plain[0]!r} is "
                              "a field name. To replace a whole document, edit it instead.",
                              field_errors={"update": "operators only"})


class MongoEdits:
    """The writes to one entry."""

    def __init__(self, service: "MongoService") -> None:
        self.service = service

    async def run(self, operation: str, fn, *, long: bool = False, target: str = "") -> Any:
        """``target``: the namespace (and document) written, for the audit."""
        return await self.service.run(operation, fn, write=True, long=long, target=target)

    def _collection(self, client, database: str, collection: str):
        return self.service.collection(client, database, collection)

    # -- databases and collections --------------------------------------------------------------
    async def create_collection(self, database: str, name: str) -> None:
        """Creates the database too, when it does not exist yet (MongoDB creates a database
        with its first collection)."""
        check_database_name(database)
        check_collection_name(database, name)

        async def create(client) -> None:
            from pymongo.errors import CollectionInvalid, OperationFailure

            try:
                await client[database].create_collection(name)
            except (CollectionInvalid, OperationFailure) as exc:
                if "already exists" in str(exc) or getattr(exc, "code", None) == 48:
                    raise ConflictError(f"{database}.{name} already exists.") from None
                raise

        await self.run("create collection", create, target=f"{database}.{name}")

    async def drop_collection(self, database: str, name: str) -> None:
        await self.run("drop collection", lambda client: client[database].drop_collection(name),
                       target=f"{database}.{name}")

    async def drop_database(self, database: str) -> None:
        await self.run("drop database", lambda client: client.drop_database(database),
                       target=database)

    # -- one document ---------------------------------------------------------------------------
    async def save(self, database: str, collection: str, loaded: dict, edited: dict) -> SaveResult:
        """Replace ``loaded`` by ``edited`` if the stored document is still ``loaded``; a no-op
        edit (the same BSON bytes) writes nothing. Raises DocumentConflict otherwise."""
        if bson_bytes(loaded) == bson_bytes(edited):
            return SaveResult(False, loaded)
        id_ = loaded.get("_id", _MISSING_ID)
        if id_ is _MISSING_ID:
            raise ValidationError("This document has no _id, so it cannot be found again to "
                                  "replace it.")
        if "_id" not in edited:
            edited = {"_id": id_, **edited}
        elif bson_bytes({"_id": edited["_id"]}) != bson_bytes({"_id": id_}):
            raise ValidationError("The _id of a stored document cannot change. Insert the edited "
                                  "text as a new document instead (duplicate).",
                                  field_errors={"_id": "cannot change"})
        transactions = await self.service.topology() != "standalone"
        expected = bson_bytes(loaded)

        async def replace(client) -> dict | None:
            """Returns None when written, else what is stored now ({} when deleted)."""
            target = self._collection(client, database, collection)
            if transactions:
                async with client.start_session() as session:
                    async with await session.start_transaction():
                        raw = await self._raw(client, database, collection, id_, session)
                        if raw is None or raw != expected:
                            await session.abort_transaction()
                            return await target.find_one({"_id": id_}) or {}
                        await self._replace(target, {"_id": id_}, edited, session)
                return None
            # No transactions: the filter itself compares the stored document to the loaded one.
            guard = {"_id": id_, "$expr": {"$eq": ["$$ROOT", {"$literal": loaded}]}}
            if await self._replace(target, guard, edited, None):
                return None
            return await target.find_one({"_id": id_}) or {}

        try:
            current = await self.run("replace document", replace,
                                     target=f"{database}.{collection}")
        except ServerError as err:
            if "WriteConflict" in err.detail or "code 112" in err.detail:
                current = await self._current(database, collection, id_)
            elif transactions and ("code 20)" in err.detail or "Transaction numbers" in err.detail):
                # The server refused transactions after all: the $$ROOT guard from now on.
                self.service.forget_transactions()
                return await self.save(database, collection, loaded, edited)
            else:
                raise
        if current is not None:
            if not current:
                raise DocumentConflict("The document was deleted by someone else since you "
                                       "opened it. Nothing was written; your edit is kept.")
            raise DocumentConflict("The document changed since you opened it. Nothing was "
                                   "written; your edit is kept.", current=current)
        return SaveResult(True, edited)

    async def _current(self, database: str, collection: str, id_: Any) -> dict:
        try:
            return await self.service.document(database, collection, id_)
        except NotFoundError:
            return {}

    async def _raw(self, client, database: str, collection: str, id_: Any, session) -> bytes | None:
        from bson.raw_bson import RawBSONDocument

        raw = client.get_database(database, codec_options=read_codec_options().with_options(
            document_class=RawBSONDocument))[collection]
        found = await raw.find_one({"_id": id_}, session=session)
        return None if found is None else found.raw

    @staticmethod
    async def _replace(target, filter_: dict, document: dict, session) -> bool:
        """Replace by ``filter_``; a top-level ``$``-prefixed field name needs an update pipeline
        (replace_one rejects it). Returns whether a document matched."""
        if _has_dollar_field(document):
            result = await target.update_one(
                filter_, [{"$replaceWith": {"$literal": document}}], session=session,
                comment=operation_comment())
        else:
            result = await target.replace_one(filter_, document, session=session,
                                              comment=operation_comment())
        return result.matched_count > 0

    async def insert(self, database: str, collection: str, documents: list[dict]) -> list[Any]:
        """Insert one or many (ordered: stops at the first failure); returns the ids."""
        if not documents:
            raise ValidationError("Nothing to insert.")

        async def insert(client) -> list[Any]:
            target = self._collection(client, database, collection)
            plain = [doc for doc in documents if not _has_dollar_field(doc)]
            if len(plain) == len(documents):
                result = await target.insert_many(documents, comment=operation_comment())
                return list(result.inserted_ids)
            ids = []
            for document in documents:  # $-prefixed names: an upsert with a pipeline stores them
                from bson import ObjectId

                document = document if "_id" in document else {"_id": ObjectId(), **document}
                await target.update_one({"_id": document["_id"]},
                                        [{"$replaceWith": {"$literal": document}}], upsert=True)
                ids.append(document["_id"])
            return ids

        return await self.run("insert", insert, long=len(documents) > 1,
                              target=f"{database}.{collection}")

    async def duplicate(self, database: str, collection: str, document: dict) -> Any:
        """Insert a copy with a new ObjectId."""
        from bson import ObjectId

        copy = {"_id": ObjectId(), **{k: v for k, v in document.items() if k != "_id"}}
        return (await self.insert(database, collection, [copy]))[0]

    async def delete(self, database: str, collection: str, id_: Any) -> None:
        async def delete(client) -> int:
            result = await self._collection(client, database, collection).delete_one(
                {"_id": id_}, comment=operation_comment())
            return result.deleted_count

        if not await self.run("delete document", delete,
                              target=f"{database}.{collection} _id={id_!r}"):
            raise NotFoundError("The document was already deleted.")

    # -- many documents -------------------------------------------------------------------------
    async def update(self, database: str, collection: str, filter_: dict, update: Any, *,
                     many: bool) -> tuple[int, int]:
        """``$set``/``$inc``/… (or a pipeline) on the first or on every matching document;
        returns (matched, modified). Show ``service.count`` first."""
        _check_update(update)

        async def apply(client) -> tuple[int, int]:
            target = self._collection(client, database, collection)
            method = target.update_many if many else target.update_one
            result = await method(filter_, update, comment=operation_comment())
            return result.matched_count, result.modified_count

        return await self.run("update many" if many else "update one", apply, long=many,
                              target=f"{database}.{collection}")

    async def delete_many(self, database: str, collection: str, filter_: dict) -> int:
        """Delete every matching document; show the count and a sample first, and ask for the
        count to be typed (the UI)."""
        async def apply(client) -> int:
            result = await self._collection(client, database, collection).delete_many(
                filter_, comment=operation_comment())
            return result.deleted_count

        return await self.run("delete many", apply, long=True,
                              target=f"{database}.{collection}")
