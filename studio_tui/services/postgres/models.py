"""What the PostgreSQL object tree and its detail panes show, as plain dataclasses: the same
whether the catalog was read directly or through pg-meta."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import NamedTuple

# Object kinds, in the order the tree shows them under a schema.
SCHEMA_KINDS: tuple[tuple[str, str], ...] = (
    ("table", "Tables"),
    ("view", "Views"),
    ("matview", "Materialized views"),
    ("foreign", "Foreign tables"),
    ("sequence", "Sequences"),
    ("function", "Functions"),
    ("procedure", "Procedures"),
    ("type", "Types"),
    ("policy", "Policies"),
    ("trigger", "Triggers"),
)
# Database-wide kinds, shown after the schemas.
DATABASE_KINDS: tuple[tuple[str, str], ...] = (
    ("extension", "Extensions"),
    ("publication", "Publications"),
    ("role", "Roles"),
)
# Relations whose rows can be browsed in the data grid.
BROWSABLE = frozenset({"table", "partitioned", "view", "matview", "foreign"})
RELATION_KINDS = frozenset({"table", "partitioned", "view", "matview", "foreign", "sequence"})
SYSTEM_SCHEMAS = frozenset({"pg_catalog", "information_schema", "pg_toast"})


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def display_name(name: str) -> str:
    """A name exactly as stored, on one line: only control characters (a newline is a valid
    identifier character) are shown escaped, as \\n or \\x1b."""
    if not _CONTROL.search(name):
        return name
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], name)


# The tree's group a kind is listed under.
GROUP_OF = {"partitioned": "table"}


def is_system_schema(name: str) -> bool:
    return (name in SYSTEM_SCHEMAS or name.startswith("pg_temp_")
            or name.startswith("pg_toast_temp_"))


class CatalogObject(NamedTuple):
    """One named object (a tuple: 10,000 of them are made before the tree paints). ``oid`` identifies it in the catalog; ``parent`` is the table a
    partition, policy or trigger belongs to (its oid), else 0. ``extra`` depends on the kind:
    a function's identity arguments, a type's flavour (enum, composite, domain), an extension's
    installed version ('' when only available), a role's attributes."""

    kind: str
    oid: int
    schema: str
    name: str
    parent: int = 0
    extra: str = ""

    @property
    def label(self) -> str:
        """The name as the tree shows it: exactly as stored, with a function's arguments."""
        if self.kind in ("function", "procedure"):
            return f"{self.name}({self.extra})"
        return self.name

    @property
    def key(self) -> tuple[str, str, str, str]:
        """What stays the same for the same object across two reads (oids may differ between
        two databases with the same schema)."""
        return (self.kind, self.schema, self.name, self.extra)


# Column, Constraint, Index, Policy, Trigger and Sizes are not frozen: 50,000 columns are made
# at a time, and a frozen dataclass takes twice as long to make.
@dataclass(slots=True)
class Column:
    position: int
    name: str
    type: str
    not_null: bool
    default: str | None = None
    identity: str = ""  # "always", "by default" or ""
    generated: str | None = None  # the expression of a stored generated column
    comment: str | None = None


@dataclass(slots=True)
class Constraint:
    name: str
    type: str  # primary key, foreign key, unique, check, exclusion, not null, trigger
    definition: str


@dataclass(slots=True)
class Index:
    name: str
    definition: str
    bytes: int  # from the page count of the last VACUUM or ANALYZE
    scans: int | None
    primary: bool = False
    unique: bool = False


@dataclass(slots=True)
class Policy:
    name: str
    command: str  # ALL, SELECT, INSERT, UPDATE, DELETE
    permissive: bool
    roles: tuple[str, ...]
    using: str | None
    check: str | None


@dataclass(slots=True)
class Trigger:
    name: str
    timing: str  # BEFORE, AFTER, INSTEAD OF
    events: tuple[str, ...]
    level: str  # ROW or STATEMENT
    function: str
    enabled: bool
    definition: str


@dataclass(slots=True)
class Sizes:
    """Bytes on disk: estimates from page counts, or exact when ``exact``."""

    table: int
    toast: int
    indexes: int
    exact: bool = False

    @property
    def total(self) -> int:
        return self.table + self.toast + self.indexes


@dataclass(slots=True)
class RelationDetail:
    oid: int
    rows: float | None  # the planner's estimate; None when never analyzed
    sizes: Sizes
    rls: bool = False
    rls_forced: bool = False
    comment: str | None = None
    definition: str | None = None  # a view's or matview's query
    partition_bound: str | None = None
    partition_key: str | None = None
    columns: list[Column] = field(default_factory=list)
    constraints: list[Constraint] = field(default_factory=list)
    indexes: list[Index] = field(default_factory=list)
    policies: list[Policy] = field(default_factory=list)
    triggers: list[Trigger] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class FunctionDetail:
    signature: str  # schema.name(arguments) RETURNS …
    language: str
    source: str  # the whole CREATE OR REPLACE FUNCTION statement
    comment: str | None = None


@dataclass(frozen=True, slots=True)
class TypeDetail:
    flavour: str  # enum, composite, domain
    labels: tuple[str, ...] = ()  # an enum's labels
    attributes: tuple[tuple[str, str], ...] = ()  # a composite's (name, type)
    base: str = ""  # a domain's base type
    constraints: tuple[str, ...] = ()  # a domain's CHECKs
    comment: str | None = None


@dataclass(frozen=True, slots=True)
class PublicationDetail:
    all_tables: bool
    actions: tuple[str, ...]  # insert, update, delete, truncate
    tables: tuple[str, ...]  # schema.name, quoted as needed


@dataclass(frozen=True, slots=True)
class ExtensionDetail:
    default_version: str
    installed_version: str
    schema: str
    comment: str | None


@dataclass(frozen=True, slots=True)
class RoleDetail:
    superuser: bool
    login: bool
    create_db: bool
    create_role: bool
    replication: bool
    bypass_rls: bool
    connection_limit: int
    member_of: tuple[str, ...]


@dataclass(slots=True)
class CatalogNames:
    """The first read: every object's name and kind, for the tree to paint at once. Without
    ``system``, the objects in system schemas are left out (the schemas themselves are in)."""

    objects: list[CatalogObject]
    server_version: str = ""
    database: str = ""
    system: bool = False

    def by_oid(self) -> dict[int, CatalogObject]:
        return {o.oid: o for o in self.objects if o.kind in RELATION_KINDS}

    def index(self) -> "CatalogIndex":
        return CatalogIndex.build(self)


@dataclass(slots=True)
class CatalogIndex:
    """The names arranged as the tree shows them, built once per read (off the event loop)."""

    names: CatalogNames
    schemas: list[CatalogObject]
    # (schema, group kind) → its objects, partitions left out (they hang under their parent)
    groups: dict[tuple[str, str], list[CatalogObject]]
    partitions: dict[int, list[CatalogObject]]  # parent oid → partitions
    database_objects: dict[str, list[CatalogObject]]  # extension, publication, role
    relations: dict[int, CatalogObject]

    @classmethod
    def build(cls, names: CatalogNames) -> "CatalogIndex":
        schemas: list[CatalogObject] = []
        groups: dict[tuple[str, str], list[CatalogObject]] = {}
        partitions: dict[int, list[CatalogObject]] = {}
        database: dict[str, list[CatalogObject]] = {kind: [] for kind, _ in DATABASE_KINDS}
        relations: dict[int, CatalogObject] = {}
        for obj in names.objects:
            kind = obj.kind
            if kind == "schema":
                schemas.append(obj)
            elif kind in database:
                database[kind].append(obj)
            else:
                if kind in RELATION_KINDS:
                    relations[obj.oid] = obj
                if obj.parent and kind in ("table", "partitioned"):
                    partitions.setdefault(obj.parent, []).append(obj)
                else:
                    groups.setdefault((obj.schema, GROUP_OF.get(kind, kind)), []).append(obj)
        for objects in database.values():
            objects.sort(key=lambda o: o.name)
        schemas.sort(key=lambda o: (is_system_schema(o.name), o.name))
        for objects in groups.values():
            objects.sort(key=lambda o: (o.name, o.extra))
        for objects in partitions.values():
            objects.sort(key=lambda o: o.name)
        return cls(names, schemas, groups, partitions, database, relations)

    def parent_name(self, obj: CatalogObject) -> str:
        """The table a policy, trigger or partition belongs to ('' when none)."""
        parent = self.relations.get(obj.parent)
        return "" if parent is None else parent.name
