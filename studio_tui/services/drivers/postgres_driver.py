"""PostgreSQL adapter: an asyncpg pool sized by tier, with the tier's query timeout per command."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from studio_tui.services.drivers.base import DatabaseConnection, RunningOperation
from studio_tui.services.errors import (
    AuthenticationError,
    ConnectionFailedError,
    OperationTimeoutError,
    PermissionDeniedError,
    PoolExhaustedError,
    ReadOnlyError,
    ServerError,
    StudioError,
    UnavailableError,
    ValidationError,
)
from studio_tui.services.metrics import PoolStats
from studio_tui.services.kinds import DatabaseKind


class PostgresConnection(DatabaseConnection):
    kind = DatabaseKind.POSTGRES

    async def open(self) -> None:
        import asyncpg

        server_settings = {"application_name": "studio-tui"}
        if self.read_only:
            # Enforced by the server itself, under whatever the services already check.
            server_settings["default_transaction_read_only"] = "on"
        self._pool = await asyncpg.create_pool(
            dsn=self._url,
            min_size=min(self.limits.min_pool, self.limits.max_pool),
            max_size=self.limits.max_pool,
            command_timeout=self.limits.query_timeout,
            timeout=self.limits.connect_timeout,
            max_inactive_connection_lifetime=self.pool.idle_timeout,
            server_settings=server_settings,
        )

    @asynccontextmanager
    async def lease(self, scope: str | None = None) -> AsyncIterator[Any]:
        self._no_scope(scope)
        started = time.perf_counter()
        async with self._waiting():
            try:
                connection = await self._pool.acquire(timeout=self.pool.acquire_timeout)
            except asyncio.TimeoutError:
                raise PoolExhaustedError(
                    f"All {self.limits.max_pool} connections stayed busy for "
                    f"{self.pool.acquire_timeout:g}s.",
                    retry_after=1.0,
                ) from None
            finally:
                self._on_acquire(time.perf_counter() - started)
        try:
            yield connection
        finally:
            await self._pool.release(connection)

    async def cancel(self, operation: RunningOperation) -> None:
        """Stop the leased connection's query on the server and leave the connection idle.

        asyncpg itself sends a CancelRequest when the task awaiting a query is cancelled, and runs
        no further command on that connection until the server acknowledges it: the probe below
        therefore waits for that acknowledgement (an error reply, e.g. in an aborted transaction,
        is an answer too). A query that ran outside the cancelled await (in a task the operation
        started) got no CancelRequest: asyncpg refuses the probe as "in progress", so the backend is
        cancelled by its pid from another connection and this one is discarded."""
        import asyncpg

        connection = operation.handle
        if connection is None or connection.is_closed():
            return
        try:
            await connection.execute("SELECT 1")
        except asyncpg.PostgresError:
            pass
        except asyncpg.InterfaceError:
            pid = connection.get_server_pid()
            try:
                async with self._pool.acquire(timeout=self.cancel_timeout) as other:
                    await other.execute("SELECT pg_cancel_backend($1)", pid)
            finally:
                connection.terminate()

    def abandon(self, operation: RunningOperation) -> None:
        # Unacknowledged: the connection may still be busy; the pool opens a fresh one instead.
        if operation.handle is not None and not operation.handle.is_closed():
            operation.handle.terminate()

    async def ping(self, handle: Any) -> None:
        await handle.fetchval("SELECT 1")

    async def server_version(self, handle: Any) -> str:
        return str(await handle.fetchval("SHOW server_version"))

    def pool_stats(self) -> PoolStats:
        pool = getattr(self, "_pool", None)
        if pool is None:
            return PoolStats(max=self.limits.max_pool)
        return PoolStats(total=pool.get_size(), available=pool.get_idle_size(),
                         pending=self.pending, max=self.limits.max_pool)

    async def close(self) -> None:
        pool = getattr(self, "_pool", None)
        if pool is not None:
            try:
                await asyncio.wait_for(pool.close(), timeout=5)
            except (asyncio.TimeoutError, OSError):
                pool.terminate()

    def _map_driver_error(self, exc: BaseException) -> StudioError | None:
        import asyncpg

        where = self.target.display_host
        if isinstance(exc, asyncpg.ClientConfigurationError):  # ?sslmode=maybe
            return ValidationError(f"The PostgreSQL URL is not usable: {exc}.",
                                   field_errors={"url": str(exc)})
        if isinstance(exc, asyncpg.InvalidPasswordError) and not self.password_given:
            return AuthenticationError(f"PostgreSQL at {where} requires a password, and none was "
                                       f"given: {exc}.")
        if isinstance(exc, (asyncpg.InvalidPasswordError,
                            asyncpg.InvalidAuthorizationSpecificationError)):
            return AuthenticationError(f"PostgreSQL at {where} refused the credentials: {exc}.")
        if isinstance(exc, asyncpg.InsufficientPrivilegeError):
            return PermissionDeniedError(str(exc))
        if isinstance(exc, asyncpg.ReadOnlySQLTransactionError):
            return ReadOnlyError(f"This database entry is read-only: {exc}.")
        if isinstance(exc, asyncpg.QueryCanceledError):
            return OperationTimeoutError(f"The query was cancelled by the server: {exc}.")
        if isinstance(exc, (asyncpg.TooManyConnectionsError, asyncpg.CannotConnectNowError,
                            asyncpg.AdminShutdownError)):
            return UnavailableError(f"PostgreSQL at {where} cannot serve now: {exc}.")
        if isinstance(exc, asyncpg.InvalidCatalogNameError):
            return ServerError(f"{exc}.")
        # A connection the server dropped (shutdown, crash, network) shows up in these; class 08
        # (connection exceptions) is also a PostgresError, so this comes before the general case.
        if isinstance(exc, (asyncpg.PostgresConnectionError, asyncpg.InternalClientError)) or (
                isinstance(exc, asyncpg.InterfaceError)
                and any(s in str(exc) for s in ("connection is closed", "pool is closing"))):
            return ConnectionFailedError(f"The connection to {where} was lost: {exc}.")
        if isinstance(exc, asyncpg.PostgresError):
            sqlstate = getattr(exc, "sqlstate", "") or ""
            return ServerError(f"{exc} (SQLSTATE {sqlstate}).")
        return None
