"""The shared team catalog in PostgreSQL (``STUDIO_PLATFORM_URL=postgresql://…``), on an asyncpg pool.

Every query lives in ``SqlCatalogStore``. Here: the pool, transactions (READ COMMITTED; races are
settled by unique constraints, versioned updates, ``FOR UPDATE`` row locks and transaction-scoped
advisory locks) and the mapping of connection failures to a clear, password-free error.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any, ClassVar

import asyncpg

from studio_tui.services.errors import ConflictError
from studio_tui.services.platform.sql_store import (
    CatalogUnavailableError,
    SqlCatalogStore,
    SqlConn,
)
from studio_tui.services.redaction import mask_url


_OUTAGES = (OSError, TimeoutError, asyncpg.PostgresConnectionError, asyncpg.InterfaceError,
            asyncpg.OperatorInterventionError, asyncpg.InsufficientResourcesError,
            asyncpg.InternalClientError)


def lock_id(name: str) -> int:
    """A stable signed 64-bit advisory-lock key for a lock name."""
    return int.from_bytes(hashlib.sha256(f"studio-tui:{name}".encode()).digest()[:8], "big",
                          signed=True)


class _PgConn:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def fetch(self, sql: str, *args: Any) -> list[Sequence[Any]]:
        return await self.conn.fetch(sql, *args)

    async def fetchrow(self, sql: str, *args: Any) -> Sequence[Any] | None:
        return await self.conn.fetchrow(sql, *args)

    async def execute(self, sql: str, *args: Any) -> int:
        status = await self.conn.execute(sql, *args)
        # "UPDATE 3", "INSERT 0 1", "DELETE 0"; DDL statuses carry no count.
        last = status.rsplit(" ", 1)[-1]
        return int(last) if last.isdigit() else 0


class PostgresCatalogStore(SqlCatalogStore):
    backend: ClassVar[str] = "postgres"
    FOR_UPDATE: ClassVar[str] = " FOR UPDATE"
    integrity_errors: ClassVar[tuple[type[BaseException], ...]] = (
        asyncpg.IntegrityConstraintViolationError,)

    def __init__(self, url: str, *, min_size: int = 1, max_size: int = 10,
                 command_timeout: float = 30.0) -> None:
        self.url = url
        self._pool_size = (min_size, max_size)
        self._command_timeout = command_timeout
        self._pool: asyncpg.Pool | None = None

    @property
    def where(self) -> str:
        """The catalog's URL with any password masked: safe in messages."""
        return mask_url(self.url)

    # -- lifecycle ------------------------------------------------------------------------
    async def open(self) -> None:
        min_size, max_size = self._pool_size
        try:
            self._pool = await asyncpg.create_pool(
                self.url, min_size=min_size, max_size=max_size,
                command_timeout=self._command_timeout,
                # Catalog queries are short and few; a pooler in front may not keep prepared
                # statements, and the cache is not worth the surprise.
                statement_cache_size=0)
            await self._migrate()
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, ValueError) as exc:
            await self.close()
            detail = str(exc).replace(self.url, self.where)
            raise CatalogUnavailableError(
                f"Cannot open the shared catalog {self.where}: {type(exc).__name__}: {detail}"
            ) from None

    async def close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()

    @property
    def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise CatalogUnavailableError("The catalog is not open.")
        return self._pool

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[SqlConn]:
        async with self._mapped_errors(), self.pool.acquire() as conn:
            yield _PgConn(conn)

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[SqlConn]:
        async with self._mapped_errors(), self.pool.acquire() as conn, conn.transaction():
            yield _PgConn(conn)

    @asynccontextmanager
    async def _mapped_errors(self) -> AsyncIterator[None]:
        """A lost server is CatalogUnavailableError (callers such as the audit writer catch
        StudioError); a deadlock or serialization failure is a ConflictError to retry."""
        try:
            yield
        except _OUTAGES as exc:
            raise CatalogUnavailableError(
                f"The shared catalog {self.where} is unreachable: {type(exc).__name__}."
            ) from None
        except asyncpg.TransactionRollbackError:
            raise ConflictError(
                "The catalog was busy with a conflicting change; try again.") from None

    async def _lock(self, conn: SqlConn, name: str) -> None:
        await conn.execute("SELECT pg_advisory_xact_lock($1)", lock_id(name))
