"""The two lines every screen has: where you are (the breadcrumb) and what just happened (the
status line). Styled once, here."""

from __future__ import annotations

from textual.dom import DOMNode
from textual.screen import Screen
from textual.widgets import Footer, Static


def forget_closed_watchers(watched: DOMNode) -> None:
    """Drop the watchers of ``watched``'s reactives whose widget has gone. Textual drops one only
    when the watched value next changes; a value that never changes (the app's title, the
    footer's compact flag) kept every widget that ever watched it, and its screen, for good."""
    for watchers in vars(watched).get("__watchers", {}).values():
        watchers[:] = [(node, callback) for node, callback in watchers if not node._closing]


class Breadcrumb(Static):
    DEFAULT_CSS = """
    Breadcrumb {
        height: 1;
        padding: 0 1;
        color: $text-accent;
        text-style: bold;
    }
    """

    def __init__(self, text: str = "", *, id: str = "breadcrumb") -> None:  # noqa: A002
        super().__init__(text, id=id, markup=False)


class StatusLine(Static):
    DEFAULT_CSS = """
    StatusLine {
        height: 1;
        padding: 0 1;
        color: $text-muted;
    }
    """

    def __init__(self, text: str = "", *, id: str = "status") -> None:  # noqa: A002
        super().__init__(text, id=id, markup=False)


class StudioFooter(Footer):
    """Textual's footer, rebuilt only when the keys it shows change. Textual rebuilds every key
    widget whenever the bindings might have changed (each focus change, each return to a
    screen): 35-70 ms a time on a browser's footer, twice while it opens. And each old key
    stayed registered as a watcher of the footer, so it is forgotten here."""

    def __init__(self) -> None:
        super().__init__()
        self._shown: tuple | None = None

    def _keys_to_show(self, screen: Screen) -> tuple:
        palette = self.app.COMMAND_PALETTE_BINDING
        return tuple((key, binding.description, binding.action, enabled, tooltip)
                     for key, (_, binding, enabled, tooltip) in screen.active_bindings.items()
                     if binding.show or key == palette)

    def bindings_changed(self, screen: Screen) -> None:
        if self.is_attached and screen is self.screen and screen.app.app_focus:
            shown = self._keys_to_show(screen)
            if shown == self._shown:
                return
            self._shown = shown
        super().bindings_changed(screen)

    async def recompose(self) -> None:
        await super().recompose()
        forget_closed_watchers(self)
