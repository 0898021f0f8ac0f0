"""A collection's indexes: keys, options (unique, sparse, TTL, partial, collation, hidden), size
and usage since the server started (`$indexStats`, said when the server has none); `c` creates
one, `d` drops the highlighted one (its name typed to confirm). Both are writes, off on read-only
entries."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Header, Static

from studio_tui.dialogs.confirm import ConfirmModal
from studio_tui.dialogs.fields import Field, FieldsModal
from studio_tui.screens.mongo.tool import MongoToolScreen
from studio_tui.services.errors import StudioError
from studio_tui.services.mongo import indexes
from studio_tui.services.mongo.query import parse_query
from studio_tui.widgets.catalog_table import CatalogRow, CatalogTable
from studio_tui.widgets.chrome import Breadcrumb, StatusLine, StudioFooter
from studio_tui.widgets.sizes import format_bytes

YES_NO = ("no", "yes")


class IndexesScreen(MongoToolScreen[None]):
    CSS_PATH = "../../styles/mongo_tools.tcss"
    TOOL = "indexes"
    BINDINGS = [
        Binding("r", "refresh", "Refresh", id="mongo.indexes.refresh"),
        Binding("c", "create", "Create", id="mongo.indexes.create"),
        Binding("d", "drop", "Drop", id="mongo.indexes.drop"),
    ]
    WRITE_ACTIONS = frozenset({("create", None), ("drop", None)})

    def __init__(self, entry, where: str, database: str, collection: str) -> None:
        super().__init__(entry, where, database, collection)
        self.listing: indexes.IndexListing | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Breadcrumb(self.crumb)
        yield CatalogTable("Name", "Keys", "Options", "Size", "Usage", id="indexes-table")
        yield Static("", id="notes", classes="caption")
        yield StatusLine()
        yield StudioFooter()

    def on_mount(self) -> None:
        self.query_one(CatalogTable).focus_table()
        self.load()

    def action_refresh(self) -> None:
        self.load()

    @work(group="mongo-indexes", exclusive=True, exit_on_error=False, description="indexes")
    async def load(self) -> None:
        try:
            listing = await indexes.list_indexes(self.scope)
        except StudioError as error:
            self.show_error(error)
            return
        self.listing = listing
        rows = []
        for index in listing.indexes:
            size = "-" if index.size_bytes is None else format_bytes(index.size_bytes)
            usage = "-" if index.ops is None else f"{index.ops:,} ops"
            if index.since is not None:
                usage += f" since {index.since:%Y-%m-%d}"
            rows.append(CatalogRow(index.name, (index.name, index.keys_text,
                                                index.options_text or "-", size, usage),
                                   f"{index.name} {index.keys_text} {index.options_text}".lower()))
        self.query_one(CatalogTable).set_rows(rows)
        notes = [note for note in (listing.usage_note, listing.size_note) if note]
        notes.append("Usage counts accesses since the server (or the index) started.")
        self.query_one("#notes", Static).update(" ".join(notes))
        self.say(f"{len(listing.indexes)} index(es) on {self.scope.namespace}")

    # -- create ---------------------------------------------------------------------------------
    def action_create(self) -> None:
        fields = [
            Field("keys", "Keys", placeholder="{field: 1, other: -1}"),
            Field("name", "Name", placeholder="(generated from the keys)"),
            Field("unique", "Unique", choices=YES_NO),
            Field("sparse", "Sparse", choices=YES_NO),
            Field("ttl", "TTL seconds", placeholder="(none) e.g. 3600, on a date field"),
            Field("partial", "Partial", placeholder="(none) filter, e.g. {status: 'active'}"),
            Field("collation", "Collation", placeholder="(none) locale, e.g. en"),
        ]
        self.app.push_screen(
            FieldsModal(f"Create an index on {self.scope.namespace}", fields, self._create,
                        save_label="Create",
                        note="Keys and the partial filter are in the query bar's syntax. "
                             "The build runs on the server; a big collection takes a while."),
            self._created)

    async def _create(self, values: dict[str, str]) -> str:
        partial = values["partial"].strip()
        spec = indexes.IndexSpec(
            keys=indexes.check_keys(parse_query(values["keys"], "keys")),
            name=values["name"], unique=values["unique"] == "yes",
            sparse=values["sparse"] == "yes", ttl_seconds=indexes.parse_ttl(values["ttl"]),
            partial_filter=parse_query(partial, "partial") if partial else None,
            collation_locale=values["collation"])
        return await indexes.create_index(self.scope, spec)

    def _created(self, name: str | None) -> None:
        if name:
            self.say(f"Created index {name}.")
            self.load()

    # -- drop -----------------------------------------------------------------------------------
    def action_drop(self) -> None:
        name = self.query_one(CatalogTable).selected_key
        index = next((i for i in (self.listing.indexes if self.listing else ())
                      if i.name == name), None)
        if index is None:
            self.say("No index highlighted.")
            return
        if index.name == "_id_":
            self.say("The _id index cannot be dropped.")
            return
        self.app.push_screen(
            ConfirmModal(f"Drop index {index.name}?",
                         f"Keys {index.keys_text} on {self.scope.namespace}. Queries that use it "
                         "fall back to other indexes or a collection scan."
                         + (" It enforces uniqueness." if index.unique else ""),
                         confirm_label="Drop", type_to_confirm=index.name),
            lambda confirmed: self.drop(index.name) if confirmed else None)

    @work(group="mongo-index-drop", exit_on_error=False, description="drop index")
    async def drop(self, name: str) -> None:
        try:
            await indexes.drop_index(self.scope, name)
        except StudioError as error:
            self.show_error(error)
            return
        self.say(f"Dropped index {name}.")
        self.load()

    @on(CatalogTable.RowChosen)
    def _chosen(self, event: CatalogTable.RowChosen) -> None:
        index = next((i for i in (self.listing.indexes if self.listing else ())
                      if i.name == event.key), None)
        if index is not None:
            self.say(f"{index.name}: {index.keys_text}"
                     + (f" · {index.options_text}" if index.options_text else ""))
