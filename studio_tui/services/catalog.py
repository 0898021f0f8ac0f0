"""The catalog as the rest of the app sees it: the store plus the vault, so URLs go in encrypted
and come out decrypted only for the connection manager."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import asdict, replace
from typing import TextIO

import logging

from studio_tui.services.errors import (
    ConflictError,
    NotFoundError,
    ReadOnlyError,
    StudioError,
    ValidationError,
)
from studio_tui.services.platform.models import (
    AuditEntry,
    AuditFilter,
    AuditRecord,
    AuditVerification,
    DatabaseEntry,
    Organization,
    Project,
    check_name,
    meta_context,
    new_id,
    utc_now,
)
from studio_tui.services.platform.rbac import LOCAL_OWNER, Actor, Permission, Role, authorize
from studio_tui.services.platform.store import CatalogStore, DeleteSummary
from studio_tui.services.kinds import KINDS, DatabaseKind
from studio_tui.services.tiers import Tier
from studio_tui.services.urls import parse_connection_url
from studio_tui.services.vault import Vault

PERSONAL_ORG = "Personal"
DEFAULT_PROJECT = "default"

ChangeListener = Callable[[str], None]
ActorSource = Callable[[], Actor]
log = logging.getLogger(__name__)


class Catalog:
    def __init__(self, store: CatalogStore, vault: Vault,
                 actor: Actor | ActorSource = LOCAL_OWNER, *, origin: str = "") -> None:
        """``actor``: who acts, or where to ask (the opened Studio, whose actor sign-in and
        sign-out swap). ``origin``: where the actor sits (host, SSH client), for the audit."""
        self.store = store
        self.vault = vault
        self._actor: ActorSource = actor if callable(actor) else (lambda: actor)
        self.origin = origin
        self._listeners: list[ChangeListener] = []
        self._project_orgs: dict[str, str] = {}
        self._names: dict[str, str] = {}  # organization and project names, for the audit

    @property
    def actor(self) -> Actor:
        return self._actor()

    # -- the permission check ---------------------------------------------------------------
    async def org_of_project(self, project_id: str) -> str:
        org_id = self._project_orgs.get(project_id)
        if org_id is None:  # projects never move between organizations: a cache without expiry
            self._project_orgs = {p.id: p.org_id for p in await self.store.list_projects()}
            org_id = self._project_orgs.get(project_id)
            if org_id is None:
                raise NotFoundError("That project no longer exists.")
        return org_id

    async def authorize(self, permission: Permission, *, org_id: str | None, target: str,
                        action: str, entry: DatabaseEntry | None = None) -> Role:
        """The one permission check every service method passes through: the actor's role in
        the organization that owns ``target`` (and, for a write to a database, the entry's own
        read-only flag). A refusal is audited as denied and raised with a message naming the
        role. Returns the role."""
        actor = self.actor
        try:
            if entry is not None and permission is Permission.WRITE_DATA and entry.read_only:
                raise ReadOnlyError(f"{entry.name} is a read-only entry; {action} was refused.",
                                    database=entry.name)
            return authorize(actor, permission, org_id, target)
        except StudioError as error:
            log.warning("%s: %s refused: %s %s", target, action, error.code, error.detail)
            await self.audit(action, "denied", org_id=org_id, entry=entry, detail=error.detail)
            raise

    def can(self, permission: Permission, org_id: str | None) -> bool:
        """For the UI, to dim what the role cannot do (the services refuse it in any case)."""
        return self.actor.can(permission, org_id)

    def write_refusal(self, entry: DatabaseEntry) -> str:
        """Why the actor may not write to this entry ('' when it may), without I/O: for the UI
        to dim write keys. The organization comes from the lists already read (in team mode an
        entry is only reached through them); unknown, it is the check in the service that says."""
        if entry.read_only:
            return f"{entry.name} is a read-only entry"
        actor = self.actor
        org_id = self._project_orgs.get(entry.project_id)
        if actor.everywhere is None and org_id is None:
            return ""
        role = actor.role_in(org_id)
        if role is not None and self.can(Permission.WRITE_DATA, org_id):
            return ""
        what = f"the {role.label} role" if role else "no role"
        return f"{actor.name} has {what} on {entry.name}"

    async def writable(self, entry: DatabaseEntry) -> bool:
        """Whether the actor may write to this entry: its flag and the actor's role."""
        return not entry.read_only and self.can(Permission.WRITE_DATA,
                                                await self.org_of_project(entry.project_id))

    async def _require(self, permission: Permission, org_id: str | None, action: str,
                       target: str = "the catalog") -> None:
        await self.authorize(permission, org_id=org_id, target=target, action=action)

    # -- the audit log ----------------------------------------------------------------------
    async def audit(self, action: str, outcome: str, *, org_id: str | None = None,
                    entry: DatabaseEntry | None = None, target: str = "", detail: str = "",
                    duration: float | None = None, operation_id: str = "") -> None:
        """Record one change or refused attempt. Never raises: losing an audit line must not
        lose the user's write (it is logged instead)."""
        actor = self.actor
        try:
            org = project = ""
            if entry is not None:
                project_id = entry.project_id
                org_id = org_id or await self.org_of_project(project_id)
                project = self._names.get(project_id) or await self._name_of(project_id)
            if org_id:
                org = self._names.get(org_id) or await self._name_of(org_id)
            await self.store.append_audit(AuditRecord(
                action=action, outcome=outcome, user_id=actor.id, user_name=actor.name,
                org=org, project=project, database=entry.name if entry else "",
                target=target or (entry.name if entry else ""), detail=detail, operation_id=operation_id, origin=self.origin,
                duration_ms=None if duration is None else round(duration * 1000)))
        except StudioError as exc:
            log.warning("audit entry not written: %s", exc)

    # -- reading the audit log ----------------------------------------------------------------
    async def _audit_scope(self) -> Callable[[AuditEntry], bool] | None:
        """Which entries the actor may read: all (None) for the local owner; in team mode those of
        the organizations where the actor is owner or admin, and the actor's own. Refused (and
        audited) when the actor administers no organization."""
        actor = self.actor
        if actor.everywhere is not None:
            await self._require(Permission.READ_AUDIT, None, "read audit", "the audit log")
            return None
        orgs = {o.id: o.name for o in await self.store.list_organizations()}
        readable = {name for org_id, name in orgs.items()
                    if actor.can(Permission.READ_AUDIT, org_id)}
        if not readable:
            some_org = next(iter(actor.memberships), None)
            await self._require(Permission.READ_AUDIT, some_org, "read audit",
                                orgs.get(some_org or "", "any organization"))
        return lambda entry: entry.org in readable or entry.user_id == actor.id

    async def audit_log(self, filter: AuditFilter | None = None, limit: int = 100,
                        before_id: int | None = None) -> list[AuditEntry]:
        """Newest first, one page; ``before_id`` pages back."""
        scope = await self._audit_scope()
        entries: list[AuditEntry] = []
        while len(entries) < limit:
            page = await self.store.list_audit(filter, limit, before_id)
            entries += [e for e in page if scope is None or scope(e)]
            if len(page) < limit:
                break
            before_id = page[-1].id
        return entries[:limit]

    async def export_audit(self) -> AsyncIterator[AuditEntry]:
        """Every readable entry, oldest first, in constant memory."""
        scope = await self._audit_scope()
        async for entry in self.store.iter_audit():
            if scope is None or scope(entry):
                yield entry

    async def write_audit_jsonl(self, out: TextIO) -> int:
        """The readable entries, oldest first, one JSON object a line; returns the count."""
        count = 0
        async for entry in self.export_audit():
            out.write(json.dumps(asdict(entry), ensure_ascii=False) + "\n")
            count += 1
        return count

    async def verify_audit(self) -> AuditVerification:
        await self._audit_scope()
        return await self.store.verify_audit_chain()

    async def org_name(self, org_id: str) -> str:
        return self._names.get(org_id) or await self._name_of(org_id)

    async def _name_of(self, org_or_project_id: str) -> str:
        """An organization's or project's name, for the audit (names read better than ids)."""
        self._names = {o.id: o.name for o in await self.store.list_organizations()}
        self._names.update({p.id: p.name for p in await self.store.list_projects()})
        return self._names.get(org_or_project_id, org_or_project_id)

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
        # Two instances starting on one fresh catalog race here: the loser of each create
        # (ConflictError) takes the winner's row.
        personal = await self._personal_org()
        if personal is None:
            try:
                personal = await self.store.create_organization(PERSONAL_ORG, personal=True)
            except ConflictError:
                personal = await self._personal_org()
                if personal is None:
                    raise
        project = await self._first_project(personal.id)
        if project is None:
            try:
                project = await self.store.create_project(personal.id, DEFAULT_PROJECT)
            except ConflictError:
                project = await self._first_project(personal.id)
                if project is None:
                    raise
        imports = [(variable, f"{kind.value} (from {variable})")
                   for kind, spec in KINDS.items() for variable in spec.env_urls]
        for variable, name in imports:
            url = (env or {}).get(variable, "").strip()
            if not url:
                continue
            try:
                await self.add_database(project.id, name, url)
            except ConflictError:
                continue  # imported by another instance starting at the same moment
            except ValidationError as exc:
                notices.append(f"{variable} was not imported: {exc.detail}")
            else:
                notices.append(f"Imported {variable} as {name!r} in {PERSONAL_ORG}/{DEFAULT_PROJECT}.")
        await self.store.set_meta("first_run_done", utc_now())
        return notices

    async def _personal_org(self) -> Organization | None:
        return next((o for o in await self.store.list_organizations() if o.personal), None)

    async def _first_project(self, org_id: str) -> Project | None:
        return next(iter(await self.store.list_projects(org_id)), None)

    # -- organizations and projects -----------------------------------------------------------
    async def organizations(self) -> list[Organization]:
        """The organizations the actor belongs to."""
        actor = self.actor
        return [o for o in await self.store.list_organizations()
                if actor.role_in(o.id) is not None]

    async def organization(self, org_id: str) -> Organization:
        for org in await self.store.list_organizations():
            if org.id == org_id:
                return org
        raise NotFoundError("That organization no longer exists.")

    async def organization_counts(self) -> dict[str, tuple[int, int]]:
        return await self.store.organization_counts()

    async def create_organization(self, name: str) -> Organization:
        """Any signed-in member may make one, and owns it."""
        actor = self.actor
        if actor.everywhere is None and not actor.id:
            await self._require(Permission.MANAGE_CATALOG, None, "create organization")
        org = await self.store.create_organization(name)
        if actor.everywhere is None and actor.id:  # a team member owns what they create
            await self.store.set_member(org.id, actor.id, Role.OWNER)
        await self.audit("create organization", "ok", org_id=org.id, target=org.name)
        return org

    async def rename_organization(self, org_id: str, name: str) -> Organization:
        await self._require(Permission.MANAGE_CATALOG, org_id, "rename organization")
        org = await self.store.rename_organization(org_id, name)
        await self.audit("rename organization", "ok", org_id=org_id, target=org.name)
        return org

    async def delete_organization(self, org_id: str) -> DeleteSummary:
        await self._require(Permission.MANAGE_CATALOG, org_id, "delete organization")
        doomed = [e.id for p in await self.store.list_projects(org_id)
                  for e in await self.store.list_databases(p.id)]
        summary = await self.store.delete_organization(org_id)
        await self.audit("delete organization", "ok", org_id=org_id, target=org_id,
                         detail=f"{summary.projects} projects, {summary.databases} databases")
        for database_id in doomed:
            self._changed(database_id)
        return summary

    async def projects(self, org_id: str | None = None) -> list[Project]:
        actor = self.actor
        return [p for p in await self.store.list_projects(org_id)
                if actor.role_in(p.org_id) is not None]

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
        matches = [p for p in await self.projects() if p.name == project_name
                   and (not org_name or orgs.get(p.org_id) == org_name)]
        if not matches:
            raise NotFoundError(f"No project is named {name!r}.",
                                field_errors={"project": "no such project"})
        if len(matches) > 1:
            raise ValidationError(f"Several projects are named {name!r}; use org/project.",
                                  field_errors={"project": "ambiguous"})
        return matches[0]

    async def create_project(self, org_id: str, name: str) -> Project:
        await self._require(Permission.MANAGE_CATALOG, org_id, "create project")
        project = await self.store.create_project(org_id, name)
        await self.audit("create project", "ok", org_id=org_id, target=project.name)
        return project

    async def rename_project(self, project_id: str, name: str) -> Project:
        org_id = await self.org_of_project(project_id)
        await self._require(Permission.MANAGE_CATALOG, org_id, "rename project")
        project = await self.store.rename_project(project_id, name)
        await self.audit("rename project", "ok", org_id=org_id, target=project.name)
        return project

    async def delete_project(self, project_id: str) -> DeleteSummary:
        org_id = await self.org_of_project(project_id)
        await self._require(Permission.MANAGE_CATALOG, org_id, "delete project")
        doomed = [e.id for e in await self.store.list_databases(project_id)]
        summary = await self.store.delete_project(project_id)
        await self.audit("delete project", "ok", org_id=org_id, target=project_id,
                         detail=f"{summary.databases} databases")
        for database_id in doomed:
            self._changed(database_id)
        return summary

    # -- databases ----------------------------------------------------------------------------
    async def databases(self, project_id: str | None = None) -> list[DatabaseEntry]:
        """The entries of one project, or of every project the actor may see."""
        entries = await self.store.list_databases(project_id)
        actor = self.actor
        if actor.everywhere is not None:
            return entries
        return [e for e in entries
                if actor.role_in(await self.org_of_project(e.project_id)) is not None]

    async def database(self, database_id: str) -> DatabaseEntry:
        return await self.store.get_database(database_id)

    async def find_database(self, name: str) -> DatabaseEntry:
        """By name; ``project/name`` when the name is used in several projects."""
        visible = await self.databases()
        matches = [e for e in visible if e.name == name]
        if not matches and "/" in name:
            project_name, _, db_name = name.rpartition("/")
            projects = {p.id: p.name for p in await self.store.list_projects()}
            matches = [e for e in visible if e.name == db_name
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
        org_id = await self.org_of_project(project_id)
        await self._require(Permission.MANAGE_CATALOG, org_id, "add database")
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
        added = await self.store.add_database(entry)
        await self.audit("add database", "ok", org_id=org_id, entry=added)
        return added

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
                              pg_meta: tuple[str, str] | None = None,
                              version: int | None = None) -> DatabaseEntry:
        """``pg_meta``: None keeps the entry's pg-meta settings, ("", "") removes them.
        ``version``: the entry's version the edit was made from; ConflictError if another
        edit (here or in another instance sharing the catalog) got there first."""
        entry = await self.store.get_database(database_id)
        if version is not None:
            entry = replace(entry, version=version)
        org_id = await self.org_of_project(entry.project_id)
        await self.authorize(Permission.MANAGE_CATALOG, org_id=org_id, target=entry.name,
                             action="edit database")
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
        await self.audit("edit database", "ok", org_id=org_id, entry=updated,
                         detail=", ".join(sorted(k for k in changes if not k.endswith("_token"))))
        self._changed(database_id)
        return updated

    async def delete_database(self, database_id: str) -> DeleteSummary:
        entry = await self.store.get_database(database_id)
        org_id = await self.org_of_project(entry.project_id)
        await self.authorize(Permission.MANAGE_CATALOG, org_id=org_id, target=entry.name,
                             action="delete database")
        summary = await self.store.delete_database(database_id)
        await self.audit("delete database", "ok", org_id=org_id, entry=entry)
        self._changed(database_id)
        return summary

    def database_url(self, entry: DatabaseEntry) -> str:
        """The decrypted URL. Only the connection manager calls this; never display it."""
        return self.vault.decrypt(entry.url_token, entry.id)
