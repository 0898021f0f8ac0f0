"""The embedded catalog: one SQLite file in WAL mode, driven from a worker thread by aiosqlite."""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiosqlite

from studio_tui.services.errors import ConflictError, NotFoundError, StudioError
from studio_tui.services.platform.migrations import MIGRATIONS, SCHEMA_VERSION_TABLE
from studio_tui.services.platform.models import (
    AuditEntry,
    DatabaseEntry,
    Organization,
    Project,
    check_name,
    meta_context,
    new_id,
    utc_now,
)
from studio_tui.services.platform.store import CatalogStore, DeleteSummary, Rewrap
from studio_tui.services.tiers import Tier
from studio_tui.services.kinds import DatabaseKind

_DATABASE_COLUMNS = ("id, project_id, name, kind, masked_url, tier, read_only, tags, created_at, "
                     "url_token, meta_token")


class CatalogUnavailableError(StudioError):
    code = "CATALOG_UNAVAILABLE"
    title = "Catalog unavailable"
    status = 503


class SqliteCatalogStore(CatalogStore):
    def __init__(self, path: Path) -> None:
        self.path = path
        self._db: aiosqlite.Connection | None = None

    # -- lifecycle ------------------------------------------------------------------------------
    async def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not self.path.exists():
            # Names and hosts are in here; only the owner may read it (SQLite's -wal and -shm
            # files copy the main file's mode).
            os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
        try:
            self._db = await aiosqlite.connect(self.path, isolation_level=None)
            await self._db.execute("PRAGMA journal_mode=WAL")
            await self._db.execute("PRAGMA foreign_keys=ON")
            await self._db.execute("PRAGMA busy_timeout=5000")
            await self._migrate()
        except sqlite3.DatabaseError as exc:
            await self.close()
            raise CatalogUnavailableError(f"Cannot open the catalog {self.path}: {exc}.") from None

    async def close(self) -> None:
        if self._db is not None:
            db, self._db = self._db, None
            await db.close()

    @property
    def db(self) -> aiosqlite.Connection:
        if self._db is None:
            raise CatalogUnavailableError("The catalog is not open.")
        return self._db

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        db = self.db
        await db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            await db.execute("ROLLBACK")
            raise
        await db.execute("COMMIT")

    async def _migrate(self) -> None:
        await self.db.execute(SCHEMA_VERSION_TABLE)
        current = await self.schema_version()
        for version, description, statements in MIGRATIONS:
            if version <= current:
                continue
            async with self._transaction() as db:
                for statement in statements:
                    await db.execute(statement)
                await db.execute(
                    "INSERT INTO schema_version (version, description, applied_at) VALUES (?, ?, ?)",
                    (version, description, utc_now()),
                )

    async def schema_version(self) -> int:
        row = await self._one("SELECT MAX(version) FROM schema_version")
        return int(row[0] or 0)

    # -- helpers ----------------------------------------------------------------------------
    async def _one(self, sql: str, params: tuple = ()) -> sqlite3.Row | None:
        async with self.db.execute(sql, params) as cursor:
            return await cursor.fetchone()

    async def _all(self, sql: str, params: tuple = ()) -> list:
        async with self.db.execute(sql, params) as cursor:
            return list(await cursor.fetchall())

    async def _write(self, sql: str, params: tuple, *, conflict: str) -> int:
        try:
            cursor = await self.db.execute(sql, params)
        except sqlite3.IntegrityError:
            raise ConflictError(conflict) from None
        return cursor.rowcount

    # -- meta -------------------------------------------------------------------------------
    async def get_meta(self, key: str) -> str | None:
        row = await self._one("SELECT value FROM meta WHERE key = ?", (key,))
        return None if row is None else row[0]

    async def set_meta(self, key: str, value: str) -> None:
        await self.db.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    # -- organizations --------------------------------------------------------------------------
    async def list_organizations(self) -> list[Organization]:
        rows = await self._all(
            "SELECT id, name, created_at, personal FROM organizations ORDER BY personal DESC, name"
        )
        return [Organization(r[0], r[1], r[2], bool(r[3])) for r in rows]

    async def create_organization(self, name: str, *, personal: bool = False) -> Organization:
        org = Organization(new_id(), check_name(name, "organization"), utc_now(), personal)
        await self._write(
            "INSERT INTO organizations (id, name, personal, created_at) VALUES (?, ?, ?, ?)",
            (org.id, org.name, int(org.personal), org.created_at),
            conflict=f"An organization named {org.name!r} already exists.",
        )
        return org

    async def rename_organization(self, org_id: str, name: str) -> Organization:
        name = check_name(name, "organization")
        changed = await self._write(
            "UPDATE organizations SET name = ? WHERE id = ?", (name, org_id),
            conflict=f"An organization named {name!r} already exists.",
        )
        if not changed:
            raise NotFoundError("That organization no longer exists.")
        row = await self._one("SELECT id, name, created_at, personal FROM organizations WHERE id = ?",
                              (org_id,))
        return Organization(row[0], row[1], row[2], bool(row[3]))

    async def delete_organization(self, org_id: str) -> DeleteSummary:
        async with self._transaction() as db:
            summary = await self._count_under("o.id = ?", (org_id,))
            cursor = await db.execute("DELETE FROM organizations WHERE id = ?", (org_id,))
            if not cursor.rowcount:
                raise NotFoundError("That organization no longer exists.")
        return summary

    async def _count_under(self, where: str, params: tuple) -> DeleteSummary:
        row = await self._one(
            "SELECT COUNT(DISTINCT o.id), COUNT(DISTINCT p.id), COUNT(DISTINCT d.id) "
            "FROM organizations o LEFT JOIN projects p ON p.org_id = o.id "
            f"LEFT JOIN databases d ON d.project_id = p.id WHERE {where}",
            params,
        )
        return DeleteSummary(row[0], row[1], row[2])

    # -- projects ---------------------------------------------------------------------------------
    async def list_projects(self, org_id: str | None = None) -> list[Project]:
        if org_id is None:
            rows = await self._all("SELECT id, org_id, name, created_at FROM projects ORDER BY name")
        else:
            rows = await self._all(
                "SELECT id, org_id, name, created_at FROM projects WHERE org_id = ? ORDER BY name",
                (org_id,),
            )
        return [Project(*r) for r in rows]

    async def organization_counts(self) -> dict[str, tuple[int, int]]:
        rows = await self._all(
            "SELECT o.id, COUNT(DISTINCT p.id), COUNT(DISTINCT d.id) FROM organizations o "
            "LEFT JOIN projects p ON p.org_id = o.id LEFT JOIN databases d ON d.project_id = p.id "
            "GROUP BY o.id"
        )
        return {r[0]: (r[1], r[2]) for r in rows}

    async def project_counts(self) -> dict[str, int]:
        rows = await self._all(
            "SELECT p.id, COUNT(d.id) FROM projects p LEFT JOIN databases d ON d.project_id = p.id "
            "GROUP BY p.id"
        )
        return {r[0]: r[1] for r in rows}

    async def create_project(self, org_id: str, name: str) -> Project:
        project = Project(new_id(), org_id, check_name(name, "project"), utc_now())
        if await self._one("SELECT 1 FROM organizations WHERE id = ?", (org_id,)) is None:
            raise NotFoundError("That organization no longer exists.")
        await self._write(
            "INSERT INTO projects (id, org_id, name, created_at) VALUES (?, ?, ?, ?)",
            (project.id, project.org_id, project.name, project.created_at),
            conflict=f"A project named {project.name!r} already exists in this organization.",
        )
        return project

    async def rename_project(self, project_id: str, name: str) -> Project:
        name = check_name(name, "project")
        changed = await self._write(
            "UPDATE projects SET name = ? WHERE id = ?", (name, project_id),
            conflict=f"A project named {name!r} already exists in this organization.",
        )
        if not changed:
            raise NotFoundError("That project no longer exists.")
        row = await self._one("SELECT id, org_id, name, created_at FROM projects WHERE id = ?",
                              (project_id,))
        return Project(*row)

    async def delete_project(self, project_id: str) -> DeleteSummary:
        async with self._transaction() as db:
            row = await self._one(
                "SELECT COUNT(d.id) FROM projects p LEFT JOIN databases d ON d.project_id = p.id "
                "WHERE p.id = ?",
                (project_id,),
            )
            cursor = await db.execute("DELETE FROM projects WHERE id = ?", (project_id,))
            if not cursor.rowcount:
                raise NotFoundError("That project no longer exists.")
        return DeleteSummary(projects=1, databases=row[0])

    # -- databases ------------------------------------------------------------------------------
    @staticmethod
    def _entry(row: sqlite3.Row | tuple) -> DatabaseEntry:
        return DatabaseEntry(
            id=row[0], project_id=row[1], name=row[2], kind=DatabaseKind(row[3]),
            masked_url=row[4], tier=Tier(row[5]), read_only=bool(row[6]),
            tags=tuple(json.loads(row[7])), created_at=row[8], url_token=row[9],
            meta_token=row[10],
        )

    async def list_databases(self, project_id: str | None = None) -> list[DatabaseEntry]:
        if project_id is None:
            rows = await self._all(f"SELECT {_DATABASE_COLUMNS} FROM databases ORDER BY name")
        else:
            rows = await self._all(
                f"SELECT {_DATABASE_COLUMNS} FROM databases WHERE project_id = ? ORDER BY name",
                (project_id,),
            )
        return [self._entry(r) for r in rows]

    async def get_database(self, database_id: str) -> DatabaseEntry:
        row = await self._one(f"SELECT {_DATABASE_COLUMNS} FROM databases WHERE id = ?",
                              (database_id,))
        if row is None:
            raise NotFoundError("That database entry no longer exists.")
        return self._entry(row)

    async def add_database(self, entry: DatabaseEntry) -> DatabaseEntry:
        check_name(entry.name, "database")
        if await self._one("SELECT 1 FROM projects WHERE id = ?", (entry.project_id,)) is None:
            raise NotFoundError("That project no longer exists.")
        await self._write(
            f"INSERT INTO databases ({_DATABASE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (entry.id, entry.project_id, entry.name, entry.kind.value, entry.masked_url,
             entry.tier.value, int(entry.read_only), json.dumps(list(entry.tags)),
             entry.created_at, entry.url_token, entry.meta_token),
            conflict=f"A database named {entry.name!r} already exists in this project.",
        )
        return entry

    async def update_database(self, entry: DatabaseEntry) -> DatabaseEntry:
        check_name(entry.name, "database")
        changed = await self._write(
            "UPDATE databases SET name = ?, kind = ?, masked_url = ?, tier = ?, read_only = ?, "
            "tags = ?, url_token = ?, meta_token = ? WHERE id = ?",
            (entry.name, entry.kind.value, entry.masked_url, entry.tier.value,
             int(entry.read_only), json.dumps(list(entry.tags)), entry.url_token,
             entry.meta_token, entry.id),
            conflict=f"A database named {entry.name!r} already exists in this project.",
        )
        if not changed:
            raise NotFoundError("That database entry no longer exists.")
        return entry

    async def delete_database(self, database_id: str) -> DeleteSummary:
        cursor = await self.db.execute("DELETE FROM databases WHERE id = ?", (database_id,))
        if not cursor.rowcount:
            raise NotFoundError("That database entry no longer exists.")
        return DeleteSummary(databases=1)

    # -- secrets ----------------------------------------------------------------------------
    async def rewrap_secrets(self, rewrap: Rewrap, key_check: str) -> int:
        async with self._transaction() as db:
            rows = await self._all("SELECT id, url_token, meta_token FROM databases")
            for database_id, token, meta_token in rows:
                await db.execute("UPDATE databases SET url_token = ? WHERE id = ?",
                                 (rewrap(database_id, token), database_id))
                if meta_token:
                    await db.execute(
                        "UPDATE databases SET meta_token = ? WHERE id = ?",
                        (rewrap(meta_context(database_id), meta_token), database_id))
            await db.execute(
                "INSERT INTO meta (key, value) VALUES ('key_check', ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key_check,),
            )
        return len(rows)

    # -- audit ------------------------------------------------------------------------------
    async def append_audit(self, actor: str, action: str, target: str, outcome: str,
                           detail: str = "") -> None:
        await self.db.execute(
            "INSERT INTO audit_log (at, actor, action, target, outcome, detail) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (utc_now(), actor, action, target, outcome, detail),
        )

    async def list_audit(self, limit: int = 100) -> list[AuditEntry]:
        rows = await self._all(
            "SELECT id, at, actor, action, target, outcome, detail FROM audit_log "
            "ORDER BY id DESC LIMIT ?",
            (limit,),
        )
        return [AuditEntry(*r) for r in rows]
