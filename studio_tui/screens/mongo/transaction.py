"""A batch of writes to one collection applied in one multi-document transaction, all or
nothing. The batch is typed here (or in $EDITOR with ctrl+o) as a list of bulk-write operations;
ctrl+r previews what each would match now, ctrl+s applies them all after a confirm. A failure aborts
the transaction and keeps the text. A standalone server, which has no transactions, is told
apart when the screen opens."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Header, Static, TextArea

from studio_tui.dialogs.confirm import ConfirmModal
from studio_tui.external_editor import EditorNotStarted, edit_in_editor
from studio_tui.screens.mongo.tool import MongoToolScreen
from studio_tui.services.errors import StudioError
from studio_tui.services.mongo import transaction
from studio_tui.widgets.catalog_table import CatalogRow, CatalogTable
from studio_tui.widgets.chrome import Breadcrumb, StatusLine, StudioFooter


class TransactionScreen(MongoToolScreen[None]):
    CSS_PATH = "../../styles/mongo_tools.tcss"
    TOOL = "transaction"
    BINDINGS = [
        Binding("ctrl+r", "preview", "Preview", id="mongo.tx.preview"),
        Binding("ctrl+s", "apply", "Apply all", id="mongo.tx.apply"),
        Binding("ctrl+o", "external", "$EDITOR", id="mongo.tx.editor"),
    ]
    WRITE_ACTIONS = frozenset({("apply", None)})

    def __init__(self, entry, where: str, database: str, collection: str) -> None:
        super().__init__(entry, where, database, collection)
        self.supported: bool | None = None  # known once the server has said

    def compose(self) -> ComposeResult:
        yield Header()
        yield Breadcrumb(self.crumb)
        yield Static("Checking whether the server runs transactions…", id="support",
                     classes="caption", markup=False)
        yield TextArea(transaction.TEMPLATE, id="batch", show_line_numbers=True,
                       tab_behavior="indent")
        yield CatalogTable("#", "Operation", "Effect now", id="preview")
        yield StatusLine()
        yield StudioFooter()

    def on_mount(self) -> None:
        area = self.query_one(TextArea)
        area.focus()
        area.move_cursor((transaction.TEMPLATE.count("\n") - 2, 2))  # inside the brackets
        self.detect()

    @property
    def text(self) -> str:
        return self.query_one(TextArea).text

    @work(group="mongo-tx-support", exclusive=True, exit_on_error=False, description="hello")
    async def detect(self) -> None:
        support = self.query_one("#support", Static)
        try:
            found = await transaction.check_support(self.scope)
        except StudioError as error:
            self.supported = False
            support.update(error.detail)
            return
        self.supported = True
        support.update(f"One transaction on the {found.label}: insertOne, updateOne, "
                       "updateMany, replaceOne, deleteOne, deleteMany. ctrl+r previews, ctrl+s "
                       "applies all or nothing.")

    def action_external(self) -> None:
        self.edit_outside()

    @work(group="mongo-tx-editor", exclusive=True, exit_on_error=False, description="$EDITOR")
    async def edit_outside(self) -> None:
        try:
            edited = await edit_in_editor(self.studio_app, self.text.encode(), ".json")
        except EditorNotStarted as error:
            self.say(str(error))
            return
        self.query_one(TextArea).text = edited.decode("utf-8", errors="replace")
        self.action_preview()

    def action_preview(self) -> None:
        self.preview()

    @work(group="mongo-tx", exclusive=True, exit_on_error=False, description="preview")
    async def preview(self) -> list[transaction.PreviewLine] | None:
        try:
            operations = transaction.parse_batch(self.text)
            lines = await transaction.preview(self.scope, operations)
        except StudioError as error:
            self.show_error(error)
            return None
        self.query_one(CatalogTable).set_rows([
            CatalogRow(str(line.operation.number), (str(line.operation.number),
                                                    line.operation.summary(), line.effect),
                       line.operation.summary().lower())
            for line in lines])
        self.say(f"{len(lines)} operation(s); nothing is written until ctrl+s.")
        return lines

    def action_apply(self) -> None:
        if self.supported is False:
            self.say(str(self.query_one("#support", Static).content))
            return
        try:
            operations = transaction.parse_batch(self.text)
        except StudioError as error:
            self.show_error(error)
            return
        self.confirm(operations)

    @work(group="mongo-tx", exclusive=True, exit_on_error=False, description="preview")
    async def confirm(self, operations: list[transaction.Operation]) -> None:
        try:
            lines = await transaction.preview(self.scope, operations)
        except StudioError as error:
            self.show_error(error)
            return
        detail = "\n".join(f"{line.operation.number}. {line.operation.summary()}: {line.effect}"
                           for line in lines[:12])
        if len(lines) > 12:
            detail += f"\n… and {len(lines) - 12} more"
        self.app.push_screen(
            ConfirmModal(f"Apply {len(lines)} operation(s) in one transaction?",
                         detail + "\nAll are applied, or none.", confirm_label="Apply"),
            lambda confirmed: self.apply(operations) if confirmed else None)

    @work(group="mongo-tx", exclusive=True, exit_on_error=False, description="transaction")
    async def apply(self, operations: list[transaction.Operation]) -> None:
        self.say("Applying… (esc leaves it to finish or abort on the server)")
        try:
            applied = await transaction.apply(self.scope, operations)
        except StudioError as error:
            self.show_error(error)  # the text stays as typed
            return
        self.say(f"Committed: {applied.inserted} inserted, {applied.modified} modified, "
                 f"{applied.deleted} deleted, {applied.upserted} upserted.")
