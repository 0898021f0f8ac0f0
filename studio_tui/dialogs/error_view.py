"""`!`: the last few problems in full (code, title, detail, field errors, retry-after, database,
time), newest first; the status line only ever shows them short."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Label, Static

from studio_tui.dialogs.base import Dialog

if TYPE_CHECKING:
    from studio_tui.problems import Problem


def problem_table(problem: "Problem") -> Table:
    error = problem.error
    table = Table.grid(padding=(0, 1))
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    table.add_row(Text(error.title, style="bold red"),
                  Text(time.strftime("%H:%M:%S", time.localtime(problem.at)), style="dim"))
    table.add_row("code", f"{error.code} ({error.status})")
    table.add_row("detail", Text(error.detail or "-"))
    for name, message in error.field_errors.items():
        table.add_row("field", Text(f"{name}: {message}"))
    if error.retry_after is not None:
        table.add_row("retry", f"after {error.retry_after:.0f}s")
    table.add_row("database", Text(error.database or "-"))
    table.add_row("where", Text(problem.where or "-"))
    return table


class ErrorViewModal(Dialog[None]):
    DEFAULT_CSS = """
    ErrorViewModal #dialog {
        width: 90;
    }
    ErrorViewModal #problems {
        height: auto;
        max-height: 18;
    }
    ErrorViewModal .problem {
        padding-bottom: 1;
    }
    """
    BINDINGS = [Binding("escape,exclamation_mark,q", "close", "Close", id="errors.close")]

    def __init__(self, problems: list["Problem"]) -> None:
        super().__init__()
        self.problems = problems

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(f"Recent problems ({len(self.problems)}, newest first)", id="title")
            with VerticalScroll(id="problems"):
                if not self.problems:
                    yield Static("No problem so far in this session.", markup=False)
                for problem in self.problems:
                    yield Static(problem_table(problem), classes="problem")

    def on_mount(self) -> None:
        self.query_one("#problems").focus()

    def action_close(self) -> None:
        self.dismiss(None)
