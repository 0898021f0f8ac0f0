"""Every catalog query, written once for SQLite and PostgreSQL.

SQL uses PostgreSQL's numbered placeholders ($1, $2 …); the SQLite backend rewrites them to ?1,
?2 …. Backends supply only a connection (autocommit), a write transaction (``BEGIN IMMEDIATE`` on
SQLite: one writer per file; a pooled connection's transaction on PostgreSQL), a named lock held
until the transaction ends (a PostgreSQL advisory lock; nothing more on SQLite, whose write
transaction already excludes every other writer) and ``FOR UPDATE`` where PostgreSQL needs it.
"""

from __future__ import annotations

import json
from abc import abstractmethod
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import replace
from typing import Any, ClassVar, Protocol

from studio_tui.services.errors import (
    ConflictError,
    NotFoundError,
    StudioError,
    ValidationError,
)
from studio_tui.services.kinds import DatabaseKind
from studio_tui.services.platform import audit_chain
from studio_tui.services.platform.migrations import (
    MIGRATIONS,
    SCHEMA_VERSION_TABLE,
    Step,
    Variant,
)
from studio_tui.services.platform.models import (
    AuditEntry,
    AuditFilter,
    AuditRecord,
    AuditVerification,
    AuthSession,
    DatabaseEntry,
    Invitation,
    LoginBucket,
    Member,
    Organization,
    Project,
    User,
    check_name,
    email_key,
    meta_context,
    new_id,
    utc_now,
)
from studio_tui.services.platform.rbac import Role
from studio_tui.services.platform.store import (
    FIRST_USER_TAKEN,
    BucketUpdate,
    CatalogStore,
    DeleteSummary,
    Rewrap,
)
from studio_tui.services.tiers import Tier


class CatalogUnavailableError(StudioError):
    code = "CATALOG_UNAVAILABLE"
    title = "Catalog unavailable"
    status = 503


class SqlConn(Protocol):
    async def fetch(self, sql: str, *args: Any) -> list[Sequence[Any]]: ...

    async def fetchrow(self, sql: str, *args: Any) -> Sequence[Any] | None: ...

    async def execute(self, sql: str, *args: Any) -> int:
        """Rows affected."""


_ORG_COLUMNS = "id, name, created_at, personal, version"
_PROJECT_COLUMNS = "id, org_id, name, created_at, version"
_DATABASE_COLUMNS = ("id, project_id, name, kind, masked_url, tier, read_only, tags, created_at, "
                     "url_token, meta_token, version")
_USER_COLUMNS = ("id, email, display_name, password_hash, totp_secret, created_at, banned_at, "
                 "deleted_at, password_changed_at, version")
_INVITATION_COLUMNS = ("token_sha256, org_id, email, role, invited_by, created_at, expires_at, "
                       "accepted_at")
_SESSION_COLUMNS = "token_sha256, user_id, created_at, expires_at, last_activity_at, origin"
_BUCKET_COLUMNS = "key, tokens, updated_at, failures, locked_until"
# In AuditEntry's field order.
_AUDIT_COLUMNS = ("id, at, action, outcome, user_id, user_name, org, project, database_name, "
                  "target, duration_ms, operation_id, origin, detail, prev_hash, hash")

_STALE = "was changed by someone else meanwhile; reload it and try again."


def _org(row: Sequence[Any]) -> Organization:
    return Organization(row[0], row[1], row[2], bool(row[3]), row[4])


def _project(row: Sequence[Any]) -> Project:
    return Project(row[0], row[1], row[2], row[3], row[4])


def _entry(row: Sequence[Any]) -> DatabaseEntry:
    return DatabaseEntry(
        id=row[0], project_id=row[1], name=row[2], kind=DatabaseKind(row[3]),
        masked_url=row[4], tier=Tier(row[5]), read_only=bool(row[6]),
        tags=tuple(json.loads(row[7])), created_at=row[8], url_token=row[9],
        meta_token=row[10], version=row[11],
    )


def _user(row: Sequence[Any]) -> User:
    return User(*row)


def _invitation(row: Sequence[Any]) -> Invitation:
    return Invitation(row[0], row[1], row[2], Role(row[3]), *row[4:])


def _session(row: Sequence[Any]) -> AuthSession:
    return AuthSession(*row)


def _bucket(row: Sequence[Any]) -> LoginBucket:
    return LoginBucket(row[0], float(row[1]), row[2], row[3], row[4])


def _audit(row: Sequence[Any]) -> AuditEntry:
    return AuditEntry(*row)


class SqlCatalogStore(CatalogStore):
    backend: ClassVar[str]  # "sqlite" or "postgres": picks a migration's Variant
    FOR_UPDATE: ClassVar[str] = ""  # " FOR UPDATE" where row locks exist
    integrity_errors: ClassVar[tuple[type[BaseException], ...]] = ()

    # -- what a backend supplies --------------------------------------------------------------
    @abstractmethod
    def _connection(self) -> AbstractAsyncContextManager[SqlConn]:
        """A connection in autocommit, for one statement or a read."""

    @abstractmethod
    def _transaction(self) -> AbstractAsyncContextManager[SqlConn]:
        """A write transaction: committed on exit, rolled back on any exception."""

    async def _lock(self, conn: SqlConn, name: str) -> None:
        """Hold a named lock until the transaction ends (SQLite's write lock already does)."""

    # -- small helpers --------------------------------------------------------------------
    async def _one(self, sql: str, *args: Any) -> Sequence[Any] | None:
        async with self._connection() as conn:
            return await conn.fetchrow(sql, *args)

    async def _all(self, sql: str, *args: Any) -> list[Sequence[Any]]:
        async with self._connection() as conn:
            return await conn.fetch(sql, *args)

    async def _write(self, conn: SqlConn, sql: str, *args: Any, conflict: str) -> int:
        try:
            return await conn.execute(sql, *args)
        except self.integrity_errors:
            raise ConflictError(conflict) from None

    async def _write_one(self, sql: str, *args: Any, conflict: str) -> int:
        async with self._connection() as conn:
            return await self._write(conn, sql, *args, conflict=conflict)

    async def _stale_or_missing(self, conn: SqlConn, table: str, row_id: str, what: str,
                                name: str) -> StudioError:
        exists = await conn.fetchrow(f"SELECT 1 FROM {table} WHERE id = $1", row_id)
        if exists is None:
            return NotFoundError(f"That {what} no longer exists.")
        return ConflictError(f"The {what} {name!r} {_STALE}")

    # -- schema ---------------------------------------------------------------------------
    async def _migrate(self) -> None:
        """All pending migrations in one transaction, under a lock: two instances starting
        together migrate once; the second finds the work done."""
        async with self._transaction() as conn:
            await self._lock(conn, "studio-tui:migrate")
            await conn.execute(SCHEMA_VERSION_TABLE)
            row = await conn.fetchrow("SELECT MAX(version) FROM schema_version")
            current = int(row[0] or 0)
            for version, description, statements in MIGRATIONS:
                if version <= current:
                    continue
                for statement in statements:
                    if isinstance(statement, Step):
                        await getattr(self, f"_step_{statement.name}")(conn)
                    elif isinstance(statement, Variant):
                        await conn.execute(statement.for_backend(self.backend))
                    else:
                        await conn.execute(statement)
                await conn.execute(
                    "INSERT INTO schema_version (version, description, applied_at) "
                    "VALUES ($1, $2, $3)", version, description, utc_now())

    async def _step_seal_audit_chain(self, conn: SqlConn) -> None:
        prev_id, prev_hash = 0, audit_chain.GENESIS
        for row in await conn.fetch(f"SELECT {_AUDIT_COLUMNS} FROM audit_log ORDER BY id"):
            entry = replace(_audit(row), prev_hash=prev_hash)
            entry = replace(entry, hash=audit_chain.entry_hash(prev_hash, entry))
            await conn.execute("UPDATE audit_log SET prev_hash = $1, hash = $2 WHERE id = $3",
                               entry.prev_hash, entry.hash, entry.id)
            prev_id, prev_hash = entry.id, entry.hash
        if prev_id:
            await self._set_meta(conn, audit_chain.HEAD_KEY,
                                 audit_chain.encode_head(prev_id, prev_hash))

    async def schema_version(self) -> int:
        row = await self._one("SELECT MAX(version) FROM schema_version")
        return int(row[0] or 0)

    # -- meta -----------------------------------------------------------------------------
    async def get_meta(self, key: str) -> str | None:
        row = await self._one("SELECT value FROM meta WHERE key = $1", key)
        return None if row is None else row[0]

    @staticmethod
    async def _set_meta(conn: SqlConn, key: str, value: str) -> None:
        await conn.execute(
            "INSERT INTO meta (key, value) VALUES ($1, $2) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value", key, value)

    async def set_meta(self, key: str, value: str) -> None:
        async with self._connection() as conn:
            await self._set_meta(conn, key, value)

    async def set_meta_if_absent(self, key: str, value: str) -> str:
        async with self._transaction() as conn:
            await conn.execute("INSERT INTO meta (key, value) VALUES ($1, $2) "
                               "ON CONFLICT (key) DO NOTHING", key, value)
            row = await conn.fetchrow("SELECT value FROM meta WHERE key = $1", key)
        return row[0]

    # -- organizations --------------------------------------------------------------------
    async def list_organizations(self) -> list[Organization]:
        rows = await self._all(
            f"SELECT {_ORG_COLUMNS} FROM organizations ORDER BY personal DESC, name")
        return [_org(r) for r in rows]

    async def create_organization(self, name: str, *, personal: bool = False) -> Organization:
        org = Organization(new_id(), check_name(name, "organization"), utc_now(), personal)
        await self._write_one(
            "INSERT INTO organizations (id, name, personal, created_at, version) "
            "VALUES ($1, $2, $3, $4, $5)",
            org.id, org.name, int(org.personal), org.created_at, org.version,
            conflict=f"An organization named {org.name!r} already exists.")
        return org

    async def rename_organization(self, org_id: str, name: str, *,
                                  version: int | None = None) -> Organization:
        name = check_name(name, "organization")
        row = await self._rename("organizations", _ORG_COLUMNS, "organization", org_id, name,
                                 version, f"An organization named {name!r} already exists.")
        return _org(row)

    async def _rename(self, table: str, columns: str, what: str, row_id: str, name: str,
                      version: int | None, conflict: str) -> Sequence[Any]:
        """Rename one row of ``table`` (organizations or projects), only if it is still at
        ``version`` when one is given; returns the renamed row's ``columns``."""
        checked = "" if version is None else " AND version = $3"
        async with self._transaction() as conn:
            changed = await self._write(
                conn, f"UPDATE {table} SET name = $1, version = version + 1 WHERE id = $2"
                f"{checked}", name, row_id, *(() if version is None else (version,)),
                conflict=conflict)
            if not changed:
                raise await self._stale_or_missing(conn, table, row_id, what, name)
            return await conn.fetchrow(f"SELECT {columns} FROM {table} WHERE id = $1", row_id)

    async def delete_organization(self, org_id: str) -> DeleteSummary:
        async with self._transaction() as conn:
            row = await conn.fetchrow(
                "SELECT COUNT(DISTINCT o.id), COUNT(DISTINCT p.id), COUNT(DISTINCT d.id) "
                "FROM organizations o LEFT JOIN projects p ON p.org_id = o.id "
                "LEFT JOIN databases d ON d.project_id = p.id WHERE o.id = $1", org_id)
            if not await conn.execute("DELETE FROM organizations WHERE id = $1", org_id):
                raise NotFoundError("That organization no longer exists.")
        return DeleteSummary(row[0], row[1], row[2])

    # -- projects -------------------------------------------------------------------------
    async def list_projects(self, org_id: str | None = None) -> list[Project]:
        if org_id is None:
            rows = await self._all(f"SELECT {_PROJECT_COLUMNS} FROM projects ORDER BY name")
        else:
            rows = await self._all(
                f"SELECT {_PROJECT_COLUMNS} FROM projects WHERE org_id = $1 ORDER BY name", org_id)
        return [_project(r) for r in rows]

    async def organization_counts(self) -> dict[str, tuple[int, int]]:
        rows = await self._all(
            "SELECT o.id, COUNT(DISTINCT p.id), COUNT(DISTINCT d.id) FROM organizations o "
            "LEFT JOIN projects p ON p.org_id = o.id LEFT JOIN databases d ON d.project_id = p.id "
            "GROUP BY o.id")
        return {r[0]: (r[1], r[2]) for r in rows}

    async def project_counts(self) -> dict[str, int]:
        rows = await self._all(
            "SELECT p.id, COUNT(d.id) FROM projects p LEFT JOIN databases d ON d.project_id = p.id "
            "GROUP BY p.id")
        return {r[0]: r[1] for r in rows}

    async def create_project(self, org_id: str, name: str) -> Project:
        project = Project(new_id(), org_id, check_name(name, "project"), utc_now())
        async with self._transaction() as conn:
            if await conn.fetchrow("SELECT 1 FROM organizations WHERE id = $1", org_id) is None:
                raise NotFoundError("That organization no longer exists.")
            await self._write(
                conn, "INSERT INTO projects (id, org_id, name, created_at, version) "
                "VALUES ($1, $2, $3, $4, $5)",
                project.id, project.org_id, project.name, project.created_at, project.version,
                conflict=f"A project named {project.name!r} already exists in this organization.")
        return project

    async def rename_project(self, project_id: str, name: str, *,
                             version: int | None = None) -> Project:
        name = check_name(name, "project")
        row = await self._rename(
            "projects", _PROJECT_COLUMNS, "project", project_id, name, version,
            f"A project named {name!r} already exists in this organization.")
        return _project(row)

    async def delete_project(self, project_id: str) -> DeleteSummary:
        async with self._transaction() as conn:
            row = await conn.fetchrow(
                "SELECT COUNT(d.id) FROM projects p LEFT JOIN databases d ON d.project_id = p.id "
                "WHERE p.id = $1", project_id)
            if not await conn.execute("DELETE FROM projects WHERE id = $1", project_id):
                raise NotFoundError("That project no longer exists.")
        return DeleteSummary(projects=1, databases=row[0])

    # -- databases ------------------------------------------------------------------------
    async def list_databases(self, project_id: str | None = None) -> list[DatabaseEntry]:
        if project_id is None:
            rows = await self._all(f"SELECT {_DATABASE_COLUMNS} FROM databases ORDER BY name")
        else:
            rows = await self._all(
                f"SELECT {_DATABASE_COLUMNS} FROM databases WHERE project_id = $1 ORDER BY name",
                project_id)
        return [_entry(r) for r in rows]

    async def get_database(self, database_id: str) -> DatabaseEntry:
        row = await self._one(f"SELECT {_DATABASE_COLUMNS} FROM databases WHERE id = $1",
                              database_id)
        if row is None:
            raise NotFoundError("That database entry no longer exists.")
        return _entry(row)

    async def add_database(self, entry: DatabaseEntry) -> DatabaseEntry:
        check_name(entry.name, "database")
        entry = replace(entry, version=1)
        async with self._transaction() as conn:
            if await conn.fetchrow("SELECT 1 FROM projects WHERE id = $1",
                                   entry.project_id) is None:
                raise NotFoundError("That project no longer exists.")
            await self._write(
                conn, f"INSERT INTO databases ({_DATABASE_COLUMNS}) "
                "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                entry.id, entry.project_id, entry.name, entry.kind.value, entry.masked_url,
                entry.tier.value, int(entry.read_only), json.dumps(list(entry.tags)),
                entry.created_at, entry.url_token, entry.meta_token, entry.version,
                conflict=f"A database named {entry.name!r} already exists in this project.")
        return entry

    async def update_database(self, entry: DatabaseEntry) -> DatabaseEntry:
        check_name(entry.name, "database")
        async with self._transaction() as conn:
            changed = await self._write(
                conn, "UPDATE databases SET name = $1, kind = $2, masked_url = $3, tier = $4, "
                "read_only = $5, tags = $6, url_token = $7, meta_token = $8, "
                "version = version + 1 WHERE id = $9 AND version = $10",
                entry.name, entry.kind.value, entry.masked_url, entry.tier.value,
                int(entry.read_only), json.dumps(list(entry.tags)), entry.url_token,
                entry.meta_token, entry.id, entry.version,
                conflict=f"A database named {entry.name!r} already exists in this project.")
            if not changed:
                raise await self._stale_or_missing(conn, "databases", entry.id,
                                                   "database entry", entry.name)
        return replace(entry, version=entry.version + 1)

    async def delete_database(self, database_id: str) -> DeleteSummary:
        async with self._connection() as conn:
            if not await conn.execute("DELETE FROM databases WHERE id = $1", database_id):
                raise NotFoundError("That database entry no longer exists.")
        return DeleteSummary(databases=1)

    # -- secrets --------------------------------------------------------------------------
    async def rewrap_secrets(self, rewrap: Rewrap, key_check: str) -> int:
        async with self._transaction() as conn:
            rows = await conn.fetch(f"SELECT id, url_token, meta_token FROM databases"
                                    f"{self.FOR_UPDATE}")
            for database_id, token, meta_token in rows:
                await conn.execute("UPDATE databases SET url_token = $1 WHERE id = $2",
                                   rewrap(database_id, token), database_id)
                if meta_token:
                    await conn.execute("UPDATE databases SET meta_token = $1 WHERE id = $2",
                                       rewrap(meta_context(database_id), meta_token), database_id)
            await self._set_meta(conn, "key_check", key_check)
        return len(rows)

    # -- users ----------------------------------------------------------------------------
    @staticmethod
    def _checked_email(email: str) -> str:
        email = email.strip()
        if "@" not in email or len(email) > 254 or any(c.isspace() for c in email):
            raise ValidationError(f"{email!r} is not an email address.",
                                  field_errors={"email": "an email address, like alice@example.com"})
        return email

    async def create_user(self, user: User) -> User:
        async with self._connection() as conn:
            return await self._insert_user(conn, user)

    async def create_first_user(self, user: User) -> User:
        # Count and insert in one transaction under one lock: of two instances signing up at
        # once, the second sees the first's row.
        async with self._transaction() as conn:
            await self._lock(conn, "studio-tui:first-user")
            row = await conn.fetchrow("SELECT COUNT(*) FROM users")
            if int(row[0]):
                raise ConflictError(FIRST_USER_TAKEN)
            return await self._insert_user(conn, user)

    async def _insert_user(self, conn: SqlConn, user: User) -> User:
        user = replace(user, email=self._checked_email(user.email),
                       created_at=user.created_at or utc_now(), version=1)
        await self._write(
            conn, f"INSERT INTO users ({_USER_COLUMNS}, email_key) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            user.id, user.email, user.display_name, user.password_hash, user.totp_secret,
            user.created_at, user.banned_at, user.deleted_at, user.password_changed_at,
            user.version, email_key(user.email),
            conflict=f"An account with the email {user.email!r} already exists.")
        return user

    async def get_user(self, user_id: str) -> User:
        row = await self._one(f"SELECT {_USER_COLUMNS} FROM users WHERE id = $1", user_id)
        if row is None:
            raise NotFoundError("That user no longer exists.")
        return _user(row)

    async def find_user_by_email(self, email: str) -> User | None:
        row = await self._one(f"SELECT {_USER_COLUMNS} FROM users WHERE email_key = $1",
                              email_key(email))
        return None if row is None else _user(row)

    async def update_user(self, user: User) -> User:
        email = self._checked_email(user.email)
        async with self._transaction() as conn:
            changed = await self._write(
                conn, "UPDATE users SET email = $1, email_key = $2, display_name = $3, "
                "password_hash = $4, totp_secret = $5, banned_at = $6, deleted_at = $7, "
                "password_changed_at = $8, version = version + 1 WHERE id = $9 AND version = $10",
                email, email_key(email), user.display_name, user.password_hash, user.totp_secret,
                user.banned_at, user.deleted_at, user.password_changed_at, user.id, user.version,
                conflict=f"An account with the email {email!r} already exists.")
            if not changed:
                raise await self._stale_or_missing(conn, "users", user.id, "account", email)
        return replace(user, email=email, version=user.version + 1)

    async def list_users(self, *, include_deleted: bool = False) -> list[User]:
        where = "" if include_deleted else " WHERE deleted_at IS NULL"
        rows = await self._all(f"SELECT {_USER_COLUMNS} FROM users{where} ORDER BY email_key")
        return [_user(r) for r in rows]

    async def count_users(self, *, include_deleted: bool = False) -> int:
        where = "" if include_deleted else " WHERE deleted_at IS NULL"
        row = await self._one(f"SELECT COUNT(*) FROM users{where}")
        return int(row[0])

    # -- members --------------------------------------------------------------------------
    async def list_members(self, org_id: str) -> list[Member]:
        rows = await self._all(
            "SELECT m.org_id, m.user_id, m.role, u.email, u.display_name, u.banned_at "
            "FROM members m JOIN users u ON u.id = m.user_id WHERE m.org_id = $1 "
            "ORDER BY u.email_key", org_id)
        return [Member(r[0], r[1], Role(r[2]), r[3], r[4], r[5]) for r in rows]

    async def memberships(self, user_id: str) -> dict[str, Role]:
        rows = await self._all("SELECT org_id, role FROM members WHERE user_id = $1", user_id)
        return {r[0]: Role(r[1]) for r in rows}

    async def _locked_roles(self, conn: SqlConn, org_id: str) -> dict[str, Role]:
        """Lock the org (and its member rows) for this transaction; its members' roles."""
        if await conn.fetchrow(f"SELECT id FROM organizations WHERE id = $1{self.FOR_UPDATE}",
                               org_id) is None:
            raise NotFoundError("That organization no longer exists.")
        rows = await conn.fetch(
            f"SELECT user_id, role FROM members WHERE org_id = $1{self.FOR_UPDATE}", org_id)
        return {r[0]: Role(r[1]) for r in rows}

    @staticmethod
    def _keep_an_owner(roles: dict[str, Role], user_id: str, new_role: Role | None) -> None:
        was_owner = roles.get(user_id) is Role.OWNER
        if not was_owner or new_role is Role.OWNER:
            return
        if not any(role is Role.OWNER for uid, role in roles.items() if uid != user_id):
            raise ConflictError(
                "This is the organization's last owner; make another member an owner first.")

    async def set_member(self, org_id: str, user_id: str, role: Role) -> Member:
        role = Role(role)
        async with self._transaction() as conn:
            roles = await self._locked_roles(conn, org_id)
            if await conn.fetchrow("SELECT 1 FROM users WHERE id = $1", user_id) is None:
                raise NotFoundError("That user no longer exists.")
            self._keep_an_owner(roles, user_id, role)
            await conn.execute(
                "INSERT INTO members (org_id, user_id, role) VALUES ($1, $2, $3) "
                "ON CONFLICT (org_id, user_id) DO UPDATE SET role = excluded.role",
                org_id, user_id, role.value)
        return Member(org_id, user_id, role)

    async def remove_member(self, org_id: str, user_id: str) -> None:
        async with self._transaction() as conn:
            roles = await self._locked_roles(conn, org_id)
            if user_id not in roles:
                raise NotFoundError("That user is not a member of this organization.")
            self._keep_an_owner(roles, user_id, None)
            await conn.execute("DELETE FROM members WHERE org_id = $1 AND user_id = $2",
                               org_id, user_id)

    # -- invitations ----------------------------------------------------------------------
    async def create_invitation(self, invitation: Invitation) -> Invitation:
        invitation = replace(invitation, email=self._checked_email(invitation.email),
                             role=Role(invitation.role))
        async with self._transaction() as conn:
            if await conn.fetchrow("SELECT 1 FROM organizations WHERE id = $1",
                                   invitation.org_id) is None:
                raise NotFoundError("That organization no longer exists.")
            await self._write(
                conn, f"INSERT INTO invitations ({_INVITATION_COLUMNS}) "
                "VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                invitation.token_sha256, invitation.org_id, invitation.email,
                invitation.role.value, invitation.invited_by, invitation.created_at,
                invitation.expires_at, invitation.accepted_at,
                conflict="That invitation token is already in use.")
        return invitation

    async def find_invitation(self, token_sha256: str) -> Invitation | None:
        row = await self._one(
            f"SELECT {_INVITATION_COLUMNS} FROM invitations WHERE token_sha256 = $1", token_sha256)
        return None if row is None else _invitation(row)

    async def list_invitations(self, org_id: str) -> list[Invitation]:
        rows = await self._all(
            f"SELECT {_INVITATION_COLUMNS} FROM invitations "
            "WHERE org_id = $1 AND accepted_at IS NULL ORDER BY created_at, email", org_id)
        return [_invitation(r) for r in rows]

    async def accept_invitation(self, token_sha256: str, user_id: str, *,
                                now: str | None = None) -> Member:
        now = now or utc_now()
        async with self._transaction() as conn:
            row = await conn.fetchrow(
                f"SELECT {_INVITATION_COLUMNS} FROM invitations WHERE token_sha256 = $1"
                f"{self.FOR_UPDATE}", token_sha256)
            if row is None:
                raise NotFoundError("That invitation does not exist or was withdrawn.")
            invitation = _invitation(row)
            if invitation.accepted_at is not None:
                raise ConflictError("That invitation was already used.")
            if invitation.expires_at <= now:
                raise ConflictError("That invitation has expired; ask for a new one.")
            await self._locked_roles(conn, invitation.org_id)
            await conn.execute("UPDATE invitations SET accepted_at = $1 WHERE token_sha256 = $2",
                               now, token_sha256)
            await conn.execute(
                "INSERT INTO members (org_id, user_id, role) VALUES ($1, $2, $3) "
                "ON CONFLICT (org_id, user_id) DO NOTHING",
                invitation.org_id, user_id, invitation.role.value)
            role = await conn.fetchrow(
                "SELECT role FROM members WHERE org_id = $1 AND user_id = $2",
                invitation.org_id, user_id)
        return Member(invitation.org_id, user_id, Role(role[0]))

    # -- auth sessions --------------------------------------------------------------------
    async def create_session(self, session: AuthSession) -> AuthSession:
        await self._write_one(
            f"INSERT INTO user_sessions ({_SESSION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)",
            session.token_sha256, session.user_id, session.created_at, session.expires_at,
            session.last_activity_at, session.origin,
            conflict="That session token is already in use.")
        return session

    async def get_session(self, token_sha256: str) -> AuthSession | None:
        row = await self._one(
            f"SELECT {_SESSION_COLUMNS} FROM user_sessions WHERE token_sha256 = $1", token_sha256)
        return None if row is None else _session(row)

    async def touch_session(self, token_sha256: str, last_activity_at: str,
                            expires_at: str) -> bool:
        async with self._connection() as conn:
            return bool(await conn.execute(
                "UPDATE user_sessions SET last_activity_at = $1, expires_at = $2 "
                "WHERE token_sha256 = $3", last_activity_at, expires_at, token_sha256))

    async def delete_session(self, token_sha256: str) -> bool:
        async with self._connection() as conn:
            return bool(await conn.execute(
                "DELETE FROM user_sessions WHERE token_sha256 = $1", token_sha256))

    async def delete_user_sessions(self, user_id: str) -> int:
        async with self._connection() as conn:
            return await conn.execute("DELETE FROM user_sessions WHERE user_id = $1", user_id)

    async def delete_expired_sessions(self, now: str) -> int:
        async with self._connection() as conn:
            return await conn.execute("DELETE FROM user_sessions WHERE expires_at <= $1", now)

    # -- login rate limiting --------------------------------------------------------------
    async def update_login_bucket(self, key: str, update: BucketUpdate) -> LoginBucket:
        async with self._transaction() as conn:
            # A lock on the key, not the row: the first attempt has no row to lock yet.
            await self._lock(conn, f"login:{key}")
            row = await conn.fetchrow(
                f"SELECT {_BUCKET_COLUMNS} FROM login_buckets WHERE key = $1", key)
            bucket = replace(update(None if row is None else _bucket(row)), key=key)
            await conn.execute(
                f"INSERT INTO login_buckets ({_BUCKET_COLUMNS}) VALUES ($1, $2, $3, $4, $5) "
                "ON CONFLICT (key) DO UPDATE SET tokens = excluded.tokens, "
                "updated_at = excluded.updated_at, failures = excluded.failures, "
                "locked_until = excluded.locked_until",
                key, float(bucket.tokens), bucket.updated_at, int(bucket.failures),
                bucket.locked_until)
        return bucket

    async def get_login_bucket(self, key: str) -> LoginBucket | None:
        row = await self._one(f"SELECT {_BUCKET_COLUMNS} FROM login_buckets WHERE key = $1", key)
        return None if row is None else _bucket(row)

    async def delete_stale_login_buckets(self, updated_before: str) -> int:
        async with self._connection() as conn:
            return await conn.execute(
                "DELETE FROM login_buckets WHERE updated_at < $1 "
                "AND (locked_until IS NULL OR locked_until < $1)", updated_before)

    # -- audit ----------------------------------------------------------------------------
    async def append_audit(self, record: AuditRecord) -> AuditEntry:
        async with self._transaction() as conn:
            await self._lock(conn, "studio-tui:audit")
            head = await conn.fetchrow("SELECT value FROM meta WHERE key = $1",
                                       audit_chain.HEAD_KEY)
            head_id, prev_hash = audit_chain.decode_head(None if head is None else head[0])
            last = await conn.fetchrow("SELECT MAX(id) FROM audit_log")
            entry = AuditEntry(
                id=max(head_id, int(last[0] or 0)) + 1, at=record.at or audit_chain.audit_now(),
                action=record.action, outcome=record.outcome, user_id=record.user_id,
                user_name=record.user_name, org=record.org, project=record.project,
                database=record.database, target=record.target, duration_ms=record.duration_ms,
                operation_id=record.operation_id, origin=record.origin, detail=record.detail,
                prev_hash=prev_hash)
            entry = replace(entry, hash=audit_chain.entry_hash(prev_hash, entry))
            await conn.execute(
                f"INSERT INTO audit_log ({_AUDIT_COLUMNS}) VALUES "
                "($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
                entry.id, entry.at, entry.action, entry.outcome, entry.user_id, entry.user_name,
                entry.org, entry.project, entry.database, entry.target, entry.duration_ms,
                entry.operation_id, entry.origin, entry.detail, entry.prev_hash, entry.hash)
            await self._set_meta(conn, audit_chain.HEAD_KEY,
                                 audit_chain.encode_head(entry.id, entry.hash))
        return entry

    async def list_audit(self, filter: AuditFilter | None = None, limit: int = 100,
                         before_id: int | None = None) -> list[AuditEntry]:
        f = filter or AuditFilter()
        clauses: list[str] = []
        args: list[Any] = []

        def where(sql: str, *values: Any) -> None:
            placeholders = [f"${len(args) + i + 1}" for i in range(len(values))]
            clauses.append(sql.format(*placeholders))
            args.extend(values)

        if f.user is not None:
            where("(user_id = {0} OR user_name = {1})", f.user, f.user)
        if f.action is not None:
            where("action = {0}", f.action)
        if f.database is not None:
            where("database_name = {0}", f.database)
        if f.outcome is not None:
            where("outcome = {0}", f.outcome)
        if f.since is not None:
            where("at >= {0}", f.since)
        if f.until is not None:
            where("at < {0}", f.until)
        if before_id is not None:
            where("id < {0}", int(before_id))
        sql = f"SELECT {_AUDIT_COLUMNS} FROM audit_log"
        if clauses:
            sql += " WHERE " + " AND ".join(clauses)
        sql += f" ORDER BY id DESC LIMIT ${len(args) + 1}"
        return [_audit(r) for r in await self._all(sql, *args, int(limit))]

    async def iter_audit(self, *, batch: int = 500) -> AsyncIterator[AuditEntry]:
        after = 0
        while True:
            rows = await self._all(
                f"SELECT {_AUDIT_COLUMNS} FROM audit_log WHERE id > $1 ORDER BY id LIMIT $2",
                after, batch)
            for row in rows:
                yield _audit(row)
            if len(rows) < batch:
                return
            after = rows[-1][0]

    async def verify_audit_chain(self) -> AuditVerification:
        head = await self.get_meta(audit_chain.HEAD_KEY)
        return await audit_chain.verify_chain(self.iter_audit(), head)
