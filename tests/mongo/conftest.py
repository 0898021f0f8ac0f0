"""Fixtures for the MongoDB tests: a raw driver client on a database of the test's own, and the
app's services on an entry pointing at the same server."""

from __future__ import annotations

import uuid

import pytest


@pytest.fixture
def mongo_db_name() -> str:
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
