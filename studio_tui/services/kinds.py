"""The one table of database kinds: what each kind's URLs look like, its breaker and pool numbers,
its driver, the environment variables it is imported from, and how the UI names it.

Adding a kind means its packages (``services/<kind>/``, ``screens/<kind>/``, ``widgets/<kind>/``),
one row here, one row in ``screens/browsers.py`` and a catalog migration. Nothing else in the
code asks which kind it is holding."""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from studio_tui.services.tiers import BreakerConfig, PoolDefaults

if TYPE_CHECKING:
    from studio_tui.services.drivers.base import DatabaseConnection


class DatabaseKind(StrEnum):
    REDIS = "redis"
    MONGODB = "mongodb"
    POSTGRES = "postgres"


@dataclass(frozen=True, slots=True)
class KindSpec:
    kind: DatabaseKind
    package: str  # its packages' name in each layer: services/<package>/, screens/<package>/ …
    display_name: str  # "PostgreSQL", as the user knows it
    schemes: tuple[str, ...]  # URL schemes that name this kind
    default_port: int
    breaker: BreakerConfig  # reference numbers per kind (ARCHITECTURE.md)
    pool: PoolDefaults
    driver: str  # "module:Class" of the DatabaseConnection; imported when a pool first opens
    driver_modules: tuple[str, ...]  # what opening a pool imports; imported ahead to save time
    env_urls: tuple[str, ...]  # variables imported as entries on first run
    url_example: str  # the form's hint
    socket_schemes: tuple[str, ...] = ()  # schemes whose path is a unix socket, not a database
    seed_lists: bool = False  # the URL may name several hosts (host1,host2)
    host_in_query: bool = False  # the host may come from the query (?host=/run/postgresql)

    def connection_class(self) -> type["DatabaseConnection"]:
        module, _, name = self.driver.partition(":")
        return getattr(importlib.import_module(module), name)


KINDS: dict[DatabaseKind, KindSpec] = {
    DatabaseKind.REDIS: KindSpec(
        DatabaseKind.REDIS, "redis", "Redis", ("redis", "rediss", "unix", "redis+unix"), 6379,
        BreakerConfig(call_timeout=1.0, threshold=0.70, reset=15.0, volume=10),
        PoolDefaults(acquire_timeout=10.0, idle_timeout=30.0, health_check_interval=30.0,
                     retries=3),
        "studio_tui.services.drivers.redis_driver:RedisConnection",
        ("redis.asyncio", "redis.asyncio.cluster"), ("REDIS_URL",),
        "redis://user@host:6379/0", socket_schemes=("unix", "redis+unix")),
    DatabaseKind.MONGODB: KindSpec(
        DatabaseKind.MONGODB, "mongo", "MongoDB", ("mongodb", "mongodb+srv"), 27017,
        BreakerConfig(call_timeout=10.0, threshold=0.60, reset=45.0, volume=10),
        PoolDefaults(acquire_timeout=10.0, idle_timeout=30.0, health_check_interval=10.0,
                     retries=0),
        "studio_tui.services.drivers.mongo_driver:MongoConnection", ("pymongo",),
        ("MONGODB_URI",), "mongodb://user@host:27017/db", seed_lists=True),
    DatabaseKind.POSTGRES: KindSpec(
        DatabaseKind.POSTGRES, "postgres", "PostgreSQL", ("postgresql", "postgres"), 5432,
        BreakerConfig(call_timeout=5.0, threshold=0.50, reset=30.0, volume=10),
        PoolDefaults(acquire_timeout=10.0, idle_timeout=30.0, health_check_interval=0.0,
                     retries=0),
        "studio_tui.services.drivers.postgres_driver:PostgresConnection", ("asyncpg",),
        ("DATABASE_URL", "POSTGRES_URL"), "postgresql://user@host:5432/db", seed_lists=True,
        host_in_query=True),
}

SCHEMES: dict[str, DatabaseKind] = {scheme: spec.kind for spec in KINDS.values()
                                    for scheme in spec.schemes}


def spec_of(kind: DatabaseKind) -> KindSpec:
    return KINDS[kind]


# Opening any database decrypts its URL first: the cipher is imported ahead with the drivers.
CIPHER_MODULES = ("cryptography.hazmat.primitives.ciphers.aead", "cryptography.exceptions")


def warm_drivers(kinds: Iterable[DatabaseKind]) -> None:
    """Import the drivers of ``kinds`` now (blocking: run it in a thread while the user reads a
    list, so opening the first database does not pay for the import)."""
    for module in CIPHER_MODULES:
        importlib.import_module(module)
    for kind in set(kinds):
        for module in KINDS[kind].driver_modules:
            importlib.import_module(module)
        importlib.import_module(KINDS[kind].driver.partition(":")[0])
