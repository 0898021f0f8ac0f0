"""Command palette (ctrl+p): jump to any organization, project or database by fuzzy name."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider

if TYPE_CHECKING:
    from studio_tui.app import StudioApp

Target = tuple[str, str, Callable[[], object]]


class CatalogCommands(Provider):
    async def startup(self) -> None:
        self._targets: list[Target] = []
        app = cast("StudioApp", self.app)
        studio = app.studio
        if not studio.is_open:
            return
        nav = app.nav
        catalog = studio.catalog
        orgs = {org.id: org for org in await catalog.organizations()}
        projects = {p.id: p for p in await catalog.projects()}
        for org in orgs.values():
            self._targets.append((f"Organization {org.name}", "show its projects",
                                  partial(nav.open_projects, org)))
        for project in projects.values():
            org = orgs[project.org_id]
            self._targets.append((f"Project {org.name}/{project.name}", "show its databases",
                                  partial(nav.open_databases, org, project)))
        for entry in await catalog.databases():
            project = projects[entry.project_id]
            self._targets.append(
                (f"Database {entry.name}",
                 f"{entry.kind.value} in {orgs[project.org_id].name}/{project.name}",
                 partial(nav.open_database, entry)))

    async def discover(self) -> Hits:
        for label, help_text, callback in self._targets:
            yield DiscoveryHit(label, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for label, help_text, callback in self._targets:
            score = matcher.match(label)
            if score > 0:
                yield Hit(score, matcher.highlight(label), callback, help=help_text)
