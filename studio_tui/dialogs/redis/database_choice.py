"""`B` in the Redis browser: another logical database of the same server, each listed with its
key count; picking one opens it."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from studio_tui.dialogs.fields import Field, FieldsModal
from studio_tui.services.redis.insight import database_count, info_sections, keyspace

if TYPE_CHECKING:
    from studio_tui.services.redis.service import RedisService


async def database_choice(service: "RedisService", switch: Callable[[int], None]) -> FieldsModal:
    """A one-choice form, the current database chosen; picking another calls ``switch`` with
    it. Reading the server's databases may raise a StudioError."""
    rows = {row.db: row.keys for row in keyspace(await info_sections(service))}
    count = await database_count(service)
    current = await service.current_db()
    choices = [f"{db} ({rows.get(db, 0):,} keys)" for db in range(count)]

    async def choose(values: dict[str, str]) -> str:
        db = int(values["db"].split()[0])
        switch(db)
        return f"Browsing database {db}."

    return FieldsModal("Logical database", [Field(
        "db", "Database", choices[current] if current < count else "", choices=choices)],
        choose, save_label="Open", submit_on_choice=True)
