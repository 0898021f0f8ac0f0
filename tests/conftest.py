"""Shared fixtures: real servers for the whole session, and a fresh catalog per test."""

from __future__ import annotations

import base64
import os
import signal
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import pgservers  # noqa: E402
import realservers  # noqa: E402

from studio_tui.services.catalog import Catalog  # noqa: E402
from studio_tui.services.manager import ConnectionManager  # noqa: E402
from studio_tui.services.platform.sqlite_store import SqliteCatalogStore  # noqa: E402
from studio_tui.services.vault import KeyMaterial, Vault  # noqa: E402

# Snapshot SVGs change with these; keep every run alike. (pytest-xdist's controller hands its
# workers TEXTUAL_SNAPSHOT_TEMPDIR: that one stays.)
for _name in list(os.environ):
    if (_name.startswith("TEXTUAL_") and _name != "TEXTUAL_SNAPSHOT_TEMPDIR") or _name in (
            "NO_COLOR", "FORCE_COLOR", "STUDIO_TUI_KEY", "STUDIO_TUI_NEW_KEY",
            "STUDIO_PLATFORM_URL"):
        del os.environ[_name]


def _sigterm_as_interrupt(signum, frame):  # noqa: ARG001
    # A SIGTERM would orphan every server; KeyboardInterrupt runs the fixtures' teardown.
    raise KeyboardInterrupt


signal.signal(signal.SIGTERM, _sigterm_as_interrupt)

PG_PASSWORD = "pg-s3cret-Pw!"
REDIS_PASSWORD = "redis-s3cret-Pw"
MONGO_PASSWORD = "mongo-s3cret-Pw"


@pytest.fixture(scope="session")
def redis_server() -> Iterator[realservers.RunningServer]:
    server = realservers.start_redis()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_auth_server() -> Iterator[realservers.RunningServer]:
    server = realservers.start_redis(password=REDIS_PASSWORD)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_cluster() -> Iterator[realservers.RunningCluster]:
    cluster = realservers.start_redis_cluster()
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[realservers.RunningServer]:
    server = realservers.start_postgres(password=PG_PASSWORD)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def catalog_db(postgres_server) -> str:
    """URL of a database holding tests/postgres/catalog_fixture.sql (read it, never change it)."""
    return pgservers.create_database(postgres_server.url, "catalog_fixture",
                                     pgservers.FIXTURE_SQL.read_text())


@pytest.fixture(scope="session")
def snapshot_db(postgres_server) -> str:
    """The same schema in a database that only snapshot tests read, vacuumed: its sizes and
    index usage stay the same from run to run."""
    return pgservers.create_database(postgres_server.url, "catalog_snapshots",
                                     pgservers.FIXTURE_SQL.read_text(), vacuum=True)


@pytest.fixture(scope="session")
def pg_meta(catalog_db) -> Iterator[pgservers.RunningPgMeta]:
    """A real postgres-meta in front of ``catalog_db``; skipped where npm is missing."""
    try:
        meta = pgservers.start_pg_meta(catalog_db)
    except pgservers.NpmMissing as missing:
        pytest.skip(str(missing))
    yield meta
    meta.stop()


@pytest.fixture(scope="session")
def mongo_server() -> Iterator[realservers.RunningServer]:
    server = realservers.start_mongo()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def mongo_auth_server() -> Iterator[realservers.RunningServer]:
    server = realservers.start_mongo(password=MONGO_PASSWORD)
    yield server
    server.stop()


@pytest.fixture
def studio_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("STUDIO_TUI_HOME", str(home))
    return home


@pytest.fixture
def test_vault() -> Vault:
    return Vault(KeyMaterial(os.urandom(32), "test key"))


class FakeClock:
    """An injectable monotonic clock that only moves when told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def key_text() -> str:
    return base64.b64encode(os.urandom(32)).decode()


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteCatalogStore]:
    async with SqliteCatalogStore(tmp_path / "catalog.sqlite3") as opened:
        yield opened


@pytest.fixture
async def catalog(store: SqliteCatalogStore, test_vault: Vault) -> Catalog:
    return Catalog(store, test_vault)


@pytest.fixture
async def project_id(catalog: Catalog) -> str:
    org = await catalog.create_organization("Acme")
    project = await catalog.create_project(org.id, "shop")
    return project.id


@pytest.fixture
async def manager(catalog: Catalog) -> AsyncIterator[ConnectionManager]:
    async with ConnectionManager(catalog) as opened:
        yield opened


# -- Redis on the test module's own logical database (module constant REDIS_DB) ---------------
@pytest.fixture
async def raw(request, redis_server):
    """A plain redis-py client on the module's database, emptied before and after the test."""
    import redis.asyncio as redis

    client = redis.Redis.from_url(realservers.redis_db_url(redis_server.url,
                                                           request.module.REDIS_DB))
    await client.flushdb()
    yield client
    await client.flushdb()
    await client.aclose()


@pytest.fixture
async def service(request, catalog: Catalog, project_id: str, manager, redis_server):
    """The app's RedisService for an entry on the module's database."""
    from studio_tui.services.redis.service import RedisService

    entry = await catalog.add_database(
        project_id, "cache", realservers.redis_db_url(redis_server.url, request.module.REDIS_DB))
    return RedisService(manager, entry.id)


@pytest.fixture
def edits(service):
    """The writes to the same entry (the module's own ``service`` fixture, where it has one)."""
    from studio_tui.services.redis.edits import RedisEdits

    return RedisEdits(service)


# -- MongoDB: a raw driver database of the test's own, and the app's services on an entry --
@pytest.fixture
def mongo_db_name() -> str:
    import uuid

    return "t_" + uuid.uuid4().hex[:10]


@pytest.fixture
async def raw_db(mongo_server, mongo_db_name):
    """A pymongo database of this test's own, dropped afterwards."""
    from pymongo import AsyncMongoClient

    from studio_tui.services.mongo.ejson import read_codec_options

    client = AsyncMongoClient(mongo_server.url)
    database = client.get_database(mongo_db_name, codec_options=read_codec_options())
    yield database
    await client.drop_database(mongo_db_name)
    await client.close()


@pytest.fixture
async def mongo_entry(catalog, project_id, mongo_server):
    return await catalog.add_database(project_id, "docs", mongo_server.url)


@pytest.fixture
async def mongo_readonly_entry(catalog, project_id, mongo_server):
    return await catalog.add_database(project_id, "docs-ro", mongo_server.url, read_only=True)


@pytest.fixture
def mongo_service(manager, mongo_entry):
    from studio_tui.services.mongo.service import MongoService

    return MongoService(manager, mongo_entry.id)


@pytest.fixture
def mongo_edits(mongo_service):
    from studio_tui.services.mongo.edits import MongoEdits

    return MongoEdits(mongo_service)


# -- The demo's shop (studio_tui/demo/seed.py) loaded into the suite's servers: for the demo's
# tests and the README's snapshots ----------------------------------------------------------------
DEMO_REDIS_DB = 10


@pytest.fixture(scope="session")
def demo_mongo_server() -> Iterator[realservers.RunningServer]:
    """A MongoDB server of the demo's own: the browser lists every database, and other tests'
    come and go on the shared one."""
    from studio_tui.demo.seed import seed_mongo

    server = realservers.start_mongo()
    seed_mongo(server.url)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def demo_postgres_server() -> Iterator[realservers.RunningServer]:
    """A PostgreSQL server of the demo's own: the browser counts the server's roles, and other
    tests add theirs to the shared one."""
    from studio_tui.demo.seed import seed_postgres

    server = realservers.start_postgres()
    seed_postgres(server.url)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def demo_shop(redis_server, demo_postgres_server, demo_mongo_server):
    """The demo's URLs (studio_tui.demo.runner.DemoUrls), with the shop loaded; Redis keys
    without TTLs, so the key list shows no countdown."""
    from studio_tui.demo import seed
    from studio_tui.demo.runner import DemoUrls

    redis_url = realservers.redis_db_url(redis_server.url, DEMO_REDIS_DB)
    seed.seed_redis(redis_url, expire=False)
    return DemoUrls(redis_url, demo_mongo_server.url,
                    seed.postgres_database_url(demo_postgres_server.url))


# -- Hypothesis profiles for the bad-input fuzzing (tests/fuzz/): STUDIO_FUZZ=large by hand ---
from hypothesis import HealthCheck  # noqa: E402
from hypothesis import settings as hypothesis_settings  # noqa: E402

# "ci" keeps Hypothesis's default example count for the suite's other property tests; the fuzz
# targets scale themselves down with ``fuzz_checks.examples`` so tests/fuzz/ stays near a minute.
# Derandomized: a CI failure is the same failure on the next run and on a laptop.
hypothesis_settings.register_profile(
    "ci", derandomize=True, deadline=None, database=None, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow])
hypothesis_settings.register_profile(
    "large", max_examples=10_000, deadline=None, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.filter_too_much])
hypothesis_settings.load_profile(os.environ.get("STUDIO_FUZZ", "ci"))
