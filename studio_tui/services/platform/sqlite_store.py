"""The embedded catalog: one SQLite file in WAL mode, driven from a worker thread by aiosqlite.

Every query lives in ``SqlCatalogStore``; this module supplies the connection. One connection
per store, so an asyncio lock keeps one coroutine's transaction from taking in another's
statements; ``BEGIN IMMEDIATE`` takes the file's write lock up front, so two processes on one
file queue (busy_timeout) instead of failing half-way.
"""

from __future__ import annotations

import asyncio
import os
import re
import sqlite3
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar

import aiosqlite

from studio_tui.services.platform.sql_store import CatalogUnavailableError, SqlCatalogStore

__all__ = ["CatalogUnavailableError", "SqliteCatalogStore"]

_PLACEHOLDER = re.compile(r"\$(\d+)")


@lru_cache(maxsize=512)
def _sqlite_sql(sql: str) -> str:
    """$1, $2 … → ?1, ?2 … (SQLite's numbered parameters)."""
    return _PLACEHOLDER.sub(r"?\1", sql)


class _SqliteConn:
    def __init__(self, db: aiosqlite.Connection) -> None:
        self.db = db

    async def fetch(self, sql: str, *args: Any) -> list[Sequence[Any]]:
        async with self.db.execute(_sqlite_sql(sql), args) as cursor:
            return list(await cursor.fetchall())

    async def fetchrow(self, sql: str, *args: Any) -> Sequence[Any] | None:
        async with self.db.execute(_sqlite_sql(sql), args) as cursor:
            return await cursor.fetchone()

    async def execute(self, sql: str, *args: Any) -> int:
        cursor = await self.db.execute(_sqlite_sql(sql), args)
        return cursor.rowcount


class SqliteCatalogStore(SqlCatalogStore):
    backend: ClassVar[str] = "sqlite"
    integrity_errors: ClassVar[tuple[type[BaseException], ...]] = (sqlite3.IntegrityError,)

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db: aiosqlite.Connection | None = None
        self._turn = asyncio.Lock()

    # -- lifecycle ------------------------------------------------------------------------
    async def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not self.path.exists():
            # Names and hosts are in here; only the owner may read it (SQLite's -wal and -shm
            # files copy the main file's mode).
            os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
        try:
            self._db = await aiosqlite.connect(self.path, isolation_level=None)
            await self._db.execute("PRAGMA busy_timeout=5000")
            await self._use_wal()
            await self._db.execute("PRAGMA foreign_keys=ON")
            await self._migrate()
        except sqlite3.DatabaseError as exc:
            await self.close()
            raise CatalogUnavailableError(f"Cannot open the catalog {self.path}: {exc}.") from None

    async def _use_wal(self) -> None:
        """Switch a new file to WAL. Two processes opening one fresh file at once can both
        want that switch: the loser gets "database is locked" at once (SQLite refuses a lock
        upgrade that could deadlock without waiting on the busy timeout), so it tries again."""
        for attempt in range(50):
            try:
                await self._db.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or attempt == 49:
                    raise
                await asyncio.sleep(0.02)

    async def close(self) -> None:
        if self._db is not None:
            db, self._db = self._db, None
            await db.close()

    @property
    def db(self) -> aiosqlite.Connection:
        if self._db is None:
            raise CatalogUnavailableError("The catalog is not open.")
        return self._db

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[_SqliteConn]:
        async with self._turn, self._busy_is_unavailable():
            yield _SqliteConn(self.db)

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[_SqliteConn]:
        async with self._turn, self._busy_is_unavailable():
            db = self.db
            await db.execute("BEGIN IMMEDIATE")
            try:
                yield _SqliteConn(db)
            except BaseException:
                await db.execute("ROLLBACK")
                raise
            await db.execute("COMMIT")

    @asynccontextmanager
    async def _busy_is_unavailable(self) -> AsyncIterator[None]:
        try:
            yield
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
            raise CatalogUnavailableError(
                f"The catalog {self.path} stayed locked by another process: {exc}.") from None
