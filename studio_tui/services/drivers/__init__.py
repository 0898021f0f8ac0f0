"""Driver adapters, one per database kind. Each imports its driver only when a pool is opened."""

from __future__ import annotations

from studio_tui.services.drivers.base import DatabaseConnection, operation_comment
from studio_tui.services.drivers.mongo_driver import MongoConnection
from studio_tui.services.drivers.postgres_driver import PostgresConnection
from studio_tui.services.drivers.redis_driver import RedisConnection
from studio_tui.services.urls import DatabaseKind

CONNECTION_CLASSES: dict[DatabaseKind, type[DatabaseConnection]] = {
    DatabaseKind.REDIS: RedisConnection,
    DatabaseKind.MONGODB: MongoConnection,
    DatabaseKind.POSTGRES: PostgresConnection,
}

# What opening a pool of each kind imports; importing it ahead (in a thread, while the user
# reads a list) takes a few hundred milliseconds off opening the first database.
_DRIVER_MODULES = {
    DatabaseKind.REDIS: ("redis.asyncio", "redis.asyncio.cluster"),
    DatabaseKind.MONGODB: ("pymongo",),
    DatabaseKind.POSTGRES: ("asyncpg",),
}


def warm_drivers(kinds) -> None:
    """Import the drivers of ``kinds`` now (blocking: run it in a thread)."""
    import importlib

    for kind in set(kinds):
        for module in _DRIVER_MODULES.get(kind, ()):
            importlib.import_module(module)


__all__ = ["CONNECTION_CLASSES", "DatabaseConnection", "operation_comment", "warm_drivers"]
