"""The SQL editor: highlighted SQL, completion of keywords and names, the statement under the
cursor (or the selection) run in a READ ONLY transaction unless write mode is on, results in the
virtual grid, EXPLAIN as a tree, history per database, export to CSV or JSON, and $EDITOR."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import ContentSwitcher, Header, OptionList, TextArea

from studio_tui.dialogs.fields import Field, FieldsModal
from studio_tui.dialogs.postgres.commit import CommitModal
from studio_tui.external_editor import EditorNotStarted, edit_in_editor, keep_unsaved_copy
from studio_tui.screens.base import DatabaseScreen
from studio_tui.screens.postgres.entry_source import EntrySource
from studio_tui.services.errors import StudioError
from studio_tui.services.postgres import sql as sql_service
from studio_tui.services.postgres.data_models import ResultSet
from studio_tui.services.postgres.sql import (
    CompletionNames,
    SqlHistory,
    SqlSession,
    split_statements,
    statement_at,
)
from studio_tui.widgets.chrome import Breadcrumb, StatusLine, StudioFooter
from studio_tui.widgets.data_grid import DataGrid, GridColumn
from studio_tui.widgets.ordered_input import OrderedTextArea
from studio_tui.widgets.postgres.plan_tree import PlanTree

if TYPE_CHECKING:
    from studio_tui.services.platform.models import DatabaseEntry


def _has_sql_highlighting() -> bool:
    from textual._tree_sitter import get_language

    return get_language("sql") is not None


class SqlEditorScreen(EntrySource, DatabaseScreen[None]):
    CSS_PATH = "../../styles/postgres_sql.tcss"
    inherit_bindings = False  # backspace edits the text; only escape goes back
    BINDINGS = [
        Binding("escape", "back", "Back", id="nav.back"),
        Binding("question_mark", "app.help", "Help", show=False, id="app.help"),
        Binding("ctrl+r", "run", "Run", id="pg.sql.run"),
        Binding("f5", "run_all", "Run all", id="pg.sql.run_all"),
        Binding("ctrl+l", "explain(False)", "Explain", id="pg.sql.explain"),
        Binding("f3", "explain(True)", "Analyze", id="pg.sql.analyze"),
        Binding("ctrl+w", "write_mode", "Write mode", priority=True, id="pg.sql.write_mode"),
        Binding("ctrl+n", "complete", "Complete", id="pg.sql.complete"),
        Binding("ctrl+o", "export", "Export", id="pg.sql.export"),
        Binding("f2", "editor", "$EDITOR", id="pg.sql.editor"),
        Binding("ctrl+up", "history(-1)", "Previous", show=False, id="pg.sql.history_back"),
        Binding("ctrl+down", "history(1)", "Next", show=False, id="pg.sql.history_forward"),
        Binding("alt+down", "editor_height(1)", "Taller editor", show=False,
                id="pg.sql.taller"),
        Binding("alt+up", "editor_height(-1)", "Shorter editor", show=False,
                id="pg.sql.shorter"),
    ]
    FOOTER_PRIORITY = ("pg.sql.run", "pg.sql.run_all", "pg.sql.write_mode", "pg.sql.explain",
                       "pg.sql.complete", "pg.sql.editor", "pg.sql.export")
    WRITE_ACTIONS = frozenset({("write_mode", None)})

    def __init__(self, entry: "DatabaseEntry", where: str) -> None:
        super().__init__(entry, where)
        self.session: SqlSession | None = None  # made on mount, once the app is there
        self.names: CompletionNames | None = None
        self.history: SqlHistory | None = None
        self._history_at = 0
        self._completing: tuple[int, int] | None = None  # where the word being completed starts
        self.last_result: ResultSet | None = None

    # -- layout -------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Header()
        yield Breadcrumb(self._crumb())
        language = "sql" if _has_sql_highlighting() else None
        yield OrderedTextArea(id="sql", language=language, show_line_numbers=True,
                              tab_behavior="focus")
        yield OptionList(id="completions")
        with ContentSwitcher(initial="results", id="output"):
            yield DataGrid(id="results", markable=False)
            with Vertical(id="plan-pane"):
                yield PlanTree(id="plan")
        yield StatusLine("ctrl+r runs the statement under the cursor (or the selection) · "
                         "f5 runs all · ctrl+n completes")
        yield StudioFooter()

    def _crumb(self) -> str:
        # A read-only entry says so (read_only_note) and has no other mode; one that takes
        # writes is in read mode until ctrl+w.
        write = self.session is not None and self.session.write_mode
        mode = "" if self.read_only else " · WRITE MODE" if write else " · read mode"
        return (f"{self.where} › {self.entry.name} › SQL{self.source_note}"
                f"{self.read_only_note}{mode}")

    @property
    def editor(self) -> TextArea:
        return self.query_one("#sql", TextArea)

    def on_mount(self) -> None:
        self.session = SqlSession(self.studio.manager, self.entry.id)
        try:
            self.history = SqlHistory.for_database(self.studio.settings.data_dir, self.entry.id)
        except StudioError as error:
            self.show_error(error)
        self._history_at = len(self.history.entries) if self.history else 0
        self.query_one("#completions").display = False
        self.editor.focus()
        self.load_names()

    @work(group="pg-sql-names", exclusive=True, exit_on_error=False, description="names")
    async def load_names(self) -> None:
        """Open the entry's source (pg-meta when it has one and it answers), then read the
        names for completion through it."""
        self.session.source = await self.open_entry_source("running statements")
        self.breadcrumb_line.update(self._crumb())
        try:
            self.names = await self.session.names()
        except StudioError:
            self.names = None  # completion offers keywords only; running still works

    # -- running -------------------------------------------------------------------------------
    def _target(self, whole: bool) -> str | None:
        area = self.editor
        if whole:
            return area.text
        if area.selected_text.strip():
            return area.selected_text
        row, column = area.cursor_location
        offset = sum(len(line) + 1 for line in area.text.split("\n")[:row]) + column
        statement = statement_at(area.text, offset)
        return statement.text if statement else None

    def action_run(self) -> None:
        script = self._target(False)
        if script and script.strip():
            self.say("Running… (esc cancels it on the server)")
            self.execute(script)

    def action_run_all(self) -> None:
        script = self._target(True)
        if script and script.strip():
            self.say("Running… (esc cancels it on the server)")
            self.execute(script)

    def _decider(self):
        """``decide`` for the service: a CommitModal, answered in the app's own task."""
        app = self.app
        name = self.entry.name

        async def decide(results: list[ResultSet]) -> bool:
            future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
            modal = CommitModal(name, [r.status for r in results], sql_service.DECISION_WINDOW)

            def answered(commit: bool | None) -> None:
                if not future.done():
                    future.set_result(bool(commit))

            app.call_later(app.push_screen, modal, answered)
            try:
                return await future
            finally:
                if not future.done() or future.cancelled():
                    app.call_later(_close, app, modal)

        return decide

    @work(group="pg-sql-run", exclusive=True, exit_on_error=False, description="run SQL")
    async def execute(self, script: str) -> None:
        try:
            outcome = await self.session.run(script, self._decider())
        except StudioError as error:
            self.show_error(error)
            self._mark_stale("the last run failed")
            return
        if self.history is not None:
            self.history.add(script)
            self._history_at = len(self.history.entries)
        shown = next((r for r in reversed(outcome.results) if r.columns), outcome.results[-1])
        self.show_result(shown)
        statuses = ", ".join(r.status for r in outcome.results[-3:])
        if len(outcome.results) > 3:
            statuses = f"{len(outcome.results)} statements … {statuses}"
        note = f" · {outcome.note}" if outcome.note and outcome.note != "read only" else ""
        more = f" (first {sql_service.MAX_RESULT_ROWS:,} kept; ctrl+o exports all)" \
            if shown.truncated else ""
        self.say(f"{statuses}{more}{note} · {outcome.seconds:.2f}s")

    def _mark_stale(self, why: str) -> None:
        """What the output shows is from an earlier statement: say so, and dim it."""
        output = self.query_one(ContentSwitcher)
        if output.current == "results" and self.last_result is None:
            return  # nothing shown yet
        output.add_class("-stale")
        output.border_title = f"stale: {why}; this is the result before"

    def show_result(self, result: ResultSet) -> None:
        self.last_result = result
        output = self.query_one(ContentSwitcher)
        output.remove_class("-stale")
        output.border_title = f"result · {_one_line(result.status)}"
        output.current = "results"
        grid = self.query_one("#results", DataGrid)
        grid.set_columns([GridColumn(name) for name in result.columns] or
                         [GridColumn("status")])
        grid.append_rows(result.rows if result.columns else [(result.status,)])

    def action_back(self) -> None:
        running = [w for w in self.workers if w.is_running and w.group in (
            "pg-sql-run", "pg-sql-explain", "pg-sql-export")]
        if not running:
            self.dismiss()
            return
        for worker in running:
            worker.cancel()
        self.say("Cancelled: the statement was stopped on the server and rolled back.")

    # -- the split between the editor and the output -------------------------------------------
    def action_editor_height(self, step: int) -> None:
        """alt+down / alt+up: two rows more or less for the editor, the output keeping a few."""
        area = self.editor
        room = area.outer_size.height + self.query_one(ContentSwitcher).outer_size.height
        height = area.outer_size.height + 2 * step
        area.styles.height = max(MIN_EDITOR_HEIGHT, min(height, room - MIN_OUTPUT_HEIGHT))

    # -- EXPLAIN --------------------------------------------------------------------------------
    def action_explain(self, analyze: bool) -> None:
        statement = self._target(False)
        if statement and statement.strip():
            self.explain(statement, analyze)

    @work(group="pg-sql-explain", exclusive=True, exit_on_error=False, description="EXPLAIN")
    async def explain(self, statement: str, analyze: bool) -> None:
        pieces = split_statements(statement)
        if len(pieces) != 1:
            self.say("EXPLAIN takes one statement: put the cursor in it, or select it.")
            return
        try:
            plan = await self.session.explain(pieces[0].text.rstrip(";"), analyze=analyze)
        except StudioError as error:
            self.show_error(error)
            self._mark_stale("EXPLAIN failed")
            return
        output = self.query_one(ContentSwitcher)
        output.remove_class("-stale")
        output.border_title = "plan" + (" · analyzed" if analyze else "")
        output.current = "plan-pane"
        tree = self.query_one(PlanTree)
        tree.show_plan(plan)
        costliest = plan.costliest
        rolled = " (run in a transaction that was rolled back)" if analyze else ""
        self.say(f"Plan{rolled}: the costliest node is {costliest.node_type}"
                 f"{' ' + costliest.detail if costliest.detail else ''}.")

    # -- write mode -----------------------------------------------------------------------------
    def action_write_mode(self) -> None:
        self.switch_write_mode()

    @work(group="pg-sql-mode", exclusive=True, exit_on_error=False, description="write mode")
    async def switch_write_mode(self) -> None:
        try:
            await self.session.set_write_mode(not self.session.write_mode)
        except StudioError as error:
            self.show_error(error)
            return
        self.breadcrumb_line.update(self._crumb())
        direct = " It runs over the direct connection: pg-meta cannot hold a transaction " \
            "open." if self.session.write_mode and self.entry_source is not None else ""
        self.say("Write mode: a statement that writes asks to commit or roll back." + direct
                 if self.session.write_mode else "Read only: statements run in a READ ONLY "
                 "transaction.")

    # -- completion -----------------------------------------------------------------------------
    def action_complete(self) -> None:
        area = self.editor
        row, column = area.cursor_location
        names = self.names or CompletionNames([], {}, {})
        full_before = area.get_text_range((0, 0), (row, column))
        rest = area.get_text_range((row, column), area.document.end)
        word, found = names.complete(full_before, after=rest)
        if not found:
            self.say(f"Nothing completes {word!r}." if word else "Nothing to complete here.")
            return
        self._completing = (row, column - len(word))
        if len(found) == 1:
            self._insert_completion(found[0])
            return
        options = self.query_one("#completions", OptionList)
        options.clear_options()
        options.add_options(found[:200])
        options.display = True
        options.highlighted = 0
        options.focus()

    def _insert_completion(self, text: str) -> None:
        area = self.editor
        if self._completing is None:
            return
        area.replace(text, self._completing, area.cursor_location)
        self._completing = None

    @on(OptionList.OptionSelected, "#completions")
    def _completion_chosen(self, event: OptionList.OptionSelected) -> None:
        options = self.query_one("#completions", OptionList)
        options.display = False
        self.editor.focus()
        self._insert_completion(str(event.option.prompt))

    def on_descendant_blur(self, event) -> None:
        options = self.query("#completions")
        if options and event.widget is options.first():
            options.first().display = False

    # -- history, export, $EDITOR ----------------------------------------------------------------
    def action_history(self, step: int) -> None:
        if not self.history or not self.history.entries:
            return
        entries = self.history.entries
        self._history_at = max(0, min(len(entries), self._history_at + step))
        self.editor.text = entries[self._history_at] if self._history_at < len(entries) else ""

    def action_export(self) -> None:
        statement = self._target(False)
        if not statement or not statement.strip():
            self.say("Put the cursor in the statement to export.")
            return
        stamp = time.strftime("%Y%m%d-%H%M%S")

        async def chosen(values: dict[str, str]) -> dict[str, str]:
            return values

        def start(values: dict[str, str] | None) -> None:
            if values:
                self.export(statement, Path(values["path"]), values["format"])

        self.app.push_screen(FieldsModal(
            "Export every row of the statement", [
                Field("path", "File", str(sql_service.export_path(
                    self.studio.settings.data_dir, self.entry.name, stamp))),
                Field("format", "Format", "csv", choices=("csv", "json"))],
            chosen, save_label="Export",
            note="Streamed through a server-side cursor in a READ ONLY transaction."), start)

    @work(group="pg-sql-export", exclusive=True, exit_on_error=False, description="export")
    async def export(self, statement: str, path: Path, fmt: str) -> None:
        if fmt == "json" and path.suffix == ".csv":
            path = path.with_suffix(".json")

        def progress(count: int) -> None:
            self.say(f"Exporting… {count:,} rows (esc stops it)", layout=False)

        try:
            count = await self.session.export(statement, path, fmt, progress)
        except StudioError as error:
            self.show_error(error)
            return
        self.say(f"Exported {count:,} rows to {path}.")

    def action_editor(self) -> None:
        self.open_editor()

    @work(group="pg-sql-editor", exclusive=True, exit_on_error=False, description="$EDITOR")
    async def open_editor(self) -> None:
        area = self.editor
        before = area.text
        try:
            edited = await edit_in_editor(self.studio_app, before.encode(), ".sql")
        except EditorNotStarted as error:
            self.say(str(error))
            return
        text = edited.decode("utf-8", errors="replace")
        if area.text != before:  # typed into meanwhile: keep both
            path = keep_unsaved_copy(self.studio.settings.data_dir, self.entry.name, edited,
                                     ".sql")
            self.say(f"The editor's text is kept in {path}: the statement changed meanwhile.")
            return
        area.text = text
        self.say("Text from $EDITOR.")


MIN_EDITOR_HEIGHT = 5  # three lines of text in its border (as the stylesheet's min-height)
MIN_OUTPUT_HEIGHT = 5


def _one_line(text: str, width: int = 60) -> str:
    line = " ".join(text.split())
    return line if len(line) <= width else line[:width - 1] + "…"


def _close(app, modal) -> None:
    if app.screen is modal:
        modal.dismiss(False)
