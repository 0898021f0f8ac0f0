"""Catalog-store fixtures for the contract tests: every store test runs against SQLite and the
real PostgreSQL test server (a fresh database per test, dropped after). Test modules import the
fixtures from here (``from catalogstores import any_store, make_store``)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pgservers
import pytest

from studio_tui.services.platform.postgres_store import PostgresCatalogStore
from studio_tui.services.platform.sqlite_store import SqliteCatalogStore
from studio_tui.services.platform.store import CatalogStore

BACKENDS = ["sqlite", "postgres"]

# A new, unopened store on the test's catalog; call it twice for two instances sharing one.
StoreFactory = Callable[[], CatalogStore]


async def _drop_database(server_url: str, database: str) -> None:
    import asyncpg

    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture
def pg_catalog_url(postgres_server) -> Iterator[str]:
    """A fresh, empty database on the PostgreSQL test server, dropped after the test."""
    name = f"catalog_{uuid.uuid4().hex[:16]}"
    url = pgservers.create_database(postgres_server.url, name)
    yield url
    asyncio.run(_drop_database(postgres_server.url, name))


@pytest.fixture(params=BACKENDS)
def make_store(request, tmp_path: Path) -> StoreFactory:
    if request.param == "sqlite":
        path = tmp_path / "contract.sqlite3"
        return lambda: SqliteCatalogStore(path)
    url = request.getfixturevalue("pg_catalog_url")
    return lambda: PostgresCatalogStore(url)


@pytest.fixture
async def any_store(make_store: StoreFactory) -> AsyncIterator[CatalogStore]:
    async with make_store() as store:
        yield store
