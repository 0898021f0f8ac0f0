"""What the MongoDB services hand to the UI: plain dataclasses, no driver objects.

Document values themselves are BSON-ready Python values; widgets never look inside them except
through the ``DocumentOutline`` protocol, which the services implement.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class FindQuery:
    """One query of the query bar, parsed: what the tools screens (explain, export) receive."""

    filter: dict[str, Any] = field(default_factory=dict)
    projection: dict[str, Any] | None = None
    sort: dict[str, Any] | None = None
    skip: int = 0
    limit: int = 0  # 0: no limit


@dataclass(frozen=True, slots=True)
class DatabaseInfo:
    name: str
    size_on_disk: int | None = None
    empty: bool = False


@dataclass(frozen=True, slots=True)
class CollectionInfo:
    database: str
    name: str
    type: str = "collection"  # "collection", "view" or "timeseries"
    view_on: str | None = None
    capped: bool = False


@dataclass(frozen=True, slots=True)
class CollectionStats:
    """From collStats / $collStats: never a count over the documents."""

    documents: int | None = None
    size: int | None = None  # uncompressed data, bytes
    average_size: int | None = None
    storage_size: int | None = None
    indexes: int | None = None
    index_size: int | None = None
    note: str = ""  # why some figures are missing (views, unsupported command)


@dataclass(frozen=True, slots=True)
class DatabaseStats:
    collections: int | None = None
    views: int | None = None
    documents: int | None = None
    data_size: int | None = None
    storage_size: int | None = None
    indexes: int | None = None
    index_size: int | None = None


@dataclass(frozen=True, slots=True)
class PageCursor:
    """Where the next page starts: the last document's sort values (keyset), or a skip count
    when the sort cannot be followed by range (e.g. $natural order, or sort on an array field)."""

    after: tuple[Any, ...] | None = None
    skip: int | None = None
    arrays: bool = False  # an array was seen at a sort key: only the array-safe filter will do


@dataclass(frozen=True, slots=True)
class DocumentPage:
    documents: list[dict[str, Any]]
    next: PageCursor | None  # None when there is no more
    keyset: bool = True  # False: this find pages with skip


@dataclass(frozen=True, slots=True)
class DocumentCount:
    value: int
    exact: bool


@dataclass(frozen=True, slots=True)
class SaveResult:
    """What a save did: ``written`` False for a no-op edit."""

    written: bool
    document: dict[str, Any] | None = None


OUTLINE_MORE = "…more"  # in a "more" row's path: (…parent, OUTLINE_MORE, next child's position)


@dataclass(frozen=True, slots=True)
class OutlineRow:
    """One line of a document's tree view."""

    path: tuple[str | int, ...]
    depth: int
    label: str  # the field name or [index], readable
    type: str  # "Object", "Int64", …
    summary: str  # the value on one line, or "{3 fields}" / "[2 items]"
    expandable: bool
    size: int = 0  # children of an object or an array


class DocumentOutline(Protocol):
    """Documents as tree rows, expanded lazily: widgets use this without seeing BSON."""

    documents: list[Any]

    def root(self, index: int) -> OutlineRow: ...

    def children(self, path: tuple[str | int, ...], depth: int,
                 start: int = 0) -> list[OutlineRow]: ...

    def text(self, path: tuple[str | int, ...]) -> str: ...
