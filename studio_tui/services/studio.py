"""The opened service layer as one object: store, vault, catalog and connection manager.

Built by the composition root and shared by the TUI and the headless CLI. Opening is async and
idempotent, so the UI can paint its first frame before the catalog is touched.
"""

from __future__ import annotations

import asyncio
import importlib
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

from studio_tui.services.errors import ConfigError
from studio_tui.services.settings import Settings

if TYPE_CHECKING:
    from studio_tui.services.catalog import Catalog
    from studio_tui.services.manager import ConnectionManager
    from studio_tui.services.platform.store import CatalogStore


def make_store(settings: Settings) -> "CatalogStore":
    """The shared PostgreSQL catalog when ``platform_url`` is set (team mode), else the
    embedded SQLite file."""
    url = (settings.platform_url or "").strip()
    if url:
        if not url.startswith(("postgresql://", "postgres://")):
            from studio_tui.services.redaction import mask_url

            raise ConfigError(
                f"STUDIO_PLATFORM_URL (catalog.platform_url) must be a postgresql:// URL, "
                f"not {mask_url(url)!r}; unset it to use the embedded catalog."
            )
        # By name, at run time (as drivers are): the kinds' packages must not import asyncpg
        # through the studio.
        postgres_store = importlib.import_module("studio_tui.services.platform.postgres_store")
        return postgres_store.PostgresCatalogStore(url)
    from studio_tui.services.platform.sqlite_store import SqliteCatalogStore

    return SqliteCatalogStore(settings.catalog_path)


class Studio:
    def __init__(self, settings: Settings, env: Mapping[str, str] | None = None) -> None:
        self.settings = settings
        self.env = dict(os.environ if env is None else env)
        self._store: "CatalogStore | None" = None  # made in open(): aiosqlite costs start-up time
        self._catalog: Catalog | None = None
        self._manager: ConnectionManager | None = None
        self._lock = asyncio.Lock()
        self.notices: list[str] = []

    @property
    def store(self) -> "CatalogStore":
        if self._store is None:
            self._store = make_store(self.settings)
        return self._store

    @property
    def catalog(self) -> "Catalog":
        if self._catalog is None:
            raise RuntimeError("Studio.open() has not completed")
        return self._catalog

    @property
    def manager(self) -> "ConnectionManager":
        if self._manager is None:
            # Made on first use: listing the catalog needs no pools, and start-up is faster.
            from studio_tui.services.manager import ConnectionManager

            self._manager = ConnectionManager(self.catalog, idle_timeout=self.settings.idle_timeout)
        return self._manager

    @property
    def is_open(self) -> bool:
        return self._catalog is not None

    async def open(self) -> "Studio":
        async with self._lock:
            if self._catalog is not None:
                return self
            # Imported here, after the first frame is on screen, not at start-up.
            from studio_tui.services.catalog import Catalog
            from studio_tui.services.keys import unlock

            await self.store.open()
            try:
                vault = await unlock(self.store, self.settings.key_path, self.env)
                catalog = Catalog(self.store, vault)
                env = self.env if self.settings.import_env_databases else {}
                self.notices = await catalog.ensure_first_run(env)
            except BaseException:
                await self.store.close()
                raise
            self._catalog = catalog
        return self

    async def close(self) -> None:
        async with self._lock:
            if self._manager is not None:
                await self._manager.close()
                self._manager = None
            self._catalog = None
            if self._store is not None:
                await self._store.close()

    async def __aenter__(self) -> "Studio":
        return await self.open()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()
