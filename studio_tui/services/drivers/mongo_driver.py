"""MongoDB adapter: a pymongo AsyncMongoClient with pool events feeding the metrics, and command
events noting what each operation has running on the server, so a cancel can stop it there."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from studio_tui.services.drivers.base import (
    DatabaseConnection,
    RunningOperation,
    classify_os_error,
    current_operation,
)
from studio_tui.services.errors import (
    AuthenticationError,
    ConnectionFailedError,
    OperationTimeoutError,
    PermissionDeniedError,
    PoolExhaustedError,
    ServerError,
    StudioError,
    ValidationError,
)
from studio_tui.services.metrics import PoolStats
from studio_tui.services.kinds import DatabaseKind

log = logging.getLogger(__name__)
# Answers meaning "this server (or this user) cannot list or kill operations".
_NO_OP_CONTROL = {13, 59, 115}  # Unauthorized, CommandNotFound, CommandNotSupported


@dataclass
class _Trail:
    """What one operation has on the server: commands sent and not yet answered (request id →
    (command name, server connection id, cursor id of a getMore, session id)), and open cursors
    (id → (namespace, session id))."""

    in_flight: dict[int, tuple[str, int | None, int, Any]] = field(default_factory=dict)
    cursors: dict[int, tuple[str, Any]] = field(default_factory=dict)


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


def _command_trail_class():
    from pymongo import monitoring

    def trail() -> _Trail | None:
        operation = current_operation()
        if operation is None:
            return None
        if operation.state is None:
            operation.state = _Trail()
        return operation.state

    class CommandTrail(monitoring.CommandListener):
        """Notes, per running operation, its unanswered commands and its open cursors. pymongo
        publishes these events from the task that sends the command, so the operation is known."""

        def started(self, event):
            noted = trail()
            if noted is None:
                return
            command = event.command
            getmore = command.get("getMore", 0) if event.command_name == "getMore" else 0
            noted.in_flight[event.request_id] = (event.command_name, event.server_connection_id,
                                                 int(getmore or 0), command.get("lsid"))
            if event.command_name == "killCursors":
                for cursor_id in command.get("cursors", ()):
                    noted.cursors.pop(int(cursor_id), None)

        def succeeded(self, event):
            noted = trail()
            if noted is None:
                return
            _, _, getmore, session = noted.in_flight.pop(event.request_id, ("", None, 0, None))
            cursor = event.reply.get("cursor") if isinstance(event.reply, dict) else None
            if not isinstance(cursor, dict):
                return
            cursor_id = int(cursor.get("id", 0) or 0)
            if cursor_id:
                noted.cursors[cursor_id] = (str(cursor.get("ns", "")), session)
            elif getmore:
                noted.cursors.pop(getmore, None)  # exhausted

        def failed(self, event):
            noted = trail()
            failure = event.failure if isinstance(event.failure, dict) else {}
            if noted is None or ("errtype" in failure and "code" not in failure):
                # Cut off on this side (a cancel, a lost connection): the server may still be
                # running it, so it stays noted as unanswered.
                return
            _, _, getmore, _ = noted.in_flight.pop(event.request_id, ("", None, 0, None))
            noted.cursors.pop(getmore, None)

    return CommandTrail


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
        self._op_control: bool | None = None  # can this server list and kill operations?
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
                event_listeners=[self._listener, _command_trail_class()()],
            )
        except (ConfigurationError, InvalidURI) as exc:
            raise ValidationError(f"The MongoDB URL is not usable: {exc}.",
                                  field_errors={"url": str(exc)}) from None

    @asynccontextmanager
    async def lease(self, scope: str | None = None) -> AsyncIterator[Any]:
        self._no_scope(scope)
        # The client checks a connection out per operation; waits surface as WaitQueueTimeoutError.
        yield self.client

    async def cancel(self, operation: RunningOperation) -> None:
        """killOp what the operation still runs on the server, then killCursors its open
        cursors. pymongo closes a connection whose reply was cut off, and a real mongod (4.2+)
        ends a read whose client went away, but not a write: hence the killOp."""
        noted: _Trail | None = operation.state
        if noted is None:
            return
        steps = [partial(self._kill_cursor, operation, cursor_id, namespace, session)
                 for cursor_id, (namespace, session) in noted.cursors.items()]
        if noted.in_flight and self._op_control is not False:
            steps.insert(0, partial(self._kill_ops, operation, list(noted.in_flight.values())))
        noted.cursors.clear()
        for step in steps:  # one refused step does not keep the others from running
            try:
                await step()
            except Exception as exc:  # noqa: BLE001
                log.warning("%s: stopping %s on the server: %r", self.label, operation.name, exc)

    async def _kill_cursor(self, operation: RunningOperation, cursor_id: int, namespace: str,
                           session: Any) -> None:
        from pymongo.errors import OperationFailure

        database, _, collection = namespace.partition(".")
        try:
            reply = await self.client[database].command("killCursors", collection,
                                                        cursors=[cursor_id])
            outcome = "killed" if reply.get("cursorsKilled") else "not found"
        except OperationFailure as exc:
            # With access control on, mongod lets only the cursor's own session kill it, and
            # pymongo sends this command in a session of its own; killing that session (the
            # cancelled operation's, still bound to its open cursor) ends the cursor instead.
            if exc.code != 13 or not session:
                raise
            await self.client.admin.command("killSessions", [session])
            outcome = "killed with its session"
        log.info("%s: cancelled %s, killCursors %s: %s", self.label, operation.name, cursor_id,
                 outcome)

    async def _kill_ops(self, operation: RunningOperation,
                        in_flight: list[tuple[str, int | None, int, Any]]) -> None:
        """Find the operation's commands by its comment, or by the server connection they were
        sent on and their name, and killOp them. ``currentOp`` with ``$ownOps`` lets a user
        without the inprog privilege see (and kill) their own operations."""
        from pymongo.errors import OperationFailure

        sent = {(connection_id, name) for name, connection_id, _, _ in in_flight if connection_id}
        query: dict[str, Any] = {"currentOp": 1, "$ownOps": True, "$or": [
            {"command.comment": operation.tag},
            {"connectionId": {"$in": sorted({connection_id for connection_id, _ in sent})}}]}
        try:
            listing = await self.client.admin.command(query)
        except OperationFailure as exc:
            if exc.code not in _NO_OP_CONTROL:
                raise
            self._op_control = False
            log.info("%s cannot list operations (%s); cancels close cursors only", self.label, exc)
            return
        self._op_control = True
        for entry in listing.get("inprog", ()):
            command = entry.get("command") or {}
            # Filtered again here: a server may ignore currentOp's filter.
            ours = command.get("comment") == operation.tag or \
                (entry.get("connectionId"), next(iter(command), None)) in sent
            if entry.get("opid") is None or entry.get("type", "op") != "op" or not ours:
                continue
            reply = await self.client.admin.command("killOp", op=entry["opid"])
            log.info("%s: cancelled %s, killOp %s (%s): %s", self.label, operation.name,
                     entry["opid"], entry.get("op"), reply.get("info", "sent"))

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
            if code == 13 and "requires authentication" in str(exc) and not self.password_given:
                return AuthenticationError(f"MongoDB at {where} requires credentials, and none "
                                           "were given.")
            if code == 13:
                return PermissionDeniedError(str(exc))
            if code == 50:
                return OperationTimeoutError(f"The operation exceeded its time limit: {exc}.")
            # The server's own message; pymongo's text appends the whole reply document.
            message = (exc.details or {}).get("errmsg") or str(exc)
            return ServerError(f"{message} (code {code}).")
        if isinstance(exc, (mx.ConfigurationError, mx.InvalidURI)):
            return ValidationError(f"The MongoDB URL is not usable: {exc}.",
                                   field_errors={"url": str(exc)})
        if isinstance(exc, mx.ServerSelectionTimeoutError):
            # After a refused sign-in pymongo marks the server unknown, and later calls time out
            # selecting it: the per-host causes in the text still say why.
            if "authentication failed" in str(exc).lower():
                return AuthenticationError(f"MongoDB at {where} refused the credentials.")
            # Otherwise the shared classifier reads the causes (DNS, refused, TLS).
            return None
        if isinstance(exc, (mx.DuplicateKeyError, mx.WriteError, mx.BulkWriteError)):
            return ServerError(str(exc))
        if isinstance(exc, mx.ConnectionFailure):
            # A connection lost mid-call (closed, reset, or cancelled when pymongo clears the
            # pool of a server that stopped answering): an outage, said as one.
            classified = classify_os_error(exc, where)
            if type(classified) is StudioError:
                return ConnectionFailedError(f"The connection to {where} was lost: {exc}.")
            return classified
        return None
