"""The catalog's records, as plain dataclasses the UI can hold without touching a driver."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from studio_tui.services.errors import ValidationError
from studio_tui.services.platform.rbac import Role
from studio_tui.services.tiers import Tier
from studio_tui.services.kinds import DatabaseKind

_NAME = re.compile(r"^[^\x00-\x1f/]{1,64}$")


def new_id() -> str:
    return uuid.uuid4().hex


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def check_name(name: str, what: str) -> str:
    """Names are shown in lists and typed in commands: 1–64 printable characters, no '/'."""
    name = name.strip()
    if not _NAME.match(name):
        raise ValidationError(
            f"A {what} name is 1 to 64 printable characters without '/'.",
            field_errors={"name": "1–64 printable characters, no '/'"},
        )
    return name


@dataclass(frozen=True, slots=True)
class Organization:
    id: str
    name: str
    created_at: str
    personal: bool = False
    # Optimistic concurrency: a rename with ``version`` given succeeds only on this version.
    version: int = 1


@dataclass(frozen=True, slots=True)
class Project:
    id: str
    org_id: str
    name: str
    created_at: str
    version: int = 1


def meta_context(database_id: str) -> str:
    """What an entry's pg-meta token is encrypted for: that entry, and not as its URL."""
    return f"{database_id}/pg-meta"


@dataclass(frozen=True, slots=True)
class DatabaseEntry:
    """A saved connection. The URL itself stays encrypted; ``masked_url`` is safe to show."""

    id: str
    project_id: str
    name: str
    kind: DatabaseKind
    masked_url: str
    tier: Tier = Tier.FREE
    read_only: bool = False
    tags: tuple[str, ...] = ()
    created_at: str = ""
    url_token: str = field(default="", repr=False)
    # A PostgreSQL entry's pg-meta URL and CRYPTO_KEY, encrypted together ('' when none).
    meta_token: str = field(default="", repr=False)
    # ``update_database`` succeeds only if the stored row still has this version.
    version: int = 1


def email_key(email: str) -> str:
    """How emails are compared: case-insensitively (unique index on this form)."""
    return email.strip().casefold()


@dataclass(frozen=True, slots=True)
class User:
    """A team-mode account. ``password_hash`` and ``totp_secret`` are opaque to the store: the
    caller hashes the password and encrypts the TOTP secret before handing them over."""

    id: str
    email: str
    display_name: str = ""
    password_hash: str | None = field(default=None, repr=False)
    totp_secret: str | None = field(default=None, repr=False)
    created_at: str = ""
    banned_at: str | None = None
    deleted_at: str | None = None
    password_changed_at: str | None = None
    # ``update_user`` succeeds only if the stored row still has this version.
    version: int = 1

    @property
    def active(self) -> bool:
        return self.banned_at is None and self.deleted_at is None


@dataclass(frozen=True, slots=True)
class Member:
    org_id: str
    user_id: str
    role: Role
    # Filled by ``list_members`` (joined from users) for display; '' elsewhere.
    email: str = ""
    display_name: str = ""
    banned_at: str | None = None


@dataclass(frozen=True, slots=True)
class Invitation:
    """An invitation to join an organization. Only the SHA-256 of its token is stored."""

    token_sha256: str
    org_id: str
    email: str
    role: Role
    invited_by: str
    created_at: str
    expires_at: str
    accepted_at: str | None = None


@dataclass(frozen=True, slots=True)
class AuthSession:
    """A signed-in session. Keyed by the SHA-256 of its token: the clear token is never stored."""

    token_sha256: str
    user_id: str
    created_at: str
    expires_at: str
    last_activity_at: str | None = None
    origin: str = ""


@dataclass(frozen=True, slots=True)
class LoginBucket:
    """Login rate-limiting state of one key ("account:alice@x", "origin:10.0.0.5"): a token
    bucket, the run of consecutive failures, and a lockout end (ISO UTC) or None."""

    key: str
    tokens: float
    updated_at: str
    failures: int = 0
    locked_until: str | None = None


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """What a caller audits. The store adds id, time and the hash chain (``AuditEntry``)."""

    action: str
    outcome: str = "ok"  # ok | failed | denied
    user_id: str = ""
    user_name: str = ""
    org: str = ""
    project: str = ""
    database: str = ""
    target: str = ""  # key, collection or table
    duration_ms: int | None = None
    operation_id: str = ""
    origin: str = ""
    detail: str = ""
    # Set by the store when None; tests and imports may give it.
    at: str | None = None


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """A stored audit row: ``hash = sha256(prev_hash + canonical JSON of the fields)``."""

    id: int
    at: str
    action: str
    outcome: str
    user_id: str = ""
    user_name: str = ""
    org: str = ""
    project: str = ""
    database: str = ""
    target: str = ""
    duration_ms: int | None = None
    operation_id: str = ""
    origin: str = ""
    detail: str = ""
    prev_hash: str = ""
    hash: str = ""


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """Every given field narrows the list; ``since`` is inclusive, ``until`` exclusive (ISO UTC)."""

    user: str | None = None  # a user id or name
    action: str | None = None
    database: str | None = None
    outcome: str | None = None
    since: str | None = None
    until: str | None = None


@dataclass(frozen=True, slots=True)
class AuditVerification:
    checked: int
    first_broken_id: int | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.first_broken_id is None and not self.reason
