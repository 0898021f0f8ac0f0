"""Documents as a tree, drawn virtually (Textual's Line API): only the rows on screen are
rendered, and a node's children are made only when it is opened, so a 16 MB document or one
nested 100 levels opens at once. Deep levels are indented up to a limit, then shown by depth."""

from __future__ import annotations

from dataclasses import dataclass

from rich.cells import set_cell_size
from rich.segment import Segment
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from studio_tui.services.mongo.models import OUTLINE_MORE as MORE, DocumentOutline, OutlineRow
from studio_tui.widgets.data_grid import one_line
from studio_tui.widgets.row_cursor import RowCursor, row_cursor_bindings

MAX_INDENT = 24  # columns of indentation; deeper levels show their depth instead
NEAR_END = 2  # screens before the last document at which more are asked for


class DocumentTree(RowCursor, ScrollView, can_focus=True):
    DEFAULT_CSS = """
    DocumentTree { height: 1fr; }
    DocumentTree > .document-tree--cursor { background: $accent 40%; text-style: bold; }
    DocumentTree:focus > .document-tree--cursor { background: $accent; color: $text; }
    DocumentTree > .document-tree--type { color: $text-muted; }
    DocumentTree > .document-tree--label { color: $secondary; text-style: bold; }
    """
    COMPONENT_CLASSES = {"document-tree--cursor", "document-tree--type", "document-tree--label"}
    BINDINGS = row_cursor_bindings("doctree") + [
        Binding("right,l", "expand", "Open", show=False, id="doctree.expand"),
        Binding("left,h", "collapse", "Close", show=False, id="doctree.collapse"),
        Binding("enter", "toggle", "Open/close", show=False, id="doctree.toggle"),
    ]

    def cursor_rows(self) -> int:
        return len(self._rows)

    cursor: reactive[int] = reactive(0, repaint=False)

    @dataclass
    class Highlighted(Message, bubble=True):
        """The cursor is in document ``index`` (-1: none)."""

        index: int

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, DocumentTree.Highlighted)

    @dataclass
    class NearEnd(Message, bubble=True):
        loaded: int

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, DocumentTree.NearEnd)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.outline: DocumentOutline | None = None
        self._rows: list[OutlineRow] = []
        self._open: set[tuple] = set()
        self._documents = 0

    # -- data -------------------------------------------------------------------------------
    def show(self, outline: DocumentOutline) -> None:
        """Start over with ``outline``'s documents, all closed."""
        self.outline = outline
        self._rows = []
        self._open = set()
        self._documents = 0
        self.cursor = 0
        self.add_documents()

    def reload(self) -> None:
        """Rebuild the rows from the outline (a document was replaced), keeping the nodes that
        were open and the cursor on the same field."""
        if self.outline is None:
            return
        opened, current = self._open, self.current.path if self.current else None
        rows: list[OutlineRow] = []
        self._open = set()

        def add(row: OutlineRow) -> None:
            rows.append(row)
            if row.expandable and row.path in opened:
                self._open.add(row.path)
                for child in self.outline.children(row.path, row.depth + 1):
                    add(child)

        self._documents = len(self.outline.documents)
        for index in range(self._documents):
            add(self.outline.root(index))
        self._rows = rows
        self._layout()
        found = next((number for number, row in enumerate(rows) if row.path == current), None)
        self.cursor = found if found is not None else max(0, min(self.cursor, len(rows) - 1))

    def add_documents(self) -> None:
        """Rows for the documents added to the outline since the last call."""
        if self.outline is None:
            return
        total = len(self.outline.documents)
        self._rows.extend(self.outline.root(index) for index in range(self._documents, total))
        self._documents = total
        self._layout()
        if total and self.cursor == 0:
            self.post_message(self.Highlighted(self._document_at(0)))

    @property
    def row_count(self) -> int:
        return len(self._rows)

    def row(self, index: int) -> OutlineRow:
        return self._rows[index]

    @property
    def current(self) -> OutlineRow | None:
        return self._rows[self.cursor] if 0 <= self.cursor < len(self._rows) else None

    def _document_at(self, index: int) -> int:
        return int(self._rows[index].path[0]) if 0 <= index < len(self._rows) else -1

    def select_document(self, index: int, *, expand: bool = False) -> None:
        for row_index, row in enumerate(self._rows):
            if row.depth == 0 and row.path[0] == index:
                self.cursor = row_index
                if expand:
                    self.action_expand()
                return

    def _layout(self) -> None:
        self.virtual_size = Size(self.scrollable_content_region.width, len(self._rows))
        self.refresh()

    # -- drawing ----------------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        index = int(self.scroll_offset.y) + y
        if index >= len(self._rows):
            return Strip.blank(width, self.rich_style)
        row = self._rows[index]
        base = self.rich_style
        if index == self.cursor:
            base = base + self.get_component_rich_style("document-tree--cursor")
        indent = row.depth * 2
        prefix = " " * indent if indent <= MAX_INDENT else f"{'·' * (MAX_INDENT - 5)}{row.depth:>3}  "
        marker = ("▾ " if row.path in self._open else "▸ ") if row.expandable else "  "
        label_style = base + self.get_component_rich_style("document-tree--label")
        type_style = base + self.get_component_rich_style("document-tree--type")
        segments = [Segment(prefix + marker, base), Segment(one_line(row.label), label_style)]
        if row.type and row.depth:
            segments.append(Segment(f" {row.type}", type_style))
        segments.append(Segment("  " + one_line(row.summary), base))
        text_length = sum(len(segment.text) for segment in segments)
        if text_length > width:  # cut at the width: long values never lay out past the screen
            cut, kept = width, []
            for segment in segments:
                if cut <= 0:
                    break
                kept.append(Segment(set_cell_size(segment.text, min(cut, len(segment.text))),
                                    segment.style))
                cut -= len(segment.text)
            segments = kept
        return Strip(segments).adjust_cell_length(width, base)

    # -- opening and closing ------------------------------------------------------------------
    def action_expand(self) -> None:
        row = self.current
        if row is None or self.outline is None:
            return
        if len(row.path) >= 2 and row.path[-2] == MORE:
            self._more(self.cursor, row)
            return
        if not row.expandable or row.path in self._open:
            return
        self._open.add(row.path)
        children = self.outline.children(row.path, row.depth + 1)
        self._rows[self.cursor + 1:self.cursor + 1] = children
        self._layout()

    def _more(self, index: int, row: OutlineRow) -> None:
        parent = row.path[:-2]
        following = self.outline.children(parent, row.depth, int(row.path[-1]))
        self._rows[index:index + 1] = following
        self._layout()

    def action_collapse(self) -> None:
        row = self.current
        if row is None:
            return
        if row.path not in self._open:
            # On a closed node or a leaf: go to the parent.
            for index in range(self.cursor - 1, -1, -1):
                if self._rows[index].depth < row.depth:
                    self.cursor = index
                    break
            return
        self._open.discard(row.path)
        end = self.cursor + 1
        while end < len(self._rows) and self._rows[end].depth > row.depth:
            self._open.discard(self._rows[end].path)
            end += 1
        del self._rows[self.cursor + 1:end]
        self._layout()

    def action_toggle(self) -> None:
        row = self.current
        if row is not None and row.path in self._open:
            self.action_collapse()
        else:
            self.action_expand()

    # -- movement ---------------------------------------------------------------------------
    def watch_cursor(self, old: int, new: int) -> None:
        width = self.size.width
        self.refresh(Region(0, old - int(self.scroll_offset.y), width, 1))
        top, height = int(self.scroll_offset.y), max(1, self.scrollable_content_region.height)
        if new < top:
            self.scroll_to(y=new, animate=False, immediate=True)
        elif new >= top + height:
            self.scroll_to(y=new - height + 1, animate=False, immediate=True)
        self.refresh(Region(0, new - int(self.scroll_offset.y), width, 1))
        if self._document_at(old) != self._document_at(new):
            self.post_message(self.Highlighted(self._document_at(new)))
        self._check_near_end()

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        self._check_near_end()

    def _check_near_end(self) -> None:
        height = max(1, self.scrollable_content_region.height)
        reach = max(self.cursor, int(self.scroll_offset.y) + height)
        if self._rows and reach >= len(self._rows) - NEAR_END * height:
            self.post_message(self.NearEnd(self._documents))

    def on_resize(self) -> None:
        self._layout()
