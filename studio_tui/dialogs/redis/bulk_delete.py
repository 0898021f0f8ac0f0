"""Delete every key matching a pattern: a full preview first (how many, and a sample), the pattern
typed again to confirm, then UNLINK in batches with progress. Esc stops it between batches, and
the report says what went. The confirmation can be typed while the preview still counts; it
deletes nothing before the count is shown."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, ProgressBar, Static

from studio_tui.dialogs.base import Dialog

from studio_tui.services.errors import StudioError
from studio_tui.services.redis.bulk import BulkPreview, delete_matching, preview_delete
from studio_tui.services.redis.edits import RedisEdits
from studio_tui.services.redis.keys import display_key, parse_key
from studio_tui.widgets.ordered_input import OrderedInput
from studio_tui.widgets.status import error_text

if TYPE_CHECKING:
    from studio_tui.services.redis.service import RedisService


SAMPLE_SHOWN = 8  # keeps the dialog inside 80x24


class RedisBulkDeleteModal(Dialog[int]):
    """Dismisses with how many keys were deleted (0 when none or cancelled)."""

    DEFAULT_CSS = """
    RedisBulkDeleteModal #preview {
        height: auto;
        max-height: 14;
        padding: 1 0;
    }
    RedisBulkDeleteModal ProgressBar {
        height: 1;
        padding-top: 0;
    }
    """
    BINDINGS = [Binding("escape", "stop_or_close", "Stop / close", id="bulk.stop")]

    def __init__(self, service: "RedisService", database: str, pattern: str,
                 type_: str | None) -> None:
        super().__init__()
        self.service = service
        self.database = database
        self.type_ = type_
        self._pattern = pattern
        self.preview: BulkPreview | None = None
        self.deleted = 0
        # "previewing", "ready", "deleting", "stopped" or "done"; tests wait on it.
        self.state = "previewing"

    def compose(self) -> ComposeResult:
        kind = f" of type {self.type_}" if self.type_ else ""
        with Vertical(id="dialog", classes="danger"):
            yield Label(f"Delete keys{kind} in {self.database}", id="title", markup=False)
            yield OrderedInput(self._pattern, placeholder="pattern, e.g. session:*",
                               id="pattern")
            yield Static("", id="preview")
            yield Label("", id="confirm-label", markup=False)
            yield OrderedInput(placeholder="type the pattern again", id="typed")
            yield ProgressBar(total=None, show_eta=False, id="progress")
            yield Static("", id="error", markup=False)
            with Horizontal(id="buttons"):
                yield Button("Delete", variant="error", id="confirm", disabled=True)
                yield Button("Close", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#progress", ProgressBar).display = False
        self.query_one("#typed", Input).focus()  # what is typed while it counts is kept
        self.run_preview()

    @on(Input.Submitted, "#pattern")
    def _new_pattern(self, event: Input.Submitted) -> None:
        if self.state in ("previewing", "ready", "done", "stopped"):
            self._pattern = event.value
            self.run_preview()

    @work(group="bulk-preview", exclusive=True, exit_on_error=False, description="bulk preview")
    async def run_preview(self) -> None:
        self.state = "previewing"
        self.preview = None
        typed = self.query_one("#typed", Input)
        self.query_one("#confirm", Button).disabled = True
        self.query_one("#confirm-label", Label).update("")
        shown = self.query_one("#preview", Static)
        try:
            async for preview in preview_delete(self.service, parse_key(self._pattern),
                                                type_=self.type_, sample=SAMPLE_SHOWN):
                shown.update(f"Scanning… {preview.matched:,} key(s) match so far.")
        except StudioError as error:
            self.remember(error)
            shown.update(error_text(error))
            self.state = "ready"
            return
        self.preview = preview
        sample = "\n".join(f"  {display_key(key)}" for key in sorted(preview.sample))
        more = preview.matched - len(preview.sample)
        shown.update(Text.assemble(
            (f"{preview.matched:,} key(s) match {self._pattern!r}.", "bold"),
            "\n" + sample if sample else "",
            (f"\n  … and {more:,} more" if more > 0 else "", "dim")))
        self.state = "ready"
        self._typed()
        if preview.matched:
            self.query_one("#confirm-label", Label).update(
                f"Type {self._pattern!r} to delete {preview.matched:,} key(s); it cannot be "
                "undone:")
            typed.focus()

    def _confirmed(self) -> bool:
        """The count is on show, and the pattern typed again under it."""
        return (self.state == "ready" and self.preview is not None and self.preview.matched > 0
                and self.query_one("#typed", Input).value == self._pattern)

    @on(Input.Changed, "#typed")
    def _typed(self) -> None:
        self.query_one("#confirm", Button).disabled = not self._confirmed()

    @on(Input.Submitted, "#typed")
    @on(Button.Pressed, "#confirm")
    def _confirm(self) -> None:
        if self._confirmed():
            self.run_delete()

    @work(group="bulk-delete", exclusive=True, exit_on_error=False, description="bulk delete")
    async def run_delete(self) -> None:
        self.state = "deleting"
        expected = self.preview.matched if self.preview else None
        bar = self.query_one("#progress", ProgressBar)
        bar.display = True
        bar.update(total=expected, progress=0)
        self.query_one("#confirm", Button).disabled = True
        self.query_one("#typed", Input).disabled = True
        shown = self.query_one("#preview", Static)
        progress = None
        try:
            async for progress in delete_matching(RedisEdits(self.service),
                                                  parse_key(self._pattern), type_=self.type_):
                self.deleted = progress.deleted
                bar.update(progress=progress.matched)
                shown.update(f"Deleting… {progress.deleted:,} deleted in {progress.batches} "
                             "batch(es). Esc stops.")
        except StudioError as error:
            self.remember(error)
            self.state = "stopped"
            shown.update(Text(f"{error.title}: {error.detail}\nDeleted {self.deleted:,} key(s) "
                              "before it stopped.", style="red"))
            return
        self.state = "done"
        self.query_one("#confirm-label", Label).update("")
        self.query_one("#typed", Input).display = False
        if progress is not None:
            shown.update(Text(f"Deleted {progress.deleted:,} key(s) in {progress.batches} "
                              f"batch(es), {progress.elapsed:.1f} s.", style="bold"))

    def action_stop_or_close(self) -> None:
        if self.state == "deleting":
            self.workers.cancel_group(self, "bulk-delete")
            self.state = "stopped"
            self.query_one("#preview", Static).update(Text(
                f"Stopped. {self.deleted:,} key(s) deleted (plus any of a batch that was in "
                "flight); the rest are untouched.",
                style="bold"))
            return
        self.dismiss(self.deleted)

    @on(Button.Pressed, "#cancel")
    def _close(self) -> None:
        self.action_stop_or_close()
