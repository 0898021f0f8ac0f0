"""A small form of named fields (text or a choice) that submits through an async function and
stays open, with everything typed, when saving fails."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Input, Label, Select, Static

from studio_tui.dialogs.base import Dialog

from studio_tui.services.errors import StudioError
from studio_tui.widgets.ordered_input import OrderedInput


@dataclass(frozen=True, slots=True)
class Field:
    name: str  # the widget id, and the key of the submitted values
    label: str = ""
    value: str = ""
    placeholder: str = ""
    choices: Sequence[str] = ()  # a choice instead of text when given
    secret: bool = False  # typed characters hidden (a password)


SubmitFields = Callable[[dict[str, str]], Awaitable[Any]]


class FieldsModal(Dialog[Any]):
    """Dismisses with whatever ``submit`` returned, or None when cancelled. A ``StudioError``
    from ``submit`` is shown under the fields, and the field it names gets the focus."""

    DEFAULT_CSS = """
    FieldsModal #fields {
        height: auto;
        max-height: 60vh;
    }
    FieldsModal .field {
        height: auto;
    }
    FieldsModal .field Label {
        width: 12;
        color: $text-muted;
    }
    FieldsModal .field Input {
        width: 1fr;
    }
    FieldsModal Select {
        width: 1fr;
        height: 1;
    }
    FieldsModal #note {
        color: $text-muted;
        padding-bottom: 1;
    }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="modal.cancel"),
                Binding("ctrl+s", "save", "Save", id="modal.save")]

    def __init__(self, title: str, fields: Sequence[Field], submit: SubmitFields, *,
                 save_label: str = "Save", note: str = "",
                 submit_on_choice: bool = False) -> None:
        super().__init__()
        self._title = title
        self._fields = list(fields)
        self._submit = submit
        self._save_label = save_label
        self._note = note
        self._submit_on_choice = submit_on_choice  # a one-choice form: picking is saving

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(self._title, id="title", markup=False)
            if self._note:
                yield Static(self._note, id="note", markup=False)
            # Scrolls when there are more fields than the screen has rows (a wide table's
            # insert form); tab moves through them, each scrolled into view.
            with VerticalScroll(id="fields", can_focus=False):
                for spec in self._fields:
                    with Horizontal(classes="field"):
                        if spec.label:
                            yield Label(spec.label, markup=False)
                        if spec.choices:
                            yield Select([(c, c) for c in spec.choices], allow_blank=False,
                                         value=spec.value or spec.choices[0], id=spec.name)
                        else:
                            yield OrderedInput(spec.value, placeholder=spec.placeholder,
                                               id=spec.name, password=spec.secret)
            yield Static("", id="error", markup=False)
            with Horizontal(id="buttons"):
                yield Button(self._save_label, variant="primary", id="save")
                yield Button("Cancel", id="cancel")

    def values(self) -> dict[str, str]:
        values = {}
        for spec in self._fields:
            widget = self.query_one(f"#{spec.name}")
            values[spec.name] = str(widget.value)  # type: ignore[attr-defined]
        return values

    @on(Input.Submitted)
    @on(Button.Pressed, "#save")
    def action_save(self) -> None:
        self.save(self.values())

    @on(Select.Changed)
    def _chosen(self, event: Select.Changed) -> None:
        initial = next(spec.value for spec in self._fields if spec.name == event.select.id)
        if self._submit_on_choice and event.value != initial:
            self.action_save()

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)

    @work(group="fields-save", exclusive=True, exit_on_error=False, description="save form")
    async def save(self, values: dict[str, str]) -> None:
        try:
            result = await self._submit(values)
        except StudioError as error:
            self.remember(error)
            named = [name for name in error.field_errors if any(
                spec.name == name for spec in self._fields)]
            message = next(iter(error.field_errors.values()), "") if error.field_errors else ""
            self.query_one("#error", Static).update(
                Text.assemble((error.title, "bold"), ": ", error.detail or message))
            self.query_one(f"#{named[0] if named else self._fields[0].name}").focus()
            return
        self.dismiss(result)
