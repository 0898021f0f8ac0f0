"""The PostgreSQL object tree, virtual: the expanded part of the catalog is a flat list of rows,
and only the rows on screen are drawn (Textual's Line API). Expanding a group of 10,000 tables
adds 10,000 small tuples, not 10,000 widgets or tree nodes.

schemas › kinds (tables, views, …) › objects, partitions under their table; then extensions
(installed, available), publications and roles. A filter shows only the objects whose names
hold it, with their schema and kind, across the whole catalog."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from studio_tui.widgets.ordered_input import act_in_order
from studio_tui.widgets.row_cursor import RowCursor, row_cursor_bindings
from studio_tui.services.postgres.models import (
    DATABASE_KINDS,
    GROUP_OF,
    SCHEMA_KINDS,
    CatalogIndex,
    CatalogObject,
    display_name,
    is_system_schema,
)

KIND_NOTES = {"partitioned": "partitioned", "procedure": "", "function": ""}
GROUP_LABELS = dict(SCHEMA_KINDS + DATABASE_KINDS)


class Row(NamedTuple):
    depth: int
    key: tuple  # what stays expanded; also names the row for the cursor
    label: str
    note: str  # dim text after the label: a count, a kind, the table of a policy
    expandable: bool
    obj: CatalogObject | None


class ObjectTree(RowCursor, ScrollView, can_focus=True):
    DEFAULT_CSS = """
    ObjectTree { height: 1fr; }
    ObjectTree > .object-tree--cursor { background: $accent 40%; text-style: bold; }
    ObjectTree:focus > .object-tree--cursor { background: $accent; color: $text; }
    ObjectTree > .object-tree--note { color: $text-muted; }
    ObjectTree > .object-tree--group { color: $secondary; text-style: bold; }
    ObjectTree > .object-tree--match { color: $warning; text-style: bold; }
    """
    COMPONENT_CLASSES = {"object-tree--cursor", "object-tree--note", "object-tree--group",
                         "object-tree--match"}
    BINDINGS = row_cursor_bindings("pgtree") + [
        Binding("right,l", "expand", "Expand", show=False, id="pgtree.expand"),
        Binding("left,h", "collapse", "Collapse", show=False, id="pgtree.collapse"),
        Binding("space", "toggle", "Expand/collapse", show=False, id="pgtree.toggle"),
        Binding("enter", "choose", "Open", show=False, id="pgtree.open"),
    ]

    def cursor_rows(self) -> int:
        return len(self._rows)

    cursor: reactive[int] = reactive(0, repaint=False)

    @dataclass
    class Highlighted(Message, bubble=True):
        """The cursor is on ``row`` (None when the tree is empty)."""

        row: Row | None

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, ObjectTree.Highlighted)

    @dataclass
    class Chosen(Message, bubble=True):
        """Enter on an object (not on a schema or a kind, which it expands)."""

        obj: CatalogObject

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.index: CatalogIndex | None = None
        self.show_system = False
        self.filter = ""
        self._expanded: set[tuple] = set()
        self._rows: list[Row] = []
        self._before_search: tuple | None = None  # the row the cursor was on when it began

    # -- data -------------------------------------------------------------------------------
    @property
    def rows(self) -> list[Row]:
        return self._rows

    @property
    def current(self) -> Row | None:
        return self._rows[self.cursor] if 0 <= self.cursor < len(self._rows) else None

    def set_index(self, index: CatalogIndex) -> None:
        """A new read of the catalog: what was expanded stays expanded, the cursor stays on the
        same object where it still exists. The first read opens the first user schema."""
        first = self.index is None
        self.index = index
        if first:
            user = sorted((s.name != "public", s.name) for s in index.schemas
                          if not is_system_schema(s.name))
            if user:
                self._expanded.add(("schema", user[0][1]))
        self._rebuild()

    def set_filter(self, text: str) -> None:
        """Show only what matches ``text``, the cursor on the first match; "" ends the search
        as if abandoned (see ``end_search``)."""
        if not text and self.filter:
            self.end_search(stay=False)
            return
        if text and not self.filter:
            self._before_search = self.current.key if self.current is not None else None
        self.filter = text
        self._rebuild(to_first_match=bool(text))

    def end_search(self, *, stay: bool) -> None:
        """The whole tree again. ``stay``: on the object the cursor is on (opened down to it),
        as after moving through the matches; else back where the cursor was before the search,
        as when it is abandoned."""
        if not self.filter:
            return
        row = self.current
        target = self._before_search
        if stay and row is not None and row.obj is not None and self.index is not None:
            self._expanded.update(self._ancestors(self.index, row.obj))
            target = row.key
        self.filter = ""
        self._rebuild()
        found = next((i for i, r in enumerate(self._rows) if r.key == target), None)
        if found is not None:
            self.cursor = found
            self._cursor_changed(force=True)

    def set_show_system(self, show: bool) -> None:
        self.show_system = show
        self._rebuild()

    def _rebuild(self, *, to_first_match: bool = False) -> None:
        current = self.current
        self._rows = self._flatten()
        if to_first_match:
            target = next((i for i, r in enumerate(self._rows) if r.obj is not None), 0)
        elif current is not None:
            target = next((i for i, r in enumerate(self._rows) if r.key == current.key),
                          min(self.cursor, max(0, len(self._rows) - 1)))
        else:
            target = 0
        self.virtual_size = Size(self.scrollable_content_region.width, len(self._rows))
        self.cursor = target
        self._cursor_changed(force=True)
        self.refresh()

    # -- the flat list of visible rows ------------------------------------------------------
    def _flatten(self) -> list[Row]:
        index = self.index
        if index is None:
            return []
        needle = self.filter.casefold()
        rows: list[Row] = []
        for schema in index.schemas:
            if is_system_schema(schema.name) and not self.show_system:
                continue
            schema_rows = self._schema_rows(index, schema.name, needle)
            if needle and not schema_rows:
                continue
            key = ("schema", schema.name)
            count = sum(len(index.groups.get((schema.name, kind), ())) for kind, _ in SCHEMA_KINDS)
            rows.append(Row(0, key, display_name(schema.name), f"schema · {count:,}", True, None))
            if needle or key in self._expanded:
                rows.extend(schema_rows)
        for kind, label in DATABASE_KINDS:
            objects = index.database_objects.get(kind, [])
            if needle:
                objects = [o for o in objects if needle in o.name.casefold()]
                if not objects:
                    continue
            key = ("database", kind)
            rows.append(Row(0, key, label, f"{len(objects):,}", True, None))
            if needle or key in self._expanded:
                rows.extend(self._database_rows(kind, objects, needle))
        return rows

    def _schema_rows(self, index: CatalogIndex, schema: str, needle: str) -> list[Row]:
        rows: list[Row] = []
        for kind, label in SCHEMA_KINDS:
            objects = index.groups.get((schema, kind))
            if not objects:
                continue
            key = ("group", schema, kind)
            if needle:
                matches = [o for o in objects if needle in o.name.casefold()]
                if kind == "table":  # partitions are found too, listed under their group
                    matches += [p for o in objects for p in self._all_partitions(index, o)
                                if needle in p.name.casefold()]
                if not matches:
                    continue
                rows.append(Row(1, key, label, f"{len(matches):,} of {len(objects):,}", True,
                                None))
                rows.extend(self._object_row(index, o, 2, nested=False) for o in matches)
                continue
            rows.append(Row(1, key, label, f"{len(objects):,}", True, None))
            if key in self._expanded:
                for obj in objects:
                    self._add_object(rows, index, obj, 2)
        return rows

    def _all_partitions(self, index: CatalogIndex, obj: CatalogObject) -> list[CatalogObject]:
        found: list[CatalogObject] = []
        for child in index.partitions.get(obj.oid, ()):
            found.append(child)
            found.extend(self._all_partitions(index, child))
        return found

    def _add_object(self, rows: list[Row], index: CatalogIndex, obj: CatalogObject,
                    depth: int) -> None:
        row = self._object_row(index, obj, depth, nested=True)
        rows.append(row)
        if row.expandable and row.key in self._expanded:
            for child in index.partitions.get(obj.oid, ()):
                self._add_object(rows, index, child, depth + 1)

    def _object_row(self, index: CatalogIndex, obj: CatalogObject, depth: int, *,
                    nested: bool) -> Row:
        partitions = index.partitions.get(obj.oid, ()) if nested else ()
        note = KIND_NOTES.get(obj.kind, "")
        if obj.kind in ("policy", "trigger") or (obj.parent and not nested):
            note = f"on {display_name(index.parent_name(obj))}"
        elif obj.kind == "type":
            note = obj.extra
        if partitions:
            note = f"{note} · {len(partitions)} partitions" if note else \
                f"{len(partitions)} partitions"
        return Row(depth, ("object", obj.kind, obj.oid, obj.name, obj.extra),
                   display_name(obj.label), note, bool(partitions), obj)

    def _database_rows(self, kind: str, objects: list[CatalogObject], needle: str) -> list[Row]:
        if kind != "extension":
            return [Row(1, ("object", kind, o.oid, o.name, o.extra), display_name(o.name),
                        o.extra, False, o) for o in objects]
        rows: list[Row] = []
        for installed, label in ((True, "Installed"), (False, "Available")):
            chosen = [o for o in objects if bool(o.extra) == installed]
            if not chosen:
                continue
            key = ("extensions", label)
            rows.append(Row(1, key, label, f"{len(chosen):,}", True, None))
            if needle or key in self._expanded:
                rows.extend(Row(2, ("object", kind, o.oid, o.name, o.extra), display_name(o.name),
                                o.extra, False, o) for o in chosen)
        return rows

    # -- expanding ----------------------------------------------------------------------------
    def is_expanded(self, row: Row) -> bool:
        return bool(self.filter) or row.key in self._expanded

    def expand(self, key: tuple) -> None:
        self._expanded.add(key)
        self._rebuild()

    def action_expand(self) -> None:
        row = self.current
        if row is None or not row.expandable:
            return
        if self.is_expanded(row):
            self.action_move(1)  # into the first child
        else:
            self.expand(row.key)

    def action_collapse(self) -> None:
        row = self.current
        if row is None:
            return
        if row.expandable and row.key in self._expanded and not self.filter:
            self._expanded.discard(row.key)
            self._rebuild()
            return
        for i in range(self.cursor - 1, -1, -1):  # to the parent
            if self._rows[i].depth < row.depth:
                self.cursor = i
                return

    def action_toggle(self) -> None:
        row = self.current
        if row is None or not row.expandable or self.filter:
            return
        if row.key in self._expanded:
            self._expanded.discard(row.key)
        else:
            self._expanded.add(row.key)
        self._rebuild()

    def action_choose(self) -> None:
        row = self.current
        if row is None:
            return
        if row.obj is not None:
            self.post_message(self.Chosen(row.obj))
        else:
            self.action_toggle()

    # -- drawing ----------------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        index = int(self.scroll_offset.y) + y
        width = self.scrollable_content_region.width
        base = self.rich_style
        if index >= len(self._rows):
            return Strip.blank(width, base)
        row = self._rows[index]
        at_cursor = index == self.cursor
        if at_cursor:
            base = base + self.get_component_rich_style("object-tree--cursor")
        if row.expandable:
            marker = "▾ " if self.is_expanded(row) else "▸ "
        else:
            marker = "  "
        lead = "  " * row.depth + marker
        label_style = base
        if row.obj is None and row.depth > 0:
            label_style = base + self.get_component_rich_style("object-tree--group")
        note_style = base if at_cursor else base + self.get_component_rich_style(
            "object-tree--note")
        note = f" {row.note}" if row.note else ""
        room = max(4, width - cell_len(lead))
        label = row.label
        if cell_len(label) + cell_len(note) > room:
            note = note[: max(0, room - cell_len(label))] if cell_len(label) < room else ""
            if cell_len(label) > room:
                label = set_cell_size(label, room - 1) + "…"
        segments = [Segment(lead, base)]
        segments.extend(self._label_segments(label, label_style, row.obj is not None))
        segments.append(Segment(note, note_style))
        return Strip(segments).adjust_cell_length(width, base if at_cursor else Style())

    def _label_segments(self, label: str, style: Style, is_object: bool) -> list[Segment]:
        if not (self.filter and is_object):
            return [Segment(label, style)]
        start = label.casefold().find(self.filter.casefold())
        if start < 0 or len(label.casefold()) != len(label):
            return [Segment(label, style)]
        end = start + len(self.filter)
        match = style + self.get_component_rich_style("object-tree--match")
        return [Segment(label[:start], style), Segment(label[start:end], match),
                Segment(label[end:], style)]

    # -- keys typed in one burst -----------------------------------------------------------------
    async def handle_key(self, event: events.Key) -> bool:
        """Keys arrive here in the order typed. One that moves the focus (``/`` to the search)
        runs now, in this turn (``act_in_order``); the keys typed after it, already queued
        here, go on to the widget that has the focus now, in the same order."""
        focused = self.app.focused
        if focused is not None and focused is not self and focused.screen is self.screen:
            event.stop()
            event.prevent_default()
            focused.post_message(events.Key(event.key, event.character))
            return True
        return await super().handle_key(event) or await act_in_order(self, event)

    # -- movement ---------------------------------------------------------------------------
    def watch_cursor(self, old: int, new: int) -> None:
        self.refresh(Region(0, old - int(self.scroll_offset.y), self.size.width, 1))
        self._cursor_changed()

    def _cursor_changed(self, *, force: bool = False) -> None:
        if not self._rows:
            self.post_message(self.Highlighted(None))
            return
        self.scroll_to_region(Region(0, self.cursor, 1, 1), animate=False, immediate=True)
        self.refresh(Region(0, self.cursor - int(self.scroll_offset.y), self.size.width, 1))
        self.post_message(self.Highlighted(self.current))

    def on_resize(self) -> None:
        self.virtual_size = Size(self.scrollable_content_region.width, len(self._rows))
        self.refresh()

    def on_click(self, event) -> None:
        index = int(self.scroll_offset.y) + event.y
        if 0 <= index < len(self._rows):
            if index == self.cursor:
                self.action_toggle()
            self.cursor = index

    def _ancestors(self, index: CatalogIndex, obj: CatalogObject) -> set[tuple]:
        """The keys to expand for ``obj`` to be on a row."""
        if obj.kind in GROUP_LABELS and obj.kind in dict(DATABASE_KINDS):
            keys = {("database", obj.kind)}
            if obj.kind == "extension":
                keys.add(("extensions", "Installed" if obj.extra else "Available"))
            return keys
        keys = {("schema", obj.schema), ("group", obj.schema, GROUP_OF.get(obj.kind, obj.kind))}
        parent = index.relations.get(obj.parent) if obj.kind in ("table", "partitioned") \
            else None
        while parent is not None:
            keys.add(("object", parent.kind, parent.oid, parent.name, parent.extra))
            keys.add(("group", parent.schema, GROUP_OF.get(parent.kind, parent.kind)))
            parent = index.relations.get(parent.parent)
        return keys

    def select_object(self, kind: str, schema: str, name: str) -> bool:
        """Put the cursor on that object, expanding its schema and kind; False if absent."""
        index = self.index
        if index is None:
            return False
        for obj in index.names.objects:
            if obj.kind == kind and obj.schema == schema and obj.name == name:
                self._expanded.update(self._ancestors(index, obj))
                self._rebuild()
                for i, row in enumerate(self._rows):
                    if row.obj == obj:
                        self.cursor = i
                        return True
        return False
