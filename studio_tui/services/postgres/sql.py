"""The SQL editor's service: split a script into statements, run them guarded, EXPLAIN them, and
stream results to a file.

Statements run in a READ ONLY transaction, unless write mode is on (refused here for a read-only
entry; its server refuses writes too, as the driver sets ``default_transaction_read_only``). In
write mode a statement that wrote something (the transaction got an id) is neither committed nor
rolled back until the user decides, as rainfrog does: the transaction stays open on its one
leased connection for at most ``DECISION_WINDOW`` seconds, then rolls back. Each statement gets
the tier's ``statement_timeout``. Transaction control (BEGIN, COMMIT…) is the editor's, so it is
refused in the text. Statements are split by sqlparse, which knows quotes, dollar quotes and
comments."""

from __future__ import annotations

import asyncio
import csv
import datetime
import json
import os
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from studio_tui.services.errors import (
    ReadModeError,
    ReadOnlyError,
    StudioError,
    ValidationError,
)
from studio_tui.services.manager import ConnectionManager
from studio_tui.services.postgres.data_models import Plan, PlanNode, ResultSet
from studio_tui.services.tiers import TIER_LIMITS

if TYPE_CHECKING:
    from studio_tui.services.postgres.source import CatalogSource

MAX_RESULT_ROWS = 10_000  # kept per statement; export streams all of them
DECISION_WINDOW = 60.0  # seconds a written transaction waits for commit or rollback
EXPORT_BATCH = 500
# An export is long work the user started, watches (rows so far) and can stop (esc): the tier's
# query timeout bounds each batch (the server's statement_timeout, per fetch), not the whole
# export. The whole is bounded too, as its READ ONLY transaction holds a snapshot that keeps
# VACUUM from cleaning up behind it.
EXPORT_TIME_LIMIT = 3600.0
BATCH_MARGIN = 5.0  # seconds the driver waits past statement_timeout for the server's answer

_TRANSACTION_CONTROL = {"BEGIN", "START", "COMMIT", "END", "ROLLBACK", "ABORT"}


@dataclass(frozen=True, slots=True)
class Statement:
    text: str  # as written, without the whitespace around it
    start: int  # offsets in the script
    end: int


def split_statements(script: str) -> list[Statement]:
    """The statements of ``script`` with their places in it; empty or comment-only pieces are
    left out."""
    import sqlparse

    out = []
    offset = 0
    for parsed in sqlparse.parse(script):
        piece = str(parsed)
        begin = offset
        offset += len(piece)
        meaningful = [t for t in parsed.flatten() if not t.is_whitespace
                      and t.ttype not in sqlparse.tokens.Comment.Single
                      and t.ttype not in sqlparse.tokens.Comment.Multiline
                      and t.ttype is not sqlparse.tokens.Punctuation]
        if not meaningful:
            continue
        stripped = piece.strip()
        start = begin + piece.index(stripped)
        out.append(Statement(stripped, start, start + len(stripped)))
    return out


def statement_at(script: str, offset: int) -> Statement | None:
    """The statement the cursor at ``offset`` is in (or just after, on the same line)."""
    statements = split_statements(script)
    for statement in statements:
        if statement.start <= offset <= statement.end:
            return statement
    before = [s for s in statements if s.end <= offset]
    return before[-1] if before else (statements[0] if statements else None)


def first_word(statement: str) -> str:
    import sqlparse

    parsed = sqlparse.parse(statement)
    if not parsed:
        return ""
    token = parsed[0].token_first(skip_ws=True, skip_cm=True)
    return token.normalized.upper() if token is not None else ""


def refuse_transaction_control(statement: str) -> None:
    word = first_word(statement)
    words = statement.upper().split()
    if word == "ROLLBACK" and len(words) > 1 and words[1] in ("TO", "PREPARED"):
        if words[1] == "TO":
            return  # to a savepoint: inside the editor's transaction
    if word in _TRANSACTION_CONTROL or (word == "PREPARE" and "TRANSACTION" in words[:3]):
        raise ValidationError(
            f"{word} is not run here: the editor runs each script in a transaction of its own "
            "(READ ONLY unless write mode is on) and asks you to commit or roll back a write.")


def format_value(value: Any) -> str | None:
    """A driver value as text, close to how PostgreSQL prints it."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "\\x" + bytes(value).hex()
    if isinstance(value, (datetime.datetime, datetime.time)):
        return _pg_clock(value.isoformat(sep=" ") if isinstance(value, datetime.datetime)
                         else value.isoformat())
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, (int, float, Decimal, uuid.UUID)):
        return str(value)
    if isinstance(value, (list, tuple)):
        return "{" + ",".join("NULL" if v is None else str(format_value(v)) for v in value) + "}"
    if isinstance(value, dict):
        return json.dumps(value)
    return str(value)


_CLOCK = re.compile(r"^(.*\d{2}:\d{2}:\d{2})(\.\d+)?(.*)$")


def _pg_clock(text: str) -> str:
    """An ISO time as PostgreSQL prints it, as the grid shows it: no trailing zeros in the
    fraction, a whole-hour offset as ``+00``."""
    match = _CLOCK.match(text)
    if match is None:
        return text
    clock, fraction, zone = match.groups()
    fraction = (fraction or "").rstrip("0").rstrip(".")
    if len(zone) == 6 and zone.endswith(":00"):
        zone = zone[:-3]
    return clock + fraction + zone


def _plan_node(raw: dict, analyzed: bool) -> PlanNode:
    children = tuple(_plan_node(child, analyzed) for child in raw.get("Plans", ()))
    total = float(raw.get("Total Cost", 0.0))
    self_cost = max(0.0, total - sum(child.total_cost for child in children))
    actual_ms = self_ms = None
    actual_rows = loops = None
    if analyzed and "Actual Total Time" in raw:
        loops = int(raw.get("Actual Loops", 1))
        actual_ms = float(raw["Actual Total Time"]) * loops
        self_ms = max(0.0, actual_ms - sum(child.actual_ms or 0.0 for child in children))
        actual_rows = int(raw.get("Actual Rows", 0))
    detail_parts = []
    for label, name in (("on", "Relation Name"), ("using", "Index Name"), ("", "Join Type"),
                        ("", "Strategy"), ("by", "Sort Key"), ("cond", "Index Cond"),
                        ("filter", "Filter"), ("cond", "Hash Cond")):
        if name in raw:
            value = raw[name]
            if isinstance(value, list):
                value = ", ".join(map(str, value))
            if name == "Relation Name" and raw.get("Alias") not in (None, raw[name]):
                value = f"{value} {raw['Alias']}"
            detail_parts.append(f"{label} {value}".strip())
    return PlanNode(raw.get("Node Type", "?"), " ".join(detail_parts),
                    float(raw.get("Startup Cost", 0.0)), total, int(raw.get("Plan Rows", 0)),
                    self_cost, actual_ms, self_ms, actual_rows, loops, children)


def _walk(node: PlanNode):
    yield node
    for child in node.children:
        yield from _walk(child)


def parse_plan(document: str | list, analyzed: bool) -> Plan:
    data = json.loads(document) if isinstance(document, str) else document
    top = data[0]
    root = _plan_node(top["Plan"], analyzed)
    if analyzed:
        costliest = max(_walk(root), key=lambda n: n.self_ms or 0.0)
    else:
        costliest = max(_walk(root), key=lambda n: n.self_cost)
    return Plan(root, analyzed, top.get("Planning Time"), top.get("Execution Time"), costliest)


@dataclass(frozen=True, slots=True)
class RunOutcome:
    results: list[ResultSet]
    wrote: bool  # the transaction wrote something
    committed: bool
    note: str  # what happened to the transaction, for the status line
    seconds: float = 0.0  # running the statements, not waiting for the user's decision


Decide = Callable[[list[ResultSet]], Awaitable[bool]]


class SqlSession:
    """One SQL editor on one entry: its write mode, and the statements it runs.

    With a pg-meta ``source``, read-only statements, EXPLAIN and the completion names go over
    HTTP. What needs one connection held across requests goes over the direct connection:
    write mode (the transaction waits for commit or rollback), EXPLAIN ANALYZE in write mode
    (rolled back) and exports (a server-side cursor)."""

    def __init__(self, manager: ConnectionManager, database_id: str,
                 source: "CatalogSource | None" = None) -> None:
        self.manager = manager
        self.database_id = database_id
        self.source = source
        self.write_mode = False

    @property
    def _meta(self):
        """The pg-meta source, when statements go over HTTP."""
        from studio_tui.services.postgres.meta import MetaSource

        return self.source if isinstance(self.source, MetaSource) else None

    async def _entry(self):
        return await self.manager.catalog.database(self.database_id)

    async def set_write_mode(self, on: bool) -> None:
        """Switch write mode; a read-only entry refuses it."""
        if on:  # refused, and audited, as a write would be: read-only entry or role
            try:
                await self.manager.check_write(self.database_id, "SQL write mode")
            except ReadOnlyError as error:
                raise ReadOnlyError(f"{error.database} is a read-only entry: write mode is "
                                    "refused.", database=error.database) from None
        self.write_mode = on

    async def _limits(self) -> tuple[float, str]:
        entry = await self._entry()
        seconds = TIER_LIMITS[entry.tier].query_timeout
        return seconds, f"{int(seconds * 1000)}ms"

    async def _begin(self, connection, readonly: bool, statement_timeout: str):
        transaction = connection.transaction(readonly=readonly)
        await transaction.start()
        # A SELECT first: it takes the snapshot, after which SET TRANSACTION READ WRITE fails.
        await connection.execute(
            "SELECT set_config('statement_timeout', $1, true), "
            "set_config('idle_in_transaction_session_timeout', $2, true)",
            statement_timeout, f"{int((DECISION_WINDOW + 30) * 1000)}ms")
        return transaction

    async def run(self, script: str, decide: Decide) -> RunOutcome:
        """Run every statement of ``script`` in one transaction. In write mode, when they wrote
        something, ``decide(results)`` says commit (True) or roll back (False), within
        ``DECISION_WINDOW`` seconds (then it rolls back)."""
        statements = split_statements(script)
        if not statements:
            raise ValidationError("There is no statement to run.")
        for statement in statements:
            refuse_transaction_control(statement.text)
        write = self.write_mode
        if not write and self._meta is not None:
            return await self._run_over_meta(statements)
        seconds, statement_timeout = await self._limits()

        async def execute(connection) -> RunOutcome:
            transaction = await self._begin(connection, not write, statement_timeout)
            committed = False
            try:
                began = time.perf_counter()
                results = [await _run_one(connection, s.text) for s in statements]
                wrote = bool(await connection.fetchval(
                    "SELECT pg_current_xact_id_if_assigned() IS NOT NULL"))
                ran = time.perf_counter() - began
                if not write or not wrote:
                    await transaction.rollback()
                    return RunOutcome(results, False, False, "read only" if not write else "",
                                      ran)
                try:
                    commit = await asyncio.wait_for(decide(results), DECISION_WINDOW)
                except TimeoutError:
                    await transaction.rollback()
                    return RunOutcome(results, True, False,
                                      f"No answer within {DECISION_WINDOW:g}s: rolled back.", ran)
                if commit:
                    await transaction.commit()
                    committed = True
                    return RunOutcome(results, True, True, "Committed.", ran)
                await transaction.rollback()
                return RunOutcome(results, True, False, "Rolled back.", ran)
            except BaseException:
                if not committed and not connection.is_closed():
                    try:
                        await asyncio.shield(transaction.rollback())
                    except Exception:  # noqa: BLE001 - the pool's reset rolls back as well
                        pass
                raise

        if write:
            timeout = seconds * len(statements) + DECISION_WINDOW + 5
            return await self.manager.run(self.database_id, "run SQL", execute, write=True,
                                          timeout=timeout)
        try:
            return await self.manager.run(self.database_id, "run SQL (read only)", execute,
                                          long=True)
        except ReadOnlyError as error:
            raise await self._read_only_mode(error) from None

    async def _run_over_meta(self, statements: list[Statement]) -> RunOutcome:
        """Each statement in a READ ONLY transaction of its own, over pg-meta (its own
        ``statement_timeout`` is the tier's query timeout)."""
        results = []
        began = time.perf_counter()
        for statement in statements:
            try:
                rows = await self._meta.query(statement.text, long=True, read_only=True)
            except ReadOnlyError as error:
                raise await self._read_only_mode(error) from None
            except StudioError as error:
                if "read-only transaction" in error.detail:
                    raise await self._read_only_mode(ReadOnlyError(error.detail)) from None
                raise
            results.append(result_from_rows(rows, statement.text))
        return RunOutcome(results, False, False, "read only", time.perf_counter() - began)

    async def _read_only_mode(self, error: ReadOnlyError) -> ReadOnlyError:
        """The server refused a write in the editor's READ ONLY transaction: on an entry
        that takes writes, say that write mode is what is missing."""
        entry = await self._entry()
        if entry.read_only or self.write_mode:
            return error
        refusal = self.manager.catalog.write_refusal(entry)
        if refusal:  # the role may not write: write mode would be refused too
            return ReadOnlyError(f"{refusal}, which may not write: statements run read only.",
                                 database=entry.name)
        reason = error.detail.split(": ", 1)[-1]
        return ReadModeError(f"the editor runs statements read only ({reason.rstrip('.')}); "
                             f"{entry.name} takes writes: switch write mode on (ctrl+w) to "
                             "write.", database=entry.name)

    async def explain(self, statement: str, *, analyze: bool = False) -> Plan:
        """The plan of one statement (FORMAT JSON). ANALYZE runs it, in a transaction that is
        always rolled back, and READ ONLY unless write mode is on."""
        refuse_transaction_control(statement)
        seconds, statement_timeout = await self._limits()
        options = "ANALYZE, BUFFERS, FORMAT JSON" if analyze else "FORMAT JSON"
        sql = f"EXPLAIN ({options}) {statement}"  # sql-splice: the user's own statement

        if self._meta is not None and not (analyze and self.write_mode):
            rows = await self._meta.query(sql, long=True, read_only=True)
            return parse_plan(next(iter(rows[0].values())), analyze)

        async def plan(connection) -> Plan:
            transaction = await self._begin(connection, not self.write_mode, statement_timeout)
            try:
                document = await connection.fetchval(sql)
            finally:
                await transaction.rollback()
            return parse_plan(document, analyze)

        try:
            return await self.manager.run(self.database_id, "EXPLAIN ANALYZE" if analyze
                                          else "EXPLAIN", plan, long=True,
                                          write=analyze and self.write_mode)
        except ReadOnlyError as error:
            raise await self._read_only_mode(error) from None

    async def export(self, statement: str, path: Path, fmt: str,
                     progress: Callable[[int], None] | None = None) -> int:
        """Stream every row of ``statement`` to ``path`` as CSV (with a header) or JSON (an
        array of objects), through a server-side cursor in a READ ONLY transaction, so memory
        stays flat however many rows there are. Returns the number of rows written. Each
        batch has the tier's ``statement_timeout``; the whole, ``EXPORT_TIME_LIMIT``."""
        if fmt not in ("csv", "json"):
            raise ValidationError(f"Unknown export format {fmt!r}: csv or json.",
                                  field_errors={"format": "csv or json"})
        refuse_transaction_control(statement)
        seconds, statement_timeout = await self._limits()
        # The server's statement_timeout ends a slow batch with its own clear error; the
        # driver's own limit (the same number by default) would race it and say less.
        batch_wait = seconds + BATCH_MARGIN
        path = path.expanduser()

        async def stream(connection) -> int:
            transaction = await self._begin(connection, True, statement_timeout)
            count = 0
            try:
                prepared = await connection.prepare(statement, timeout=batch_wait)
                names = [attribute.name for attribute in prepared.get_attributes()]
                if not names:
                    raise ValidationError("Only a statement that returns rows can be exported.")
                path.parent.mkdir(parents=True, exist_ok=True)
                with open(path, "w", newline="", encoding="utf-8") as out:
                    os.chmod(path, 0o600)
                    writer = csv.writer(out) if fmt == "csv" else None
                    if writer is not None:
                        writer.writerow(names)
                    else:
                        out.write("[")
                    cursor = await prepared.cursor(timeout=batch_wait)
                    while True:
                        batch = await cursor.fetch(EXPORT_BATCH, timeout=batch_wait)
                        for record in batch:
                            values = [format_value(value) for value in record]
                            if writer is not None:
                                writer.writerow(["" if v is None else v for v in values])
                            else:
                                out.write(("," if count else "") + "\n" + json.dumps(
                                    dict(zip(names, values)), ensure_ascii=False))
                            count += 1
                        if progress is not None:
                            progress(count)
                        if len(batch) < EXPORT_BATCH:
                            break
                    if writer is None:
                        out.write("\n]\n")
            finally:
                await transaction.rollback()
            return count

        return await self.manager.run(self.database_id, "export rows", stream, long=True,
                                      timeout=EXPORT_TIME_LIMIT)

    async def names(self) -> "CompletionNames":
        """Schemas, relations and columns for completion, in one query."""
        if self.source is not None:
            rows = await self.source.fetch("names for completion", _NAMES)
            return CompletionNames.from_rows(
                [(r["nspname"], r["relname"], r["attname"]) for r in rows])

        async def read(connection) -> CompletionNames:
            records = await connection.fetch(_NAMES)
            return CompletionNames.from_rows([(r[0], r[1], r[2]) for r in records])

        return await self.manager.run(self.database_id, "names for completion", read)


async def _run_one(connection, text: str) -> ResultSet:
    prepared = await connection.prepare(text)
    attributes = prepared.get_attributes()
    if not attributes:
        await prepared.fetch()
        return ResultSet((), [], prepared.get_statusmsg(), statement=text)
    cursor = await prepared.cursor()
    records = await cursor.fetch(MAX_RESULT_ROWS + 1)
    truncated = len(records) > MAX_RESULT_ROWS
    rows = [tuple(format_value(v) for v in record) for record in records[:MAX_RESULT_ROWS]]
    # PostgreSQL's own tag, as a status line: not SQL that is run.
    status = f"SELECT {len(rows):,}{'+' if truncated else ''}"  # sql-splice: a status, not SQL
    return ResultSet(tuple(a.name for a in attributes), rows, status, truncated, text)


def result_from_rows(rows: list[dict[str, Any]], text: str) -> ResultSet:
    """pg-meta's rows (JSON objects, in column order) as a result set: a statement returning
    no rows shows no columns, as pg-meta does not say which it would have had."""
    kept = rows[:MAX_RESULT_ROWS]
    columns = tuple(rows[0]) if rows else ()
    values = [tuple(format_value(row.get(name)) for name in columns) for row in kept]
    truncated = len(rows) > MAX_RESULT_ROWS
    status = f"SELECT {len(kept):,}{'+' if truncated else ''}"  # sql-splice: a status, not SQL
    return ResultSet(columns, values, status, truncated, text)


_NAMES = """
SELECT n.nspname, c.relname, a.attname
FROM pg_namespace n
LEFT JOIN pg_class c ON c.relnamespace = n.oid AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'
ORDER BY n.nspname, c.relname, a.attnum
"""

KEYWORDS = (
    "SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "NULL", "IS", "IN", "LIKE", "ILIKE",
    "BETWEEN", "ORDER BY", "GROUP BY", "HAVING", "LIMIT", "OFFSET", "JOIN", "LEFT JOIN",
    "INNER JOIN", "RIGHT JOIN", "FULL JOIN", "CROSS JOIN", "ON", "USING", "AS", "DISTINCT",
    "UNION", "UNION ALL", "INTERSECT", "EXCEPT", "WITH", "RECURSIVE", "INSERT INTO", "VALUES",
    "UPDATE", "SET", "DELETE FROM", "RETURNING", "CREATE", "TABLE", "INDEX", "VIEW", "ALTER",
    "DROP", "TRUNCATE", "EXPLAIN", "ANALYZE", "CASE", "WHEN", "THEN", "ELSE", "END", "ASC",
    "DESC", "NULLS FIRST", "NULLS LAST", "COUNT", "SUM", "AVG", "MIN", "MAX", "COALESCE",
    "EXISTS", "ANY", "ALL", "TRUE", "FALSE", "CAST", "INTERVAL", "NOW()", "CURRENT_DATE",
)
_PLAIN = re.compile(r"^[a-z_][a-z0-9_$]*$")
_IDENT = r'(?:"(?:[^"]|"")*"|[\w$]+)'
_ALIAS = re.compile(rf"\b(?:FROM|JOIN|UPDATE|INTO)\s+(?P<name>{_IDENT}(?:\s*\.\s*{_IDENT})?)"
                    rf"\s+(?:AS\s+)?(?P<alias>{_IDENT})", re.IGNORECASE)
# Words that follow a relation and are not its alias.
_NOT_ALIASES = {"WHERE", "JOIN", "LEFT", "RIGHT", "FULL", "INNER", "CROSS", "NATURAL", "ON",
                "USING", "GROUP", "ORDER", "LIMIT", "OFFSET", "HAVING", "UNION", "EXCEPT",
                "INTERSECT", "SET", "VALUES", "WINDOW", "FOR", "RETURNING", "TABLESAMPLE",
                "LATERAL", "FETCH", "DEFAULT", "SELECT", "AS"}
_WORD_BEFORE = re.compile(r'((?:(?:"[^"]*"|[\w$]+)\.){0,2})([\w$]*)$')


def sql_name(name: str) -> str:
    """An identifier as typed in SQL: bare when it can be, else quoted."""
    from studio_tui.services.postgres.identifiers import quote_ident

    return name if _PLAIN.match(name) else quote_ident(name)


def _unquote(part: str) -> str:
    if part.startswith('"') and part.endswith('"'):
        return part[1:-1].replace('""', '"')
    return part.lower()


@dataclass
class CompletionNames:
    schemas: list[str]
    relations: dict[str, list[str]]  # schema → relations
    columns: dict[tuple[str, str], list[str]]  # (schema, relation) → columns

    @classmethod
    def from_rows(cls, rows: list[tuple[str, str | None, str | None]]) -> "CompletionNames":
        schemas: dict[str, None] = {}
        relations: dict[str, dict[str, None]] = {}
        columns: dict[tuple[str, str], list[str]] = {}
        for schema, relation, column in rows:
            schemas[schema] = None
            if relation is None:
                continue
            relations.setdefault(schema, {})[relation] = None
            if column is not None:
                columns.setdefault((schema, relation), []).append(column)
        return cls(sorted(schemas), {s: sorted(r) for s, r in relations.items()}, columns)

    def _relation(self, schema: str | None, relation: str,
                  search_path: tuple[str, ...]) -> tuple[str, str] | None:
        for candidate in ([schema] if schema else search_path):
            if (candidate, relation) in self.columns:
                return candidate, relation
        return None

    def aliases(self, text: str, search_path: tuple[str, ...]) -> dict[str, tuple[str, str]]:
        """alias → (schema, relation) for ``FROM t a``, ``JOIN s.t AS a`` … in ``text``."""
        found = {}
        for match in _ALIAS.finditer(text):
            names = [_unquote(p) for p in re.findall(r'"(?:[^"]|"")*"|[\w$]+', match["name"])]
            alias = _unquote(match["alias"])
            if alias.upper() in _NOT_ALIASES or len(names) > 2:
                continue
            relation = self._relation(names[0] if len(names) == 2 else None, names[-1],
                                      search_path)
            if relation is not None:
                found[alias] = relation
        return found

    def complete(self, before: str, search_path: tuple[str, ...] = ("public",),
                 after: str = "") -> tuple[str, list[str]]:
        """(the word being completed, the candidates) for the text before the cursor;
        ``after`` (the rest of the statement) names the aliases a qualifier may be."""
        match = _WORD_BEFORE.search(before)
        qualifier, word = (match.group(1), match.group(2)) if match else ("", "")
        parts = [_unquote(p) for p in re.findall(r'"[^"]*"|[\w$]+', qualifier)]
        lowered = word.lower()
        found: list[str] = []
        aliased = self.aliases(before + after, search_path).get(parts[0]) \
            if len(parts) == 1 else None
        if aliased is not None:
            found = list(self.columns.get(aliased, []))
        elif len(parts) == 2:
            found = self.columns.get((parts[0], parts[1]), [])
        elif len(parts) == 1:
            found = list(self.relations.get(parts[0], []))
            for (schema, relation), names in self.columns.items():
                if relation == parts[0]:
                    found += names
        else:
            found = [k for k in KEYWORDS]
            found += self.schemas
            for schema in search_path:
                found += self.relations.get(schema, [])
            mentioned = {_unquote(w) for w in re.findall(r'"[^"]*"|[\w$]+', before)}
            for (schema, relation), names in self.columns.items():
                if relation in mentioned and (schema in search_path or schema in mentioned):
                    found += names
        seen: dict[str, None] = {}
        for name in found:
            shown = name if name.isupper() or " " in name and name.split()[0].isupper() \
                else sql_name(name)
            if shown.lower().startswith(lowered) or name.lower().startswith(lowered):
                seen[shown] = None
        return word, list(seen)


def file_safe(text: str) -> str:
    """``text`` as part of a file name: letters, digits, ``-`` and ``_`` only."""
    return re.sub(r"_+", "_", "".join(c if c.isalnum() or c in "-_" else "_" for c in text)
                  ).strip("_") or "_"


def export_path(data_dir: Path, entry_name: str, stamp: str, fmt: str = "csv") -> Path:
    """Where an export goes unless the user says otherwise: no spaces or quotes to escape in
    a shell afterwards."""
    return data_dir / "exports" / f"{file_safe(entry_name)}-{stamp}.{fmt}"


class SqlHistory:
    """Statements run on one database, newest last, in a JSON-lines file of the data dir."""

    LIMIT = 500

    def __init__(self, path: Path) -> None:
        self.path = path
        self.entries: list[str] = []
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            lines = []
        except OSError as error:
            raise StudioError(f"The SQL history {path} cannot be read: {error.strerror}.") from None
        for line in lines[-self.LIMIT:]:
            try:
                self.entries.append(json.loads(line))
            except ValueError:
                continue

    @classmethod
    def for_database(cls, data_dir: Path, database_id: str) -> "SqlHistory":
        return cls(data_dir / "sql-history" / f"{file_safe(database_id)}.jsonl")

    def add(self, statement: str) -> None:
        statement = statement.strip()
        if not statement or (self.entries and self.entries[-1] == statement):
            return
        self.entries.append(statement)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if len(self.entries) > self.LIMIT * 2:
            self.entries = self.entries[-self.LIMIT:]
            self.path.write_text("".join(json.dumps(e) + "\n" for e in self.entries),
                                 encoding="utf-8")
        else:
            with open(self.path, "a", encoding="utf-8") as out:
                out.write(json.dumps(statement) + "\n")
        os.chmod(self.path, 0o600)
