"""What every driver adapter provides to the connection manager: open, lease, stats, close, and
mapping of its driver's exceptions to StudioErrors (with secrets scrubbed)."""

from __future__ import annotations

import asyncio
import errno
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
from studio_tui.services.urls import DatabaseKind, parse_connection_url

AcquireObserver = Callable[[float], None]

_DNS_HINTS = ("name or service not known", "nodename nor servname", "getaddrinfo failed",
              "temporary failure in name resolution", "no address associated", "dns")
_REFUSED_HINTS = ("connection refused", "connect call failed", "errno 111")
_TLS_HINTS = ("sslerror", "ssl:", "certificate verify", "wrong version number", "tlsv1 alert",
              "handshake failure")


class DatabaseConnection(ABC):
    """One database entry's pool or client. Opened lazily by the manager; never seen by the UI."""

    kind: DatabaseKind

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

    @abstractmethod
    async def open(self) -> None:
        """Create the pool or client; may connect eagerly (Postgres) or lazily (Redis, Mongo)."""

    @abstractmethod
    def lease(self, scope: str | None = None) -> Any:
        """An async context manager yielding the driver handle for one operation. ``scope``
        names a part of the server the handle must address (a Redis logical database); kinds
        without scopes refuse one."""

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
