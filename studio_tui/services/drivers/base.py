"""What every driver adapter provides to the connection manager: open, lease, cancel, stats,
close, and mapping of its driver's exceptions to StudioErrors (with secrets scrubbed)."""

from __future__ import annotations

import asyncio
import contextvars
import errno
import logging
import secrets
import socket
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from studio_tui.services.errors import (
    ValidationError,
    ConnectionFailedError,
    DnsError,
    OperationTimeoutError,
    RefusedError,
    StudioError,
    TlsError,
)
from studio_tui.services.metrics import PoolStats
from studio_tui.services.redaction import scrub_text, secrets_of
from studio_tui.services.tiers import PoolDefaults, TierLimits
from studio_tui.services.kinds import DatabaseKind
from studio_tui.services.urls import parse_connection_url

AcquireObserver = Callable[[float], None]
log = logging.getLogger(__name__)

_DNS_HINTS = ("name or service not known", "nodename nor servname", "getaddrinfo failed",
              "temporary failure in name resolution", "no address associated", "dns")
_REFUSED_HINTS = ("connection refused", "connect call failed", "errno 111")
_TLS_HINTS = ("sslerror", "ssl:", "certificate verify", "wrong version number", "tlsv1 alert",
              "handshake failure")


class RunningOperation:
    """One ``manager.run`` call as its adapter sees it, current (a context variable) while it runs,
    including in tasks it starts. ``tag`` is unique: a service may attach it to what it sends (a
    MongoDB ``comment``) so the server can name the operation back. ``handle`` is what the lease
    yielded; ``state`` is the adapter's note of what it would have to stop on the server.
    ``write``: the operation changes data, so a driver must not send it twice on its own (a
    reply lost with the connection does not say whether the server applied it)."""

    __slots__ = ("name", "tag", "handle", "state", "cancelled", "write")

    def __init__(self, name: str, write: bool = False) -> None:
        self.name = name
        self.write = write
        self.tag = f"studio-tui:{secrets.token_hex(8)}"
        self.handle: Any = None
        self.state: Any = None
        self.cancelled = False


_CURRENT: contextvars.ContextVar[RunningOperation | None] = contextvars.ContextVar(
    "studio_tui_operation", default=None)


def current_operation() -> RunningOperation | None:
    """The operation the calling code runs in, if any."""
    return _CURRENT.get()


def operation_comment() -> str | None:
    """The running operation's unique tag, for a driver's ``comment=`` option (None outside one)."""
    operation = _CURRENT.get()
    return None if operation is None else operation.tag


def refuse_if_cancelled() -> None:
    """Raise CancelledError when the running operation was cancelled: a task it started must not
    send the server anything more, nor may the operation itself once a cancel request is pending
    for its task. The latter happens when code swallows the cancel: Python 3.11's
    ``asyncio.wait_for`` (which redis-py wraps around each write) returns its result instead of
    raising when the cancel lands just as what it awaits completes, and the walk goes on."""
    operation = _CURRENT.get()
    if operation is None:
        return
    task = asyncio.current_task()
    if operation.cancelled or (task is not None and task.cancelling()):
        raise asyncio.CancelledError(f"{operation.name} was cancelled")


class DatabaseConnection(ABC):
    """One database entry's pool or client. Opened lazily by the manager; never seen by the UI."""

    kind: DatabaseKind
    # How long stopping a cancelled operation on the server may take before it is given up.
    cancel_timeout: float = 2.0

    def __init__(self, url: str, label: str, limits: TierLimits, pool: PoolDefaults, *,
                 read_only: bool = False, on_acquire: AcquireObserver | None = None) -> None:
        self._url = url
        self._secrets = secrets_of(url)
        self.label = label
        self.target = parse_connection_url(url)
        self.limits = limits
        self.pool = pool
        self.read_only = read_only
        self._on_acquire = on_acquire or (lambda seconds: None)
        self.pending = 0

    @property
    def password_given(self) -> bool:
        """Whether the URL carries a password: a server asking for one then says none was
        given, not that it refused the credentials."""
        return bool(self._secrets)

    @abstractmethod
    async def open(self) -> None:
        """Create the pool or client; may connect eagerly (Postgres) or lazily (Redis, Mongo)."""

    @abstractmethod
    def lease(self, scope: str | None = None) -> Any:
        """An async context manager yielding the driver handle for one operation. ``scope``
        names a part of the server the handle must address (a Redis logical database); kinds
        without scopes refuse one."""

    @asynccontextmanager
    async def operation(self, name: str, scope: str | None = None, *,
                        write: bool = False) -> AsyncIterator[Any]:
        """``lease(scope)`` for one operation, made current for the code that uses the handle. When
        that code is cancelled (by the user, or by the manager's timeout), ``cancel`` stops the
        work on the server before the lease is given back; then the CancelledError goes on."""
        operation = RunningOperation(name, write)
        token = _CURRENT.set(operation)
        try:
            async with self.lease(scope) as handle:
                operation.handle = handle
                try:
                    yield handle
                except asyncio.CancelledError:
                    await self._stop_on_server(operation)
                    raise
        finally:
            _CURRENT.reset(token)

    async def cancel(self, operation: RunningOperation) -> None:
        """Stop ``operation``'s work on the server, if the server can; the lease is still held.
        Runs in a task of its own, outside the operation (nothing it sends is counted as the
        operation's), within ``cancel_timeout``. By default there is nothing to stop."""

    def abandon(self, operation: RunningOperation) -> None:
        """``cancel`` did not finish in time: drop what the operation holds (a connection in an
        unknown state) instead of returning it to the pool."""

    async def _stop_on_server(self, operation: RunningOperation) -> None:
        """Run ``cancel`` shielded from the cancellation under way (a repeated cancel waits for
        it too) and bounded by ``cancel_timeout``; its failures are logged, never raised."""
        operation.cancelled = True
        loop = asyncio.get_running_loop()
        context = contextvars.copy_context()
        context.run(_CURRENT.set, None)
        task = loop.create_task(self.cancel(operation),
                                name=f"cancel {operation.name} on {self.label}", context=context)
        deadline = loop.time() + self.cancel_timeout
        repeated: asyncio.CancelledError | None = None
        while not task.done() and loop.time() < deadline:
            try:
                await asyncio.wait({task}, timeout=deadline - loop.time())
            except asyncio.CancelledError as exc:
                repeated = exc
        self._settle(operation, task)
        if repeated is not None:
            raise repeated

    def _settle(self, operation: RunningOperation, task: asyncio.Task) -> None:
        if not task.done():
            log.warning("%s: stopping %s on the server took over %gs; given up", self.label,
                        operation.name, self.cancel_timeout)
            task.add_done_callback(self._log_cancel_failure)
            task.cancel()
            try:
                self.abandon(operation)
            except Exception as exc:  # noqa: BLE001 - a cancel must not raise into the caller
                log.warning("%s: could not drop %s: %r", self.label, operation.name, exc)
        else:
            self._log_cancel_failure(task)

    def _log_cancel_failure(self, task: asyncio.Task) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.warning("%s: stopping an operation on the server failed: %r", self.label,
                        task.exception())

    def _no_scope(self, scope: str | None) -> None:
        if scope is not None:
            raise ValidationError(f"A {self.kind.value} connection has no scope {scope!r}.")

    @abstractmethod
    async def ping(self, handle: Any) -> None: ...

    @abstractmethod
    async def server_version(self, handle: Any) -> str: ...

    @abstractmethod
    def pool_stats(self) -> PoolStats: ...

    @abstractmethod
    async def close(self) -> None: ...

    @abstractmethod
    def _map_driver_error(self, exc: BaseException) -> StudioError | None:
        """Map this driver's own exceptions; None when not recognised."""

    def map_error(self, exc: BaseException) -> StudioError:
        """Any exception → a StudioError naming this database, with secrets scrubbed."""
        if isinstance(exc, StudioError):
            error = exc
        else:
            error = self._map_driver_error(exc) or classify_os_error(exc, self.target.display_host)
        error.database = error.database or self.label
        error.detail = scrub_text(error.detail, self._secrets)
        return error

    @asynccontextmanager
    async def _waiting(self) -> AsyncIterator[None]:
        """Count a lease as pending while it waits for a connection."""
        self.pending += 1
        try:
            yield
        finally:
            self.pending -= 1


def classify_os_error(exc: BaseException, where: str) -> StudioError:
    """Network-level failures look alike across drivers; tell DNS, refusal, TLS and timeout apart."""
    text = f"{type(exc).__name__}: {exc}"
    lowered = text.lower()
    chain = _cause_chain(exc)
    # Specific causes first: driver messages about DNS or refusal often also say "timeout".
    if any(isinstance(e, socket.gaierror) for e in chain) or any(h in lowered for h in _DNS_HINTS):
        return DnsError(f"The host of {where} cannot be resolved.")
    if any(isinstance(e, ConnectionRefusedError) for e in chain) or \
            any(isinstance(e, OSError) and e.errno == errno.ECONNREFUSED for e in chain) or \
            any(h in lowered for h in _REFUSED_HINTS):
        return RefusedError(f"Nothing is listening at {where}, or a firewall refused it.")
    import ssl  # only when classifying a failure: it costs start-up time otherwise

    if any(isinstance(e, ssl.SSLError) for e in chain) or any(h in lowered for h in _TLS_HINTS):
        return TlsError(f"TLS with {where} failed: {exc}.")
    if any(isinstance(e, (asyncio.TimeoutError, TimeoutError, socket.timeout)) for e in chain) \
            or "timed out" in lowered or "timeout" in lowered:
        return OperationTimeoutError(f"No answer from {where} in time.")
    if any(isinstance(e, OSError) for e in chain):
        return ConnectionFailedError(f"Connection to {where} failed: {exc}.")
    return StudioError(f"Unexpected {type(exc).__name__} talking to {where}: {exc}.")


def _cause_chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen and len(seen) < 10:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen
