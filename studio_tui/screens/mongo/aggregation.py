"""The aggregation pipeline editor: the pipeline as a list of stages (a adds one after the
highlighted stage, e or Enter edits it — ctrl+o in the editor hands it to $EDITOR —, shift+up and
shift+down move it, space turns it off and on, x deletes it); p previews the documents coming
out of the highlighted stage (l sets how many), R runs the whole pipeline (a `$out` or `$merge`
is confirmed first, and refused on read-only entries), X explains it, s saves it, o opens a
saved one and K deletes one (per collection). The output is a virtual grid, top-level fields as
columns like the browser's table (tab goes to it; y copies the document under its cursor). esc
stops a preview or a run on the server."""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Header, Static

from studio_tui.dialogs.confirm import ConfirmModal
from studio_tui.dialogs.fields import Field, FieldsModal
from studio_tui.dialogs.name import NameModal
from studio_tui.dialogs.text_editor import TextEditorModal
from studio_tui.screens.mongo.tool import MongoToolScreen
from studio_tui.services.errors import StudioError
from studio_tui.services.mongo import aggregation
from studio_tui.services.mongo.ejson import compact, to_editor_text
from studio_tui.services.mongo.outline import column_title, document_cells, document_columns
from studio_tui.widgets.catalog_table import CatalogRow, CatalogTable
from studio_tui.widgets.chrome import Breadcrumb, StatusLine, StudioFooter
from studio_tui.widgets.data_grid import DataGrid, GridColumn

NEW_STAGE = "{$match: {}}"
STAGE_HINT = ("One stage, in the query bar's syntax: {$match: {status: 'paid'}}, "
              "{$group: {_id: '$customer', n: {$sum: 1}}}… ctrl+s saves · ctrl+o $EDITOR")


class AggregationScreen(MongoToolScreen[None]):
    CSS_PATH = "../../styles/mongo_tools.tcss"
    TOOL = "aggregation"
    BINDINGS = [
        Binding("a", "add", "Add", id="mongo.agg.add"),
        Binding("e", "edit", "Edit", id="mongo.agg.edit"),
        Binding("space", "toggle", "On/off", id="mongo.agg.toggle"),
        Binding("shift+up", "move(-1)", "Move up", show=False, id="mongo.agg.up"),
        Binding("shift+down", "move(1)", "Move down", show=False, id="mongo.agg.down"),
        Binding("x", "delete", "Delete", id="mongo.agg.delete"),
        Binding("p", "preview", "Preview", id="mongo.agg.preview"),
        Binding("R", "run", "Run", id="mongo.agg.run"),
        Binding("l", "limit", "Limit", show=False, id="mongo.agg.limit"),
        Binding("X", "explain", "Explain", show=False, id="mongo.agg.explain"),
        Binding("s", "save", "Save", show=False, id="mongo.agg.save"),
        Binding("o", "open", "Open", show=False, id="mongo.agg.open"),
        Binding("K", "forget", "Delete saved", show=False, id="mongo.agg.forget"),
        Binding("y", "copy", "Copy document", show=False, id="mongo.agg.copy"),
    ]

    def __init__(self, entry, where: str, database: str, collection: str,
                 stages: list[str] | None = None) -> None:
        super().__init__(entry, where, database, collection)
        # The browser's query, if one ran, is where the pipeline starts.
        self.pipeline = aggregation.Pipeline([aggregation.Stage(text)
                                              for text in stages or [NEW_STAGE]])
        self.limit = aggregation.DEFAULT_PREVIEW
        self.saved_name = ""  # the saved pipeline this one was opened from or saved as
        self.output: list[dict] = []  # the documents in the output grid

    def compose(self) -> ComposeResult:
        yield Header()
        yield Breadcrumb(self.crumb)
        yield CatalogTable("#", "On", "Stage", id="stages")
        yield Static("Output", id="output-title", classes="caption")
        yield DataGrid(null_text="", markable=False, id="output")
        yield StatusLine()
        yield StudioFooter()

    def on_mount(self) -> None:
        last = len(self.pipeline.stages) - 1
        self.show_stages(last)
        self.query_one(CatalogTable).focus_table()
        self.preview(last)  # what the stages opened with give: the browser's documents

    @property
    def store(self) -> aggregation.PipelineStore:
        return aggregation.PipelineStore(self.studio.settings.data_dir, self.entry.id,
                                         self.database, self.collection)

    @property
    def current(self) -> int | None:
        key = self.query_one(CatalogTable).selected_key
        return None if key is None else int(key)

    def show_stages(self, highlight: int | None = None) -> None:
        table = self.query_one(CatalogTable)
        rows = []
        for index, stage in enumerate(self.pipeline.stages):
            text = " ".join(stage.text.split())
            style = "" if stage.enabled else "dim strike"
            rows.append(CatalogRow(str(index), (str(index + 1), "on" if stage.enabled else "off",
                                                Text(text[:200], style=style)),
                                   text.lower()))
        table.set_rows(rows)
        if highlight is not None and rows:
            table.table.move_cursor(row=max(0, min(highlight, len(rows) - 1)))

    def action_back(self) -> None:
        if self.running("mongo-aggregate"):
            self.workers.cancel_group(self, "mongo-aggregate")  # esc stops it on the server
            self.say("Stopped.")
            return
        self.dismiss(None)

    # -- editing stages ------------------------------------------------------------------------
    def _edit(self, title: str, text: str, done) -> None:
        def check(value: str) -> None:
            aggregation.parse_stage(value, (self.current or 0) + 1)

        self.app.push_screen(TextEditorModal(title, text, check, hint=STAGE_HINT), done)

    def action_add(self) -> None:
        position = len(self.pipeline.stages) if self.current is None else self.current + 1

        def added(text: str | None) -> None:
            if text is None:
                return
            self.pipeline.stages.insert(position, aggregation.Stage(text.strip()))
            self.show_stages(position)
            self.preview(position)

        self._edit(f"New stage {position + 1}", NEW_STAGE, added)

    @on(CatalogTable.RowChosen)
    def _chosen(self) -> None:
        self.action_edit()

    def action_edit(self) -> None:
        index = self.current
        if index is None:
            self.action_add()
            return

        def edited(text: str | None) -> None:
            if text is None:
                return
            self.pipeline.stages[index].text = text.strip()
            self.show_stages(index)
            self.preview(index)

        self._edit(f"Stage {index + 1}", self.pipeline.stages[index].text, edited)

    def action_toggle(self) -> None:
        index = self.current
        if index is not None:
            stage = self.pipeline.stages[index]
            stage.enabled = not stage.enabled
            self.show_stages(index)
            self.preview(index)  # the output shown must be the pipeline's as it now is

    def action_move(self, step: int) -> None:
        index = self.current
        stages = self.pipeline.stages
        if index is None or not 0 <= index + step < len(stages):
            return
        stages[index], stages[index + step] = stages[index + step], stages[index]
        self.show_stages(index + step)
        self.preview(index + step)

    def action_delete(self) -> None:
        index = self.current
        if index is None:
            return
        stage = self.pipeline.stages[index]
        self.app.push_screen(
            ConfirmModal(f"Delete stage {index + 1}?", " ".join(stage.text.split())[:300]),
            lambda confirmed: self._deleted(index) if confirmed else None)

    def _deleted(self, index: int) -> None:
        del self.pipeline.stages[index]
        self.show_stages(index)
        if self.pipeline.stages:
            self.preview(min(index, len(self.pipeline.stages) - 1))

    # -- previews and runs ------------------------------------------------------------------------
    def action_preview(self) -> None:
        if self.current is not None:
            self.preview(self.current)

    def action_limit(self) -> None:
        self.ask_documents("Documents shown", "limit", self.limit, aggregation.MAX_PREVIEW,
                           self._limit_chosen)

    def _limit_chosen(self, limit: int | None) -> None:
        if limit:
            self.limit = limit
            self.action_preview()

    def _show(self, title: str, result: aggregation.AggregateResult) -> None:
        more = f" (first {len(result.documents)}; more left)" if result.more else ""
        self.query_one("#output-title", Static).update(
            f"{title}: {len(result.documents)} document(s){more}" if result.documents
            else f"{title}: no documents")
        self.output = result.documents
        columns = document_columns(result.documents, [])
        grid = self.query_one("#output", DataGrid)
        grid.set_columns(GridColumn(column_title(name)) for name in columns)
        grid.append_rows(document_cells(document, columns) for document in result.documents)

    def action_copy(self) -> None:
        grid = self.query_one("#output", DataGrid)
        if not self.output:
            self.say("No output to copy.")
            return
        self.app.copy_to_clipboard(to_editor_text(self.output[min(grid.cursor_row,
                                                                   len(self.output) - 1)]))
        self.say("Document copied as Extended JSON.")

    @work(group="mongo-aggregate", exclusive=True, exit_on_error=False, description="preview")
    async def preview(self, index: int) -> None:
        self.say(f"Previewing stage {index + 1}… (esc stops)")
        try:
            result = await aggregation.preview(self.scope, self.pipeline, index, self.limit)
        except StudioError as error:
            self.show_error(error)
            return
        self._show(f"After stage {index + 1} ({result.stages} enabled stage(s))", result)
        self.say(f"Stage {index + 1}: {len(result.documents)} document(s)"
                 + (" · $out/$merge left out of previews" if any(
                     s.operator in aggregation.WRITE_STAGES for s in self.pipeline.stages) else ""))

    def action_run(self) -> None:
        try:
            parsed = self.pipeline.parsed()
        except StudioError as error:
            self.show_error(error)
            return
        if aggregation.writes(parsed) and not self.entry.read_only:
            # (On a read-only entry there is nothing to confirm: the service refuses it.)
            last = parsed[-1]
            target = next(iter(last.values()))
            self.app.push_screen(
                ConfirmModal("Run a pipeline that writes?",
                             f"{next(iter(last))} writes its output to {compact(target, 80)}; "
                             "an existing collection there is replaced or merged into.",
                             confirm_label="Run"),
                lambda confirmed: self.run_all() if confirmed else None)
            return
        self.run_all()

    @work(group="mongo-aggregate", exclusive=True, exit_on_error=False, description="aggregate")
    async def run_all(self) -> None:
        self.say("Running the pipeline… (esc stops it on the server)")
        try:
            result = await aggregation.run_pipeline(self.scope, self.pipeline, self.limit)
        except StudioError as error:
            self.show_error(error)
            return
        if result.wrote:
            self.query_one("#output-title", Static).update("Pipeline run: the output was written")
            self.output = []
            self.query_one("#output", DataGrid).set_columns([])
            self.say("Pipeline run: its output was written.")
            return
        self._show("Pipeline", result)
        self.say(f"Pipeline: {len(result.documents)} document(s)"
                 + (" shown, more left" if result.more else ""))

    def action_explain(self) -> None:
        from studio_tui.screens.mongo.explain import ExplainScreen

        try:
            parsed = self.pipeline.parsed()
        except StudioError as error:
            self.show_error(error)
            return
        self.app.push_screen(ExplainScreen(self.entry, self.where, self.database,
                                           self.collection, pipeline=parsed))

    # -- saved pipelines --------------------------------------------------------------------------
    def action_save(self) -> None:
        async def submit(name: str) -> str:
            self.store.save(name, self.pipeline)
            return name.strip()

        def saved(name: str | None) -> None:
            if name:
                self.saved_name = name
                self.say(f"Saved pipeline {name!r} for {self.scope.namespace}.")

        self.app.push_screen(NameModal("Save the pipeline as", submit, value=self.saved_name,
                                       placeholder="pipeline name"), saved)

    def _choose_saved(self, title: str, label: str, submit, then) -> None:
        """A saved pipeline of this collection, picked in a form: ``submit(name)`` runs on it,
        and ``then`` gets what it returned (None when cancelled)."""
        try:
            names = self.store.names()
        except StudioError as error:
            self.show_error(error)
            return
        if not names:
            self.say(f"No saved pipelines for {self.scope.namespace} (s saves this one).")
            return

        async def chosen(values: dict[str, str]):
            return submit(values["name"])

        self.app.push_screen(FieldsModal(title, [Field("name", "Pipeline", names[0],
                                                       choices=names)],
                                         chosen, save_label=label), then)

    def action_open(self) -> None:
        def load(name: str) -> str:
            self.pipeline = self.store.load(name)
            return name

        def opened(name: str | None) -> None:
            if name:
                self.saved_name = name
                self.show_stages(0)
                self.say(f"Opened pipeline {name!r}.")

        self._choose_saved("Open a saved pipeline", "Open", load, opened)

    def action_forget(self) -> None:
        def confirm(name: str | None) -> None:
            if name:
                self.app.push_screen(
                    ConfirmModal(f"Delete the saved pipeline {name!r}?",
                                 f"{self.scope.namespace}: the pipeline on screen stays.",
                                 confirm_label="Delete"),
                    lambda yes: self._forget(name) if yes else None)

        self._choose_saved("Delete a saved pipeline", "Choose", lambda name: name, confirm)

    def _forget(self, name: str) -> None:
        try:
            self.store.delete(name)
        except StudioError as error:
            self.show_error(error)
            return
        if self.saved_name == name:
            self.saved_name = ""
        self.say(f"Deleted the saved pipeline {name!r}.")
