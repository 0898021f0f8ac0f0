"""Where a MongoDB tool works: one entry, and a database and collection in it. Every call goes
through the connection manager's single path; the tool services (indexes, schema, explain,
aggregation, transfer, transactions, server) are built on it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from studio_tui.services.manager import ConnectionManager
from studio_tui.services.mongo.ejson import read_codec_options

T = TypeVar("T")

@dataclass(frozen=True, slots=True)
class MongoScope:
    manager: ConnectionManager
    database_id: str
    database: str = ""
    collection: str = ""

    @property
    def namespace(self) -> str:
        return f"{self.database}.{self.collection}" if self.collection else self.database

    async def run(self, operation: str, fn: Callable[[Any], Awaitable[T]], *, write: bool = False,
                  long: bool = False, timeout: float | None = None) -> T:
        """``fn(client)`` through the manager; ``operation`` names it in the audit log."""
        return await self.manager.run(self.database_id, operation, fn, write=write, long=long,
                                      timeout=timeout)

    def db(self, client: Any) -> Any:
        return client.get_database(self.database, codec_options=read_codec_options())

    def coll(self, client: Any) -> Any:
        return self.db(client).get_collection(self.collection)
