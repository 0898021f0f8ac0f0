"""One pilot test for every kind in the kind table: open its entry from the databases list, see
its first content, go back. A kind joins by being registered in services/kinds.py (and, with a
browser, screens/browsers.py) and by giving a sample below."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import realservers
from ui import QUIET_SETTINGS, run_command, screen_text, seed, settle, studio_app

from studio_tui.screens.browsers import browser_for
from studio_tui.screens.catalog.databases import DatabasesScreen
from studio_tui.services.kinds import KINDS, DatabaseKind

REDIS_DB = 14


def _redis_sample(request) -> tuple[str, str]:
    import redis

    url = realservers.redis_db_url(request.getfixturevalue("redis_server").url, REDIS_DB)
    with redis.Redis.from_url(url) as client:
        client.flushdb()
        client.set("browser:first-content", "seen")
    return url, "browser:first-content"


def _postgres_sample(request) -> tuple[str, str]:
    # The object tree paints its schemas first.
    return request.getfixturevalue("postgres_server").url, "public schema"


def _mongo_sample(request) -> tuple[str, str]:
    from pymongo import MongoClient

    url = request.getfixturevalue("mongo_server").url
    with MongoClient(url) as client:
        client.browser_sample.first_content.replace_one({"_id": 1}, {"_id": 1}, upsert=True)
    return url.replace("/?", "/browser_sample?"), "first_content"


# kind → (URL of a server holding sample data, text the browser's first content shows)
SAMPLES: dict[DatabaseKind, Callable[[object], tuple[str, str]]] = {
    DatabaseKind.REDIS: _redis_sample,
    DatabaseKind.MONGODB: _mongo_sample,
    DatabaseKind.POSTGRES: _postgres_sample,
}


def test_every_registered_kind_has_a_sample():
    assert set(SAMPLES) == set(KINDS)


@pytest.mark.parametrize("kind", list(KINDS), ids=lambda kind: kind.value)
async def test_each_kind_opens_from_the_databases_list_shows_content_and_goes_back(
        kind: DatabaseKind, request, tmp_path):
    url, first_content = SAMPLES[kind](request)
    await seed(tmp_path, {"Acme": {"shop": [("sample", url)]}})
    app = studio_app(tmp_path, QUIET_SETTINGS)
    async with app.run_test(size=(120, 40)) as pilot:
        await run_command(pilot, "dbs Acme/shop")
        assert isinstance(app.screen, DatabasesScreen)
        await pilot.press("enter")
        await settle(pilot)
        assert type(app.screen) is browser_for(kind)
        assert first_content in screen_text(app)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, DatabasesScreen)
