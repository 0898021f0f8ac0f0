"""Versioned schema of the catalog, written in SQL that SQLite and PostgreSQL both accept.

Append a new entry to add a version; never edit an applied one.
"""

from __future__ import annotations

SCHEMA_VERSION_TABLE = """CREATE TABLE IF NOT EXISTS schema_version (
    version INTEGER PRIMARY KEY,
    description TEXT NOT NULL,
    applied_at TEXT NOT NULL
)"""

MIGRATIONS: list[tuple[int, str, list[str]]] = [
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
            """CREATE TABLE audit_log (
                id INTEGER PRIMARY KEY,
                at TEXT NOT NULL,
                actor TEXT NOT NULL,
                action TEXT NOT NULL,
                target TEXT NOT NULL,
                outcome TEXT NOT NULL,
                detail TEXT NOT NULL DEFAULT ''
            )""",
            "CREATE INDEX idx_audit_log_at ON audit_log(at)",
        ],
    ),
    (
        2,
        "databases: the pg-meta URL and CRYPTO_KEY of a PostgreSQL entry, encrypted",
        ["ALTER TABLE databases ADD COLUMN meta_token TEXT NOT NULL DEFAULT ''"],
    ),
]

LATEST_VERSION = MIGRATIONS[-1][0]
