"""A collection's shape from a random `$sample`: each field path with its types and the share
of documents that have it, drawn as a bar. Enter on a path dismisses with the query-bar filter
for documents having it; `s` samples again, `n` sets the sample size."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Header, Static

from studio_tui.screens.mongo.tool import MongoToolScreen
from studio_tui.services.errors import StudioError
from studio_tui.services.mongo import schema
from studio_tui.services.mongo.ejson import field_name
from studio_tui.widgets.catalog_table import CatalogRow, CatalogTable
from studio_tui.widgets.chrome import Breadcrumb, StatusLine, StudioFooter
from studio_tui.widgets.vitals import bar

BAR = 20


class SchemaScreen(MongoToolScreen[str | None]):
    """Dismisses with a filter text (the query bar's syntax), or None."""

    CSS_PATH = "../../styles/mongo_tools.tcss"
    TOOL = "schema"
    BINDINGS = [
        Binding("s", "resample", "Sample again", id="mongo.schema.sample"),
        Binding("n", "choose_size", "Sample size", id="mongo.schema.size"),
    ]

    def __init__(self, entry, where: str, database: str, collection: str) -> None:
        super().__init__(entry, where, database, collection)
        self.sample_size = schema.DEFAULT_SAMPLE
        self.sample: schema.SchemaSample | None = None
        self.paths: dict[str, tuple[str, ...]] = {}

    def compose(self) -> ComposeResult:
        yield Header()
        yield Breadcrumb(self.crumb)
        yield Static("", id="summary", classes="caption")
        yield CatalogTable("Field", "Types", "Present", "", id="fields-table")
        yield StatusLine()
        yield StudioFooter()

    def on_mount(self) -> None:
        self.query_one(CatalogTable).focus_table()
        self.load()

    def action_back(self) -> None:
        if self.running("mongo-schema"):
            self.workers.cancel_group(self, "mongo-schema")  # esc stops the sample first
            self.say("Sample stopped.")
            return
        self.dismiss(None)

    def action_resample(self) -> None:
        self.load()

    def action_choose_size(self) -> None:
        self.ask_documents("Sample size", "size", self.sample_size, schema.MAX_SAMPLE,
                           self._size_chosen)

    def _size_chosen(self, size: int | None) -> None:
        if size:
            self.sample_size = size
            self.load()

    @work(group="mongo-schema", exclusive=True, exit_on_error=False, description="$sample")
    async def load(self) -> None:
        self.say(f"Sampling {self.sample_size:,} documents… (esc stops)")
        try:
            sample = await schema.sample_schema(self.scope, self.sample_size)
        except StudioError as error:
            self.show_error(error)
            return
        self.show_sample(sample)

    def show_sample(self, sample: schema.SchemaSample) -> None:
        self.sample = sample
        self.paths = {}
        rows = []
        for stats in sample.fields:
            key = "\x1f".join(stats.path)
            self.paths[key] = stats.path
            share = sample.share(stats)
            # Nested paths are indented under their parent; odd names are quoted.
            name = "  " * (len(stats.path) - 1) + field_name(stats.path[-1])
            rows.append(CatalogRow(key, (name, stats.types_text, f"{share:6.1%}",
                                         bar(share, 1.0, BAR)),
                                   f"{stats.display} {stats.types_text}".lower()))
        self.query_one(CatalogTable).set_rows(rows)
        more = f" (only the first {schema.MAX_PATHS:,} paths)" if sample.truncated else ""
        self.query_one("#summary", Static).update(
            f"{len(sample.fields):,} field paths in a random sample of {sample.sampled:,} "
            f"document(s){more}. Enter filters on the highlighted path.")
        self.say(f"Sampled {sample.sampled:,} of {self.scope.namespace}")

    @on(CatalogTable.RowChosen)
    def _chosen(self, event: CatalogTable.RowChosen) -> None:
        path = self.paths.get(event.key)
        if path is not None:
            self.dismiss(schema.exists_filter(path))
