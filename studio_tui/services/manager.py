"""The connection manager: the single path every database operation takes.

permission (rbac, read-only) → entry → decrypted URL (vault) → pool (opened lazily, per tier)
→ breaker → concurrency gate → time limit (interactive or long) → metrics, audit and log →
result or StudioError.
"""

from __future__ import annotations

import asyncio
import contextvars
import contextlib
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from studio_tui.services.breaker import BreakerState, CircuitBreaker, Clock
from studio_tui.services.catalog import Catalog
from studio_tui.services.deadline import deadline_at
from studio_tui.services.drivers import DatabaseConnection
from studio_tui.services.kinds import KINDS
from studio_tui.services.errors import (
    OperationTimeoutError,
    StudioError,
    TooManyOperationsError,
)
from studio_tui.services.health import HealthReport, ProbeResult, RecoveryProbes, try_url
from studio_tui.services.metrics import DatabaseMetrics, MetricsRegistry, PoolStats
from studio_tui.services.platform.models import DatabaseEntry
from studio_tui.services.platform.rbac import Permission
from studio_tui.services.tiers import (
    TIER_LIMITS,
    PoolDefaults,
    Tier,
)

log = logging.getLogger(__name__)
T = TypeVar("T")
Operation = Callable[[Any], Awaitable[T]]


@dataclass
class _Slot:
    """Everything the manager keeps for one database entry."""

    entry: DatabaseEntry
    org_id: str  # whose members may use the entry, and as what
    breaker: CircuitBreaker
    metrics: DatabaseMetrics
    gate: asyncio.Semaphore
    opening: asyncio.Lock = field(default_factory=asyncio.Lock)
    connection: DatabaseConnection | None = None
    active: int = 0
    last_used: float = 0.0


class ConnectionManager:
    def __init__(self, catalog: Catalog, *, metrics: MetricsRegistry | None = None,
                 clock: Clock = time.monotonic, idle_timeout: float = 300.0,
                 pool_overrides: dict[str, float] | None = None) -> None:
        self.catalog = catalog
        self.metrics = metrics or MetricsRegistry()
        self.idle_timeout = idle_timeout
        self._clock = clock
        self._pool_overrides = pool_overrides or {}
        self._slots: dict[str, _Slot] = {}
        self._last_health: dict[str, HealthReport] = {}
        self._reaper: asyncio.Task | None = None
        self._recovery = RecoveryProbes(self.check)
        catalog.on_database_changed(self._entry_changed)

    def use_clock(self, clock: Clock) -> None:
        """Replace the clock of idle reaping and of breakers made from now on (tests)."""
        self._clock = clock

    async def __aenter__(self) -> "ConnectionManager":
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    # -- the single path -------------------------------------------------------------------------
    async def run(self, database_id: str, operation: str, fn: Operation[T], *,
                  write: bool = False, long: bool = False, timeout: float | None = None,
                  scope: str | None = None, connect: bool = True, target: str = "") -> T:
        """Run ``fn(handle)`` against the database, where ``handle`` is the driver's client or
        connection (addressing ``scope``, e.g. a Redis logical database, when given). Raises
        StudioError only, or CancelledError when the awaiting task is cancelled: the operation is
        then stopped on the server as far as it can be (``DatabaseConnection.cancel``). While
        ``fn`` runs, ``drivers.base.operation_comment()`` names it uniquely.

        How long it may take: an interactive call (the default) has its kind's breaker call
        timeout (Redis 1 s, PostgreSQL 5 s, MongoDB 10 s), so a server that hangs is noticed in
        seconds and its breaker opens. ``long=True`` is for work the user started as long work
        (a full scan, a bulk delete, a console command, a memory analysis): it has the tier's
        query timeout. ``timeout`` overrides both. The time covers waiting for a turn behind
        other calls (the tier's concurrency gate, the pool) as well as the operation; a call
        whose time runs out while it waits is a failure like any other. Opening the pool, the
        first time, has the tier's connect timeout on top.

        ``connect=False`` is for a call that reaches the database another way than the
        entry's driver (PostgreSQL through pg-meta's HTTP API): ``fn(None)`` then runs under
        the same permission check, breaker, gate, time limit, metrics and audit, and no pool is
        opened.

        ``target``: what a write touches (a key, a collection, a table), for the audit log."""
        slot = await self._slot(database_id)
        entry = slot.entry
        await self.authorize(slot, operation, write, target)
        breaker = slot.breaker
        limit = timeout or self.time_limit(entry, long=long)
        breaker.before_call()
        slot.metrics.breaker_state = breaker.state
        started = time.perf_counter()
        deadline = _Deadline()
        try:
            result = await _in_own_context(
                self._attempt(slot, operation, fn, scope, limit, connect, write, deadline),
                deadline)
        except asyncio.CancelledError:
            breaker.on_abandoned()  # the user let go: not the server's failure
            raise
        except BaseException as exc:
            error = self._map(slot, exc, limit)
            self._count_failure(slot, operation, error)
            if write:
                await self._audit(slot, operation, "failed", target, started, error.code)
            raise error from None
        else:
            elapsed = time.perf_counter() - started
            slot.metrics.observe_operation(elapsed)
            slot.metrics.observe_answer()
            # An interactive call slower than the breaker's call timeout counts against the
            # server (one given a longer explicit timeout can be).
            if not long and elapsed > breaker.config.call_timeout:
                breaker.on_failure("slow responses")
            else:
                breaker.on_success()
            if write:
                await self._audit(slot, operation, "ok", target, started)
            return result
        finally:
            slot.last_used = self._clock()
            slot.metrics.breaker_state = breaker.state
            if slot.connection is not None:
                slot.metrics.pool = slot.connection.pool_stats()
            if breaker.state is not BreakerState.CLOSED:
                self._recovery.watch(database_id, breaker)

    def time_limit(self, entry: DatabaseEntry, *, long: bool = False) -> float:
        """Seconds a call may take: the kind's breaker call timeout, or the tier's query timeout
        for long work."""
        query_timeout = TIER_LIMITS[entry.tier].query_timeout
        if long:
            return query_timeout
        return min(KINDS[entry.kind].breaker.call_timeout, query_timeout)

    async def _attempt(self, slot: _Slot, operation: str, fn: Operation[T], scope: str | None,
                       limit: float, connect: bool = True, write: bool = False,
                       noted: "_Deadline | None" = None) -> T:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + limit
        if noted is not None:
            noted.at = deadline
        await self._take_turn(slot, deadline, limit)
        slot.active += 1
        slot.metrics.active_operations = slot.active
        try:
            if not connect:
                async with deadline_at(deadline):
                    return await fn(None)
            opening = loop.time()
            if noted is not None and slot.connection is None:
                noted.at = None  # opening the pool is bounded by the connect timeout instead
            connection = await self._connection(slot)
            deadline += loop.time() - opening  # opening the pool has a timeout of its own
            if noted is not None:
                noted.at = deadline
            async with deadline_at(deadline):
                # A cancel (the user's, or this timeout's) is stopped on the server in here.
                async with connection.operation(operation, scope, write=write) as handle:
                    return await fn(handle)
        finally:
            slot.active -= 1
            slot.metrics.active_operations = slot.active
            slot.gate.release()

    async def _take_turn(self, slot: _Slot, deadline: float, limit: float) -> None:
        """Wait for a place under the tier's limit of concurrent operations: as long as the
        call's own time lasts, and no longer than the pool's acquire timeout."""
        entry = slot.entry
        until = min(deadline, asyncio.get_running_loop().time() + self._pool(entry).acquire_timeout)
        try:
            async with asyncio.timeout_at(until):
                await slot.gate.acquire()
        except TimeoutError:
            running = TIER_LIMITS[entry.tier].max_concurrent
            if until >= deadline:
                raise OperationTimeoutError(
                    f"{entry.name} did not answer within {limit:g}s: the call waited behind "
                    f"{running} running operations.", database=entry.name) from None
            raise TooManyOperationsError(
                f"{entry.name} already runs {running} operations (the {entry.tier.value} "
                "tier's limit).", retry_after=1.0, database=entry.name) from None

    def _count_failure(self, slot: _Slot, operation: str, error: StudioError) -> None:
        """An outage, or a call whose time ran out behind others, counts against the server;
        an error the server answered with (a typo, a conflict) counts as an answer."""
        name = slot.entry.name
        if error.is_outage or isinstance(error, TooManyOperationsError):
            slot.breaker.on_failure(error.code)
            slot.metrics.observe_no_answer()
            log.warning("%s: %s failed: %s %s", name, operation, error.code, error.detail)
        else:
            slot.breaker.on_success()  # the server answered; the request was at fault
            slot.metrics.observe_answer()
            log.info("%s: %s refused: %s %s", name, operation, error.code, error.detail)
        slot.metrics.observe_error(error.code, str(error))

    async def authorize(self, slot: _Slot, operation: str, write: bool, target: str = "") -> None:
        """Reads need the read permission, writes the write permission and an entry that is not
        read-only; the catalog's check audits a refusal."""
        await self.catalog.authorize(Permission.WRITE_DATA if write else Permission.READ_DATA,
                                     org_id=slot.org_id, target=slot.entry.name,
                                     action=operation, entry=slot.entry)

    async def check_write(self, database_id: str, operation: str) -> None:
        """Refuse now what a later ``run(..., write=True)`` would refuse (e.g. switching the SQL
        editor to write mode), audited the same way."""
        await self.authorize(await self._slot(database_id), operation, True)

    async def can_write(self, database_id: str) -> bool:
        return await self.catalog.writable((await self._slot(database_id)).entry)

    def _map(self, slot: _Slot, exc: BaseException, limit: float) -> StudioError:
        if isinstance(exc, (asyncio.TimeoutError, TimeoutError)) and not isinstance(exc, StudioError):
            return OperationTimeoutError(
                f"{slot.entry.name} did not answer within {limit:g}s.", database=slot.entry.name)
        if slot.connection is not None:
            return slot.connection.map_error(exc)
        if isinstance(exc, StudioError):
            exc.database = exc.database or slot.entry.name
            return exc
        return StudioError(f"{type(exc).__name__}: {exc}", database=slot.entry.name)

    async def _audit(self, slot: _Slot, operation: str, outcome: str, target: str,
                     started: float, detail: str = "") -> None:
        await self.catalog.audit(operation, outcome, org_id=slot.org_id, entry=slot.entry,
                                 target=target, detail=detail,
                                 duration=time.perf_counter() - started,
                                 operation_id=secrets.token_hex(8))

    # -- slots and connections --------------------------------------------------------------
    def _pool(self, entry: DatabaseEntry) -> PoolDefaults:
        return replace(KINDS[entry.kind].pool, **self._pool_overrides)

    async def _slot(self, database_id: str) -> _Slot:
        slot = self._slots.get(database_id)
        if slot is None:
            entry = await self.catalog.database(database_id)
            org_id = await self.catalog.org_of_project(entry.project_id)
            slot = self._slots.get(database_id)  # another task may have made it meanwhile
            if slot is None:
                slot = _Slot(
                    entry=entry, org_id=org_id,
                    breaker=CircuitBreaker(entry.name, KINDS[entry.kind].breaker, self._clock),
                    metrics=self.metrics.for_database(database_id, entry.name, entry.kind.value),
                    gate=asyncio.Semaphore(TIER_LIMITS[entry.tier].max_concurrent),
                    last_used=self._clock(),
                )
                self._slots[database_id] = slot
        return slot

    async def _connection(self, slot: _Slot) -> DatabaseConnection:
        if slot.connection is not None:
            return slot.connection
        async with slot.opening:
            if slot.connection is None:
                entry = slot.entry
                connection = KINDS[entry.kind].connection_class()(
                    self.catalog.database_url(entry), entry.name, TIER_LIMITS[entry.tier],
                    self._pool(entry), read_only=entry.read_only,
                    on_acquire=slot.metrics.acquire_seconds.observe,
                )
                limit = TIER_LIMITS[entry.tier].connect_timeout
                started = time.perf_counter()
                try:
                    async with deadline_at(asyncio.get_running_loop().time() + limit):
                        await connection.open()
                except BaseException as exc:
                    with contextlib.suppress(Exception):
                        await connection.close()
                    if isinstance(exc, asyncio.CancelledError):
                        raise
                    if isinstance(exc, TimeoutError):
                        raise OperationTimeoutError(
                            f"{entry.name} did not answer within {limit:g}s while connecting.",
                            database=entry.name) from None
                    raise connection.map_error(exc) from None
                slot.connection = connection
                log.info("opened the pool of %s (%s at %s, %s tier, %d to %d connections) in "
                         "%.0f ms", entry.name, entry.kind.value, connection.target.display_host,
                         entry.tier.value, connection.limits.min_pool, connection.limits.max_pool,
                         (time.perf_counter() - started) * 1000)
                self._ensure_reaper()
        return slot.connection

    def _entry_changed(self, database_id: str) -> None:
        """An edited or deleted entry must not keep using its old URL or limits."""
        slot = self._slots.pop(database_id, None)
        self._recovery.stop(database_id)
        if slot is not None and slot.connection is not None:
            log.info("closing the pool of %s: its entry changed", slot.entry.name)
            asyncio.get_running_loop().create_task(slot.connection.close())

    # -- idle reaping and shutdown ------------------------------------------------------------
    def _ensure_reaper(self) -> None:
        if self._reaper is None or self._reaper.done():
            self._reaper = asyncio.get_running_loop().create_task(
                self._reap_forever(), name="studio-idle-reaper", context=contextvars.Context())

    async def _reap_forever(self) -> None:
        interval = max(0.05, min(30.0, self.idle_timeout / 2))
        while any(s.connection is not None for s in self._slots.values()):
            await asyncio.sleep(interval)
            await self.reap_idle()

    async def reap_idle(self) -> list[str]:
        """Close the pools of entries unused for ``idle_timeout``; returns their names."""
        now = self._clock()
        reaped: list[str] = []
        for slot in self._slots.values():
            connection = slot.connection
            if connection is None or slot.active or now - slot.last_used < self.idle_timeout:
                continue
            slot.connection = None
            await connection.close()
            slot.metrics.pool = PoolStats(max=connection.limits.max_pool)
            reaped.append(slot.entry.name)
            log.info("closed the idle pool of %s", slot.entry.name)
        return reaped

    def is_open(self, database_id: str) -> bool:
        slot = self._slots.get(database_id)
        return slot is not None and slot.connection is not None

    def breaker(self, database_id: str) -> CircuitBreaker | None:
        slot = self._slots.get(database_id)
        return None if slot is None else slot.breaker

    async def close(self) -> None:
        if self._reaper is not None:
            self._reaper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reaper
            self._reaper = None
        await self._recovery.close()
        slots, self._slots = list(self._slots.values()), {}
        for slot in slots:
            if slot.connection is not None:
                with contextlib.suppress(Exception):
                    await slot.connection.close()
                slot.connection = None
                log.info("closed the pool of %s", slot.entry.name)

    # -- health ---------------------------------------------------------------------------------
    async def check(self, database_id: str) -> HealthReport:
        """Ping through the single path and report; never raises for a down server. An
        interactive call, bounded by the tier's connect timeout too."""
        slot = await self._slot(database_id)
        entry = slot.entry
        limit = min(self.time_limit(entry), TIER_LIMITS[entry.tier].connect_timeout)
        started = time.perf_counter()

        async def ping_and_version(handle: Any) -> str:
            connection = slot.connection
            assert connection is not None
            await connection.ping(handle)
            return await connection.server_version(handle)

        try:
            version = await self.run(database_id, "ping", ping_and_version, timeout=limit)
        except StudioError as exc:
            report = HealthReport(entry.name, entry.kind.value, "down", None,
                                  slot.breaker.state.name.lower(), error=exc)
        else:
            latency = (time.perf_counter() - started) * 1000
            state = slot.breaker.state
            status = "up" if state is BreakerState.CLOSED else "degraded"
            report = HealthReport(entry.name, entry.kind.value, status, round(latency, 2),
                                  state.name.lower(), version)
        self._last_health[database_id] = report
        return report

    def last_health(self, database_id: str) -> HealthReport | None:
        return self._last_health.get(database_id)

    async def probe(self, url: str, tier: Tier = Tier.FREE) -> ProbeResult:
        """Test a URL that may not be saved yet (``health.try_url``)."""
        return await try_url(url, tier)


# How long past its deadline a caller waits for its timed-out operation to be stopped on the
# server (a cancel request, a killOp) before it is given its error and the stop goes on alone.
STOP_GRACE = 0.25


@dataclass
class _Deadline:
    """The loop time an attempt must end by, once the attempt has set it."""

    at: float | None = None


async def _in_own_context(operation: Coroutine[Any, Any, T],
                          deadline: _Deadline | None = None) -> T:
    """Await ``operation`` in a task with an empty context. What it opens outlives the caller: a
    pool's sockets register their read callbacks, and the reaper its task, with the context
    current at the time. Run from a UI worker, that context holds the worker, and through it the
    screen, so a closed browser would stay in memory as long as the pool. A cancel of the caller
    reaches the task, and the caller waits for it to stop (on the server, too).

    Past ``deadline`` (and ``STOP_GRACE``) the caller stops waiting: the operation timed out and
    is being stopped on the server, over a network that may be as slow as the server was, which
    the driver bounds by its cancel timeout. The task goes on holding its connection and its
    turn until that ends; the caller gets TimeoutError at once."""
    loop = asyncio.get_running_loop()
    task = loop.create_task(operation, context=contextvars.Context())
    try:
        while not task.done():
            at = None if deadline is None else deadline.at
            wait = None if at is None else max(0.0, at + STOP_GRACE - loop.time())
            if wait is None or wait > 0:
                await asyncio.wait({task}, timeout=wait if wait is not None else 0.05)
                continue
            task.add_done_callback(_stopped_late)
            raise TimeoutError
    except asyncio.CancelledError:
        task.cancel()  # the caller's cancel reaches the operation…
        with contextlib.suppress(BaseException):
            await task  # …and the caller waits for it to stop
        raise
    result = task.result()
    current = asyncio.current_task()
    if current is not None and current.cancelling():
        raise asyncio.CancelledError  # cancelled while the operation swallowed the cancel
    return result


def _stopped_late(task: asyncio.Task) -> None:
    """The end of an operation its caller no longer waits for: only logged."""
    if not task.cancelled() and task.exception() is not None and \
            not isinstance(task.exception(), TimeoutError):
        log.info("a timed-out operation ended with %r", task.exception())
