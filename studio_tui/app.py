"""The Textual application: screens, global bindings and theme. Services arrive ready-made."""

from __future__ import annotations

from collections.abc import Mapping

from textual.app import App
from textual.binding import Binding

from studio_tui.screens.workspace import WorkspaceScreen
from studio_tui.services.errors import StudioError
from studio_tui.services.studio import Studio
from studio_tui.settings import Settings


class StudioApp(App[None]):
    TITLE = "studio-tui"
    CSS_PATH = "styles/app.tcss"
    BINDINGS = [
        Binding("q", "quit", "Quit", id="app.quit"),
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True, id="app.quit_now"),
    ]

    def __init__(self, studio: Studio) -> None:
        super().__init__()
        self.studio = studio
        self.fatal_error: StudioError | None = None

    def on_mount(self) -> None:
        if self.studio.settings.theme in self.available_themes:
            self.theme = self.studio.settings.theme
        self.set_keymap(self.studio.settings.keymap)
        self.push_screen(WorkspaceScreen())

    def fail(self, error: StudioError) -> None:
        """A problem the app cannot work past (wrong key, broken catalog): leave and say why."""
        self.fatal_error = error
        self.exit(return_code=2)

    async def on_unmount(self) -> None:
        await self.studio.close()


def make_app(settings: Settings, env: Mapping[str, str] | None = None) -> StudioApp:
    """The composition root, shared by the CLI and the tests."""
    return StudioApp(Studio(settings, env))
