"""What the PostgreSQL data grid, SQL editor and server view services hand to the UI: plain,
frozen dataclasses, no driver objects. Every value is text, as PostgreSQL prints it
(``col::text``), or None for NULL."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Paging(StrEnum):
    """How the grid walks a relation: on a unique not-null key, or a fallback."""

    KEYSET = "keyset"
    CTID = "ctid"
    OFFSET = "offset"


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    type: str  # as shown: ``character varying(20)``
    cast: str  # what bound text is cast to, without typmod: ``character varying``
    nullable: bool = True
    default: str | None = None
    identity: str = ""  # "a" always, "d" by default, "" none
    generated: bool = False  # GENERATED ALWAYS AS (…) STORED
    cut: str = ""  # "text" or "bytes": cut short in the query; "" never
    is_json: bool = False
    sortable: bool = True  # has a btree ordering (json, xml, point … have none)

    @property
    def insertable(self) -> bool:
        """The server fills it alone: a generated or GENERATED ALWAYS identity column."""
        return not self.generated and self.identity != "a"


@dataclass(frozen=True, slots=True)
class RelationShape:
    """A table, view, materialized view or foreign table as the grid sees it."""

    schema: str
    name: str
    kind: str  # "table", "partitioned table", "view", "materialized view", "foreign table"
    columns: tuple[Column, ...]
    key: tuple[str, ...]  # primary key, or a unique not-null index; () when neither
    key_source: str  # "primary key", "unique index <name>", or ""
    paging: Paging
    estimated_rows: int | None  # the catalog's reltuples; None when never analyzed or a view

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        from studio_tui.services.errors import NotFoundError

        raise NotFoundError(f"{self.schema}.{self.name} has no column {name!r}.")

    @property
    def paging_note(self) -> str:
        """What the user is told about how rows are paged (empty for keyset paging)."""
        if self.paging is Paging.KEYSET:
            return ""
        # Short: the status line is one line, and this must show whole at 80 columns.
        if self.paging is Paging.CTID:
            return "No key: pages follow the physical row order (ctid); edits are off."
        return "No key: pages by OFFSET (deep pages slower, rows may shift); edits are off."

    @property
    def edit_refusal(self) -> str | None:
        """Why rows of this relation cannot be edited, or None when they can."""
        if not self.key:
            # The reason first: the status line is one line, cut at 80 columns.
            return ("Edits are off: no primary key or unique not-null index names a row of "
                    f"{self.schema}.{self.name}.")
        if self.kind not in ("table", "partitioned table"):
            return f"Edits are off: {self.schema}.{self.name} is a {self.kind}, not a table."
        return None


@dataclass(frozen=True, slots=True)
class Row:
    """One row as fetched: each column's text (cut short for long values) and, for columns
    that may be cut, the full size (characters' bytes, or bytes for bytea)."""

    values: tuple[str | None, ...]
    sizes: tuple[int | None, ...]
    ctid: str | None = None

    def is_cut(self, index: int) -> bool:
        size, value = self.sizes[index], self.values[index]
        if size is None or value is None:
            return False
        return size > len(value.encode())


@dataclass(frozen=True, slots=True)
class Sort:
    column: str
    descending: bool = False


OPERATORS = ("=", "<>", "<", ">", "<=", ">=", "LIKE", "ILIKE", "IS NULL", "IS NOT NULL", "IN")


@dataclass(frozen=True, slots=True)
class Condition:
    """``column operator value``; IN takes values separated by commas (CSV quoting)."""

    column: str
    operator: str
    value: str = ""

    def describe(self) -> str:
        if self.operator in ("IS NULL", "IS NOT NULL"):
            return f"{self.column} {self.operator}"
        return f"{self.column} {self.operator} {self.value}"


@dataclass(frozen=True, slots=True)
class PageCursor:
    """Where the next page starts: after this key (and sort value), this ctid, or offset."""

    key: tuple[str | None, ...] = ()
    sort_value: str | None = None
    ctid: str | None = None
    offset: int = 0


@dataclass(frozen=True, slots=True)
class RowPage:
    rows: list[Row]
    next: PageCursor | None  # None at the end


@dataclass(frozen=True, slots=True)
class ResultSet:
    """What one SQL statement gave: its columns and rows as text, and the server's status."""

    columns: tuple[str, ...]
    rows: list[tuple[str | None, ...]]
    status: str  # "SELECT 3", "UPDATE 2", …
    truncated: bool = False  # more rows than were kept
    statement: str = ""


@dataclass(frozen=True, slots=True)
class PlanNode:
    node_type: str
    detail: str  # relation, index, join type …
    startup_cost: float
    total_cost: float
    plan_rows: int
    self_cost: float  # total minus the children's: what this node itself adds
    actual_ms: float | None = None  # total time of this node over its loops (ANALYZE)
    self_ms: float | None = None
    actual_rows: int | None = None
    loops: int | None = None
    children: tuple["PlanNode", ...] = ()


@dataclass(frozen=True, slots=True)
class Plan:
    root: PlanNode
    analyzed: bool
    planning_ms: float | None = None
    execution_ms: float | None = None
    costliest: PlanNode | None = None


@dataclass(frozen=True, slots=True)
class Backend:
    """One row of pg_stat_activity."""

    pid: int
    user: str
    database: str
    application: str
    client: str
    state: str
    wait: str
    backend_type: str
    running_for: float | None  # seconds since the query started
    query: str
    blocked_by: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class LockInfo:
    pid: int
    mode: str
    locktype: str
    relation: str
    granted: bool


@dataclass(frozen=True, slots=True)
class StatementStat:
    query: str
    calls: int
    total_ms: float
    mean_ms: float
    rows: int


@dataclass(frozen=True, slots=True)
class ServerOverview:
    version: str
    database: str
    size_bytes: int
    cache_hit_ratio: float | None  # None before any block was read
    connections: int
    max_connections: int


@dataclass(frozen=True, slots=True)
class StatementsReport:
    """pg_stat_statements' top statements, or why there are none."""

    statements: list[StatementStat] = field(default_factory=list)
    unavailable: str = ""
