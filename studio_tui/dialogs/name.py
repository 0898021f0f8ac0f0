"""Asks for a name (new or renamed organization or project) and keeps it if saving fails."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from studio_tui.dialogs.fields import Field, FieldsModal

Submit = Callable[[str], Awaitable[Any]]


class NameModal(FieldsModal):
    """A one-field form: dismisses with whatever ``submit`` returned, or None when cancelled."""

    def __init__(self, title: str, submit: Submit, *, value: str = "",
                 placeholder: str = "name") -> None:
        super().__init__(title, [Field("name", value=value, placeholder=placeholder)],
                         lambda values: submit(values["name"]))
