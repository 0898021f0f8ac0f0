"""What the MongoDB tool screens share: the entry, the database and collection they work on,
the tools' scope (built from the studio's manager, like every service), and the breadcrumb."""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING, TypeVar

from studio_tui.dialogs.fields import Field, FieldsModal
from studio_tui.screens.base import DatabaseScreen
from studio_tui.services.errors import ValidationError
from studio_tui.services.mongo.scope import MongoScope

if TYPE_CHECKING:
    from studio_tui.services.platform.models import DatabaseEntry

ResultType = TypeVar("ResultType")


class MongoToolScreen(DatabaseScreen[ResultType]):
    TOOL = ""  # the last part of the breadcrumb

    def __init__(self, entry: "DatabaseEntry", where: str, database: str = "",
                 collection: str = "") -> None:
        super().__init__(entry, where)
        self.database = database
        self.collection = collection

    @cached_property
    def scope(self) -> MongoScope:
        return MongoScope(self.studio.manager, self.entry.id, self.database, self.collection)

    @property
    def crumb(self) -> str:
        namespace = ".".join(part for part in (self.database, self.collection) if part)
        parts = [self.where, self.entry.name + self.read_only_note, namespace, self.TOOL]
        return " › ".join(part for part in parts if part)

    def running(self, group: str) -> bool:
        return any(worker.group == group and worker.is_running for worker in self.workers)

    def ask_documents(self, title: str, name: str, current: int, most: int,
                      chosen: Callable[[int | None], None]) -> None:
        """A number of documents from 1 to ``most`` in a form (1,000 and 1_000 read as 1000);
        ``chosen`` gets it, or None when cancelled."""
        async def submit(values: dict[str, str]) -> int:
            try:
                number = int(values[name].replace(",", "").replace("_", ""))
            except ValueError:
                raise ValidationError("A whole number of documents.",
                                      field_errors={name: "a number"}) from None
            if not 1 <= number <= most:
                raise ValidationError(f"From 1 to {most:,} documents.",
                                      field_errors={name: f"1 to {most}"})
            return number

        self.app.push_screen(FieldsModal(title, [Field(name, "Documents", str(current))], submit),
                             chosen)
