"""Driver adapters, one per database kind. Each imports its driver only when a pool is opened."""

from __future__ import annotations

from studio_tui.services.drivers.base import DatabaseConnection
from studio_tui.services.drivers.mongo_driver import MongoConnection
from studio_tui.services.drivers.postgres_driver import PostgresConnection
from studio_tui.services.drivers.redis_driver import RedisConnection
from studio_tui.services.urls import DatabaseKind

CONNECTION_CLASSES: dict[DatabaseKind, type[DatabaseConnection]] = {
    DatabaseKind.REDIS: RedisConnection,
    DatabaseKind.MONGODB: MongoConnection,
    DatabaseKind.POSTGRES: PostgresConnection,
}

__all__ = ["CONNECTION_CLASSES", "DatabaseConnection"]
