"""The first screen: every organization, with its project and database counts."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from textual.binding import Binding

from studio_tui.screens.catalog.list_screen import CatalogScreen
from studio_tui.dialogs.confirm import ConfirmModal
from studio_tui.dialogs.name import NameModal
from studio_tui.widgets.catalog_table import CatalogRow

if TYPE_CHECKING:
    from studio_tui.services.platform.models import Organization


class OrganizationsScreen(CatalogScreen):
    CSS_PATH = "../../styles/catalog.tcss"
    COLUMNS = ("Organization", "Projects", "Databases")
    IS_ROOT = True
    BINDINGS = [
        Binding("n", "new", "New", id="orgs.new"),
        Binding("e", "rename", "Rename", show=False, id="orgs.rename"),
        Binding("d", "delete", "Delete", id="orgs.delete"),
        Binding("m", "members", "Members", id="orgs.members"),
    ]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "members" and not self.studio.team_mode:
            return False  # one user, no members
        return super().check_action(action, parameters)

    def action_members(self) -> None:
        from studio_tui.screens.team.members import MembersScreen

        org = self.selected_item()
        if org is not None:
            self.app.push_screen(MembersScreen(org))

    def breadcrumb(self) -> str:
        return "Organizations"

    async def fetch_rows(self) -> list[CatalogRow]:
        catalog = self.studio.catalog
        # Both queued at once: one wake-up of the loop instead of two.
        counts, orgs = await asyncio.gather(catalog.organization_counts(), catalog.organizations())
        self.counts = counts
        self.items = {org.id: org for org in orgs}
        rows = []
        for org in self.items.values():
            projects, databases = counts.get(org.id, (0, 0))
            label = f"{org.name} (personal)" if org.personal else org.name
            rows.append(CatalogRow(org.id, (label, str(projects), str(databases)),
                                   org.name.lower()))
        return rows

    def summary(self, rows: list[CatalogRow]) -> str:
        return f"{len(rows)} organization(s) · enter opens one · ? lists every key"

    def choose(self, key: str) -> None:
        from studio_tui.screens.catalog.projects import ProjectsScreen  # loaded when first needed

        self.app.push_screen(ProjectsScreen(self.items[key]))

    def action_new(self) -> None:
        self.app.push_screen(NameModal("New organization", self.studio.catalog.create_organization),
                             self._saved)

    def action_rename(self) -> None:
        org = self.selected_item()
        if org is None:
            return

        async def rename(name: str) -> "Organization":
            return await self.studio.catalog.rename_organization(org.id, name)

        self.app.push_screen(NameModal("Rename organization", rename, value=org.name), self._saved)

    def _saved(self, result: "Organization | None") -> None:
        if result is not None:
            self._next_status = f"Saved organization {result.name!r}."
            self.load()

    def action_delete(self) -> None:
        org = self.selected_item()
        if org is None:
            return
        projects, databases = self.counts.get(org.id, (0, 0))
        detail = (f"This deletes {org.name!r} with {projects} project(s) and {databases} saved "
                  "database connection(s). The databases themselves are not touched.")

        async def delete() -> str:
            summary = await self.studio.catalog.delete_organization(org.id)
            return (f"Deleted {org.name!r}: {summary.projects} project(s), "
                    f"{summary.databases} database connection(s).")

        self.app.push_screen(
            ConfirmModal(f"Delete organization {org.name!r}?", detail,
                         type_to_confirm=org.name if databases else None),
            lambda confirmed: self.run_change(delete) if confirmed else None)
