"""MongoDB browsing for one database entry: databases, collections and their stats (from the
stats commands, never a count over the documents), and pages of a find, each call through the
connection manager. It only reads; the writes are in ``edits.py``."""

from __future__ import annotations

from typing import Any

from studio_tui.services.drivers.base import operation_comment
from studio_tui.services.errors import NotFoundError, ServerError, StudioError
from studio_tui.services.manager import ConnectionManager
from studio_tui.services.mongo import paging
from studio_tui.services.mongo.ejson import read_codec_options
from studio_tui.services.mongo.models import (
    CollectionInfo,
    CollectionStats,
    DatabaseInfo,
    DatabaseStats,
    DocumentCount,
    DocumentPage,
    FindQuery,
    PageCursor,
)

PAGE_SIZE = 100
EXACT_COUNT_MS = 20_000  # an exact count's own limit on the server
SYSTEM_DATABASES = ("admin", "config", "local")


def _int(value: Any) -> int | None:
    try:
        return None if value is None else int(value)
    except (TypeError, ValueError):
        return None


def _and(first: dict, second: dict) -> dict:
    return {"$and": [first, second]} if first else second


class MongoService:
    """Stateless apart from what it learned about the server (transactions); one per entry."""

    def __init__(self, manager: ConnectionManager, database_id: str) -> None:
        self.manager = manager
        self.database_id = database_id
        self._topology: str | None = None  # "replicaset", "sharded" or "standalone"

    async def run(self, operation: str, fn, *, write: bool = False, long: bool = False,
                  timeout: float | None = None, target: str = "") -> Any:
        return await self.manager.run(self.database_id, operation, fn, write=write, long=long,
                                      timeout=timeout, target=target)

    def collection(self, client, database: str, collection: str):
        return client.get_database(database, codec_options=read_codec_options())[collection]

    async def topology(self) -> str:
        """What kind of deployment this is: transactions need a replica set or a sharded cluster."""
        if self._topology is None:
            async def hello(client) -> dict:
                return await client.admin.command("hello")

            reply = await self.run("hello", hello)
            self._topology = ("sharded" if reply.get("msg") == "isdbgrid"
                              else "replicaset" if reply.get("setName") else "standalone")
        return self._topology

    async def default_database(self) -> str | None:
        """The database named in the URL, if any: opened first, even when the user may not
        list databases."""
        async def read(client) -> str | None:
            from pymongo.errors import ConfigurationError

            try:
                return client.get_default_database().name
            except ConfigurationError:
                return None

        return await self.run("default database", read)

    def forget_transactions(self) -> None:
        """The deployment refused a transaction: treat it as a standalone server."""
        self._topology = "standalone"

    # -- databases and collections --------------------------------------------------------------
    async def databases(self) -> list[DatabaseInfo]:
        """Every database the user may see (``authorizedDatabases`` for users without the
        listDatabases privilege), system databases last."""
        async def listing(client) -> list[dict]:
            from pymongo.errors import OperationFailure

            try:
                reply = await client.admin.command("listDatabases", authorizedDatabases=True)
            except OperationFailure as exc:
                if exc.code == 13:  # not allowed: the caller opens the URL's database alone
                    raise
                # Servers before 4.0.5 do not know the option.
                reply = await client.admin.command("listDatabases")
            return reply.get("databases", [])

        found = [DatabaseInfo(item["name"], _int(item.get("sizeOnDisk")), bool(item.get("empty")))
                 for item in await self.run("listDatabases", listing)]
        return sorted(found, key=lambda info: (info.name in SYSTEM_DATABASES, info.name))

    async def collections(self, database: str) -> list[CollectionInfo]:
        async def listing(client) -> list[dict]:
            cursor = await client[database].list_collections()
            return await cursor.to_list()

        result = []
        for item in await self.run("listCollections", listing):
            options = item.get("options") or {}
            kind = item.get("type", "collection")
            if kind == "collection" and options.get("timeseries"):
                kind = "timeseries"  # a server that lists time series as plain collections
            result.append(CollectionInfo(database, item["name"], kind, options.get("viewOn"),
                                         bool(options.get("capped"))))
        return sorted(result, key=lambda info: (info.name.startswith("system."), info.name))

    async def database_stats(self, database: str) -> DatabaseStats:
        async def stats(client) -> dict:
            return await client[database].command("dbStats")

        reply = await self.run("dbStats", stats)
        return DatabaseStats(
            collections=_int(reply.get("collections")), views=_int(reply.get("views")),
            documents=_int(reply.get("objects")), data_size=_int(reply.get("dataSize")),
            storage_size=_int(reply.get("storageSize")), indexes=_int(reply.get("indexes")),
            index_size=_int(reply.get("indexSize")))

    async def collection_stats(self, database: str, collection: str,
                               kind: str = "collection") -> CollectionStats:
        """``$collStats`` storage stats (the supported way on MongoDB 6.2+), falling back to the
        ``collStats`` command where the stage is missing or reports nothing."""
        if kind == "view":
            return CollectionStats(note="a view: no storage of its own")

        async def stats(client) -> dict:
            from pymongo.errors import OperationFailure

            target = client[database][collection]
            try:
                cursor = await target.aggregate([{"$collStats": {"storageStats": {}}}])
                parts = await cursor.to_list()
                storage = parts[0].get("storageStats", {}) if parts else {}
                if storage.get("size") or not storage.get("count"):
                    return storage
            except OperationFailure:
                pass
            return await client[database].command("collStats", collection)

        reply = await self.run("collStats", stats)
        return CollectionStats(
            documents=_int(reply.get("count")), size=_int(reply.get("size")),
            average_size=_int(reply.get("avgObjSize")),
            storage_size=_int(reply.get("storageSize")),
            indexes=_int(reply.get("nindexes")), index_size=_int(reply.get("totalIndexSize")))

    # -- finds ----------------------------------------------------------------------------------
    async def find_page(self, database: str, collection: str, query: FindQuery,
                        after: PageCursor | None = None, *, shown: int = 0,
                        page_size: int = PAGE_SIZE, own_order: bool = False) -> DocumentPage:
        """One page of ``query``. ``after`` is the previous page's ``next``; ``shown`` how many
        documents the pages before held (for the query's own limit). The first page never waits
        for a count. With ``own_order`` (views and time series) an unsorted query keeps the
        collection's own order and pages with skip: sorting a view's output by ``_id`` runs its
        whole pipeline first, and a time series has no ``_id`` index to sort with."""
        limit = page_size
        if query.limit:
            limit = min(limit, query.limit - shown)
            if limit <= 0:
                return DocumentPage([], None)
        natural = own_order and not query.sort
        sort = [] if natural else paging.effective_sort(query.sort)
        keyset = not natural and paging.keyset_supported(sort) and \
            (after is None or after.skip is None)
        skip = query.skip if after is None or after.skip is None else after.skip
        if after is not None and after.after is not None:
            skip = 0
        filters: list[dict] = [query.filter]
        if after is not None and after.after is not None:
            if after.arrays:
                filters = [_and(query.filter, paging.after_filter(sort, after.after))]
            else:
                same, later = paging.fast_after_filter(sort, after.after)
                filters = [_and(query.filter, same)]
                if later is not None:
                    filters.append(_and(query.filter, later))
        projection, added = paging.with_sort_fields(query.projection, sort) if keyset \
            else (query.projection, [])

        async def find(client) -> list[dict]:
            target = self.collection(client, database, collection)
            documents: list[dict] = []
            for filter_ in filters:  # the next only when the one before ran short
                wanted = limit - len(documents)
                cursor = target.find(filter_, projection, sort=sort or None, skip=skip,
                                     limit=wanted,
                                     batch_size=wanted, comment=operation_comment())
                documents.extend(await cursor.to_list(wanted))
                if len(documents) >= limit:
                    break
            return documents

        documents = await self.run("find", find, long=True)
        following: PageCursor | None = None
        if len(documents) == limit and not (query.limit and shown + limit >= query.limit):
            last = paging.boundary(documents[-1], sort) if keyset else None
            # Documents skipped by the query's own skip were never seen: assume the worst.
            arrays = query.skip > 0 or (after is not None and after.arrays) or any(
                paging.has_array(document, sort) for document in documents)
            following = PageCursor(after=last, arrays=arrays) if last is not None \
                else PageCursor(skip=query.skip + shown + len(documents))
        for document in documents:
            paging.strip_fields(document, added)
        return DocumentPage(documents, following, keyset=following is None or
                            following.after is not None)

    async def document(self, database: str, collection: str, id_: Any) -> dict:
        async def read(client) -> dict | None:
            return await self.collection(client, database, collection).find_one({"_id": id_})

        found = await self.run("find one", read)
        if found is None:
            raise NotFoundError("The document no longer exists (deleted by someone else).")
        return found

    async def estimated_count(self, database: str, collection: str) -> int:
        """The collection's size from its metadata: fast, not filtered, maybe a little off."""
        async def estimate(client) -> int:
            return await client[database][collection].estimated_document_count()

        return int(await self.run("estimatedDocumentCount", estimate))

    async def count(self, database: str, collection: str, filter_: dict | None = None, *,
                    max_time_ms: int = EXACT_COUNT_MS) -> DocumentCount:
        """The exact number of matching documents, stopped on the server after ``max_time_ms``."""
        async def exact(client) -> int:
            return await client[database][collection].count_documents(
                filter_ or {}, maxTimeMS=max_time_ms, comment=operation_comment())

        try:
            # The server's own limit comes first, so its answer (not ours) says what happened.
            return DocumentCount(int(await self.run("countDocuments", exact, long=True,
                                                    timeout=max_time_ms / 1000 + 5)), True)
        except StudioError as err:
            if "exceeded" in err.detail.lower() or "time limit" in err.detail.lower():
                raise ServerError(f"Counting took more than {max_time_ms / 1000:g}s and was "
                                  "stopped on the server.") from None
            raise

    async def sample(self, database: str, collection: str, filter_: dict,
                     size: int = 5) -> list[dict]:
        """A few matching documents, to show what a bulk change would touch."""
        async def read(client) -> list[dict]:
            cursor = self.collection(client, database, collection).find(
                filter_, limit=size, comment=operation_comment())
            return await cursor.to_list(size)

        return await self.run("find sample", read, long=True)
