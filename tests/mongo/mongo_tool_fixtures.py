"""Fixtures of the MongoDB tool tests (import them into a test module): the tools' scope on a
collection of the test's own database, on a writable entry and on a read-only one."""

from __future__ import annotations

import pytest

from studio_tui.services.mongo.scope import MongoScope

COLLECTION = "items"


@pytest.fixture
def scope(manager, mongo_entry, mongo_db_name, raw_db) -> MongoScope:
    return MongoScope(manager, mongo_entry.id, mongo_db_name, COLLECTION)


@pytest.fixture
def readonly_scope(manager, mongo_readonly_entry, mongo_db_name, raw_db) -> MongoScope:
    return MongoScope(manager, mongo_readonly_entry.id, mongo_db_name, COLLECTION)


async def audit_outcomes(catalog, operation_start: str) -> list[str]:
    """The audit log's outcomes of operations whose name starts with ``operation_start``."""
    entries = await catalog.store.list_audit(limit=1000)
    return [e.outcome for e in entries if e.action.startswith(operation_start)]
