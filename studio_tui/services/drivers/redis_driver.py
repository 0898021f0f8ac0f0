"""Redis adapter: one redis.asyncio client over a blocking pool that queues up to the acquire timeout.

Cancelling: Redis runs each command to its end and cannot be told to stop one, so a cancelled
operation is stopped between commands. Once it is cancelled, any command it (or a task it started)
would still send is refused before a connection is taken; and a connection given back by a task
being cancelled, whose reply may be half read, is disconnected before it returns to the pool."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from studio_tui.services.drivers.base import (
    DatabaseConnection,
    classify_os_error,
    current_operation,
    refuse_if_cancelled,
)
from studio_tui.services.errors import (
    AuthenticationError,
    ConnectionFailedError,
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


def _metered_pool_class():
    from redis.asyncio import BlockingConnectionPool

    class MeteredBlockingPool(BlockingConnectionPool):
        """Counts waiters and times each acquire, which redis-py does not expose."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            from redis.asyncio.retry import Retry
            from redis.backoff import NoBackoff

            self._no_retry = Retry(NoBackoff(), 0)
            self.waiting = 0
            self.on_acquire = lambda seconds: None
            super().__init__(*args, **kwargs)

        async def get_connection(self, command_name=None, *keys, **options):  # noqa: ARG002
            refuse_if_cancelled()
            self.waiting += 1
            started = time.perf_counter()
            try:
                connection = await super().get_connection()
            finally:
                self.waiting -= 1
                self.on_acquire(time.perf_counter() - started)
            # redis-py sends a command again when its connection drops before the reply: fine
            # for a read, but a write (HINCRBY, LPUSH, a MULTI/EXEC) may then be applied twice.
            operation = current_operation()
            if not hasattr(connection, "read_retry"):
                connection.read_retry = connection.retry
            connection.retry = self._no_retry if operation is not None and operation.write \
                else connection.read_retry
            return connection

        async def release(self, connection) -> None:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                # redis-py drops a connection interrupted mid-reply itself; make sure of it.
                await connection.disconnect(nowait=True)
            await super().release(connection)

        def counts(self) -> tuple[int, int]:
            """(total, available) connections."""
            available = len(getattr(self, "_available_connections", ()))
            in_use = len(getattr(self, "_in_use_connections", ()))
            return available + in_use, available

    return MeteredBlockingPool


def _guarded_cluster_class():
    from redis.asyncio.cluster import RedisCluster

    class GuardedRedisCluster(RedisCluster):
        """Routes commands to nodes' own connections, so the pool's refusal is repeated here."""

        async def execute_command(self, *args: Any, **kwargs: Any) -> Any:
            refuse_if_cancelled()
            return await super().execute_command(*args, **kwargs)

    return GuardedRedisCluster


class RedisConnection(DatabaseConnection):
    kind = DatabaseKind.REDIS

    async def open(self) -> None:
        self._scoped: dict[int, Any] = {}
        self._pools: list[Any] = []
        self.cluster = False
        self.client = self._client(None)
        # A cluster node answers for its own slots only; a cluster client routes each key to
        # its node. One INFO tells which this URL names.
        if int((await self.client.info("cluster")).get("cluster_enabled", 0)):
            await self.close()
            self.client = await self._cluster_client()
            self.cluster = True

    async def _cluster_client(self) -> Any:
        from redis.asyncio.connection import parse_url

        options = parse_url(self._url)
        options.pop("db", None)  # a cluster has database 0 only
        options.pop("connection_class", None)
        client = _guarded_cluster_class()(
            max_connections=self.limits.max_pool,
            socket_connect_timeout=self.limits.connect_timeout,
            socket_timeout=self.limits.query_timeout,
            health_check_interval=self.pool.health_check_interval,
            protocol=2,
            client_name="studio-tui",
            ssl=self.target.scheme == "rediss",
            **options,
        )
        await client.initialize()
        return client

    def _client(self, db: int | None) -> Any:
        """A client over a pool of its own; ``db`` overrides the URL's logical database (a
        pooled connection stays on the database it was opened for, so each gets a pool)."""
        import redis.asyncio as redis
        from redis.asyncio.connection import parse_url
        from redis.asyncio.retry import Retry
        from redis.backoff import ExponentialBackoff
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import TimeoutError as RedisTimeoutError

        try:
            options = parse_url(self._url)
        except ValueError as exc:  # ?db=x, ?socket_timeout=soon …
            raise ValidationError(f"The Redis URL is not usable: {exc}",
                                  field_errors={"url": str(exc)}) from None
        if db is not None:
            options["db"] = db
        ours = dict(
            max_connections=self.limits.max_pool,
            timeout=self.pool.acquire_timeout,
            socket_connect_timeout=self.limits.connect_timeout,
            socket_timeout=self.limits.query_timeout,
            health_check_interval=self.pool.health_check_interval,
            retry=Retry(ExponentialBackoff(cap=0.5, base=0.05), self.pool.retries,
                        supported_errors=(RedisConnectionError, RedisTimeoutError)),
            # RESP2 works with every server version a production box may still run.
            protocol=2,
            client_name="studio-tui",
        )
        # The tier sets the pool and time limits, and the replies are read as RESP2: the same
        # options in the URL (?protocol=3, ?max_connections=…) give way rather than clash.
        pool = _metered_pool_class()(**ours, **{k: v for k, v in options.items() if k not in ours})
        pool.on_acquire = self._on_acquire
        self._pools.append(pool)
        return redis.Redis(connection_pool=pool)

    @asynccontextmanager
    async def lease(self, scope: str | None = None) -> AsyncIterator[Any]:
        # The client borrows a pooled connection per command; exhaustion surfaces there.
        if scope is None:
            yield self.client
            return
        if self.cluster:
            raise ValidationError("A Redis cluster has database 0 only.")
        if not scope.isdigit():
            raise ValidationError(f"A Redis database is a number, not {scope!r}.")
        db = int(scope)
        client = self._scoped.get(db)
        if client is None:
            client = self._scoped[db] = self._client(db)
        yield client

    async def ping(self, handle: Any) -> None:
        await handle.ping()

    async def server_version(self, handle: Any) -> str:
        info = await handle.info("server")
        return str(info.get("redis_version", "unknown"))

    def pool_stats(self) -> PoolStats:
        if getattr(self, "cluster", False):
            nodes = self.client.get_nodes()
            total = sum(len(getattr(node, "_connections", ())) for node in nodes)
            free = sum(len(getattr(node, "_free", ())) for node in nodes)
            return PoolStats(total=total, available=free, max=self.limits.max_pool * len(nodes))
        pools = getattr(self, "_pools", [])
        counts = [pool.counts() for pool in pools]
        return PoolStats(total=sum(t for t, _ in counts), available=sum(a for _, a in counts),
                         pending=sum(pool.waiting for pool in pools), max=self.limits.max_pool)

    async def close(self) -> None:
        clients = [getattr(self, "client", None), *getattr(self, "_scoped", {}).values()]
        for client in clients:
            if client is not None:
                await client.aclose()
        self.client = None
        for pool in getattr(self, "_pools", []):
            await pool.disconnect()
        self._pools, self._scoped = [], {}

    def _map_driver_error(self, exc: BaseException) -> StudioError | None:
        from redis import exceptions as rx

        text = str(exc)
        where = self.target.display_host
        # redis-py takes the error code (NOAUTH, WRONGPASS) off the message into status_code.
        code = getattr(exc, "status_code", None) or text.partition(" ")[0]
        if code == "NOAUTH":
            return AuthenticationError(f"Redis at {where} requires a password, and none was given.")
        if isinstance(exc, rx.AuthenticationError) and (
                "without any password configured" in text or "no password is set" in text):
            return AuthenticationError(f"Redis at {where} has no password set, but one was given: "
                                       "leave the password out.")
        if isinstance(exc, rx.AuthenticationError) or code == "WRONGPASS":
            return AuthenticationError(f"Redis at {where} refused the credentials.")
        if isinstance(exc, rx.NoPermissionError):
            return PermissionDeniedError(f"The Redis user may not do this: {text}")
        if isinstance(exc, rx.ReadOnlyError):
            return ReadOnlyError(f"The server is a read-only replica: {text}")
        if isinstance(exc, rx.BusyLoadingError) or text.startswith(("LOADING", "BUSY", "MASTERDOWN")):
            return UnavailableError(f"Redis cannot serve right now: {text}")
        if isinstance(exc, rx.ConnectionError) and "No connection available" in text:
            return PoolExhaustedError(
                f"All {self.limits.max_pool} connections stayed busy for "
                f"{self.pool.acquire_timeout:g}s.",
                retry_after=1.0,
            )
        if isinstance(exc, (rx.ConnectionError, rx.TimeoutError)) and \
                not isinstance(exc, rx.ClusterDownError):
            # A dropped connection ("Connection closed by server", a reset mid-reply) is an
            # outage like a refused one: it must count against the breaker.
            classified = classify_os_error(exc, where)
            if type(classified) is StudioError:
                return ConnectionFailedError(f"The connection to {where} was lost: "
                                             f"{text.rstrip('.')}.")
            return classified
        if isinstance(exc, (rx.ClusterDownError, rx.SlotNotCoveredError)):
            return UnavailableError(f"The Redis cluster cannot serve right now: {text}")
        if isinstance(exc, rx.RedisClusterException):
            # Raised by the client before sending: the request cannot be routed as written
            # (keys in different slots, a command with no node).
            return ServerError(text)
        if isinstance(exc, (rx.ResponseError, rx.DataError)):
            return ServerError(text)
        if type(exc) is rx.RedisError and text.startswith("Invalid"):
            # redis-py checks some URL options only when it connects (?ssl_cert_reqs=maybe).
            return ValidationError(f"The Redis URL is not usable: {text}",
                                   field_errors={"url": text})
        if isinstance(exc, TypeError) and "unexpected keyword argument" in text:
            option = text.rpartition("argument ")[2]
            return ValidationError(f"The Redis URL has an option redis-py does not know: "
                                   f"{option}.", field_errors={"url": f"unknown option {option}"})
        return None
