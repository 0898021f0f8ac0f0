"""What the fault scenarios need per kind: data big enough that a page streams for a while, the
app's own call that reads such a page, and a cheap call."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest

from studio_tui.services.kinds import KINDS, DatabaseKind

REDIS_DB = 11  # the fault suite's own Redis logical database
ROWS = 400
PAYLOAD = 1000  # bytes per key / document / row: a page is several hundred kB


@dataclass
class Kind:
    """One kind's data and calls, for a server at ``url`` (the real one, not the proxy)."""

    kind: DatabaseKind
    url: str
    name: str = ""

    @property
    def breaker(self):
        return KINDS[self.kind].breaker

    def entry_url(self) -> str:
        """The URL the entry uses (before the proxy rewrites host and port)."""
        if self.kind is DatabaseKind.REDIS:
            return self.url.rsplit("/", 1)[0] + f"/{REDIS_DB}"
        return self.url

    # -- data, with the raw driver -----------------------------------------------------------
    async def seed(self) -> None:
        self.name = "faults_" + uuid.uuid4().hex[:8]
        payload = "p" * PAYLOAD
        if self.kind is DatabaseKind.REDIS:
            import redis

            with redis.Redis.from_url(self.entry_url()) as client:
                with client.pipeline(transaction=False) as pipe:
                    for n in range(ROWS):
                        pipe.set(f"{self.name}:{n:05d}:{payload[:PAYLOAD // 4]}", n)
                    pipe.execute()
        elif self.kind is DatabaseKind.MONGODB:
            from pymongo import MongoClient

            with MongoClient(self.url) as client:
                client[self.name]["items"].insert_many(
                    [{"_id": n, "payload": payload} for n in range(ROWS)])
        else:
            import asyncpg

            connection = await asyncpg.connect(self.url)
            try:
                await connection.execute(
                    f"CREATE TABLE {self.name} (id int PRIMARY KEY, payload text NOT NULL)")
                await connection.execute(
                    f"INSERT INTO {self.name} SELECT n, repeat('p', {PAYLOAD}) "
                    f"FROM generate_series(0, {ROWS - 1}) n")
            finally:
                await connection.close()

    async def drop(self) -> None:
        if self.kind is DatabaseKind.REDIS:
            import redis

            with redis.Redis.from_url(self.entry_url()) as client:
                keys = list(client.scan_iter(match=f"{self.name}:*", count=1000))
                if keys:
                    client.delete(*keys)
        elif self.kind is DatabaseKind.MONGODB:
            from pymongo import MongoClient

            with MongoClient(self.url) as client:
                client.drop_database(self.name)
        else:
            import asyncpg

            connection = await asyncpg.connect(self.url)
            try:
                await connection.execute(f"DROP TABLE IF EXISTS {self.name}")
            finally:
                await connection.close()

    # -- the app's calls ---------------------------------------------------------------------
    async def page(self, manager, entry_id: str) -> int:
        """A page as the browser reads it (a SCAN, a find, a grid page); how many items."""
        if self.kind is DatabaseKind.REDIS:
            from studio_tui.services.redis.service import RedisService

            page = await RedisService(manager, entry_id).scan_page(
                match=f"{self.name}:*".encode(), count=ROWS * 4)
            return len(page.keys)
        if self.kind is DatabaseKind.MONGODB:
            from studio_tui.services.mongo.models import FindQuery
            from studio_tui.services.mongo.service import MongoService

            page = await MongoService(manager, entry_id).find_page(
                self.name, "items", FindQuery(), page_size=ROWS)
            return len(page.documents)
        from studio_tui.services.postgres.grid import GridService

        grid = GridService(manager, entry_id)
        shape = await grid.shape("public", self.name)
        return len((await grid.page(shape, limit=ROWS)).rows)

    async def ping(self, manager, entry_id: str) -> Any:
        async def ping(handle) -> None:
            await manager._slots[entry_id].connection.ping(handle)

        return await manager.run(entry_id, "ping", ping)


def record_worker_errors(app) -> list:
    """Workers of ``app`` that end in ERROR from now on: an exception a screen did not turn
    into a shown error. (Textual drops finished workers; this notes them on the way out.)"""
    errored: list = []
    remove = app.workers._remove_worker

    def removed(worker) -> None:
        if worker.state.name == "ERROR":
            errored.append((worker.name, repr(worker.error)))
        remove(worker)

    app.workers._remove_worker = removed
    return errored


KIND_PARAMS = [pytest.param(DatabaseKind.REDIS, id="redis"),
               pytest.param(DatabaseKind.MONGODB, id="mongodb"),
               pytest.param(DatabaseKind.POSTGRES, id="postgres")]
SERVER_FIXTURES = {DatabaseKind.REDIS: "redis_server", DatabaseKind.MONGODB: "mongo_server",
                   DatabaseKind.POSTGRES: "postgres_server"}
