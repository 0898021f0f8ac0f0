"""The catalog's records, as plain dataclasses the UI can hold without touching a driver."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from studio_tui.services.errors import ValidationError
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


@dataclass(frozen=True, slots=True)
class Project:
    id: str
    org_id: str
    name: str
    created_at: str


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


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: str
    actor: str
    action: str
    target: str
    outcome: str
    detail: str = ""
