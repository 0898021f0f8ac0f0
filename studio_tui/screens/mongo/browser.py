"""Browse a MongoDB server: databases and collections with their stats, a query bar, and the
documents as a table or a tree, paged by range on the sort key as you scroll. The first page
never waits for a count; esc cancels a running find on the server."""

from __future__ import annotations

import asyncio
import importlib

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Header, Input, Static

from studio_tui.screens.base import DatabaseScreen
from studio_tui.screens.mongo.document_actions import DocumentActions
from studio_tui.services.errors import PermissionDeniedError, StudioError
from studio_tui.services.mongo.ejson import field_name, to_editor_text
from studio_tui.services.mongo.models import (
    OUTLINE_MORE,
    CollectionInfo,
    DatabaseInfo,
    FindQuery,
    PageCursor,
)
from studio_tui.services.mongo.outline import (
    DocumentsOutline,
    column_title,
    document_cells,
    document_columns,
)
from studio_tui.services.mongo.query import QuerySyntaxError, parse_find
from studio_tui.services.mongo.service import MongoService
from studio_tui.services.platform.models import DatabaseEntry
from studio_tui.state import UiState
from studio_tui.widgets.chrome import Breadcrumb, StatusLine, StudioFooter
from studio_tui.widgets.data_grid import DataGrid, GridColumn
from studio_tui.widgets.mongo.collection_tree import (
    CollectionTree,
    describe_collection,
    describe_database,
    format_count,
)
from studio_tui.widgets.mongo.document_tree import DocumentTree
from studio_tui.widgets.mongo.query_bar import QueryBar, QueryText

HISTORY_SIZE = 30
STATS_AT_ONCE = 50  # collections of an opened database whose stats are fetched
NARROW = 100  # columns below which an opened collection gets the whole width (tab: the tree)

# The tools screens, by import path: opened when asked for, "not available" when missing.
TOOLS = {
    "aggregation": "studio_tui.screens.mongo.aggregation:AggregationScreen",
    "explain": "studio_tui.screens.mongo.explain:ExplainScreen",
    "indexes": "studio_tui.screens.mongo.indexes:IndexesScreen",
    "schema": "studio_tui.screens.mongo.schema:SchemaScreen",
    "server": "studio_tui.screens.mongo.server:ServerScreen",
    "export": "studio_tui.screens.mongo.transfer:ExportScreen",
    "import": "studio_tui.screens.mongo.transfer:ImportScreen",
    "transaction": "studio_tui.screens.mongo.transaction:TransactionScreen",
}
NEEDS_COLLECTION = {"aggregation", "explain", "indexes", "schema", "export", "import",
                    "transaction"}


class MongoBrowserScreen(DatabaseScreen[None]):
    CSS_PATH = "../../styles/mongo_browser.tcss"
    BINDINGS = [
        Binding("slash", "query", "Query", id="mongo.query"),
        Binding("r", "run", "Run", show=False, id="mongo.run",
                tooltip="Run the query again"),
        Binding("v", "toggle_view", "Table/tree", id="mongo.view",
                tooltip="Documents as a table or a tree"),
        Binding("tab", "switch_pane", "Pane", show=False, id="mongo.switch_pane",
                tooltip="Collection tree ⇄ documents"),
        Binding("z", "widen", "Wide documents", show=False, id="mongo.widen",
                tooltip="Hide or show the collection tree"),
        Binding("number_sign", "exact_count", "Count", show=False, id="mongo.count",
                tooltip="Exact count (time-limited)"),
        Binding("e", "documents('edit')", "Edit", id="mongo.edit",
                tooltip="Edit: tree field, else document"),
        Binding("E", "documents('editor')", "$EDITOR", show=False, id="mongo.editor",
                tooltip="Edit the document in $EDITOR"),
        Binding("N", "documents('insert')", "New", id="mongo.new",
                tooltip="Insert documents (tree: collection)"),
        Binding("C", "documents('duplicate')", "Duplicate", show=False, id="mongo.duplicate",
                tooltip="Duplicate the document"),
        Binding("d", "documents('delete')", "Delete", id="mongo.delete",
                tooltip="Delete (marked) docs; tree: drop"),
        Binding("U", "documents('update')", "Update", show=False, id="mongo.update",
                tooltip="Update the documents matched"),
        Binding("D", "documents('delete_many')", "Delete many", show=False,
                id="mongo.delete_many",
                tooltip="Delete the documents matched"),
        Binding("y", "copy", "Copy", show=False, id="mongo.copy",
                tooltip="Copy the document (tree: the field)"),
        Binding("less_than_sign", "sort(1)", "Sort up", show=False, id="mongo.sort_up",
                tooltip="Sort by this column, ascending"),
        Binding("greater_than_sign", "sort(-1)", "Sort down", show=False, id="mongo.sort_down",
                tooltip="Sort by this column, descending"),
        Binding("a", "tool('aggregation')", "Aggregate", id="mongo.aggregation",
                tooltip="Aggregation pipeline"),
        Binding("x", "tool('explain')", "Explain", show=False, id="mongo.explain",
                tooltip="Explain the query"),
        Binding("I", "tool('indexes')", "Indexes", show=False, id="mongo.indexes",
                tooltip="Indexes"),
        Binding("S", "tool('schema')", "Schema", show=False, id="mongo.schema",
                tooltip="Schema from a sample"),
        Binding("i", "tool('server')", "Server", id="mongo.server",
                tooltip="Server status and operations"),
        Binding("o", "tool('export')", "Export", show=False, id="mongo.export",
                tooltip="Export the query's documents"),
        Binding("O", "tool('import')", "Import", show=False, id="mongo.import",
                tooltip="Import documents from a file"),
        Binding("T", "tool('transaction')", "Transaction", show=False, id="mongo.transaction",
                tooltip="Writes in one transaction"),
    ]
    FOOTER_PRIORITY = ("mongo.query", "mongo.edit", "mongo.new", "mongo.delete",
                       "mongo.aggregation", "mongo.server", "mongo.view")
    # In the tree, N, d create and drop collections and databases (DocumentActions decides).
    WRITE_ACTIONS = frozenset(
        [("documents", name) for name in ("edit", "editor", "insert", "duplicate", "delete",
                                          "update", "delete_many")]
        + [("tool", "import"), ("tool", "transaction")])

    def __init__(self, entry: DatabaseEntry, where: str) -> None:
        super().__init__(entry, where)
        self.database: str | None = None
        self.collection: CollectionInfo | None = None
        self.find_query = FindQuery()
        self.query_text = QueryText()  # what was typed for find_query: aggregation starts from it
        self.documents: list[dict] = []
        self.outline = DocumentsOutline(self.documents)
        self.columns: list[str] = []
        self.next: PageCursor | None = None
        self.estimate: int | None = None
        self.exact: int | None = None
        self.view = "table"
        self.unsaved: dict[tuple, tuple[str, dict]] = {}  # edits not saved: (text, loaded doc)
        self._hint = False  # the next page's arrival shows the keys on the status line
        self._sorted_column = 0

    def compose(self) -> ComposeResult:
        yield Header()
        yield Breadcrumb(self._crumb())
        with Horizontal(id="panes"):
            yield CollectionTree(id="tree")
            with Vertical(id="documents"):
                yield QueryBar(id="query")
                yield Static("Choose a collection (enter).", id="count", markup=False)
                yield DataGrid(null_text="", id="table")
                yield DocumentTree(id="doctree")
        yield StatusLine()
        yield StudioFooter()

    def _crumb(self) -> str:
        where = f" › {self.database}.{self.collection.name}" if self.collection else ""
        return f"{self.where} › {self.entry.name} (mongodb){where}{self.read_only_note}"

    def on_mount(self) -> None:
        self.service = MongoService(self.studio.manager, self.entry.id)
        self.actions = DocumentActions(self)
        self.history = UiState(self.studio.settings.data_dir / "mongo-query-history.json")
        self.query_one(DocumentTree).display = False
        self.query_one(CollectionTree).focus()
        self.load_databases()

    # -- databases and collections ------------------------------------------------------------
    @work(group="mongo-tree", exclusive=True, exit_on_error=False, description="list databases")
    async def load_databases(self) -> None:
        tree = self.query_one(CollectionTree)
        try:
            default = await self.service.default_database()
        except StudioError as error:
            self.show_error(error)
            return
        try:
            databases = await self.service.databases()
        except PermissionDeniedError as error:
            # A user limited to one database may not list them: the URL's one still opens.
            self.remember(error)
            databases = []
        if default and default not in [info.name for info in databases]:
            databases.insert(0, DatabaseInfo(default, None, True))
        tree.set_databases(databases)
        self.say(f"{len(databases)} database(s) · enter opens · N new collection · "
                 "d drops · i server")
        opening = default or next((info.name for info in databases if info.name not in
                                   ("admin", "config", "local")), None)
        if opening:
            await self._open_database(opening, select=True)

    @on(CollectionTree.DatabaseOpened)
    def _database_opened(self, event: CollectionTree.DatabaseOpened) -> None:
        self.run_worker(self._open_database(event.database), group=f"mongo-db-{event.database}",
                        exclusive=True, exit_on_error=False)

    async def _open_database(self, database: str, *, select: bool = False) -> None:
        try:
            collections = await self.service.collections(database)
        except StudioError as error:
            self.show_error(error)
            return
        tree = self.query_one(CollectionTree)
        tree.set_collections(database, collections)
        if select and collections and self.collection is None:
            tree.select_collection(database, collections[0].name)
        self.load_stats(database, collections[:STATS_AT_ONCE])

    @work(group="mongo-stats", exit_on_error=False, description="collection stats")
    async def load_stats(self, database: str, collections: list[CollectionInfo]) -> None:
        tree = self.query_one(CollectionTree)
        for info in collections:
            try:
                stats = await self.service.collection_stats(database, info.name, info.type)
            except StudioError as error:
                self.remember(error)  # a missing figure is not worth the status line
                continue
            tree.set_stats(database, info.name, stats)

    @on(CollectionTree.Highlighted)
    def _tree_highlighted(self, event: CollectionTree.Highlighted) -> None:
        node = event.node
        if isinstance(node, CollectionInfo):
            tree = self.query_one(CollectionTree)
            self.say(describe_collection(node, tree.stats.get((node.database, node.name))))
        elif isinstance(node, DatabaseInfo):
            self.describe_database(node.name)

    @work(group="mongo-db-stats", exclusive=True, exit_on_error=False, description="dbStats")
    async def describe_database(self, name: str) -> None:
        await asyncio.sleep(0.1)  # the cursor may be passing over it
        try:
            stats = await self.service.database_stats(name)
        except StudioError as error:
            self.remember(error)
            return
        if isinstance(self.query_one(CollectionTree).highlighted, DatabaseInfo):
            self.say(describe_database(name, stats))

    @on(CollectionTree.CollectionChosen)
    def _collection_chosen(self, event: CollectionTree.CollectionChosen) -> None:
        self.open_collection(event.info)

    def open_collection(self, info: CollectionInfo) -> None:
        self.database, self.collection = info.database, info
        self.breadcrumb_line.update(self._crumb())
        bar = self.query_one(QueryBar)
        bar.set_text(QueryText())
        bar.set_history(self._history())
        self.find_query = FindQuery()
        self.query_text = QueryText()
        self.estimate = self.exact = None
        self._hint = True
        self._sorted_column = 0
        self.run_query()  # the estimate follows the first page, never delays it
        self._documents_widget().focus()
        if self.size.width < NARROW:
            # On a small terminal the tree would leave the query bar and the columns a few
            # characters each; tab brings it back.
            self.query_one(CollectionTree).display = False

    # -- the query and its pages ----------------------------------------------------------------
    def action_query(self) -> None:
        if self.collection is None:
            highlighted = self.query_one(CollectionTree).highlighted
            if not isinstance(highlighted, CollectionInfo):
                self.say("Choose a collection first (enter in the tree).")
                return
            self.open_collection(highlighted)  # the one under the cursor: query it
        if self.size.width < NARROW:
            self.query_one(CollectionTree).display = False  # the query bar's fields need it
        self.query_one(QueryBar).focus_filter()

    def action_run(self) -> None:
        if self.collection is not None:
            self.run_query()

    @on(QueryBar.Submitted)
    def _query_submitted(self, event: QueryBar.Submitted) -> None:
        if self.collection is None:
            self.say("Choose a collection first (enter in the tree).")
            return
        text = event.text
        try:
            self.find_query = parse_find(text.filter, text.projection, text.sort, text.skip,
                                         text.limit)
        except QuerySyntaxError as error:
            self.show_error(error)
            self.query_one(QueryBar).point_at(error.field, error.column)
            return
        except StudioError as error:
            self.show_error(error)
            return
        self._remember_query(text)
        self.query_text = text
        self.status_line.update("")  # a message about the query before must not stay
        self.exact = None
        self.run_query()
        # The focus stays in the query bar until the first page is in: keys typed meanwhile
        # (a next query, say) must not land on the documents as commands.

    def run_query(self) -> None:
        self.documents.clear()
        self.columns = []
        self.next = None
        self.query_one(DataGrid).set_columns([])
        self.query_one(DocumentTree).show(self.outline)
        self.load_page(first=True)

    @work(group="mongo-find", exclusive=True, exit_on_error=False, description="find documents")
    async def load_page(self, first: bool = False) -> None:
        if self.collection is None or (not first and self.next is None):
            return
        self._count_line(loading=True)
        try:
            page = await self.service.find_page(
                self.database, self.collection.name, self.find_query, None if first else self.next,
                shown=len(self.documents),
                own_order=self.collection.type in ("view", "timeseries"))
        except StudioError as error:
            self.show_error(error)
            self._count_line()
            if first:  # the server refused the query: back to it, to fix it
                self.query_one(QueryBar).focus_filter()
            return
        self._add_documents(page.documents)
        self.next = page.next
        self._count_line()
        if first and self.query_one(QueryBar).has_focus_within:
            self._documents_widget().focus()
        if first and self.estimate is None:
            self.load_estimate()
        if first and not page.documents:
            self._hint = False
            self.say("No document matches the filter." if self.find_query.filter
                     else "This collection is empty: N inserts documents.")
        if self._hint:
            self._hint = False
            # The breadcrumb names the collection: the whole line fits in 80 columns.
            self.say("/ query · e edit · N new · d delete · v table/tree · tab tree · ? keys")

    def _add_documents(self, documents: list[dict]) -> None:
        start = len(self.documents)
        self.documents.extend(documents)
        grid = self.query_one(DataGrid)
        columns = document_columns(documents, self.columns)
        if columns != self.columns:
            if not self.columns:
                grid.set_columns(GridColumn(column_title(name)) for name in columns)
                if self._sorted_column < len(columns):
                    grid.cursor_column = self._sorted_column
            else:
                grid.add_columns(GridColumn(column_title(name))
                                 for name in columns[len(self.columns):])
            self.columns = columns
        grid.append_rows(document_cells(document, self.columns)
                         for document in self.documents[start:])
        self.query_one(DocumentTree).add_documents()

    def replace_document(self, index: int, document: dict) -> None:
        self.documents[index] = document
        self.query_one(DataGrid).replace_row(index, document_cells(document, self.columns))
        self.query_one(DocumentTree).reload()

    def remove_document(self, index: int) -> None:
        del self.documents[index]
        self.query_one(DataGrid).remove_rows([index])
        self.query_one(DocumentTree).show(self.outline)

    @on(DataGrid.NearEnd)
    @on(DocumentTree.NearEnd)
    def _near_end(self) -> None:
        if self.next is not None and not self._finding():
            self.load_page()

    def _finding(self) -> bool:
        return any(worker.group == "mongo-find" and not worker.is_finished
                   for worker in self.workers)

    def action_back(self) -> None:
        if self._finding():
            self.workers.cancel_group(self, "mongo-find")
            self.say("Find cancelled (stopped on the server too).")
            self._count_line()
        elif isinstance(self.focused, Input):
            self._documents_widget().focus()
        elif self.query_one(DataGrid).marked_rows:
            self.query_one(DataGrid).clear_marks()
        else:
            self.dismiss()

    # -- counts --------------------------------------------------------------------------------
    @work(group="mongo-count", exclusive=True, exit_on_error=False, description="estimate count")
    async def load_estimate(self) -> None:
        if self.collection is None or self.collection.type == "view":
            return  # a view has no metadata count; # counts it
        try:
            self.estimate = await self.service.estimated_count(self.database,
                                                               self.collection.name)
        except StudioError as error:
            self.remember(error)
            return
        self._count_line()

    @work(group="mongo-count", exclusive=True, exit_on_error=False, description="count documents")
    async def action_exact_count(self) -> None:
        if self.collection is None:
            return
        self.say("Counting (stopped on the server after 20 s)…")
        try:
            count = await self.service.count(self.database, self.collection.name,
                                             self.find_query.filter)
        except StudioError as error:
            self.show_error(error)
            return
        self.exact = count.value
        self._count_line()
        self.say(f"{count.value:,} document(s) match.")

    def _count_line(self, *, loading: bool = False) -> None:
        text = f"{len(self.documents):,} shown"
        if not loading and self.next is None and self.documents and self.exact is None:
            text += " (all)"  # the result's end: the estimate below is the collection's
        if self.exact is not None:
            text += f" of {self.exact:,} (exact)"
        elif self.estimate is not None:
            where = " in the collection" if self.find_query.filter else " documents"
            text += f" · ≈{format_count(self.estimate)}{where} (estimate; # counts)"
        if loading:
            text += " · loading… esc cancels"
        elif self.next is not None:
            text += " · more ↓"
        self.query_one("#count", Static).update(text)

    # -- views ---------------------------------------------------------------------------------
    def _documents_widget(self) -> DataGrid | DocumentTree:
        return self.query_one(DataGrid) if self.view == "table" else self.query_one(DocumentTree)

    def selected_index(self) -> int | None:
        """The document under the cursor in the view shown."""
        if self.view == "table":
            grid = self.query_one(DataGrid)
            return grid.cursor_row if grid.row_count else None
        row = self.query_one(DocumentTree).current
        return None if row is None else int(row.path[0])

    def field_under_cursor(self):
        """The tree view's row under the cursor when it is a value (not a document, an object,
        an array or a "more" row): what e edits in a form."""
        if self.view != "tree":
            return None
        row = self.query_one(DocumentTree).current
        if row is None or not row.depth or row.expandable or OUTLINE_MORE in row.path \
                or row.type in ("Object", "Array"):
            return None
        return row

    def marked_indexes(self) -> list[int]:
        """Rows marked with space in the table (none in the tree view)."""
        return sorted(self.query_one(DataGrid).marked_rows) if self.view == "table" else []

    def action_toggle_view(self) -> None:
        index = self.selected_index()
        grid, tree = self.query_one(DataGrid), self.query_one(DocumentTree)
        self.view = "tree" if self.view == "table" else "table"
        grid.display, tree.display = self.view == "table", self.view == "tree"
        if index is not None:
            if self.view == "tree":
                tree.select_document(index, expand=True)
            else:
                grid.cursor_row = index
        self._documents_widget().focus()

    @on(DataGrid.Selected)
    def _row_opened(self, event: DataGrid.Selected) -> None:
        self.action_toggle_view()

    def action_widen(self) -> None:
        """Hide or show the collection tree: the documents get the whole width."""
        tree = self.query_one(CollectionTree)
        tree.display = not tree.display
        if not tree.display and self.focused is tree:
            self._documents_widget().focus()

    def action_switch_pane(self) -> None:
        tree = self.query_one(CollectionTree)
        if self.focused is tree:
            self._documents_widget().focus()
            if self.collection is not None and self.size.width < NARROW:
                tree.display = False
        else:
            tree.display = True
            tree.focus()

    def action_copy(self) -> None:
        """The document (table), or the field under the cursor with its path (tree)."""
        index = self.selected_index()
        if index is None:
            return
        row = self.query_one(DocumentTree).current if self.view == "tree" else None
        if row is not None and row.depth and row.path[-2:-1] != (OUTLINE_MORE,):
            self.app.copy_to_clipboard(self.outline.text(row.path))
            self.say("Field copied with its path.")
            return
        self.app.copy_to_clipboard(to_editor_text(self.documents[index]))
        self.say("Document copied as Extended JSON.")

    def action_sort(self, direction: int) -> None:
        """Sort by the table column under the cursor (< ascending, > descending)."""
        grid = self.query_one(DataGrid)
        if self.view != "table" or not self.columns or self.collection is None:
            self.say("Sorting by a column works in the table view.")
            return
        name = self.columns[grid.cursor_column]
        self._sorted_column = grid.cursor_column  # the cursor stays on it for the new rows
        bar = self.query_one(QueryBar)
        text = bar.text
        bar.set_text(QueryText(text.filter, text.projection, f"{{{field_name(name)}: {direction}}}",
                               text.skip, text.limit))
        bar.post_message(QueryBar.Submitted(bar.text))

    # -- history -------------------------------------------------------------------------------
    def _history_key(self) -> str:
        return f"{self.entry.id}/{self.database}.{self.collection.name}"

    def _history(self) -> list[QueryText]:
        stored = self.history.get(self._history_key()) or []
        return [QueryText(**{k: str(v) for k, v in item.items() if k in QueryText.__slots__})
                for item in stored if isinstance(item, dict)]

    def _remember_query(self, text: QueryText) -> None:
        if not any(text.as_dict().values()):
            return
        items = [text] + [old for old in self._history() if old != text]
        self.history.set(self._history_key(), [item.as_dict() for item in items[:HISTORY_SIZE]])
        self.query_one(QueryBar).set_history(items[:HISTORY_SIZE])

    # -- writes and tools ----------------------------------------------------------------------
    def action_documents(self, name: str) -> None:
        self.actions.perform(name)

    def action_tool(self, name: str) -> None:
        module_name, _, class_name = TOOLS[name].partition(":")
        try:
            screen_class = getattr(importlib.import_module(module_name), class_name)
        except (ImportError, AttributeError):
            self.say(f"The {name} screen is not available in this build.")
            return
        if name == "server":
            self.app.push_screen(screen_class(self.entry, self.where))
            return
        if self.collection is None:
            self.say(f"Choose a collection first: {name} works on one.")
            return
        arguments = (self.entry, self.where, self.database, self.collection.name)
        if name in ("explain", "export"):
            self.app.push_screen(screen_class(*arguments, query=self.find_query))
        elif name == "schema":
            self.app.push_screen(screen_class(*arguments), self._schema_filter)
        elif name == "aggregation":
            self.app.push_screen(screen_class(*arguments, stages=self._query_stages()))
        else:
            self.app.push_screen(screen_class(*arguments))

    def _query_stages(self) -> list[str]:
        """The query that ran, as the pipeline's first stages, as typed (a find's order: match,
        sort, skip, limit, project); none for an empty query."""
        text = self.query_text
        stages = [f"{{{operator}: {value.strip()}}}" for operator, value in (
            ("$match", text.filter), ("$sort", text.sort), ("$skip", text.skip),
            ("$limit", text.limit), ("$project", text.projection))
            if value.strip() and value.strip() not in ("{}", "0")]
        return stages

    def _schema_filter(self, filter_text: str | None) -> None:
        if not filter_text:
            return
        bar = self.query_one(QueryBar)
        bar.set_text(QueryText(filter=filter_text))
        bar.post_message(QueryBar.Submitted(bar.text))
