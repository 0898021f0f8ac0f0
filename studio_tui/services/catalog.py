"""The catalog as the rest of the app sees it: the store plus the vault, so URLs go in encrypted
and come out decrypted only for the connection manager."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

from studio_tui.services.errors import NotFoundError, ValidationError
from studio_tui.services.platform.models import (
    DatabaseEntry,
    Organization,
    Project,
    check_name,
    meta_context,
    new_id,
    utc_now,
)
from studio_tui.services.platform.rbac import LOCAL_OWNER, Actor, Permission
from studio_tui.services.platform.store import CatalogStore, DeleteSummary
from studio_tui.services.kinds import KINDS, DatabaseKind
from studio_tui.services.tiers import Tier
from studio_tui.services.urls import parse_connection_url
from studio_tui.services.vault import Vault

PERSONAL_ORG = "Personal"
DEFAULT_PROJECT = "default"

ChangeListener = Callable[[str], None]


class Catalog:
    def __init__(self, store: CatalogStore, vault: Vault, actor: Actor = LOCAL_OWNER) -> None:
        self.store = store
        self.vault = vault
        self.actor = actor
        self._listeners: list[ChangeListener] = []

    def on_database_changed(self, listener: ChangeListener) -> None:
        """``listener(database_id)`` runs after an entry is edited or deleted."""
        self._listeners.append(listener)

    def _changed(self, database_id: str) -> None:
        for listener in self._listeners:
            listener(database_id)

    # -- first run ----------------------------------------------------------------------------
    async def ensure_first_run(self, env: Mapping[str, str] | None = None) -> list[str]:
        """Create the personal organization and default project once; import database URLs from
        the environment once. Returns notices for the user (names only, never URLs)."""
        notices: list[str] = []
        if await self.store.get_meta("first_run_done") is not None:
            return notices
        orgs = await self.store.list_organizations()
        personal = next((o for o in orgs if o.personal), None)
        if personal is None:
            personal = await self.store.create_organization(PERSONAL_ORG, personal=True)
        projects = await self.store.list_projects(personal.id)
        project = projects[0] if projects else await self.store.create_project(personal.id,
                                                                                 DEFAULT_PROJECT)
        imports = [(variable, f"{kind.value} (from {variable})")
                   for kind, spec in KINDS.items() for variable in spec.env_urls]
        for variable, name in imports:
            url = (env or {}).get(variable, "").strip()
            if not url:
                continue
            try:
                await self.add_database(project.id, name, url)
            except ValidationError as exc:
                notices.append(f"{variable} was not imported: {exc.detail}")
            else:
                notices.append(f"Imported {variable} as {name!r} in {PERSONAL_ORG}/{DEFAULT_PROJECT}.")
        await self.store.set_meta("first_run_done", utc_now())
        return notices

    # -- organizations and projects -----------------------------------------------------------
    async def organizations(self) -> list[Organization]:
        return await self.store.list_organizations()

    async def organization(self, org_id: str) -> Organization:
        for org in await self.store.list_organizations():
            if org.id == org_id:
                return org
        raise NotFoundError("That organization no longer exists.")

    async def organization_counts(self) -> dict[str, tuple[int, int]]:
        return await self.store.organization_counts()

    async def create_organization(self, name: str) -> Organization:
        self.actor.require(Permission.MANAGE_CATALOG, "the catalog")
        return await self.store.create_organization(name)

    async def rename_organization(self, org_id: str, name: str) -> Organization:
        self.actor.require(Permission.MANAGE_CATALOG, "the catalog")
        return await self.store.rename_organization(org_id, name)

    async def delete_organization(self, org_id: str) -> DeleteSummary:
        self.actor.require(Permission.MANAGE_CATALOG, "the catalog")
        doomed = [e.id for p in await self.store.list_projects(org_id)
                  for e in await self.store.list_databases(p.id)]
        summary = await self.store.delete_organization(org_id)
        for database_id in doomed:
            self._changed(database_id)
        return summary

    async def projects(self, org_id: str | None = None) -> list[Project]:
        return await self.store.list_projects(org_id)

    async def project(self, project_id: str) -> Project:
        for project in await self.store.list_projects():
            if project.id == project_id:
                return project
        raise NotFoundError("That project no longer exists.")

    async def project_counts(self) -> dict[str, int]:
        return await self.store.project_counts()

    async def find_project(self, name: str) -> Project:
        """By ``org/project``, or by project name alone when it is unique."""
        org_name, _, project_name = name.rpartition("/")
        orgs = {o.id: o.name for o in await self.store.list_organizations()}
        matches = [p for p in await self.store.list_projects() if p.name == project_name
                   and (not org_name or orgs.get(p.org_id) == org_name)]
        if not matches:
            raise NotFoundError(f"No project is named {name!r}.",
                                field_errors={"project": "no such project"})
        if len(matches) > 1:
            raise ValidationError(f"Several projects are named {name!r}; use org/project.",
                                  field_errors={"project": "ambiguous"})
        return matches[0]

    async def create_project(self, org_id: str, name: str) -> Project:
        self.actor.require(Permission.MANAGE_CATALOG, "the catalog")
        return await self.store.create_project(org_id, name)

    async def rename_project(self, project_id: str, name: str) -> Project:
        self.actor.require(Permission.MANAGE_CATALOG, "the catalog")
        return await self.store.rename_project(project_id, name)

    async def delete_project(self, project_id: str) -> DeleteSummary:
        self.actor.require(Permission.MANAGE_CATALOG, "the catalog")
        doomed = [e.id for e in await self.store.list_databases(project_id)]
        summary = await self.store.delete_project(project_id)
        for database_id in doomed:
            self._changed(database_id)
        return summary

    # -- databases ----------------------------------------------------------------------------
    async def databases(self, project_id: str | None = None) -> list[DatabaseEntry]:
        return await self.store.list_databases(project_id)

    async def database(self, database_id: str) -> DatabaseEntry:
        return await self.store.get_database(database_id)

    async def find_database(self, name: str) -> DatabaseEntry:
        """By name; ``project/name`` when the name is used in several projects."""
        matches = [e for e in await self.store.list_databases() if e.name == name]
        if not matches and "/" in name:
            project_name, _, db_name = name.rpartition("/")
            projects = {p.id: p.name for p in await self.store.list_projects()}
            matches = [e for e in await self.store.list_databases() if e.name == db_name
                       and projects.get(e.project_id) == project_name]
        if not matches:
            raise NotFoundError(f"No database entry is named {name!r}.")
        if len(matches) > 1:
            raise ValidationError(f"Several entries are named {name!r}; use project/name.")
        return matches[0]

    async def add_database(self, project_id: str, name: str, url: str, *,
                           tier: Tier | str = Tier.FREE, read_only: bool = False,
                           tags: Sequence[str] = (),
                           pg_meta: tuple[str, str] | None = None) -> DatabaseEntry:
        """``pg_meta``: a PostgreSQL entry's pg-meta (URL, CRYPTO_KEY), or None."""
        self.actor.require(Permission.MANAGE_CATALOG, "the catalog")
        target = parse_connection_url(url)
        database_id = new_id()
        entry = DatabaseEntry(
            id=database_id, project_id=project_id, name=check_name(name, "database"),
            kind=target.kind, masked_url=target.masked_url,
            tier=tier if isinstance(tier, Tier) else Tier.parse(tier),
            read_only=read_only, tags=tuple(t.strip() for t in tags if t.strip()),
            created_at=utc_now(), url_token=self.vault.encrypt(url.strip(), database_id),
            meta_token=self._meta_token(target.kind, database_id, pg_meta),
        )
        return await self.store.add_database(entry)

    def _meta_token(self, kind: DatabaseKind, database_id: str,
                    pg_meta: tuple[str, str] | None) -> str:
        if pg_meta is None or not any(part.strip() for part in pg_meta):
            return ""
        if kind is not DatabaseKind.POSTGRES:
            raise ValidationError("Only a PostgreSQL entry can go through pg-meta.",
                                  field_errors={"meta_url": "PostgreSQL only"})
        from studio_tui.services.postgres.meta import PgMetaSettings

        settings = PgMetaSettings.parse(*pg_meta)
        return self.vault.encrypt(settings.to_text(), meta_context(database_id))

    def pg_meta(self, entry: DatabaseEntry) -> tuple[str, str]:
        """The entry's pg-meta (URL, CRYPTO_KEY), decrypted; ("", "") when it has none. Only
        the pg-meta source and the entry form call this; never display the key."""
        if not entry.meta_token:
            return "", ""
        settings = json.loads(self.vault.decrypt(entry.meta_token, meta_context(entry.id)))
        return settings["url"], settings["key"]

    async def update_database(self, database_id: str, *, name: str | None = None,
                              url: str | None = None, tier: Tier | str | None = None,
                              read_only: bool | None = None,
                              tags: Sequence[str] | None = None,
                              pg_meta: tuple[str, str] | None = None) -> DatabaseEntry:
        """``pg_meta``: None keeps the entry's pg-meta settings, ("", "") removes them."""
        self.actor.require(Permission.MANAGE_CATALOG, "the catalog")
        entry = await self.store.get_database(database_id)
        changes: dict = {}
        if name is not None:
            changes["name"] = check_name(name, "database")
        if url is not None:
            target = parse_connection_url(url)
            changes.update(kind=target.kind, masked_url=target.masked_url,
                           url_token=self.vault.encrypt(url.strip(), database_id))
        if tier is not None:
            changes["tier"] = tier if isinstance(tier, Tier) else Tier.parse(tier)
        if read_only is not None:
            changes["read_only"] = read_only
        if tags is not None:
            changes["tags"] = tuple(t.strip() for t in tags if t.strip())
        if pg_meta is not None:
            changes["meta_token"] = self._meta_token(changes.get("kind", entry.kind),
                                                     database_id, pg_meta)
        elif changes.get("kind", entry.kind) is not DatabaseKind.POSTGRES:
            changes["meta_token"] = ""
        updated = await self.store.update_database(replace(entry, **changes))
        self._changed(database_id)
        return updated

    async def delete_database(self, database_id: str) -> DeleteSummary:
        self.actor.require(Permission.MANAGE_CATALOG, "the catalog")
        summary = await self.store.delete_database(database_id)
        self._changed(database_id)
        return summary

    def database_url(self, entry: DatabaseEntry) -> str:
        """The decrypted URL. Only the connection manager calls this; never display it."""
        return self.vault.decrypt(entry.url_token, entry.id)
