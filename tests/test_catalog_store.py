"""Contract tests of the catalog store. Every backend (the embedded SQLite file and the shared
PostgreSQL catalog) runs the same expectations through the ``any_store`` fixture."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from catalogstores import any_store, make_store, pg_catalog_url  # noqa: F401

from studio_tui.services.errors import ConflictError, NotFoundError, ValidationError
from studio_tui.services.platform.migrations import LATEST_VERSION
from studio_tui.services.platform.models import AuditRecord, DatabaseEntry, new_id, utc_now
from studio_tui.services.platform.sqlite_store import SqliteCatalogStore
from studio_tui.services.platform.store import CatalogStore, DeleteSummary
from studio_tui.services.tiers import Tier
from studio_tui.services.kinds import DatabaseKind


def _entry(project_id: str, name: str, token: str = "v1.token") -> DatabaseEntry:
    return DatabaseEntry(id=new_id(), project_id=project_id, name=name, kind=DatabaseKind.REDIS,
                         masked_url="redis://:****@h:6379", tier=Tier.PRO, read_only=True,
                         tags=("prod", "eu"), created_at=utc_now(), url_token=token)


async def test_migrations_bring_an_empty_file_to_the_latest_version(tmp_path: Path):
    path = tmp_path / "fresh.sqlite3"
    async with SqliteCatalogStore(path) as store:
        assert await store.schema_version() == LATEST_VERSION
    with sqlite3.connect(path) as raw:
        tables = {r[0] for r in raw.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        journal = raw.execute("PRAGMA journal_mode").fetchone()[0]
    assert {"organizations", "projects", "databases", "users", "members", "user_sessions",
            "login_attempts", "audit_log", "schema_version", "meta"} <= tables
    assert journal == "wal"
    assert (path.stat().st_mode & 0o077) == 0


async def test_reopening_does_not_migrate_twice(tmp_path: Path):
    path = tmp_path / "again.sqlite3"
    async with SqliteCatalogStore(path) as store:
        await store.create_organization("kept")
    async with SqliteCatalogStore(path) as store:
        assert [o.name for o in await store.list_organizations()] == ["kept"]
        assert await store.schema_version() == LATEST_VERSION


async def test_organizations_projects_databases_round_trip(any_store: CatalogStore):
    org = await any_store.create_organization("Acme")
    project = await any_store.create_project(org.id, "shop")
    entry = await any_store.add_database(_entry(project.id, "cache"))
    assert [o.name for o in await any_store.list_organizations()] == ["Acme"]
    assert [p.name for p in await any_store.list_projects(org.id)] == ["shop"]
    assert await any_store.get_database(entry.id) == entry
    assert await any_store.list_databases(project.id) == [entry]


async def test_personal_organization_sorts_first(any_store: CatalogStore):
    await any_store.create_organization("Aardvark Inc")
    await any_store.create_organization("Personal", personal=True)
    assert [o.name for o in await any_store.list_organizations()] == ["Personal", "Aardvark Inc"]


async def test_duplicate_names_are_conflicts(any_store: CatalogStore):
    org = await any_store.create_organization("Acme")
    with pytest.raises(ConflictError, match="already exists"):
        await any_store.create_organization("Acme")
    project = await any_store.create_project(org.id, "shop")
    with pytest.raises(ConflictError):
        await any_store.create_project(org.id, "shop")
    await any_store.add_database(_entry(project.id, "cache"))
    with pytest.raises(ConflictError):
        await any_store.add_database(_entry(project.id, "cache"))


async def test_names_are_validated(any_store: CatalogStore):
    with pytest.raises(ValidationError):
        await any_store.create_organization("   ")
    with pytest.raises(ValidationError):
        await any_store.create_organization("a/b")
    with pytest.raises(ValidationError):
        await any_store.create_organization("x" * 65)


async def test_renames_and_missing_rows(any_store: CatalogStore):
    org = await any_store.create_organization("Acme")
    assert (await any_store.rename_organization(org.id, "Acme Corp")).name == "Acme Corp"
    project = await any_store.create_project(org.id, "shop")
    assert (await any_store.rename_project(project.id, "store")).name == "store"
    with pytest.raises(NotFoundError):
        await any_store.rename_organization("nope", "x")
    with pytest.raises(NotFoundError):
        await any_store.get_database("nope")
    with pytest.raises(NotFoundError):
        await any_store.create_project("nope", "x")


async def test_deleting_an_organization_cascades_and_reports_counts(any_store: CatalogStore):
    org = await any_store.create_organization("Acme")
    for name in ("a", "b"):
        project = await any_store.create_project(org.id, name)
        await any_store.add_database(_entry(project.id, "cache"))
        await any_store.add_database(_entry(project.id, "db"))
    summary = await any_store.delete_organization(org.id)
    assert summary == DeleteSummary(organizations=1, projects=2, databases=4)
    assert await any_store.list_databases() == []
    with pytest.raises(NotFoundError):
        await any_store.delete_organization(org.id)


async def test_updating_a_database_entry(any_store: CatalogStore):
    org = await any_store.create_organization("Acme")
    project = await any_store.create_project(org.id, "shop")
    entry = await any_store.add_database(_entry(project.id, "cache"))
    from dataclasses import replace

    changed = replace(entry, name="sessions", read_only=False, tier=Tier.FREE, tags=())
    updated = await any_store.update_database(changed)
    assert updated == replace(changed, version=entry.version + 1)
    assert await any_store.get_database(entry.id) == updated


async def test_rewrap_is_all_or_nothing(any_store: CatalogStore):
    org = await any_store.create_organization("Acme")
    project = await any_store.create_project(org.id, "shop")
    ids = [(await any_store.add_database(_entry(project.id, f"db{i}", f"old{i}"))).id
           for i in range(3)]
    await any_store.set_meta("key_check", "old-check")
    calls = 0

    def failing(database_id: str, token: str) -> str:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise RuntimeError("disk on fire")
        return "new" + token

    with pytest.raises(RuntimeError):
        await any_store.rewrap_secrets(failing, "new-check")
    assert [(await any_store.get_database(i)).url_token for i in ids] == ["old0", "old1", "old2"]
    assert await any_store.get_meta("key_check") == "old-check"

    assert await any_store.rewrap_secrets(lambda _id, token: "new" + token, "new-check") == 3
    assert [(await any_store.get_database(i)).url_token for i in ids] == [
        "newold0", "newold1", "newold2"]
    assert await any_store.get_meta("key_check") == "new-check"


async def test_audit_log_keeps_newest_first(any_store: CatalogStore):
    for n in range(3):
        await any_store.append_audit(AuditRecord(f"op{n}", "ok", user_id="local", target="cache"))
    entries = await any_store.list_audit(limit=2)
    assert [e.action for e in entries] == ["op2", "op1"]


async def test_counts_for_the_lists(any_store: CatalogStore):
    acme = await any_store.create_organization("Acme")
    empty = await any_store.create_organization("Empty")
    shop = await any_store.create_project(acme.id, "shop")
    blog = await any_store.create_project(acme.id, "blog")
    await any_store.add_database(_entry(shop.id, "cache"))
    await any_store.add_database(_entry(shop.id, "orders"))
    assert await any_store.organization_counts() == {acme.id: (2, 2), empty.id: (0, 0)}
    assert await any_store.project_counts() == {shop.id: 2, blog.id: 0}
    assert {p.name for p in await any_store.list_projects()} == {"shop", "blog"}
