"""Browse a PostgreSQL database's objects: the tree paints from one query of names, then columns
and details stream in (two more bulk queries) while it stays usable; exact sizes, function
source and the like are read for the highlighted object only. Read directly, or through
pg-meta when the entry has it (falling back to direct, and saying so, when pg-meta is down)."""

from __future__ import annotations

import asyncio
import importlib
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Header, Input

from studio_tui.screens.base import DatabaseScreen
from studio_tui.services.errors import StudioError
from studio_tui.services.platform.models import DatabaseEntry
from studio_tui.services.postgres.catalog import PostgresCatalog
from studio_tui.services.postgres.models import (
    BROWSABLE,
    RELATION_KINDS,
    SCHEMA_KINDS,
    CatalogIndex,
    CatalogObject,
    Column,
    RelationDetail,
    Sizes,
    display_name,
    is_system_schema,
)
from studio_tui.services.postgres.source import CatalogSource, OpenedSource, open_source
from studio_tui.widgets.chrome import Breadcrumb, StatusLine, StudioFooter
from studio_tui.widgets.ordered_input import OrderedInput
from studio_tui.widgets.postgres import detail_pane as views
from studio_tui.widgets.postgres.detail_pane import SECTIONS, DetailPane
from studio_tui.widgets.postgres.object_tree import GROUP_LABELS, ObjectTree, Row

# The other PostgreSQL screens, by import path: each opens when its module exists.
GRID_SCREEN = "studio_tui.screens.postgres.grid:GridScreen"
SQL_EDITOR_SCREEN = "studio_tui.screens.postgres.sql_editor:SqlEditorScreen"
SERVER_SCREEN = "studio_tui.screens.postgres.server:ServerScreen"
SETTLE = 0.08  # seconds the cursor rests on an object before its own details are read


def screen_class(path: str) -> type | None:
    """The screen class at ``module:Name``; None when that module does not exist (an import
    error inside an existing module is a bug, and is raised)."""
    module, _, name = path.partition(":")
    try:
        return getattr(importlib.import_module(module), name)
    except ModuleNotFoundError as missing:
        if missing.name and module.startswith(missing.name):
            return None
        raise


class PostgresBrowserScreen(DatabaseScreen[None]):
    CSS_PATH = "../../styles/postgres_browser.tcss"
    BINDINGS = [
        Binding("slash", "search", "Search", id="pg.search"),
        Binding("enter", "open_grid", "Rows", show=False, id="pg.rows"),
        Binding("e", "sql_editor", "SQL", id="pg.sql"),
        Binding("i", "server", "Server", id="pg.server"),
        Binding("s", "toggle_system", "System schemas", id="pg.system"),
        Binding("r", "reload", "Reload", id="pg.reload"),
        Binding("tab", "switch_pane", "Tree/detail", show=False, id="pg.switch_pane"),
        *(Binding(str(n), f"section({n - 1})", name, show=False, id=f"pg.section{n}")
          for n, name in enumerate(SECTIONS, 1)),
    ]
    FOOTER_PRIORITY = ("pg.search", "pg.sql", "pg.server", "pg.reload", "pg.system")

    def __init__(self, entry: DatabaseEntry, where: str) -> None:
        super().__init__(entry, where)
        self.opened: OpenedSource | None = None
        self.reader: PostgresCatalog | None = None
        self.index: CatalogIndex | None = None
        self.columns: dict[int, list[Column]] | None = None
        self.details: dict[int, RelationDetail] | None = None
        self.exact_sizes: dict[int, Sizes] = {}
        self.object_details: dict[tuple, Any] = {}
        self.section = 0
        self.database = ""

    def compose(self) -> ComposeResult:
        yield Header()
        yield Breadcrumb(self._crumb())
        yield OrderedInput(placeholder="/ search every object by name (esc clears)", id="search")
        with Horizontal(id="panes"):
            yield ObjectTree(id="tree")
            yield DetailPane(id="detail")
        yield StatusLine()
        yield StudioFooter()

    def on_mount(self) -> None:
        self.query_one(ObjectTree).focus()
        self.say("Reading the catalog…")
        self.load_catalog()

    def on_unmount(self) -> None:
        super().on_unmount()
        if self.opened is not None:
            source, self.opened = self.opened.source, None
            asyncio.get_running_loop().create_task(source.close())

    @property
    def source(self) -> CatalogSource | None:
        return None if self.opened is None else self.opened.source

    def _crumb(self) -> str:
        crumb = f"{self.where} › {self.entry.name} (postgres)"
        if self.database:
            crumb += f" › {display_name(self.database)}"
        if self.opened is not None:
            crumb += f" · {self.opened.source.description}"
            if self.opened.note:
                crumb += " (pg-meta unavailable)"
        return crumb + self.read_only_note

    # -- reading the catalog ----------------------------------------------------------------
    @work(group="pg-catalog", exclusive=True, exit_on_error=False, description="read catalog")
    async def load_catalog(self) -> None:
        tree = self.query_one(ObjectTree)
        try:
            if self.opened is None:
                self.opened = await open_source(self.studio.manager, self.entry)
                self.reader = PostgresCatalog(self.opened.source)
                if self.opened.problem is not None:
                    self.remember(self.opened.problem)
            assert self.reader is not None
            self.index = await self.reader.index(system=self.query_one(ObjectTree).show_system)
            self.database = self.index.names.database
            self.breadcrumb_line.update(self._crumb())
            tree.set_index(self.index)
            self._show_status("details loading…")
            # Names first, so the tree paints at once; all three side by side took longer on
            # two cores (the tree painted 100 ms later and the details came no sooner).
        except StudioError as error:
            self.show_error(error)
            return
        try:
            async with asyncio.TaskGroup() as both:  # side by side, on two connections
                both.create_task(self._load_columns(self.reader))
                both.create_task(self._load_details(self.reader))
        except* StudioError as errors:
            self.show_error(errors.exceptions[0])
        else:
            self._show_status()

    async def _load_columns(self, reader: PostgresCatalog) -> None:
        self.columns = await reader.columns()
        self._refresh_detail()

    async def _load_details(self, reader: PostgresCatalog) -> None:
        self.details = await reader.details()
        self._refresh_detail()

    def _show_status(self, progress: str = "") -> None:
        index = self.index
        if index is None:
            return
        shown = [s for s in index.schemas
                 if tree_shows_schema(s.name, self.query_one(ObjectTree).show_system)]
        relations = sum(1 for o in index.relations.values()
                        if tree_shows_schema(o.schema, self.query_one(ObjectTree).show_system))
        hidden = len(index.schemas) - len(shown)
        text = Text()
        if self.opened is not None and self.opened.note:
            text.append(f"{self.opened.note} · ", style="bold yellow")
        text.append(f"{relations:,} relations in {len(shown)} schemas")
        if hidden:
            text.append(f" ({hidden} system hidden, s shows)", style="dim")
        text.append(f" · {progress}" if progress else " · / searches, enter opens rows")
        self.say(text, layout=False)

    def action_reload(self) -> None:
        self.exact_sizes.clear()
        self.object_details.clear()
        self.columns = self.details = None
        self.say("Reading the catalog again…")
        self.load_catalog()

    # -- the highlighted object ---------------------------------------------------------------
    @on(ObjectTree.Highlighted)
    def _highlighted(self, event: ObjectTree.Highlighted) -> None:
        self._show_row(event.row)
        obj = None if event.row is None else event.row.obj
        if obj is not None and self._needs_read(obj):
            self.load_object(obj)
        else:
            self.workers.cancel_group(self, "pg-object")

    def _refresh_detail(self) -> None:
        self._show_row(self.query_one(ObjectTree).current)

    def _needs_read(self, obj: CatalogObject) -> bool:
        if obj.kind in RELATION_KINDS:
            return obj.kind != "view" and obj.oid not in self.exact_sizes
        if obj.kind in ("policy", "trigger", "schema"):
            return False
        return _object_key(obj) not in self.object_details

    @work(group="pg-object", exclusive=True, exit_on_error=False, description="object details")
    async def load_object(self, obj: CatalogObject) -> None:
        await asyncio.sleep(SETTLE)  # a held arrow key moves fast: read where it stops
        reader = self.reader
        if reader is None:
            return
        try:
            if obj.kind in RELATION_KINDS:
                self.exact_sizes[obj.oid] = await reader.exact_sizes(obj.oid)
            elif obj.kind in ("function", "procedure"):
                self.object_details[_object_key(obj)] = await reader.function_detail(obj.oid)
            elif obj.kind == "type":
                self.object_details[_object_key(obj)] = await reader.type_detail(obj.oid)
            elif obj.kind == "publication":
                self.object_details[_object_key(obj)] = await reader.publication_detail(obj.oid)
            elif obj.kind == "extension":
                self.object_details[_object_key(obj)] = await reader.extension_detail(obj.name)
            elif obj.kind == "role":
                self.object_details[_object_key(obj)] = await reader.role_detail(obj.oid)
        except StudioError as error:
            self.show_error(error)
            return
        self._refresh_detail()

    def _relation_detail(self, obj: CatalogObject) -> RelationDetail | None:
        detail = None if self.details is None else self.details.get(obj.oid)
        exact = self.exact_sizes.get(obj.oid)
        if detail is not None and exact is not None:
            detail.sizes = exact
        return detail

    def _show_row(self, row: Row | None) -> None:
        pane = self.query_one(DetailPane)
        if row is None:
            pane.show(Text("Nothing here." if self.index else "Reading the catalog…"))
            return
        obj, index = row.obj, self.index
        if obj is None or index is None:
            pane.show(self._summary(row))
            return
        if obj.kind == "sequence":
            pane.show(views.sequence_view(obj, self.exact_sizes.get(obj.oid)))
            return
        if obj.kind in RELATION_KINDS:
            detail = self._relation_detail(obj)
            columns = None if self.columns is None else self.columns.get(obj.oid, [])
            pane.show(views.relation_header(obj, detail, index.parent_name(obj)),
                      views.relation_section(detail, columns, self.section),
                      views.section_bar(self.section))
            return
        if obj.kind in ("policy", "trigger"):
            table = index.relations.get(obj.parent)
            detail = None if table is None else self._relation_detail(table)
            pane.show(views.owned_view(obj, index.parent_name(obj), detail))
            return
        detail = self.object_details.get(_object_key(obj))
        render = {"function": views.function_view, "procedure": views.function_view,
                  "type": views.type_view, "extension": views.extension_view,
                  "publication": views.publication_view, "role": views.role_view}[obj.kind]
        pane.show(render(obj, detail))

    def _summary(self, row: Row) -> Any:
        """A schema, a kind or a database-wide group: what it holds."""
        index = self.index
        assert index is not None
        if row.key[0] == "schema":
            schema = row.key[1]
            lines = [(label, f"{len(index.groups[(schema, kind)]):,}")
                     for kind, label in SCHEMA_KINDS if (schema, kind) in index.groups]
            return views.summary_view(f"schema {display_name(schema)}",
                                      lines or [("objects", "none")])
        if row.key[0] == "group":
            _, schema, kind = row.key
            objects = index.groups.get((schema, kind), [])
            lines = [("objects", f"{len(objects):,}")]
            if kind == "table" and self.details is not None:
                sizes = [self.details[o.oid].sizes.total for o in objects if o.oid in self.details]
                rows = [self.details[o.oid].rows or 0 for o in objects if o.oid in self.details]
                lines += [("rows", f"≈{sum(rows):,.0f}"),
                          ("size", f"{views.format_bytes(sum(sizes))} (estimated)")]
            return views.summary_view(f"{GROUP_LABELS.get(kind, kind)} in "
                                      f"{display_name(schema)}", lines)
        return views.summary_view(row.label, [("count", row.note)])

    def action_section(self, section: int) -> None:
        self.section = section
        self._refresh_detail()

    # -- search and system schemas ------------------------------------------------------------
    def action_search(self) -> None:
        # Focus now, not after the keys already queued: what is typed in the same burst as /
        # belongs in the search, not to the tree (where r, e, i and s are keys of their own).
        self.set_focus(self.query_one("#search", Input))

    @on(Input.Changed, "#search")
    def _search_changed(self, event: Input.Changed) -> None:
        tree = self.query_one(ObjectTree)
        tree.set_filter(event.value.strip())
        if event.value.strip():
            matches = sum(1 for row in tree.rows if row.obj is not None)
            self.say(f"{matches:,} object(s) named like {event.value.strip()!r}"
                     f"{'' if tree.show_system else ' (system schemas hidden: s shows them)'}")
        else:
            self._show_status()

    @on(Input.Submitted, "#search")
    def _search_submitted(self) -> None:
        self.query_one(ObjectTree).focus()

    def action_toggle_system(self) -> None:
        tree = self.query_one(ObjectTree)
        tree.set_show_system(not tree.show_system)
        if tree.show_system and self.index is not None and not self.index.names.system:
            self.load_system_names()  # read only now that they are wanted
        self._system_shown()

    def _system_shown(self) -> None:
        self._show_status()
        search = self.query_one("#search", Input)
        if search.value.strip():
            self._search_changed(Input.Changed(search, search.value))

    @work(group="pg-system", exclusive=True, exit_on_error=False,
          description="read system schemas")
    async def load_system_names(self) -> None:
        if self.reader is None:
            return
        self.say("Reading the system schemas…")
        try:
            self.index = await self.reader.index(system=True)
        except StudioError as error:
            self.show_error(error)
            return
        self.query_one(ObjectTree).set_index(self.index)
        self._system_shown()

    def action_back(self) -> None:
        search = self.query_one("#search", Input)
        if self.focused is search or search.value:
            # From the search box the search is abandoned: back where it began. From the tree,
            # after moving through the matches, the highlighted object stays.
            tree = self.query_one(ObjectTree)
            tree.end_search(stay=self.focused is not search)
            search.value = ""
            tree.focus()
        else:
            self.dismiss()

    def action_switch_pane(self) -> None:
        tree, pane = self.query_one(ObjectTree), self.query_one(DetailPane)
        (tree if self.focused is pane else pane).focus()

    # -- the other PostgreSQL screens -----------------------------------------------------------
    @on(ObjectTree.Chosen)
    def _chosen(self, event: ObjectTree.Chosen) -> None:
        self._open_rows(event.obj)

    def action_open_grid(self) -> None:
        row = self.query_one(ObjectTree).current
        if row is not None and row.obj is not None:
            self._open_rows(row.obj)

    def _open_rows(self, obj: CatalogObject) -> None:
        if obj.kind not in BROWSABLE:
            self.say(f"{KIND_WORDS.get(obj.kind, obj.kind)} have no rows to browse.")
            return
        self._open(GRID_SCREEN, "The data grid", obj.schema, obj.name)

    def action_sql_editor(self) -> None:
        self._open(SQL_EDITOR_SCREEN, "The SQL editor")

    def action_server(self) -> None:
        self._open(SERVER_SCREEN, "The server view")

    def _open(self, path: str, what: str, *args: str) -> None:
        cls = screen_class(path)
        if cls is None:
            self.say(f"{what} is not available in this version.")
            return
        self.app.push_screen(cls(self.entry, self.where, *args))


KIND_WORDS = {"sequence": "Sequences", "function": "Functions", "procedure": "Procedures",
              "type": "Types", "policy": "Policies", "trigger": "Triggers",
              "extension": "Extensions", "publication": "Publications", "role": "Roles"}


def tree_shows_schema(schema: str, show_system: bool) -> bool:
    return show_system or not is_system_schema(schema)


def _object_key(obj: CatalogObject) -> tuple:
    return (obj.kind, obj.oid, obj.name)
