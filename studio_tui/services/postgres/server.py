"""The server view's figures: sessions (pg_stat_activity) with their blockers, locks, database
size and cache hit ratio, and pg_stat_statements where it is installed; and cancelling or
terminating a backend, which is a write (refused on read-only entries)."""

from __future__ import annotations

from studio_tui.services.errors import NotFoundError, ServerError, ValidationError
from studio_tui.services.manager import ConnectionManager
from studio_tui.services.postgres.data_models import (
    Backend,
    LockInfo,
    ServerOverview,
    StatementsReport,
    StatementStat,
)

QUERY_CHARS = 300
CANCEL_SQL = "SELECT pg_cancel_backend($1)"
TERMINATE_SQL = "SELECT pg_terminate_backend($1)"

_ACTIVITY = f"""
SELECT pid, coalesce(usename, '') AS usename, coalesce(datname, '') AS datname,
       coalesce(application_name, '') AS application_name,
       coalesce(host(client_addr), CASE WHEN client_port = -1 THEN 'socket' ELSE '' END) AS client,
       coalesce(state, '') AS state,
       coalesce(wait_event_type || ':' || wait_event, '') AS wait,
       coalesce(backend_type, '') AS backend_type,
       extract(epoch FROM clock_timestamp() - query_start)::float8 AS running_for,
       left(coalesce(query, ''), {QUERY_CHARS}) AS query,
       pg_blocking_pids(pid) AS blocked_by
FROM pg_stat_activity
WHERE pid <> pg_backend_pid()
ORDER BY backend_type <> 'client backend', state <> 'active', query_start NULLS LAST, pid
"""

_LOCKS = """
SELECT l.pid, l.mode, l.locktype,
       coalesce(l.relation::regclass::text, l.transactionid::text, l.virtualxid, '') AS relation,
       l.granted
FROM pg_locks l
WHERE l.pid <> pg_backend_pid()
ORDER BY l.granted, l.pid, l.locktype
"""

_OVERVIEW = """
SELECT version(), current_database(), pg_database_size(current_database()),
       (SELECT blks_hit::float8 / nullif(blks_hit + blks_read, 0) FROM pg_stat_database
        WHERE datname = current_database()),
       (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'),
       current_setting('max_connections')::int
"""

_STATEMENTS = """
SELECT left(query, {chars}) AS query, calls, total_exec_time, mean_exec_time, rows
FROM {schema}.pg_stat_statements
ORDER BY total_exec_time DESC
LIMIT 50
"""


def blocking_chains(backends: list[Backend]) -> list[list[int]]:
    """Each waiting backend's chain down to a session that blocks it and waits on nobody:
    ``[waiter, blocker, blocker's blocker, …]``, longest first."""
    by_pid = {b.pid: b for b in backends}
    chains = []
    for backend in backends:
        if not backend.blocked_by:
            continue
        chain = [backend.pid]
        current = backend
        while current.blocked_by:
            nxt = current.blocked_by[0]
            if nxt in chain:
                break  # a deadlock, until the server breaks it
            chain.append(nxt)
            if nxt not in by_pid:
                break
            current = by_pid[nxt]
        chains.append(chain)
    return sorted(chains, key=len, reverse=True)


class ServerService:
    def __init__(self, manager: ConnectionManager, database_id: str) -> None:
        self.manager = manager
        self.database_id = database_id

    async def _run(self, operation: str, fn, *, write: bool = False):
        return await self.manager.run(self.database_id, operation, fn, write=write)

    async def activity(self) -> list[Backend]:
        async def read(connection) -> list[Backend]:
            return [Backend(r["pid"], r["usename"], r["datname"], r["application_name"],
                            r["client"], r["state"], r["wait"], r["backend_type"],
                            r["running_for"], r["query"], tuple(r["blocked_by"] or ()))
                    for r in await connection.fetch(_ACTIVITY)]

        return await self._run("pg_stat_activity", read)

    async def locks(self) -> list[LockInfo]:
        async def read(connection) -> list[LockInfo]:
            return [LockInfo(r["pid"], r["mode"], r["locktype"], r["relation"], r["granted"])
                    for r in await connection.fetch(_LOCKS)]

        return await self._run("pg_locks", read)

    async def overview(self) -> ServerOverview:
        async def read(connection) -> ServerOverview:
            r = await connection.fetchrow(_OVERVIEW)
            return ServerOverview(r[0], r[1], r[2], r[3], r[4], r[5])

        return await self._run("server overview", read)

    async def statements(self) -> StatementsReport:
        """The top statements by total time, or why there are none."""
        async def read(connection) -> StatementsReport:
            schema = await connection.fetchval(
                "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n "
                "ON n.oid = e.extnamespace WHERE e.extname = 'pg_stat_statements'")
            if schema is None:
                return StatementsReport(unavailable=(
                    "pg_stat_statements is not installed in this database (CREATE EXTENSION "
                    "pg_stat_statements, with it in shared_preload_libraries)."))
            from studio_tui.services.postgres.identifiers import quote_ident

            try:
                records = await connection.fetch(
                    _STATEMENTS.format(chars=QUERY_CHARS, schema=quote_ident(schema)))
            except Exception as error:  # noqa: BLE001 - not preloaded: the server says why
                return StatementsReport(unavailable=f"pg_stat_statements cannot be read: {error}")
            return StatementsReport([StatementStat(r["query"], r["calls"], r["total_exec_time"],
                                                   r["mean_exec_time"], r["rows"])
                                     for r in records])

        return await self._run("pg_stat_statements", read)

    async def signal_backend(self, pid: int, action: str) -> None:
        """``cancel`` the backend's running query, or ``terminate`` its session."""
        if action not in ("cancel", "terminate"):
            raise ValidationError(f"Unknown action {action!r}: cancel or terminate.")
        function, sql = (("pg_cancel_backend", CANCEL_SQL) if action == "cancel"
                         else ("pg_terminate_backend", TERMINATE_SQL))

        async def signal(connection) -> bool | None:
            exists = await connection.fetchval(
                "SELECT true FROM pg_stat_activity WHERE pid = $1", pid)
            if not exists:
                return None
            return await connection.fetchval(sql, pid)

        done = await self._run(function, signal, write=True)
        if done is None:
            raise NotFoundError(f"There is no backend {pid} any more.")
        if not done:
            raise ServerError(f"The server did not {action} backend {pid} (not permitted, or "
                              "it had just ended).")
