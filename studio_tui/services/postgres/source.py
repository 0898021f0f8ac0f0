"""Where catalog queries run: directly over the entry's asyncpg pool, or through pg-meta's HTTP
API (``meta.py``). Both return rows as plain dicts and go through ``ConnectionManager.run``, so
the same catalog code and the same screens serve both."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from studio_tui.services.errors import StudioError
from studio_tui.services.manager import ConnectionManager
from studio_tui.services.platform.models import DatabaseEntry


class CatalogSource(ABC):
    """Runs one SQL statement, with its values bound, and returns its rows."""

    mode: str  # "direct" or "pg-meta"

    def __init__(self, manager: ConnectionManager, entry: DatabaseEntry) -> None:
        self.manager = manager
        self.entry = entry

    @abstractmethod
    async def fetch(self, operation: str, sql: str, *params: Any,
                    long: bool = False) -> Sequence[Mapping[str, Any]]:
        """``sql``'s rows, each read by column name; ``params`` are bound as $1, $2 … and
        never spliced into it."""

    @property
    def description(self) -> str:
        return self.mode

    async def close(self) -> None:
        """Let go of what the source holds (the manager owns the direct pool)."""


class DirectSource(CatalogSource):
    mode = "direct"

    async def fetch(self, operation: str, sql: str, *params: Any,
                    long: bool = False) -> Sequence[Mapping[str, Any]]:
        async def run(connection) -> Sequence[Mapping[str, Any]]:
            return await connection.fetch(sql, *params)  # asyncpg Records read like mappings

        return await self.manager.run(self.entry.id, operation, run, long=long)


@dataclass(frozen=True, slots=True)
class OpenedSource:
    """The source the catalog is read through, and why, when it is not the one asked for."""

    source: CatalogSource
    note: str = ""
    problem: StudioError | None = None


async def open_source(manager: ConnectionManager, entry: DatabaseEntry) -> OpenedSource:
    """pg-meta when the entry has it and it answers; otherwise the direct connection, saying
    why (pg-meta down, its key wrong, or its settings refused) when the entry has pg-meta.
    When neither answers, pg-meta's problem is raised."""
    from studio_tui.services.postgres.meta import MetaSource, PgMetaSettings

    if not entry.meta_token:
        return OpenedSource(DirectSource(manager, entry))
    try:
        settings = PgMetaSettings.from_entry(manager.catalog, entry)
        meta = MetaSource(manager, entry, settings)
    except StudioError as refused:
        return await _fall_back(manager, entry, refused, "pg-meta settings refused")
    try:
        await meta.fetch("pg-meta check", "SELECT 1 AS ok")
    except StudioError as failed:
        await meta.close()
        why = "is down" if failed.is_outage else f"failed ({failed.title})"
        return await _fall_back(manager, entry, failed, f"pg-meta at {settings.display} {why}")
    return OpenedSource(meta)


async def _fall_back(manager: ConnectionManager, entry: DatabaseEntry, problem: StudioError,
                     why: str) -> OpenedSource:
    direct = DirectSource(manager, entry)
    try:
        await direct.fetch("ping", "SELECT 1 AS ok")
    except StudioError:
        raise problem from None
    return OpenedSource(direct, f"{why}; reading the catalog directly", problem)

