"""Moving between screens, from keys, `:` commands and the palette alike."""

from __future__ import annotations

from typing import TYPE_CHECKING

from studio_tui.commands import UnknownCommand, completions, parse_command
from studio_tui.services.errors import StudioError

if TYPE_CHECKING:
    from studio_tui.app import StudioApp
    from studio_tui.services.platform.models import DatabaseEntry, Organization, Project


class Navigator:
    def __init__(self, app: "StudioApp") -> None:
        self.app = app

    @property
    def catalog(self):
        return self.app.studio.catalog

    # -- screens ----------------------------------------------------------------------------
    def go_home(self) -> None:
        from studio_tui.screens.catalog.organizations import OrganizationsScreen

        app = self.app
        while len(app.screen_stack) > 1 and not isinstance(app.screen, OrganizationsScreen):
            app.pop_screen()

    def open_projects(self, org: "Organization") -> None:
        from studio_tui.screens.catalog.projects import ProjectsScreen

        self.go_home()
        self.app.push_screen(ProjectsScreen(org))

    def open_databases(self, org: "Organization", project: "Project") -> None:
        from studio_tui.screens.catalog.databases import DatabasesScreen

        self.open_projects(org)
        self.app.push_screen(DatabasesScreen(org, project))

    def open_all_databases(self) -> None:
        from studio_tui.screens.catalog.databases import DatabasesScreen

        self.go_home()
        self.app.push_screen(DatabasesScreen())

    def open_health(self) -> None:
        from studio_tui.screens.health import HealthScreen

        if not isinstance(self.app.screen, HealthScreen):
            self.app.push_screen(HealthScreen())

    def open_help(self) -> None:
        from studio_tui.dialogs.help import HelpModal

        self.app.push_screen(HelpModal(self.app.screen))

    def warm(self, kinds) -> None:
        """Import the drivers and browsers of ``kinds`` in a thread, ahead of opening one."""
        from studio_tui.screens.browsers import import_browsers
        from studio_tui.services.kinds import warm_drivers

        def warm_then_freeze() -> None:
            warm_drivers(list(kinds))
            import_browsers(list(kinds))
            # The driver modules are long-lived too: out of the collector's walks with the rest.
            self.app.call_from_thread(self.app.frozen_heap.freeze_long_lived)

        self.app.run_worker(warm_then_freeze, thread=True,
                            group="warm-drivers", exit_on_error=False,
                            description="import drivers")

    def open_database(self, entry: "DatabaseEntry") -> None:
        self.warm([entry.kind])
        self.app.run_worker(self._open_database(entry), group="nav-open", exclusive=True,
                            exit_on_error=False, description="open database")

    async def _open_database(self, entry: "DatabaseEntry") -> None:
        project = await self.catalog.project(entry.project_id)
        org = await self.catalog.organization(project.org_id)
        where = f"{org.name} › {project.name}"
        from studio_tui.screens.browsers import browser_for

        self.app.frozen_heap.before_browser()
        self.app.push_screen(browser_for(entry.kind)(entry, where))

    # -- `:` commands ---------------------------------------------------------------------------
    def context(self) -> tuple["Organization | None", "Project | None"]:
        """The organization and project of the topmost screen that has them."""
        for screen in reversed(self.app.screen_stack):
            org, project = getattr(screen, "org", None), getattr(screen, "project", None)
            if org is not None or project is not None:
                return org, project
        return None, None

    async def suggestions(self) -> list[str]:
        if not self.app.studio.is_open:
            return completions({})
        orgs = {o.id: o.name for o in await self.catalog.organizations()}
        projects = await self.catalog.projects()
        databases = [e.name for e in await self.catalog.databases()]
        return completions({
            "projects": list(orgs.values()),
            "dbs": [f"{orgs[p.org_id]}/{p.name}" for p in projects],
            "open": databases,
            "theme": sorted(self.app.available_themes),
        })

    def run_command(self, text: str) -> None:
        self.app.run_worker(self._run_command(text), group="nav-command", exclusive=True,
                            exit_on_error=False, description="run command")

    async def _run_command(self, text: str) -> None:
        try:
            await self._dispatch(parse_command(text))
        except (UnknownCommand, StudioError) as error:
            self.app.notify(str(error), title="Command", severity="error")

    async def _dispatch(self, command) -> None:
        app, argument = self.app, command.argument
        if command.name == "quit":
            app.exit()
        elif command.name == "help":
            self.open_help()
        elif command.name == "health":
            self.open_health()
        elif command.name == "orgs":
            self.go_home()
        elif command.name == "theme":
            if argument not in app.available_themes:
                raise UnknownCommand(f"No theme named {argument!r}.")
            app.theme = argument
        elif command.name == "open":
            self.open_database(await self.catalog.find_database(argument))
        elif command.name == "projects":
            org = await self._find_org(argument) if argument else self.context()[0]
            if org is None:
                org = (await self.catalog.organizations())[0]
            self.open_projects(org)
        elif command.name == "dbs":
            if argument:
                project = await self.catalog.find_project(argument)
                self.open_databases(await self.catalog.organization(project.org_id), project)
                return
            org, project = self.context()
            if org is not None and project is not None:
                self.open_databases(org, project)
            else:
                self.open_all_databases()

    async def _find_org(self, name: str) -> "Organization":
        for org in await self.catalog.organizations():
            if org.name == name:
                return org
        raise UnknownCommand(f"No organization is named {name!r}.")
