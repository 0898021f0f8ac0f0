"""`f` in the data grid: a filter of several conditions (column, operator, value), all of which a
row must meet. The service makes it parameterized SQL: names quoted, values bound."""

from __future__ import annotations

from collections.abc import Sequence

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Input, Label, Select, Static

from studio_tui.dialogs.base import Dialog
from studio_tui.services.postgres.data_models import OPERATORS, Condition
from studio_tui.widgets.ordered_input import OrderedInput

NO_VALUE = ("IS NULL", "IS NOT NULL")


class FilterModal(Dialog[list[Condition] | None]):
    """Dismisses with the conditions (an empty list clears the filter), or None when
    cancelled."""

    DEFAULT_CSS = """
    FilterModal #dialog { width: 90; }
    FilterModal #conditions { height: auto; max-height: 12; }
    FilterModal .condition { height: 1; margin-bottom: 1; }
    FilterModal .condition Select.column { width: 24; }
    FilterModal .condition Select.operator { width: 16; }
    FilterModal .condition Input { width: 1fr; }
    FilterModal .condition Button { min-width: 3; width: 3; height: 1; border: none; }
    FilterModal #note { color: $text-muted; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="modal.cancel"),
                Binding("ctrl+s", "apply", "Apply", id="modal.save"),
                Binding("ctrl+n", "add", "Add condition", id="filter.add")]

    def __init__(self, columns: Sequence[str], conditions: Sequence[Condition],
                 start_column: str | None = None) -> None:
        super().__init__()
        self._columns = list(columns)
        self._initial = list(conditions) or [Condition(start_column or self._columns[0], "=")]
        self._count = 0

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label("Filter rows (every condition must hold)", id="title")
            yield Static("IN takes values separated by commas (\"quote, them\" as in CSV); "
                         "values are cast to the column's type by the server.", id="note",
                         markup=False)
            yield VerticalScroll(id="conditions")
            yield Static("", id="error", markup=False)
            with Horizontal(id="buttons"):
                yield Button("Add", id="add")
                yield Button("Clear all", id="clear")
                yield Button("Apply", variant="primary", id="apply")
                yield Button("Cancel", id="cancel")

    async def on_mount(self) -> None:
        for condition in self._initial:
            await self._add_row(condition)
        self.query(Input).first().focus()

    async def _add_row(self, condition: Condition) -> None:
        number = self._count
        self._count += 1
        row = Horizontal(
            Select([(c, c) for c in self._columns], value=condition.column, allow_blank=False,
                   classes="column", id=f"column-{number}"),
            Select([(o, o) for o in OPERATORS], value=condition.operator, allow_blank=False,
                   classes="operator", id=f"operator-{number}"),
            OrderedInput(condition.value, placeholder="value", id=f"value-{number}"),
            Button("×", id=f"remove-{number}", classes="remove"),
            classes="condition", id=f"condition-{number}")
        await self.query_one("#conditions").mount(row)

    def conditions(self) -> list[Condition]:
        out = []
        for row in self.query(".condition"):
            number = row.id.rsplit("-", 1)[1]
            column = self.query_one(f"#column-{number}", Select).value
            operator = str(self.query_one(f"#operator-{number}", Select).value)
            value = self.query_one(f"#value-{number}", Input).value
            out.append(Condition(str(column), operator, "" if operator in NO_VALUE else value))
        return out

    @on(Button.Pressed, "#add")
    async def action_add(self) -> None:
        await self._add_row(Condition(self._columns[0], "="))

    @on(Button.Pressed, ".remove")
    async def _remove(self, event: Button.Pressed) -> None:
        number = event.button.id.rsplit("-", 1)[1]
        await self.query_one(f"#condition-{number}").remove()

    @on(Button.Pressed, "#clear")
    def _clear(self) -> None:
        self.dismiss([])

    @on(Input.Submitted)
    @on(Button.Pressed, "#apply")
    def action_apply(self) -> None:
        conditions = self.conditions()
        for condition in conditions:
            if condition.operator not in NO_VALUE and condition.operator != "=" \
                    and condition.operator != "<>" and not condition.value:
                self.query_one("#error", Static).update(
                    f"{condition.column} {condition.operator} needs a value.")
                return
        self.dismiss(conditions)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
