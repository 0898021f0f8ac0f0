"""A read-only member in the UI: the write keys of a Redis key, a MongoDB document and a
PostgreSQL row are dimmed, and pressing one says why (the role), while nothing is written."""

from __future__ import annotations

import uuid
from pathlib import Path

import asyncpg
import pytest
import redis as redis_sync
from pymongo import MongoClient

from studio_tui.screens.mongo.browser import MongoBrowserScreen
from studio_tui.screens.postgres.grid import GridScreen
from studio_tui.services.platform.rbac import Actor, Role
from ui import QUIET_SETTINGS, browse, run_command, screen_text, seed, settle, studio_app


def _mongo_url(server_url: str, database: str) -> str:
    base, _, query = server_url.partition("?")
    return f"{base.rstrip('/')}/{database}" + (f"?{query}" if query else "")


@pytest.fixture
async def pg_table(postgres_server):
    table = "team_ui_" + uuid.uuid4().hex[:8]
    connection = await asyncpg.connect(postgres_server.url)
    await connection.execute(f"CREATE TABLE {table} (id int PRIMARY KEY, name text)")
    await connection.execute(f"INSERT INTO {table} VALUES (1, 'a')")
    yield connection, table
    await connection.execute(f"DROP TABLE {table}")
    await connection.close()


async def test_a_read_only_member_is_refused_deletes_with_the_reason(
        tmp_path: Path, redis_server, mongo_server, postgres_server, pg_table):
    mongo_db = "team_ui_" + uuid.uuid4().hex[:8]
    mongo = MongoClient(mongo_server.url)
    mongo[mongo_db]["people"].insert_one({"_id": 1, "name": "a"})
    redis_client = redis_sync.Redis.from_url(redis_server.url)
    redis_client.set("team:key", "1")
    await seed(tmp_path, {"Acme": {"shop": [("cache", redis_server.url),
                                            ("docs", _mongo_url(mongo_server.url, mongo_db)),
                                            ("orders", postgres_server.url)]}})
    app = studio_app(tmp_path, QUIET_SETTINGS)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            [acme] = [o for o in await app.studio.catalog.organizations() if o.name == "Acme"]
            app.studio.set_actor(Actor("u-rita", "rita", memberships={acme.id: Role.READ_ONLY}))
            refusal = "rita has the read-only role on {}: delete is off."

            screen = await browse(pilot, "team:*")
            assert "(redis) · read-only role" in screen_text(app)
            await pilot.press("d")
            await pilot.pause()
            assert app.screen is screen  # no confirmation
            assert refusal.format("cache") in screen_text(app)
            await pilot.press("escape")
            await settle(pilot)

            await run_command(pilot, "open docs")
            screen = app.screen
            assert isinstance(screen, MongoBrowserScreen)
            await settle(pilot)
            await pilot.press("enter")
            await settle(pilot)
            await pilot.press("d")
            await pilot.pause()
            assert app.screen is screen and refusal.format("docs") in screen_text(app)
            await pilot.press("escape")
            await settle(pilot)

            entry = await app.studio.catalog.find_database("orders")
            app.push_screen(GridScreen(entry, "Acme › shop", "public", pg_table[1]))
            await settle(pilot)
            screen = app.screen
            await pilot.press("d")
            await pilot.pause()
            assert app.screen is screen and refusal.format("orders") in screen_text(app)
            # The service is the enforcement point: a write that got past the UI is refused.
            from studio_tui.services.errors import PermissionDeniedError

            with pytest.raises(PermissionDeniedError, match="read-only role, which may not"):
                await app.studio.manager.run(entry.id, "DELETE", lambda c: c.execute(
                    f"DELETE FROM {pg_table[1]}"), write=True)
        assert redis_client.get("team:key") == b"1"
        assert mongo[mongo_db]["people"].count_documents({}) == 1
        assert await pg_table[0].fetchval(f"SELECT count(*) FROM {pg_table[1]}") == 1
    finally:
        redis_client.delete("team:key")
        redis_client.close()
        mongo.drop_database(mongo_db)
        mongo.close()
