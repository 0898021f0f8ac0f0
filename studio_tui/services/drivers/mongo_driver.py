"""MongoDB adapter: a pymongo AsyncMongoClient with pool events feeding the metrics."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from studio_tui.services.drivers.base import DatabaseConnection
from studio_tui.services.errors import (
    AuthenticationError,
    OperationTimeoutError,
    PermissionDeniedError,
    PoolExhaustedError,
    ServerError,
    StudioError,
    ValidationError,
)
from studio_tui.services.metrics import PoolStats
from studio_tui.services.urls import DatabaseKind


def _pool_listener_class():
    from pymongo import monitoring

    class PoolCounter(monitoring.ConnectionPoolListener):
        """Tracks total / checked-out / waiting connections across all servers of the client."""

        def __init__(self, on_acquire) -> None:
            self.total = self.in_use = self.waiting = 0
            self.on_acquire = on_acquire

        def connection_created(self, event): self.total += 1
        def connection_closed(self, event): self.total = max(0, self.total - 1)
        def connection_check_out_started(self, event): self.waiting += 1

        def connection_checked_out(self, event):
            self.waiting = max(0, self.waiting - 1)
            self.in_use += 1
            self.on_acquire(getattr(event, "duration", 0.0) or 0.0)

        def connection_check_out_failed(self, event):
            self.waiting = max(0, self.waiting - 1)
            self.on_acquire(getattr(event, "duration", 0.0) or 0.0)

        def connection_checked_in(self, event): self.in_use = max(0, self.in_use - 1)
        def connection_ready(self, event): pass
        def pool_created(self, event): pass
        def pool_ready(self, event): pass
        def pool_cleared(self, event): pass
        def pool_closed(self, event): pass

    return PoolCounter


class MongoConnection(DatabaseConnection):
    kind = DatabaseKind.MONGODB

    async def _reachable(self) -> None:
        """One TCP connect to a single-host URL before the driver starts: pymongo reports an
        unknown host or a refused port only after its whole server-selection timeout, which
        leaves a user looking at a spinner for seconds. Seed lists and SRV names are left to the
        driver, which knows how to try several hosts."""
        target = self.target
        host = target.host.strip("[]")
        if target.scheme != "mongodb" or "," in target.host or not host or "%2f" in host.lower() \
                or host.startswith("/"):
            return
        async with asyncio.timeout(self.limits.connect_timeout):
            _, writer = await asyncio.open_connection(host, target.port or 27017)
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()

    async def open(self) -> None:
        from pymongo import AsyncMongoClient
        from pymongo.errors import ConfigurationError, InvalidURI

        await self._reachable()
        self._listener = _pool_listener_class()(self._on_acquire)
        try:
            self.client = AsyncMongoClient(
                self._url,
                minPoolSize=min(self.limits.min_pool, self.limits.max_pool),
                maxPoolSize=self.limits.max_pool,
                maxIdleTimeMS=int(self.pool.idle_timeout * 1000),
                connectTimeoutMS=int(self.limits.connect_timeout * 1000),
                # A little under the connect timeout, so the driver's own error (which says DNS,
                # refused or TLS) arrives before the manager's generic time-out does.
                serverSelectionTimeoutMS=max(1000, int(self.limits.connect_timeout * 1000) - 500),
                socketTimeoutMS=int(self.limits.query_timeout * 1000),
                waitQueueTimeoutMS=int(self.pool.acquire_timeout * 1000),
                appname="studio-tui",
                event_listeners=[self._listener],
            )
        except (ConfigurationError, InvalidURI) as exc:
            raise ValidationError(f"The MongoDB URL is not usable: {exc}.",
                                  field_errors={"url": str(exc)}) from None

    @asynccontextmanager
    async def lease(self, scope: str | None = None) -> AsyncIterator[Any]:
        self._no_scope(scope)
        # The client checks a connection out per operation; waits surface as WaitQueueTimeoutError.
        yield self.client

    async def ping(self, handle: Any) -> None:
        await handle.admin.command("ping")

    async def server_version(self, handle: Any) -> str:
        info = await handle.admin.command("buildInfo")
        return str(info.get("version", "unknown"))

    def pool_stats(self) -> PoolStats:
        listener = getattr(self, "_listener", None)
        if listener is None:
            return PoolStats(max=self.limits.max_pool)
        return PoolStats(total=listener.total, available=max(0, listener.total - listener.in_use),
                         pending=listener.waiting, max=self.limits.max_pool)

    async def close(self) -> None:
        client = getattr(self, "client", None)
        if client is not None:
            await client.close()

    def _map_driver_error(self, exc: BaseException) -> StudioError | None:
        from pymongo import errors as mx

        where = self.target.display_host
        if isinstance(exc, mx.WaitQueueTimeoutError):
            return PoolExhaustedError(
                f"All {self.limits.max_pool} connections stayed busy for "
                f"{self.pool.acquire_timeout:g}s.",
                retry_after=1.0,
            )
        if isinstance(exc, mx.OperationFailure):
            code = exc.code or 0
            if code == 18 or "auth" in str(exc).lower() and code in (0, 11):
                return AuthenticationError(f"MongoDB at {where} refused the credentials.")
            if code == 13:
                return PermissionDeniedError(str(exc))
            if code == 50:
                return OperationTimeoutError(f"The operation exceeded its time limit: {exc}.")
            return ServerError(f"{exc} (code {code}).")
        if isinstance(exc, (mx.ConfigurationError, mx.InvalidURI)):
            return ValidationError(f"The MongoDB URL is not usable: {exc}.",
                                   field_errors={"url": str(exc)})
        if isinstance(exc, mx.ServerSelectionTimeoutError):
            # The text lists per-host causes; the shared classifier reads them.
            return None
        if isinstance(exc, (mx.DuplicateKeyError, mx.WriteError, mx.BulkWriteError)):
            return ServerError(str(exc))
        return None
