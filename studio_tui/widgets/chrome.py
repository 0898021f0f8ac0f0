"""The two lines every screen has: where you are (the breadcrumb) and what just happened (the
status line). Styled once, here."""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult, RenderResult
from textual.binding import Binding
from textual.dom import DOMNode
from textual.screen import Screen
from textual.widgets import Footer, Static
from textual.widgets._footer import FooterKey


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

    def render(self) -> RenderResult:
        # Too long for the width: the outer places go first ("… › shop-db › public.orders"),
        # since where you are and its mode (read-only, write mode) matter most.
        return fit_crumb(str(self.content), self.content_region.width or self.app.size.width)


CRUMB_SEPARATOR = " › "


def fit_crumb(crumb: str, width: int) -> str:
    """``crumb`` shortened to ``width``: its leading places give way to "…" (the last two
    stay), then the longest place left loses its middle."""
    if len(crumb) <= width:
        return crumb
    places = crumb.split(CRUMB_SEPARATOR)
    elided = 0  # leading places
    while len(places) - elided > 2 and len(CRUMB_SEPARATOR.join(places)) > width:
        elided += 1
        places = ["…", *crumb.split(CRUMB_SEPARATOR)[elided:]]
    excess = len(CRUMB_SEPARATOR.join(places)) - width
    if excess > 0:
        longest = max(range(len(places)), key=lambda index: len(places[index]))
        place = places[longest]
        keep = max(len(place) - excess - 1, 2)
        places[longest] = place[:(keep + 1) // 2] + "…" + place[len(place) - keep // 2:]
    return CRUMB_SEPARATOR.join(places)[:width]


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
    """Textual's footer, fitted to the width: when every key fits it is Textual's footer as it
    is; when not, it turns compact and shows the keys the screen names most used first
    (``FOOTER_PRIORITY``, binding ids), then the rest in order, as many as fit, in the order the
    screen declares them; `?` lists them all. (k9s does the same with its key hints.)

    It is rebuilt only when the keys it shows change. Textual rebuilds every key widget whenever
    the bindings might have changed (each focus change, each return to a screen): 35-70 ms a
    time on a browser's footer, twice while it opens. And each old key stayed registered as a
    watcher of the footer, so it is forgotten here."""

    DEFAULT_CSS = """
    StudioFooter.-compact {
        padding-left: 1;  /* in line with the status line above */
    }
    """

    def __init__(self) -> None:
        super().__init__()
        self._shown: tuple | None = None

    def _width(self) -> int:
        return self.size.width or self.app.size.width

    def _keys_to_show(self, screen: Screen) -> tuple:
        """(compact, the keys shown in the order declared, the palette key or None)."""
        palette_key = self.app.COMMAND_PALETTE_BINDING
        keys: list[FittedKey] = []
        palette: FittedKey | None = None
        for key, (_, binding, enabled, tooltip) in screen.active_bindings.items():
            if key == palette_key and self.show_command_palette and self.app.ENABLE_COMMAND_PALETTE:
                palette = FittedKey(binding, self.app.get_key_display(binding), enabled, tooltip)
            elif binding.show and all(shown.binding.action != binding.action for shown in keys):
                keys.append(FittedKey(binding, self.app.get_key_display(binding), enabled, tooltip))
        return fit_keys(keys, palette, self._width(), getattr(screen, "FOOTER_PRIORITY", ()))

    def compose(self) -> ComposeResult:
        if not self._bindings_ready:
            return
        compact, keys, palette = self._shown or self._keys_to_show(self.screen)
        self.compact = compact
        for key in keys:
            yield FooterKey(key.binding.key, key.display, key.binding.description,
                            key.binding.action, disabled=not key.enabled,
                            tooltip=key.tooltip).data_bind(compact=Footer.compact)
        if palette is not None:
            yield FooterKey(palette.binding.key, palette.display, palette.binding.description,
                            palette.binding.action, classes="-command-palette",
                            disabled=not palette.enabled,
                            tooltip=palette.binding.tooltip or palette.binding.description)

    def bindings_changed(self, screen: Screen) -> None:
        if self.is_attached and screen is self.screen and screen.app.app_focus:
            shown = self._keys_to_show(screen)
            if shown == self._shown:
                return
            self._shown = shown
        super().bindings_changed(screen)

    def on_resize(self) -> None:
        self.bindings_changed(self.screen)

    async def recompose(self) -> None:
        await super().recompose()
        forget_closed_watchers(self)


@dataclass(frozen=True)
class FittedKey:
    binding: Binding
    display: str
    enabled: bool
    tooltip: str

    def width(self, compact: bool) -> int:
        # Textual's FooterKey: " key desc " wide; compact, "key desc" and a margin of 1.
        return len(self.display) + len(self.binding.description) + (2 if compact else 3)


PALETTE_CHROME = 2  # the palette key's left border and right padding
COMPACT_INDENT = 1  # StudioFooter.-compact's padding


def fit_keys(keys: list[FittedKey], palette: FittedKey | None, width: int,
             priority: tuple[str, ...]) -> tuple[bool, tuple[FittedKey, ...], FittedKey | None]:
    """Which keys a footer ``width`` wide shows, and whether compactly. Help always comes first
    (it lists the rest), then the ids in ``priority``, then the others in order; a dimmed key
    (a write on a read-only entry) comes after those that work; the palette key comes last."""
    def needed(chosen, palette_key, compact) -> int:
        extra = palette_key.width(compact) + PALETTE_CHROME if palette_key is not None else 0
        return sum(key.width(compact) for key in chosen) + extra

    if needed(keys, palette, False) <= width:
        return False, tuple(keys), palette
    ranks = {binding_id: rank for rank, binding_id in enumerate(("app.help", *priority))}
    ranked = sorted(keys, key=lambda key: (not key.enabled,
                                           ranks.get(key.binding.id or "", len(ranks))))
    room = width - COMPACT_INDENT
    chosen: set[int] = set()
    for key in ranked:
        if key.width(True) <= room:
            chosen.add(id(key))
            room -= key.width(True)
    if palette is not None and palette.width(True) + PALETTE_CHROME > room:
        palette = None
    return True, tuple(key for key in keys if id(key) in chosen), palette
