"""The first screen: the organizations in the catalog."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Header, OptionList, Static
from textual.widgets.option_list import Option

from studio_tui.services.errors import StudioError, VaultError

if TYPE_CHECKING:
    from studio_tui.services.platform.models import Organization


class WorkspaceScreen(Screen[None]):
    CSS_PATH = "../styles/workspace.tcss"
    BINDINGS = [Binding("r", "refresh", "Refresh", id="workspace.refresh")]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Organizations", id="breadcrumb")
        yield OptionList(id="organizations")
        yield Static("Opening the catalog…", id="status")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()
        self.load_organizations()

    def action_refresh(self) -> None:
        self.load_organizations()

    @work(group="catalog", exclusive=True, exit_on_error=False, description="load organizations")
    async def load_organizations(self) -> None:
        status = self.query_one("#status", Static)
        studio = self.app.studio  # type: ignore[attr-defined]
        try:
            await studio.open()
            organizations = await studio.catalog.organizations()
        except VaultError as error:
            self.app.fail(error)  # type: ignore[attr-defined]
            return
        except StudioError as error:
            status.update(f"[b]{error.title}[/b]: {error.detail}")
            return
        self._show(organizations)
        notices = studio.notices
        status.update(" · ".join(notices) if notices else f"{len(organizations)} organization(s)")

    def _show(self, organizations: list["Organization"]) -> None:
        options = self.query_one(OptionList)
        options.clear_options()
        options.add_options(
            Option(f"{org.name}  [dim](personal)[/dim]" if org.personal else org.name, id=org.id)
            for org in organizations
        )
        if organizations:
            options.highlighted = 0
