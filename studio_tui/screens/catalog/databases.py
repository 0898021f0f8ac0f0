"""The databases of one project (or of every project), with a live status per entry."""

from __future__ import annotations

import asyncio

from textual import work
from textual.binding import Binding

from studio_tui.screens.catalog.list_screen import CatalogScreen
from studio_tui.dialogs.confirm import ConfirmModal
from studio_tui.services.kinds import KINDS
from studio_tui.services.platform.models import DatabaseEntry, Organization, Project
from studio_tui.widgets.catalog_table import CatalogRow
from studio_tui.widgets.status import status_text

STATUS_COLUMN = 0
# Checks run a few at a time so a project of many entries does not open every pool at once.
PARALLEL_CHECKS = 4


class DatabasesScreen(CatalogScreen):
    CSS_PATH = "../../styles/catalog.tcss"
    COLUMNS = ("Status", "Database", "Kind", "Tier", "Mode", "Host", "Tags")
    BINDINGS = [
        Binding("n", "new", "Add", id="dbs.new"),
        Binding("e", "edit", "Edit", show=False, id="dbs.edit"),
        Binding("d", "delete", "Delete", id="dbs.delete"),
        Binding("t", "test", "Test", id="dbs.test"),
    ]

    CATALOG_EDITS = frozenset({"new", "edit", "delete"})

    def edited_org_id(self) -> str | None:
        return None if self.org is None else self.org.id

    def __init__(self, org: Organization | None = None, project: Project | None = None) -> None:
        super().__init__()
        self.org = org
        self.project = project

    def breadcrumb(self) -> str:
        if self.project is None or self.org is None:
            return "All databases"
        return f"Organizations › {self.org.name} › {self.project.name}"

    async def fetch_rows(self) -> list[CatalogRow]:
        catalog = self.studio.catalog
        project_id = None if self.project is None else self.project.id
        self.items = {e.id: e for e in await catalog.databases(project_id)}
        return [self._row(entry) for entry in self.items.values()]

    def _row(self, entry: DatabaseEntry) -> CatalogRow:
        manager = self.studio.manager
        report = manager.last_health(entry.id)
        breaker = manager.breaker(entry.id)
        status = report.status if report else "unknown"
        if breaker is not None and breaker.state.name == "OPEN":
            status = "down"
        host = entry.masked_url.split("://", 1)[-1].rpartition("@")[2].split("/")[0].split("?")[0]
        # What this user may do: a role that may not write makes the entry read-only for them.
        mode = ("read-only" if entry.read_only
                else "read-only role" if self.studio.catalog.write_refusal(entry)
                else "read-write")
        cells = (status_text(status), entry.name, entry.kind.value, entry.tier.value,
                 mode, host or entry.masked_url,
                 ", ".join(entry.tags))
        search = " ".join([entry.name, entry.kind.value, entry.tier.value, host, *entry.tags])
        return CatalogRow(entry.id, cells, search.lower())

    def summary(self, rows: list[CatalogRow]) -> str:
        where = f"in {self.project.name}" if self.project else "in all projects"
        if not rows:  # the way in, for a newcomer: short enough for 80 columns
            variables = [spec.env_urls[0] for spec in KINDS.values()]
            add = "n adds one" if self.project else "open a project to add one"
            return (f"No database yet: {add}, or set {', '.join(variables[:-1])} or "
                    f"{variables[-1]}.")
        return f"{len(rows)} database(s) {where} · enter opens one · t tests it"

    def after_load(self, rows: list[CatalogRow]) -> None:
        if rows:
            self.nav.warm(
                [entry.kind for entry in self.items.values()])
        if self.studio.settings.check_on_list and rows:
            self.check_status([row.key for row in rows])

    @work(group="db-status", exclusive=True, exit_on_error=False, description="check databases")
    async def check_status(self, database_ids: list[str]) -> None:
        limit = asyncio.Semaphore(PARALLEL_CHECKS)

        async def check(database_id: str) -> None:
            async with limit:
                self.rows.update_cell(database_id, STATUS_COLUMN, status_text("checking"))
                report = await self.studio.manager.check(database_id)
                self.rows.update_cell(database_id, STATUS_COLUMN, status_text(report.status))

        await asyncio.gather(*(check(i) for i in database_ids))

    def choose(self, key: str) -> None:
        self.nav.open_database(self.items[key])

    def action_test(self) -> None:
        entry = self.selected_item()
        if isinstance(entry, DatabaseEntry):
            self.test_entry(entry)

    @work(group="db-test", exclusive=True, exit_on_error=False, description="test connection")
    async def test_entry(self, entry: DatabaseEntry) -> None:
        self.say(f"Testing {entry.name}…")
        self.rows.update_cell(entry.id, STATUS_COLUMN, status_text("checking"))
        report = await self.studio.manager.check(entry.id)
        self.rows.update_cell(entry.id, STATUS_COLUMN, status_text(report.status))
        if report.error is not None:
            self.show_error(report.error)
        else:
            self.say(f"{entry.name}: {report.status}, {report.latency_ms:.1f} ms, "
                            f"server {report.version}")

    def action_new(self) -> None:
        project = self.project
        if project is None:
            self.say("Open a project to add a database to it (:projects).")
            return
        from studio_tui.dialogs.database_form import DatabaseFormModal

        self.app.push_screen(DatabaseFormModal(project), self._saved)

    def action_edit(self) -> None:
        entry = self.selected_item()
        if isinstance(entry, DatabaseEntry):
            from studio_tui.dialogs.database_form import DatabaseFormModal

            self.app.push_screen(DatabaseFormModal(None, entry), self._saved)

    def _saved(self, entry: DatabaseEntry | None) -> None:
        if entry is not None:
            self._next_status = f"Saved {entry.name!r} ({entry.masked_url})."
            self.load()

    def action_delete(self) -> None:
        entry = self.selected_item()
        if not isinstance(entry, DatabaseEntry):
            return
        detail = (f"This deletes the saved connection {entry.name!r} ({entry.kind.value}, "
                  f"{entry.masked_url}). The database itself and its data are not touched.")

        async def delete() -> str:
            await self.studio.catalog.delete_database(entry.id)
            return f"Deleted the connection {entry.name!r}."

        self.app.push_screen(ConfirmModal(f"Delete {entry.name!r}?", detail),
                             lambda confirmed: self.run_change(delete) if confirmed else None)
