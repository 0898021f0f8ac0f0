"""Export a collection or a query's result to a file (JSON Lines in canonical Extended JSON, or
CSV with the columns chosen from a sample of the fields), and import JSON Lines or a JSON array
into a collection. Both stream with a progress bar; esc stops them (an export then leaves no
file). An import lists the lines it rejected, with their numbers, and goes on past them."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Header, Input, Label, ProgressBar, Select, SelectionList, Static

from studio_tui.dialogs.confirm import ConfirmModal
from studio_tui.screens.mongo.tool import MongoToolScreen
from studio_tui.services.errors import StudioError, ValidationError
from studio_tui.services.mongo import schema, transfer
from studio_tui.services.mongo.ejson import compact
from studio_tui.services.mongo.models import FindQuery
from studio_tui.widgets.catalog_table import CatalogRow, CatalogTable
from studio_tui.widgets.chrome import Breadcrumb, StatusLine, StudioFooter
from studio_tui.widgets.ordered_input import OrderedInput

COLUMN_SAMPLE = 200  # documents sampled to offer CSV columns
FORMATS = [("JSON Lines (canonical Extended JSON)", "jsonl"), ("CSV (chosen columns)", "csv")]


def _file_name(collection: str) -> str:
    """A collection name as a file name: no folder separators, no leading dot."""
    return "".join("_" if c in "/\\\0" else c for c in collection).lstrip(".") or "export"


def _rate(done: int, started: float) -> str:
    elapsed = time.monotonic() - started
    return f"{done / elapsed:,.0f}/s" if elapsed > 0.5 else ""


class _TransferScreen(MongoToolScreen[None]):
    """What export and import share: a path, a start key, a progress bar, esc to stop."""

    CSS_PATH = "../../styles/mongo_tools.tcss"
    GROUP = ""

    def action_back(self) -> None:
        if self.running(self.GROUP):
            self.workers.cancel_group(self, self.GROUP)
            return
        self.dismiss(None)

    def progress_to(self, progress: transfer.Progress, text: str) -> None:
        bar = self.query_one(ProgressBar)
        if progress.finished:
            bar.update(total=1, progress=1)
        elif progress.total:
            bar.update(total=progress.total,
                       progress=progress.bytes if progress.total_is_bytes else progress.done)
        else:
            bar.update(total=None)
        self.query_one("#progress-text", Static).update(text)


class ExportScreen(_TransferScreen):
    TOOL = "export"
    GROUP = "mongo-export"
    BINDINGS = [Binding("ctrl+s", "start", "Export", id="mongo.export.start"),
                Binding("f5", "start", "Export", show=False, id="mongo.export.start_f5")]

    def __init__(self, entry, where: str, database: str, collection: str,
                 query: FindQuery | None = None) -> None:
        super().__init__(entry, where, database, collection)
        self.find_query = query
        self.columns: dict[str, tuple[str, ...]] = {}

    def compose(self) -> ComposeResult:
        yield Header()
        yield Breadcrumb(self.crumb)
        yield Static(self._what(), id="what", classes="caption", markup=False)
        with Vertical(id="form"):
            with Horizontal(classes="row"):
                yield Label("File")
                yield OrderedInput(str(Path.cwd() / f"{_file_name(self.collection)}.jsonl"),
                                   id="path")
            with Horizontal(classes="row"):
                yield Label("Format")
                yield Select(FORMATS, value="jsonl", allow_blank=False, id="format")
            yield Static("Columns (space picks; nested values are written as JSON):",
                         id="columns-title", classes="caption")
            yield SelectionList[str](id="columns")
        yield ProgressBar(show_eta=False, id="progress")
        yield Static("ctrl+s exports; esc stops an export (no file is left).",
                     id="progress-text", classes="caption", markup=False)
        yield StatusLine()
        yield StudioFooter()

    def _what(self) -> str:
        query = self.find_query
        if query is None or query == FindQuery():
            return f"Exports all of {self.database}.{self.collection}."
        parts = [f"filter {compact(query.filter, 60)}"]
        if query.sort:
            parts.append(f"sort {compact(query.sort, 30)}")
        if query.projection:
            parts.append(f"projection {compact(query.projection, 30)}")
        if query.skip:
            parts.append(f"skip {query.skip}")
        if query.limit:
            parts.append(f"limit {query.limit}")
        return "Exports the query's result: " + " · ".join(parts)

    def on_mount(self) -> None:
        self._show_columns(False)
        self.query_one("#path", Input).focus()

    def _show_columns(self, shown: bool) -> None:
        for widget in ("#columns-title", "#columns"):
            self.query_one(widget).display = shown

    @on(Select.Changed, "#format")
    def _format_changed(self, event: Select.Changed) -> None:
        fmt = str(event.value)
        path = self.query_one("#path", Input)
        for suffix in (".jsonl", ".csv"):
            if path.value.endswith(suffix):
                path.value = path.value[: -len(suffix)] + (".csv" if fmt == "csv" else ".jsonl")
        self._show_columns(fmt == "csv")
        if fmt == "csv" and not self.columns:
            self.sample_columns()

    @work(group="mongo-export-columns", exclusive=True, exit_on_error=False,
          description="columns")
    async def sample_columns(self) -> None:
        self.say(f"Sampling {COLUMN_SAMPLE} documents for their fields…")
        try:
            sample = await schema.sample_schema(self.scope, COLUMN_SAMPLE)
        except StudioError as error:
            self.show_error(error)
            return
        listing = self.query_one("#columns", SelectionList)
        listing.clear_options()
        self.columns = {}
        for stats in sample.fields:
            key = "\x1f".join(stats.path)
            self.columns[key] = stats.path
            share = sample.share(stats)
            listing.add_option((f"{stats.display}  ({stats.types_text}, {share:.0%})", key,
                                len(stats.path) == 1))
        self.say(f"{len(self.columns)} field paths found; top-level ones are picked.")

    def action_start(self) -> None:
        if self.running(self.GROUP):
            return
        text = self.query_one("#path", Input).value
        try:
            transfer.check_export_path(text)
        except ValidationError as error:
            if error.field_errors.get("path") == "exists":
                self.app.push_screen(
                    ConfirmModal(f"Replace {text.strip()}?", "The file exists; the export "
                                 "replaces it once it has finished.", confirm_label="Replace"),
                    lambda confirmed: self.export(text, True) if confirmed else None)
                return
            self.show_error(error)
            return
        self.export(text, False)

    @work(group="mongo-export", exclusive=True, exit_on_error=False, description="export")
    async def export(self, text: str, overwrite: bool) -> None:
        fmt = str(self.query_one("#format", Select).value)
        chosen = [self.columns[key] for key in self.query_one("#columns", SelectionList).selected]
        started = time.monotonic()
        progress = None
        try:
            async with contextlib.aclosing(transfer.export_documents(
                    self.scope, text, fmt=fmt, query=self.find_query, columns=chosen,
                    overwrite=overwrite)) as steps:
                async for progress in steps:
                    of = f" of ~{progress.total:,}" if progress.total else ""
                    self.progress_to(progress, f"{progress.done:,}{of} documents "
                                               f"{_rate(progress.done, started)} (esc stops)")
        except StudioError as error:
            self.show_error(error)
            return
        finally:
            if progress is not None and not progress.finished:
                self.query_one("#progress-text", Static).update(
                    f"Stopped after {progress.done:,} documents; no file was written.")
        self.progress_to(progress, f"Exported {progress.done:,} documents to {progress.path}.")
        self.say(f"Exported {progress.done:,} documents.")


class ImportScreen(_TransferScreen):
    TOOL = "import"
    GROUP = "mongo-import"
    BINDINGS = [Binding("ctrl+s", "start", "Import", id="mongo.import.start"),
                Binding("f5", "start", "Import", show=False, id="mongo.import.start_f5")]
    WRITE_ACTIONS = frozenset({("start", None)})

    def __init__(self, entry, where: str, database: str, collection: str) -> None:
        super().__init__(entry, where, database, collection)
        self.result: transfer.Progress | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Breadcrumb(self.crumb)
        yield Static(f"Inserts the documents of a JSON Lines file, or of a JSON array, into "
                     f"{self.database}.{self.collection} (Extended JSON, canonical or relaxed), "
                     "in batches.", id="what", classes="caption", markup=False)
        with Vertical(id="form"):
            with Horizontal(classes="row"):
                yield Label("File")
                yield OrderedInput(placeholder="path to a .jsonl or .json file", id="path")
        yield ProgressBar(show_eta=False, id="progress")
        yield Static("ctrl+s imports; esc stops (what was inserted stays).",
                     id="progress-text", classes="caption", markup=False)
        yield CatalogTable("Line", "Rejected because", id="rejects")
        yield StatusLine()
        yield StudioFooter()

    def on_mount(self) -> None:
        self.query_one("#path", Input).focus()

    @on(Input.Submitted, "#path")
    def action_start(self) -> None:
        if not self.running(self.GROUP):
            self.load_file(self.query_one("#path", Input).value)

    @work(group="mongo-import", exclusive=True, exit_on_error=False, description="import")
    async def load_file(self, text: str) -> None:
        started = time.monotonic()
        progress = None
        try:
            async with contextlib.aclosing(transfer.import_documents(self.scope, text)) as steps:
                async for progress in steps:
                    self.result = progress
                    self.progress_to(progress, f"{progress.done:,} inserted, "
                                               f"{progress.rejected:,} rejected "
                                               f"{_rate(progress.done, started)} (esc stops)")
        except StudioError as error:
            self.show_error(error)
            return
        finally:
            if progress is not None:
                self._show_rejects(progress)
                if not progress.finished:
                    self.query_one("#progress-text", Static).update(
                        f"Stopped: {progress.done:,} inserted (they stay), "
                        f"{progress.rejected:,} rejected.")
        more = "" if progress.rejected <= len(progress.rejects) else \
            f" (the first {len(progress.rejects):,} are listed)"
        self.progress_to(progress, f"Imported {progress.done:,} documents; "
                                   f"{progress.rejected:,} line(s) rejected{more}.")
        self.say(f"Imported {progress.done:,} documents into {self.scope.namespace}.")

    def _show_rejects(self, progress: transfer.Progress) -> None:
        self.query_one("#rejects", CatalogTable).set_rows([
            CatalogRow(str(n), (str(line), why), f"{line} {why}".lower())
            for n, (line, why) in enumerate(progress.rejects)])
