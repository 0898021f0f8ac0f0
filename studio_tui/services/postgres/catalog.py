"""The PostgreSQL catalog in a few bulk reads, never one round trip per object.

1. ``names()``: every object's kind, schema and name in one query, so the tree paints at once.
2. ``columns()``: every relation's columns in one query.
3. ``details()``: row estimates, page-count sizes, RLS flags, constraints, indexes, policies,
   triggers and view definitions, in one query.

Exact on-disk sizes (``pg_total_relation_size`` and friends stat every file of a relation: the
costly part at 10,000 tables) are read for one relation at a time, when it is shown
(``exact_sizes``); functions' source, types' members and the like likewise (``*_detail``).

The queries hold no values at all, and the few that take one (an oid) bind it. They run on a
``CatalogSource``: directly over asyncpg, or through pg-meta's ``POST /query``."""

from __future__ import annotations

import asyncio
import gc
from contextlib import contextmanager
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from studio_tui.services.errors import NotFoundError
from studio_tui.services.postgres.models import (
    CatalogIndex,
    CatalogNames,
    CatalogObject,
    Column,
    Constraint,
    ExtensionDetail,
    FunctionDetail,
    Index,
    Policy,
    PublicationDetail,
    RelationDetail,
    RoleDetail,
    Sizes,
    Trigger,
    TypeDetail,
)
from studio_tui.services.postgres.source import CatalogSource

Row = Mapping[str, Any]

# Objects in system schemas are read only when the user asks to see those schemas.
USER_SCHEMAS_ONLY = ("AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
                     "AND n.nspname !~ '^pg_(toast|temp_)'")
_NAMES_TEMPLATE = """
SELECT 'schema' AS kind, n.oid::int8 AS oid, n.nspname::text AS schema, n.nspname::text AS name,
       0::int8 AS parent, ''::text AS extra
  FROM pg_namespace n
UNION ALL
SELECT CASE c.relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'partitioned' WHEN 'v' THEN 'view'
                      WHEN 'm' THEN 'matview' WHEN 'f' THEN 'foreign' WHEN 'S' THEN 'sequence'
                      ELSE 'type' END,
       -- a stand-alone composite type is named by its pg_type row, not its pg_class one
       CASE WHEN c.relkind = 'c' THEN c.reltype ELSE c.oid END::int8, n.nspname::text,
       c.relname::text,
       CASE WHEN c.relispartition
            THEN (SELECT i.inhparent FROM pg_inherits i WHERE i.inhrelid = c.oid)
            ELSE 0 END::int8,
       CASE WHEN c.relkind = 'c' THEN 'composite' ELSE '' END
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S', 'c') /*schemas*/
UNION ALL
SELECT CASE p.prokind WHEN 'p' THEN 'procedure' ELSE 'function' END, p.oid::int8,
       n.nspname::text, p.proname::text, 0, pg_get_function_identity_arguments(p.oid)
  FROM pg_proc p
  JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE p.prokind IN ('f', 'p') /*schemas*/
UNION ALL
SELECT 'type', t.oid::int8, n.nspname::text, t.typname::text, 0,
       CASE t.typtype WHEN 'e' THEN 'enum' ELSE 'domain' END
  FROM pg_type t
  JOIN pg_namespace n ON n.oid = t.typnamespace
 WHERE t.typtype IN ('e', 'd') /*schemas*/
UNION ALL
SELECT 'policy', pol.oid::int8, n.nspname::text, pol.polname::text, pol.polrelid::int8, ''
  FROM pg_policy pol
  JOIN pg_class c ON c.oid = pol.polrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE true /*schemas*/
UNION ALL
SELECT 'trigger', tg.oid::int8, n.nspname::text, tg.tgname::text, tg.tgrelid::int8, ''
  FROM pg_trigger tg
  JOIN pg_class c ON c.oid = tg.tgrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE NOT tg.tgisinternal /*schemas*/
UNION ALL
SELECT 'extension', COALESCE(e.oid, 0)::int8, COALESCE(en.nspname, '')::text, a.name::text, 0,
       COALESCE(a.installed_version, '')::text
  FROM pg_available_extensions a
  LEFT JOIN pg_extension e ON e.extname = a.name
  LEFT JOIN pg_namespace en ON en.oid = e.extnamespace
UNION ALL
SELECT 'publication', p.oid::int8, '', p.pubname::text, 0, ''
  FROM pg_publication p
UNION ALL
SELECT 'role', r.oid::int8, '', r.rolname::text, 0,
       concat_ws(', ', CASE WHEN r.rolsuper THEN 'superuser' END,
                 CASE WHEN r.rolcanlogin THEN 'login' END)
  FROM pg_roles r
UNION ALL
SELECT 'database', 0, '', current_database()::text, 0, current_setting('server_version')
"""
NAMES_SQL = _NAMES_TEMPLATE.replace("/*schemas*/", USER_SCHEMAS_ONLY)
ALL_NAMES_SQL = _NAMES_TEMPLATE.replace("/*schemas*/", "")

COLUMNS_SQL = """
SELECT a.attrelid::int8 AS relid, a.attnum::int4 AS position, a.attname::text AS name,
       format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS not_null,
       CASE WHEN a.attgenerated = '' THEN pg_get_expr(d.adbin, d.adrelid) END AS "default",
       CASE a.attidentity WHEN 'a' THEN 'always' WHEN 'd' THEN 'by default' ELSE '' END
           AS identity,
       CASE WHEN a.attgenerated <> '' THEN pg_get_expr(d.adbin, d.adrelid) END AS generated,
       ds.description AS comment
  FROM pg_attribute a
  JOIN pg_class c ON c.oid = a.attrelid AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
  LEFT JOIN pg_description ds ON ds.objoid = a.attrelid
       AND ds.classoid = 'pg_class'::regclass AND ds.objsubid = a.attnum
 WHERE a.attnum > 0 AND NOT a.attisdropped
"""  # ordered in Python: sorting 50,000 rows on the server costs more than the rest

# One row per relation, constraint, index, policy and trigger, with typed columns whose meaning
# depends on ``what`` (JSON per row would cost more to decode than the query takes):
#   relation:   label comment, definition view query, extra partition bound, extra2 partition
#               key, rows estimate, n1 table bytes, n2 TOAST bytes, b1 RLS, b2 RLS forced
#   constraint: name, label type, definition
#   index:      name, definition, n1 bytes, n2 scans, b1 primary, b2 unique
#   policy:     name, label command, definition USING, extra WITH CHECK, b1 permissive, roles
#   trigger:    name, label function, definition, n1 tgtype, b1 enabled
# Sizes come from page counts (pg_class.relpages, as of the last VACUUM or ANALYZE): no file is
# touched, so this stays fast at any number of relations. TOAST tables' own indexes are left
# out (a table's TOAST size already holds them).
DETAILS_SQL = """
WITH bs AS (SELECT current_setting('block_size')::int8 AS size)
SELECT 'relation' AS what, c.oid::int8 AS relid, NULL::text AS name, ds.description AS label,
       CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid) END AS definition,
       CASE WHEN c.relispartition THEN pg_get_expr(c.relpartbound, c.oid) END AS extra,
       CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END AS extra2,
       CASE WHEN c.reltuples >= 0 THEN c.reltuples END::float8 AS rows,
       c.relpages::int8 * bs.size AS n1, COALESCE(t.relpages, 0)::int8 * bs.size AS n2,
       c.relrowsecurity AS b1, c.relforcerowsecurity AS b2, NULL::text[] AS roles
  FROM pg_class c CROSS JOIN bs
  LEFT JOIN pg_class t ON t.oid = c.reltoastrelid
  LEFT JOIN pg_description ds ON ds.objoid = c.oid AND ds.classoid = 'pg_class'::regclass
       AND ds.objsubid = 0
 WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
UNION ALL
SELECT 'constraint', co.conrelid::int8, co.conname::text,
       CASE co.contype WHEN 'p' THEN 'primary key' WHEN 'f' THEN 'foreign key'
            WHEN 'u' THEN 'unique' WHEN 'c' THEN 'check' WHEN 'x' THEN 'exclusion'
            ELSE 'trigger' END,
       pg_get_constraintdef(co.oid), NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
  FROM pg_constraint co
 WHERE co.conrelid <> 0 AND co.contype <> 'n'
UNION ALL
SELECT 'index', x.indrelid::int8, ic.relname::text, NULL, pg_get_indexdef(x.indexrelid), NULL,
       NULL, NULL, ic.relpages::int8 * bs.size, pg_stat_get_numscans(x.indexrelid),
       x.indisprimary, x.indisunique, NULL
  FROM pg_index x CROSS JOIN bs
  JOIN pg_class ic ON ic.oid = x.indexrelid
  JOIN pg_class t ON t.oid = x.indrelid AND t.relkind IN ('r', 'p', 'm')
UNION ALL
SELECT 'policy', pol.polrelid::int8, pol.polname::text,
       CASE pol.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE'
            WHEN 'd' THEN 'DELETE' ELSE 'ALL' END,
       pg_get_expr(pol.polqual, pol.polrelid), pg_get_expr(pol.polwithcheck, pol.polrelid),
       NULL, NULL, NULL, NULL, pol.polpermissive, NULL,
       CASE WHEN pol.polroles = '{0}' THEN ARRAY['public']
            ELSE ARRAY(SELECT rolname::text FROM pg_roles WHERE oid = ANY (pol.polroles)
                       ORDER BY rolname) END
  FROM pg_policy pol
UNION ALL
SELECT 'trigger', tg.tgrelid::int8, tg.tgname::text, tg.tgfoid::regprocedure::text,
       pg_get_triggerdef(tg.oid), NULL, NULL, NULL, tg.tgtype::int8, NULL, tg.tgenabled <> 'D',
       NULL, NULL
  FROM pg_trigger tg
 WHERE NOT tg.tgisinternal
"""

EXACT_SIZES_SQL = """
SELECT pg_table_size(c.oid) - COALESCE(pg_total_relation_size(NULLIF(c.reltoastrelid, 0)), 0)
           AS table,
       COALESCE(pg_total_relation_size(NULLIF(c.reltoastrelid, 0)), 0) AS toast,
       pg_indexes_size(c.oid) AS indexes
  FROM pg_class c WHERE c.oid = $1::int8::oid
"""

FUNCTION_SQL = """
SELECT format('%s.%s(%s) RETURNS %s', quote_ident(n.nspname), quote_ident(p.proname),
              pg_get_function_arguments(p.oid),
              COALESCE(pg_get_function_result(p.oid), 'void')) AS signature,
       l.lanname::text AS language, pg_get_functiondef(p.oid) AS source,
       obj_description(p.oid, 'pg_proc') AS comment
  FROM pg_proc p
  JOIN pg_namespace n ON n.oid = p.pronamespace
  JOIN pg_language l ON l.oid = p.prolang
 WHERE p.oid = $1::int8::oid
"""

TYPE_SQL = """
SELECT CASE t.typtype WHEN 'e' THEN 'enum' WHEN 'd' THEN 'domain' ELSE 'composite' END AS flavour,
       ARRAY(SELECT e.enumlabel::text FROM pg_enum e WHERE e.enumtypid = t.oid
             ORDER BY e.enumsortorder) AS labels,
       ARRAY(SELECT a.attname::text FROM pg_attribute a
              WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped
              ORDER BY a.attnum) AS attribute_names,
       ARRAY(SELECT format_type(a.atttypid, a.atttypmod) FROM pg_attribute a
              WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped
              ORDER BY a.attnum) AS attribute_types,
       CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod) ELSE '' END
           AS base,
       ARRAY(SELECT pg_get_constraintdef(co.oid) FROM pg_constraint co
              WHERE co.contypid = t.oid ORDER BY co.conname) AS checks,
       obj_description(t.oid, 'pg_type') AS comment
  FROM pg_type t WHERE t.oid = $1::int8::oid
"""

PUBLICATION_SQL = """
SELECT p.puballtables AS all_tables,
       ARRAY_REMOVE(ARRAY[CASE WHEN p.pubinsert THEN 'insert' END,
                          CASE WHEN p.pubupdate THEN 'update' END,
                          CASE WHEN p.pubdelete THEN 'delete' END,
                          CASE WHEN p.pubtruncate THEN 'truncate' END], NULL) AS actions,
       ARRAY(SELECT format('%I.%I', pt.schemaname, pt.tablename) FROM pg_publication_tables pt
              WHERE pt.pubname = p.pubname ORDER BY 1) AS tables
  FROM pg_publication p WHERE p.oid = $1::int8::oid
"""

EXTENSION_SQL = """
SELECT a.default_version::text AS default_version,
       COALESCE(a.installed_version, '')::text AS installed_version,
       COALESCE(n.nspname, '')::text AS schema, a.comment
  FROM pg_available_extensions a
  LEFT JOIN pg_extension e ON e.extname = a.name
  LEFT JOIN pg_namespace n ON n.oid = e.extnamespace
 WHERE a.name = $1
"""

ROLE_SQL = """
SELECT r.rolsuper AS superuser, r.rolcanlogin AS login, r.rolcreatedb AS create_db,
       r.rolcreaterole AS create_role, r.rolreplication AS replication,
       r.rolbypassrls AS bypass_rls, r.rolconnlimit AS connection_limit,
       ARRAY(SELECT g.rolname::text FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
              WHERE m.member = r.oid ORDER BY 1) AS member_of
  FROM pg_roles r WHERE r.oid = $1::int8::oid
"""

_TRIGGER_EVENTS = ((4, "INSERT"), (8, "DELETE"), (16, "UPDATE"), (32, "TRUNCATE"))


def _int(value: Any) -> int:
    return int(value) if value is not None else 0


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in (value or ()))


def trigger_timing(tgtype: int) -> tuple[str, tuple[str, ...], str]:
    """(timing, events, level) from pg_trigger.tgtype's bits."""
    timing = "INSTEAD OF" if tgtype & 64 else "BEFORE" if tgtype & 2 else "AFTER"
    events = tuple(name for bit, name in _TRIGGER_EVENTS if tgtype & bit)
    return timing, events, "ROW" if tgtype & 1 else "STATEMENT"


def parse_names(rows: Sequence[Row], system: bool = False) -> CatalogNames:
    names = CatalogNames(objects=[], system=system)
    objects = names.objects
    for row in rows:
        kind = row["kind"]
        if kind == "database":
            names.database, names.server_version = row["name"], row["extra"]
            continue
        objects.append(CatalogObject(kind, row["oid"], row["schema"], row["name"],
                                     row["parent"], row["extra"]))
    return names


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Tens of thousands of new tuples and lists, none of them cyclic: the cyclic garbage
    collector would walk the whole heap (every column already read) a few times meanwhile."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _without_collector(parse, *args):
    with _collector_paused():
        return parse(*args)


def build_index(rows: Sequence[Row], system: bool) -> CatalogIndex:
    return CatalogIndex.build(parse_names(rows, system))


def parse_columns(rows: Sequence[Row]) -> dict[int, list[Column]]:
    columns: dict[int, list[Column]] = {}
    for row in rows:
        relid = row["relid"]
        found = columns.get(relid)
        if found is None:
            found = columns[relid] = []
        found.append(Column(row["position"], row["name"], row["type"], row["not_null"],
                            row["default"], row["identity"] or "", row["generated"],
                            row["comment"]))
    for found in columns.values():
        found.sort(key=_position)
    return columns


def _position(column: Column) -> int:
    return column.position


def parse_details(rows: Sequence[Row]) -> dict[int, RelationDetail]:
    details: dict[int, RelationDetail] = {}
    owned: list[Row] = []
    for row in rows:
        if row["what"] != "relation":
            owned.append(row)
            continue
        relid = _int(row["relid"])
        estimate = row["rows"]
        details[relid] = RelationDetail(
            oid=relid, rows=None if estimate is None else float(estimate),
            sizes=Sizes(_int(row["n1"]), _int(row["n2"]), 0),
            rls=bool(row["b1"]), rls_forced=bool(row["b2"]), comment=row["label"],
            definition=row["definition"], partition_bound=row["extra"],
            partition_key=row["extra2"])
    for row in owned:
        detail = details.get(_int(row["relid"]))
        if detail is None:
            continue  # a constraint of a type, say: not a relation the tree shows
        what = row["what"]
        if what == "index":
            scans = row["n2"]
            index = Index(row["name"], row["definition"], _int(row["n1"]),
                          None if scans is None else int(scans), bool(row["b1"]),
                          bool(row["b2"]))
            detail.indexes.append(index)
            detail.sizes.indexes += index.bytes
        elif what == "constraint":
            detail.constraints.append(Constraint(row["name"], row["label"], row["definition"]))
        elif what == "policy":
            detail.policies.append(Policy(row["name"], row["label"], bool(row["b1"]),
                                          _strings(row["roles"]), row["definition"],
                                          row["extra"]))
        elif what == "trigger":
            timing, events, level = trigger_timing(_int(row["n1"]))
            detail.triggers.append(Trigger(row["name"], timing, events, level, row["label"],
                                           bool(row["b1"]), row["definition"]))
    for detail in details.values():
        if len(detail.constraints) > 1:
            detail.constraints.sort(key=lambda c: (c.type != "primary key", c.name))
        if len(detail.indexes) > 1:
            detail.indexes.sort(key=lambda i: (not i.primary, i.name))
        detail.policies.sort(key=lambda p: p.name)
        detail.triggers.sort(key=lambda t: t.name)
    return details


class PostgresCatalog:
    """Reads one database's catalog through ``source``; the screen keeps what it read."""

    def __init__(self, source: CatalogSource) -> None:
        self.source = source

    # Rows become models in a thread: at 10,000 tables that is a fifth of a second of Python
    # the event loop (and so the screen) must not wait for.
    async def _names_rows(self, system: bool) -> Sequence[Row]:
        return await self.source.fetch("catalog names", ALL_NAMES_SQL if system else NAMES_SQL)

    async def names(self, *, system: bool = False) -> CatalogNames:
        """Every object's kind and name; those in system schemas only with ``system``."""
        return await asyncio.to_thread(_without_collector, parse_names,
                                       await self._names_rows(system), system)

    async def index(self, *, system: bool = False) -> CatalogIndex:
        """The names, arranged for the tree."""
        return await asyncio.to_thread(_without_collector, build_index,
                                       await self._names_rows(system), system)

    async def columns(self) -> dict[int, list[Column]]:
        rows = await self.source.fetch("catalog columns", COLUMNS_SQL, long=True)
        return await asyncio.to_thread(_without_collector, parse_columns, rows)

    async def details(self) -> dict[int, RelationDetail]:
        """Relation details without their columns (``columns``): merge the two."""
        rows = await self.source.fetch("catalog details", DETAILS_SQL, long=True)
        return await asyncio.to_thread(_without_collector, parse_details, rows)

    async def everything(self, *, system: bool = False
                         ) -> tuple[CatalogNames, dict[int, RelationDetail]]:
        """Names and every relation's details, columns included: three round trips, the last
        two side by side (on two connections)."""
        names = await self.names(system=system)
        columns, details = await asyncio.gather(self.columns(), self.details())
        for oid, detail in details.items():
            detail.columns = columns.get(oid, [])
        return names, details

    async def _one(self, operation: str, sql: str, *params: Any) -> Row:
        rows = await self.source.fetch(operation, sql, *params)
        if not rows:
            raise NotFoundError(f"It is no longer in the catalog ({operation}).")
        return rows[0]

    async def exact_sizes(self, oid: int) -> Sizes:
        row = await self._one("relation sizes", EXACT_SIZES_SQL, oid)
        return Sizes(_int(row["table"]), _int(row["toast"]), _int(row["indexes"]), exact=True)

    async def function_detail(self, oid: int) -> FunctionDetail:
        row = await self._one("function source", FUNCTION_SQL, oid)
        return FunctionDetail(row["signature"], row["language"], row["source"], row["comment"])

    async def type_detail(self, oid: int) -> TypeDetail:
        row = await self._one("type detail", TYPE_SQL, oid)
        return TypeDetail(row["flavour"], _strings(row["labels"]),
                          tuple(zip(_strings(row["attribute_names"]),
                                    _strings(row["attribute_types"]))),
                          row["base"] or "", _strings(row["checks"]), row["comment"])

    async def publication_detail(self, oid: int) -> PublicationDetail:
        row = await self._one("publication detail", PUBLICATION_SQL, oid)
        return PublicationDetail(bool(row["all_tables"]), _strings(row["actions"]),
                                 _strings(row["tables"]))

    async def extension_detail(self, name: str) -> ExtensionDetail:
        row = await self._one("extension detail", EXTENSION_SQL, name)
        return ExtensionDetail(row["default_version"] or "", row["installed_version"] or "",
                               row["schema"] or "", row["comment"])

    async def role_detail(self, oid: int) -> RoleDetail:
        row = await self._one("role detail", ROLE_SQL, oid)
        return RoleDetail(bool(row["superuser"]), bool(row["login"]), bool(row["create_db"]),
                          bool(row["create_role"]), bool(row["replication"]),
                          bool(row["bypass_rls"]), _int(row["connection_limit"]),
                          _strings(row["member_of"]))
