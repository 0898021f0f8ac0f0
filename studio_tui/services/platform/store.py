"""The catalog store interface. SQLite is the embedded default; PostgreSQL (team mode) is the
shared one. Both implement these methods with the same SQL (``sql_store.SqlCatalogStore``) and
pass the same contract tests (tests/test_catalog_store.py, tests/test_team_store.py).

Timestamps are ISO 8601 UTC text as made by ``models.utc_now()``; compare only like with like.
Writes that lose a race raise ``ConflictError`` (unique names, stale versions, the last owner)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

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
)
from studio_tui.services.platform.rbac import Role

FIRST_USER_TAKEN = "Someone else signed up first: ask them for an invitation."


@dataclass(frozen=True, slots=True)
class DeleteSummary:
    """What a delete took with it, for the confirmation and the report."""

    organizations: int = 0
    projects: int = 0
    databases: int = 0


# Called with (database id, stored token); returns the re-encrypted token.
Rewrap = Callable[[str, str], str]

# Given a key's current bucket (None the first time), returns the new one. Runs inside the
# store's locked transaction: keep it quick and free of I/O.
BucketUpdate = Callable[[LoginBucket | None], LoginBucket]


class CatalogStore(ABC):
    """Async, and never blocks the event loop."""

    async def __aenter__(self) -> "CatalogStore":
        await self.open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @abstractmethod
    async def open(self) -> None:
        """Connect and bring the schema up to the latest migration."""

    @abstractmethod
    async def close(self) -> None: ...

    @abstractmethod
    async def schema_version(self) -> int: ...

    # -- meta (key check, first-run flags) ----------------------------------------------
    @abstractmethod
    async def get_meta(self, key: str) -> str | None: ...

    @abstractmethod
    async def set_meta(self, key: str, value: str) -> None: ...

    @abstractmethod
    async def set_meta_if_absent(self, key: str, value: str) -> str:
        """Store ``value`` unless the key is set; return the stored value either way (so two
        instances starting together agree on one, e.g. the key check)."""

    # -- organizations ----------------------------------------------------------------------
    @abstractmethod
    async def list_organizations(self) -> list[Organization]: ...

    @abstractmethod
    async def create_organization(self, name: str, *, personal: bool = False) -> Organization: ...

    @abstractmethod
    async def rename_organization(self, org_id: str, name: str, *,
                                  version: int | None = None) -> Organization:
        """With ``version``, ConflictError unless the stored row still has it."""

    @abstractmethod
    async def delete_organization(self, org_id: str) -> DeleteSummary: ...

    # -- projects ---------------------------------------------------------------------------
    @abstractmethod
    async def list_projects(self, org_id: str | None = None) -> list[Project]:
        """The projects of one organization, or of all when ``org_id`` is None."""

    @abstractmethod
    async def organization_counts(self) -> dict[str, tuple[int, int]]:
        """org id → (projects, databases), for the lists' count columns."""

    @abstractmethod
    async def project_counts(self) -> dict[str, int]:
        """project id → databases."""

    @abstractmethod
    async def create_project(self, org_id: str, name: str) -> Project: ...

    @abstractmethod
    async def rename_project(self, project_id: str, name: str, *,
                             version: int | None = None) -> Project:
        """With ``version``, ConflictError unless the stored row still has it."""

    @abstractmethod
    async def delete_project(self, project_id: str) -> DeleteSummary: ...

    # -- databases --------------------------------------------------------------------------
    @abstractmethod
    async def list_databases(self, project_id: str | None = None) -> list[DatabaseEntry]: ...

    @abstractmethod
    async def get_database(self, database_id: str) -> DatabaseEntry: ...

    @abstractmethod
    async def add_database(self, entry: DatabaseEntry) -> DatabaseEntry: ...

    @abstractmethod
    async def update_database(self, entry: DatabaseEntry) -> DatabaseEntry:
        """Optimistic: ConflictError unless the stored row still has ``entry.version``. Returns
        the entry as stored (version + 1)."""

    @abstractmethod
    async def delete_database(self, database_id: str) -> DeleteSummary: ...

    # -- secrets ----------------------------------------------------------------------------
    @abstractmethod
    async def rewrap_secrets(self, rewrap: Rewrap, key_check: str) -> int:
        """Re-encrypt every stored secret and replace the key check, all in one transaction:
        if ``rewrap`` raises, or the process dies, nothing has changed. Returns rows rewritten."""

    # -- users ------------------------------------------------------------------------------
    @abstractmethod
    async def create_user(self, user: User) -> User:
        """ConflictError when the email (case-insensitively) is taken."""

    @abstractmethod
    async def create_first_user(self, user: User) -> User:
        """``create_user`` only while the catalog has no user at all (the team's owner), as one
        locked transaction; ConflictError(FIRST_USER_TAKEN) when another got there first."""

    @abstractmethod
    async def get_user(self, user_id: str) -> User:
        """NotFoundError when there is no such user (deleted users are still returned)."""

    @abstractmethod
    async def find_user_by_email(self, email: str) -> User | None:
        """Case-insensitive."""

    @abstractmethod
    async def update_user(self, user: User) -> User:
        """Optimistic: ConflictError unless the stored row still has ``user.version``. Returns
        the user as stored (version + 1)."""

    @abstractmethod
    async def list_users(self, *, include_deleted: bool = False) -> list[User]: ...

    @abstractmethod
    async def count_users(self, *, include_deleted: bool = False) -> int: ...

    # -- members --------------------------------------------------------------------------
    @abstractmethod
    async def list_members(self, org_id: str) -> list[Member]: ...

    @abstractmethod
    async def memberships(self, user_id: str) -> dict[str, Role]:
        """org id → the user's role there."""

    @abstractmethod
    async def set_member(self, org_id: str, user_id: str, role: Role) -> Member:
        """Add or change a member. ConflictError if it would leave the org with no owner."""

    @abstractmethod
    async def remove_member(self, org_id: str, user_id: str) -> None:
        """NotFoundError if not a member; ConflictError if it would leave the org ownerless."""

    # -- invitations ----------------------------------------------------------------------
    @abstractmethod
    async def create_invitation(self, invitation: Invitation) -> Invitation: ...

    @abstractmethod
    async def find_invitation(self, token_sha256: str) -> Invitation | None: ...

    @abstractmethod
    async def list_invitations(self, org_id: str) -> list[Invitation]:
        """The org's pending (not accepted) invitations, expired ones included."""

    @abstractmethod
    async def accept_invitation(self, token_sha256: str, user_id: str, *,
                                now: str | None = None) -> Member:
        """In one transaction: mark accepted and make the user a member with the invited role
        (an existing member keeps their role). NotFoundError if unknown; ConflictError if
        already accepted or expired at ``now``. Whether ``user_id`` may take it (its email) is
        the caller's check."""

    # -- auth sessions --------------------------------------------------------------------
    @abstractmethod
    async def create_session(self, session: AuthSession) -> AuthSession: ...

    @abstractmethod
    async def get_session(self, token_sha256: str) -> AuthSession | None:
        """The session as stored, expired or not: the caller checks ``expires_at``."""

    @abstractmethod
    async def touch_session(self, token_sha256: str, last_activity_at: str,
                            expires_at: str) -> bool:
        """Sliding refresh. False if the session no longer exists."""

    @abstractmethod
    async def delete_session(self, token_sha256: str) -> bool: ...

    @abstractmethod
    async def delete_user_sessions(self, user_id: str) -> int: ...

    @abstractmethod
    async def delete_expired_sessions(self, now: str) -> int: ...

    # -- login rate limiting --------------------------------------------------------------
    @abstractmethod
    async def update_login_bucket(self, key: str, update: BucketUpdate) -> LoginBucket:
        """Read-modify-write of one key's bucket in one locked transaction, so every instance
        sharing the catalog sees one bucket."""

    @abstractmethod
    async def get_login_bucket(self, key: str) -> LoginBucket | None: ...

    @abstractmethod
    async def delete_stale_login_buckets(self, updated_before: str) -> int:
        """Forget buckets untouched since ``updated_before`` whose lockout (if any) has ended
        by then: origins come and go, and the table must not grow without end."""

    # -- audit (hash-chained) -------------------------------------------------------------
    @abstractmethod
    async def append_audit(self, record: AuditRecord) -> AuditEntry:
        """Append under a lock, so concurrent appenders (several instances) keep one chain."""

    @abstractmethod
    async def list_audit(self, filter: AuditFilter | None = None, limit: int = 100,
                         before_id: int | None = None) -> list[AuditEntry]:
        """Newest first; ``before_id`` pages back (ids below it)."""

    @abstractmethod
    def iter_audit(self, *, batch: int = 500) -> AsyncIterator[AuditEntry]:
        """Every row in id order, read in batches: constant memory, for export and checks."""

    @abstractmethod
    async def verify_audit_chain(self) -> AuditVerification:
        """Recompute the chain; the first row that does not fit, and why."""
