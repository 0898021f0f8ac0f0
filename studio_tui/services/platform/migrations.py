"""Versioned schema of the catalog, written in SQL that SQLite and PostgreSQL both accept.

Append a new entry to add a version; never edit an applied one. A statement is SQL text, a
``Variant`` where the two backends need different DDL, or a ``Step`` the store runs in Python
(inside the same transaction) where SQL alone cannot do it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Variant:
    sqlite: str
    postgres: str

    def for_backend(self, backend: str) -> str:
        return getattr(self, backend)


@dataclass(frozen=True, slots=True)
class Step:
    """Runs ``SqlCatalogStore._step_<name>(conn)``."""

    name: str


Statement = str | Variant | Step

SCHEMA_VERSION_TABLE = """CREATE TABLE IF NOT EXISTS schema_version (
    version INTEGER PRIMARY KEY,
    description TEXT NOT NULL,
    applied_at TEXT NOT NULL
)"""

MIGRATIONS: list[tuple[int, str, list[Statement]]] = [
    (
        1,
        "catalog: organizations, projects, databases, users, members, sessions, audit",
        [
            """CREATE TABLE meta (
                key TEXT PRIMARY KEY,
                value TEXT NOT NULL
            )""",
            """CREATE TABLE organizations (
                id TEXT PRIMARY KEY,
                name TEXT NOT NULL UNIQUE,
                personal INTEGER NOT NULL DEFAULT 0,
                created_at TEXT NOT NULL
            )""",
            """CREATE TABLE projects (
                id TEXT PRIMARY KEY,
                org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
                name TEXT NOT NULL,
                created_at TEXT NOT NULL,
                UNIQUE (org_id, name)
            )""",
            """CREATE TABLE databases (
                id TEXT PRIMARY KEY,
                project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
                name TEXT NOT NULL,
                kind TEXT NOT NULL CHECK (kind IN ('redis', 'mongodb', 'postgres')),
                url_token TEXT NOT NULL,
                masked_url TEXT NOT NULL,
                tier TEXT NOT NULL DEFAULT 'free'
                    CHECK (tier IN ('free', 'starter', 'pro', 'enterprise')),
                read_only INTEGER NOT NULL DEFAULT 0,
                tags TEXT NOT NULL DEFAULT '[]',
                created_at TEXT NOT NULL,
                UNIQUE (project_id, name)
            )""",
            "CREATE INDEX idx_databases_project ON databases(project_id)",
            """CREATE TABLE users (
                id TEXT PRIMARY KEY,
                email TEXT NOT NULL UNIQUE,
                password_hash TEXT,
                created_at TEXT NOT NULL,
                disabled_at TEXT
            )""",
            """CREATE TABLE members (
                org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
                user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'developer', 'read_only')),
                PRIMARY KEY (org_id, user_id)
            )""",
            """CREATE TABLE user_sessions (
                token_sha256 TEXT PRIMARY KEY,
                user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                created_at TEXT NOT NULL,
                expires_at TEXT NOT NULL,
                last_activity_at TEXT
            )""",
            "CREATE INDEX idx_user_sessions_user ON user_sessions(user_id)",
            """CREATE TABLE login_attempts (
                email TEXT NOT NULL,
                at TEXT NOT NULL,
                succeeded INTEGER NOT NULL
            )""",
            Variant(
                """CREATE TABLE audit_log (
                id INTEGER PRIMARY KEY,
                at TEXT NOT NULL,
                actor TEXT NOT NULL,
                action TEXT NOT NULL,
                target TEXT NOT NULL,
                outcome TEXT NOT NULL,
                detail TEXT NOT NULL DEFAULT ''
            )""",
                # Ids are given by the store (the hash chain covers them): a plain BIGINT key.
                """CREATE TABLE audit_log (
                id BIGINT PRIMARY KEY,
                at TEXT NOT NULL,
                actor TEXT NOT NULL,
                action TEXT NOT NULL,
                target TEXT NOT NULL,
                outcome TEXT NOT NULL,
                detail TEXT NOT NULL DEFAULT ''
            )"""),
            "CREATE INDEX idx_audit_log_at ON audit_log(at)",
        ],
    ),
    (
        2,
        "databases: the pg-meta URL and CRYPTO_KEY of a PostgreSQL entry, encrypted",
        ["ALTER TABLE databases ADD COLUMN meta_token TEXT NOT NULL DEFAULT ''"],
    ),
    (
        3,
        "team mode: versions, accounts, invitations, session origins, login buckets, audit chain",
        [
            # Optimistic updates: a write names the version it read.
            "ALTER TABLE organizations ADD COLUMN version INTEGER NOT NULL DEFAULT 1",
            "ALTER TABLE projects ADD COLUMN version INTEGER NOT NULL DEFAULT 1",
            "ALTER TABLE databases ADD COLUMN version INTEGER NOT NULL DEFAULT 1",
            "ALTER TABLE users RENAME COLUMN disabled_at TO banned_at",
            # The casefolded email, computed by the store: one rule on both backends.
            "ALTER TABLE users ADD COLUMN email_key TEXT NOT NULL DEFAULT ''",
            "ALTER TABLE users ADD COLUMN display_name TEXT NOT NULL DEFAULT ''",
            "ALTER TABLE users ADD COLUMN totp_secret TEXT",
            "ALTER TABLE users ADD COLUMN deleted_at TEXT",
            "ALTER TABLE users ADD COLUMN password_changed_at TEXT",
            "ALTER TABLE users ADD COLUMN version INTEGER NOT NULL DEFAULT 1",
            "UPDATE users SET email_key = lower(trim(email))",
            "CREATE UNIQUE INDEX idx_users_email_key ON users(email_key)",
            "CREATE INDEX idx_members_user ON members(user_id)",
            """CREATE TABLE invitations (
                token_sha256 TEXT PRIMARY KEY,
                org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
                email TEXT NOT NULL,
                role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'developer', 'read_only')),
                invited_by TEXT NOT NULL,
                created_at TEXT NOT NULL,
                expires_at TEXT NOT NULL,
                accepted_at TEXT
            )""",
            "CREATE INDEX idx_invitations_org ON invitations(org_id)",
            "ALTER TABLE user_sessions ADD COLUMN origin TEXT NOT NULL DEFAULT ''",
            "CREATE INDEX idx_user_sessions_expires ON user_sessions(expires_at)",
            # login_attempts (a log) stays; the limiter's state is one row per key.
            """CREATE TABLE login_buckets (
                key TEXT PRIMARY KEY,
                tokens DOUBLE PRECISION NOT NULL,
                updated_at TEXT NOT NULL,
                failures INTEGER NOT NULL DEFAULT 0,
                locked_until TEXT
            )""",
            "ALTER TABLE audit_log RENAME COLUMN actor TO user_id",
            "ALTER TABLE audit_log ADD COLUMN user_name TEXT NOT NULL DEFAULT ''",
            "ALTER TABLE audit_log ADD COLUMN org TEXT NOT NULL DEFAULT ''",
            "ALTER TABLE audit_log ADD COLUMN project TEXT NOT NULL DEFAULT ''",
            "ALTER TABLE audit_log ADD COLUMN database_name TEXT NOT NULL DEFAULT ''",
            "ALTER TABLE audit_log ADD COLUMN duration_ms INTEGER",
            "ALTER TABLE audit_log ADD COLUMN operation_id TEXT NOT NULL DEFAULT ''",
            "ALTER TABLE audit_log ADD COLUMN origin TEXT NOT NULL DEFAULT ''",
            "ALTER TABLE audit_log ADD COLUMN prev_hash TEXT NOT NULL DEFAULT ''",
            "ALTER TABLE audit_log ADD COLUMN hash TEXT NOT NULL DEFAULT ''",
            "CREATE INDEX idx_audit_log_user ON audit_log(user_id)",
            "CREATE INDEX idx_audit_log_database ON audit_log(database_name)",
            # Rows written before the chain existed are chained now, in id order.
            Step("seal_audit_chain"),
        ],
    ),
]

LATEST_VERSION = MIGRATIONS[-1][0]
