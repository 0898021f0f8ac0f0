"""What a health check reports, the test of a URL that may not be saved yet, and the probes that
let an open breaker close by itself once its server answers again."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace

from studio_tui.services.breaker import BreakerState, CircuitBreaker
from studio_tui.services.errors import OperationTimeoutError, StudioError
from studio_tui.services.kinds import KINDS
from studio_tui.services.tiers import TIER_LIMITS, Tier
from studio_tui.services.urls import parse_connection_url

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ProbeResult:
    kind: str
    latency_ms: float
    version: str


@dataclass(frozen=True, slots=True)
class HealthReport:
    name: str
    kind: str
    status: str  # "up" | "down" | "degraded"
    latency_ms: float | None
    breaker: str
    version: str = ""
    error: StudioError | None = None


async def try_url(url: str, tier: Tier = Tier.FREE) -> ProbeResult:
    """Test a URL that may not be saved yet: one connection, no retries, the tier's connect
    timeout, closed afterwards. Raises a precise StudioError (DNS, refused, auth, TLS…)."""
    target = parse_connection_url(url)
    limits = replace(TIER_LIMITS[tier], min_pool=1, max_pool=1)
    pool = replace(KINDS[target.kind].pool, retries=0)
    connection = KINDS[target.kind].connection_class()(url, "connection test", limits, pool)
    started = time.perf_counter()
    try:
        async with asyncio.timeout(limits.connect_timeout):
            await connection.open()
            async with connection.lease() as handle:
                await connection.ping(handle)
                version = await connection.server_version(handle)
    except asyncio.CancelledError:
        raise
    except BaseException as exc:
        if isinstance(exc, TimeoutError):
            error: StudioError = OperationTimeoutError(
                f"No answer from {target.display_host} within {limits.connect_timeout:g}s.",
                database="connection test")
        else:
            error = connection.map_error(exc)
        log.info("connection test of %s failed: %s %s", target.display_host, error.code,
                 error.detail)
        raise error from None
    finally:
        with contextlib.suppress(Exception):
            await connection.close()
    return ProbeResult(target.kind.value, round((time.perf_counter() - started) * 1000, 2),
                       version)


class RecoveryProbes:
    """While a database's breaker is not closed, ``check`` it (a ping through the single path,
    let through as the breaker's one probe) each time its reset time is up. So the breaker
    closes by itself once the server answers again, without waiting for the user's next call.
    One task per database, in an empty context: like a pool, it outlives any screen."""

    def __init__(self, check: Callable[[str], Awaitable[object]]) -> None:
        self._check = check
        self._tasks: dict[str, asyncio.Task] = {}

    def watch(self, database_id: str, breaker: CircuitBreaker) -> None:
        task = self._tasks.get(database_id)
        if task is None or task.done():
            self._tasks[database_id] = asyncio.get_running_loop().create_task(
                self._until_closed(database_id, breaker),
                name=f"studio-recovery-probe {breaker.name}", context=contextvars.Context())

    async def _until_closed(self, database_id: str, breaker: CircuitBreaker) -> None:
        while breaker.state is not BreakerState.CLOSED:
            # Looked at again at least once a second: the clock is injectable, and may jump.
            await asyncio.sleep(min(1.0, max(0.1, breaker.retry_in())))
            if breaker.state is BreakerState.HALF_OPEN and not breaker.probing:
                try:
                    await self._check(database_id)
                except StudioError as error:  # the entry went away meanwhile
                    log.info("recovery probe of %s stopped: %s", breaker.name, error)
                    return

    def stop(self, database_id: str) -> None:
        task = self._tasks.pop(database_id, None)
        if task is not None:
            task.cancel()

    async def close(self) -> None:
        tasks, self._tasks = list(self._tasks.values()), {}
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
