"""The cursor over the rows of a virtual list, shared by every one of them (keys, grid rows,
documents, catalog objects): the same keys move it everywhere, and it stays on a row."""

from __future__ import annotations

from textual.binding import Binding


def row_cursor_bindings(prefix: str) -> list[Binding]:
    """Up, down, page and ends; ``prefix`` names the ids (``keys.up`` …) the keymap remaps."""
    return [
        Binding("up,k", "move(-1)", "Up", show=False, id=f"{prefix}.up"),
        Binding("down,j", "move(1)", "Down", show=False, id=f"{prefix}.down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id=f"{prefix}.page_up"),
        Binding("pagedown", "page(1)", "Page down", show=False, id=f"{prefix}.page_down"),
        Binding("home,g", "first", "First", show=False, id=f"{prefix}.first"),
        Binding("end,G", "last", "Last", show=False, id=f"{prefix}.last"),
    ]


class RowCursor:
    """For a ScrollView with a cursor reactive (named by ``CURSOR``) over ``cursor_rows()``
    rows: the movement actions, clamped to the rows there are."""

    CURSOR = "cursor"

    def cursor_rows(self) -> int:
        raise NotImplementedError

    def page_rows(self) -> int:
        return max(1, self.scrollable_content_region.height - 1)  # type: ignore[attr-defined]

    def action_move(self, delta: int) -> None:
        rows = self.cursor_rows()
        if rows:
            setattr(self, self.CURSOR, max(0, min(rows - 1, getattr(self, self.CURSOR) + delta)))

    def action_page(self, direction: int) -> None:
        self.action_move(direction * self.page_rows())

    def action_first(self) -> None:
        self.action_move(-self.cursor_rows())

    def action_last(self) -> None:
        self.action_move(self.cursor_rows())
