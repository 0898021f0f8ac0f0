"""The projects of one organization, with their database counts."""

from __future__ import annotations

import asyncio

from textual.binding import Binding

from studio_tui.screens.catalog.list_screen import CatalogScreen
from studio_tui.dialogs.confirm import ConfirmModal
from studio_tui.dialogs.name import NameModal
from studio_tui.services.platform.models import Organization, Project
from studio_tui.widgets.catalog_table import CatalogRow


class ProjectsScreen(CatalogScreen):
    CSS_PATH = "../../styles/catalog.tcss"
    COLUMNS = ("Project", "Databases")
    BINDINGS = [
        Binding("n", "new", "New", id="projects.new"),
        Binding("e", "rename", "Rename", show=False, id="projects.rename"),
        Binding("d", "delete", "Delete", id="projects.delete"),
    ]

    CATALOG_EDITS = frozenset({"new", "rename", "delete"})

    def edited_org_id(self) -> str | None:
        return None if self.org is None else self.org.id

    def __init__(self, org: Organization) -> None:
        super().__init__()
        self.org = org

    def breadcrumb(self) -> str:
        return f"Organizations › {self.org.name}"

    async def fetch_rows(self) -> list[CatalogRow]:
        catalog = self.studio.catalog
        self.counts, projects = await asyncio.gather(catalog.project_counts(),
                                                     catalog.projects(self.org.id))
        self.items = {p.id: p for p in projects}
        return [CatalogRow(p.id, (p.name, str(self.counts.get(p.id, 0))), p.name.lower())
                for p in self.items.values()]

    def summary(self, rows: list[CatalogRow]) -> str:
        return f"{len(rows)} project(s) in {self.org.name} · enter opens one"

    def choose(self, key: str) -> None:
        from studio_tui.screens.catalog.databases import DatabasesScreen  # loaded when first needed

        self.app.push_screen(DatabasesScreen(self.org, self.items[key]))

    def action_new(self) -> None:
        async def create(name: str) -> Project:
            return await self.studio.catalog.create_project(self.org.id, name)

        self.app.push_screen(NameModal(f"New project in {self.org.name}", create), self._saved)

    def action_rename(self) -> None:
        project = self.selected_item()
        if not isinstance(project, Project):
            return

        async def rename(name: str) -> Project:
            return await self.studio.catalog.rename_project(project.id, name)

        self.app.push_screen(NameModal("Rename project", rename, value=project.name), self._saved)

    def _saved(self, result: Project | None) -> None:
        if result is not None:
            self._next_status = f"Saved project {result.name!r}."
            self.load()

    def action_delete(self) -> None:
        project = self.selected_item()
        if not isinstance(project, Project):
            return
        databases = self.counts.get(project.id, 0)
        detail = (f"This deletes the project {project.name!r} and its {databases} saved database "
                  "connection(s). The databases themselves are not touched.")

        async def delete() -> str:
            summary = await self.studio.catalog.delete_project(project.id)
            return f"Deleted {project.name!r} and {summary.databases} database connection(s)."

        self.app.push_screen(
            ConfirmModal(f"Delete project {project.name!r}?", detail,
                         type_to_confirm=project.name if databases else None),
            lambda confirmed: self.run_change(delete) if confirmed else None)
