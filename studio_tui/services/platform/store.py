"""The catalog store interface. SQLite is the embedded default; a PostgreSQL backend for teams
implements the same methods and passes the same contract tests (tests/test_catalog_store.py)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass

from studio_tui.services.platform.models import AuditEntry, DatabaseEntry, Organization, Project


@dataclass(frozen=True, slots=True)
class DeleteSummary:
    """What a delete took with it, for the confirmation and the report."""

    organizations: int = 0
    projects: int = 0
    databases: int = 0


# Called with (database id, stored token); returns the re-encrypted token.
Rewrap = Callable[[str, str], str]


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

    # -- organizations ----------------------------------------------------------------------
    @abstractmethod
    async def list_organizations(self) -> list[Organization]: ...

    @abstractmethod
    async def create_organization(self, name: str, *, personal: bool = False) -> Organization: ...

    @abstractmethod
    async def rename_organization(self, org_id: str, name: str) -> Organization: ...

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
    async def rename_project(self, project_id: str, name: str) -> Project: ...

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
    async def update_database(self, entry: DatabaseEntry) -> DatabaseEntry: ...

    @abstractmethod
    async def delete_database(self, database_id: str) -> DeleteSummary: ...

    # -- secrets ----------------------------------------------------------------------------
    @abstractmethod
    async def rewrap_secrets(self, rewrap: Rewrap, key_check: str) -> int:
        """Re-encrypt every stored secret and replace the key check, all in one transaction:
        if ``rewrap`` raises, or the process dies, nothing has changed. Returns rows rewritten."""

    # -- audit ------------------------------------------------------------------------------
    @abstractmethod
    async def append_audit(self, actor: str, action: str, target: str, outcome: str,
                           detail: str = "") -> None: ...

    @abstractmethod
    async def list_audit(self, limit: int = 100) -> list[AuditEntry]: ...
