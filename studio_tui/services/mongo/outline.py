"""Documents as tree rows for the tree view, made only when a node is opened: a 16 MB document,
or one nested 100 levels, costs only the rows the user opened. Big objects and arrays come in
slices (``CHUNK`` children, then a "more" row)."""

from __future__ import annotations

from typing import Any

from studio_tui.services.mongo.ejson import compact, field_name, field_path, to_editor_text, type_name
from studio_tui.services.mongo.models import OUTLINE_MORE as MORE, OutlineRow

CHUNK = 500  # children listed per slice of a big object or array
SUMMARY_WIDTH = 120


class DocumentsOutline:
    """The loaded documents, addressed by paths whose first element is the document's index."""

    def __init__(self, documents: list[dict[str, Any]]) -> None:
        self.documents = documents

    def value(self, path: tuple[str | int, ...]) -> Any:
        current: Any = self.documents[path[0]]
        for part in path[1:]:
            current = current[part]
        return current

    def root(self, index: int) -> OutlineRow:
        document = self.documents[index]
        label = compact(document.get("_id"), 40) if "_id" in document else f"#{index + 1}"
        # The label is the _id: the summary shows the other fields (a shallow copy of the top
        # level only; compact stops walking at the width).
        rest = {name: value for name, value in document.items() if name != "_id"}
        return OutlineRow((index,), 0, label, "Document", compact(rest, SUMMARY_WIDTH), True,
                          len(document))

    def children(self, path: tuple[str | int, ...], depth: int, start: int = 0) -> list[OutlineRow]:
        """The rows under ``path`` from child ``start`` on, at most CHUNK, then a "more" row."""
        parent = self.value(path)
        if isinstance(parent, dict):
            items: Any = parent.items()
        elif isinstance(parent, list):
            items = enumerate(parent)
        else:
            return []
        rows = []
        for position, (key, item) in enumerate(items):
            if position < start:
                continue
            if position >= start + CHUNK:
                left = len(parent) - position
                rows.append(OutlineRow((*path, MORE, position), depth, f"… {left:,} more",
                                       "", "enter shows them", False))
                break
            expandable = isinstance(item, (dict, list)) and bool(item)
            if isinstance(item, dict):
                summary = f"{{{len(item)} field{'s' if len(item) != 1 else ''}}}"
            elif isinstance(item, list):
                summary = f"[{len(item)} item{'s' if len(item) != 1 else ''}]"
            else:
                summary = compact(item, SUMMARY_WIDTH)
            label = f"[{key}]" if isinstance(key, int) else field_name(key)
            rows.append(OutlineRow((*path, key), depth, label, type_name(item), summary,
                                   expandable, len(item) if expandable else 0))
        return rows

    def text(self, path: tuple[str | int, ...]) -> str:
        """A readable path and the value, for copying."""
        value = self.value(path)
        where = field_path(list(path[1:]))
        body = to_editor_text(value) if isinstance(value, dict) else compact(value, 1 << 20)
        return f"{where}: {body}" if where else body


COLUMN_LIMIT = 60  # top-level fields shown as columns; the rest are in the tree view
CELL_WIDTH = 40


def document_columns(documents: list[dict[str, Any]], known: list[str]) -> list[str]:
    """``known`` and then the top-level field names first seen in ``documents``, ``_id`` first."""
    columns = list(known) or ["_id"]
    seen = set(columns)
    for document in documents:
        for name in document:
            if name not in seen and len(columns) < COLUMN_LIMIT:
                seen.add(name)
                columns.append(name)
    return columns


def document_cells(document: dict[str, Any], columns: list[str]) -> tuple[str | None, ...]:
    """One table row: each column's value on one line, None where the field is missing."""
    return tuple(compact(document[name], CELL_WIDTH) if name in document else None
                 for name in columns)


def column_title(name: str) -> str:
    return field_name(name)
