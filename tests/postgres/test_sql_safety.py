"""No SQL text in services/postgres/ is built from values: every piece that enters SQL text by
string formatting (f-strings, %, .format, +) is an identifier quoted by ``quote_ident`` or
``qualified``, or another SQL constant (an UPPER_CASE name). Values are bound ($1 …).

A line that really must splice text into SQL (the user's own statement, typed in the SQL
editor) says so with ``# sql-splice: <why>``; the reason is required."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "studio_tui" / "services" / "postgres"
# Upper-case SQL words: error messages and prose in lower case do not trip the check.
SQL_WORDS = re.compile(
    r"\b(SELECT|INSERT|UPDATE|DELETE|FROM|WHERE|JOIN|VALUES|SET|CREATE|DROP|ALTER|TRUNCATE|"
    r"GRANT|REVOKE|ORDER BY|GROUP BY|LIMIT|OFFSET|RETURNING|INTO|COPY|EXECUTE|CALL|LOCK|"
    r"COMMENT ON|AND|OR)\b")
QUOTING = {"quote_ident", "qualified"}
PRAGMA = re.compile(r"#\s*sql-splice:\s*\S")


def _is_sql(text: str) -> bool:
    return bool(SQL_WORDS.search(text))


def _literal_text(node: ast.AST) -> str:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value for v in node.values
                       if isinstance(v, ast.Constant) and isinstance(v.value, str))
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _literal_text(node.left) + _literal_text(node.right)
    return ""


def _is_safe_piece(node: ast.AST) -> bool:
    """What may be spliced into SQL text: a quoted identifier, a SQL constant, or a string
    literal (or a concatenation or f-string made only of those)."""
    if isinstance(node, ast.FormattedValue):
        return node.conversion == -1 and node.format_spec is None and _is_safe_piece(node.value)
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return True
    if isinstance(node, ast.Call):
        func = node.func
        name = func.id if isinstance(func, ast.Name) else \
            func.attr if isinstance(func, ast.Attribute) else ""
        if name in QUOTING:
            return True
        if name == "join" and isinstance(func, ast.Attribute):  # ", ".join(quoted …)
            return all(_is_safe_piece(arg) for arg in node.args)
    if isinstance(node, (ast.GeneratorExp, ast.ListComp)):
        return _is_safe_piece(node.elt)
    if isinstance(node, ast.Name):
        return node.id.isupper()
    if isinstance(node, ast.Attribute):
        return node.attr.isupper()
    if isinstance(node, ast.JoinedStr):
        return all(_is_safe_piece(v) for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _is_safe_piece(node.left) and _is_safe_piece(node.right)
    return False


def violations(source: str, filename: str = "<code>") -> list[str]:
    """Lines where SQL text is built by formatting from anything but identifiers."""
    lines = source.splitlines()
    found: list[str] = []

    def flag(node: ast.AST, what: str) -> None:
        end = getattr(node, "end_lineno", node.lineno)
        if any(PRAGMA.search(lines[i - 1]) for i in range(node.lineno, end + 1)):
            return
        found.append(f"{filename}:{node.lineno}: {what}: {lines[node.lineno - 1].strip()}")

    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.JoinedStr) and _is_sql(_literal_text(node)):
            if not all(_is_safe_piece(v) for v in node.values):
                flag(node, "f-string SQL with a value in it")
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod) \
                and _is_sql(_literal_text(node.left)):
            flag(node, "%-formatted SQL")
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add) \
                and _is_sql(_literal_text(node)) and not _is_safe_piece(node):
            flag(node, "SQL concatenated with a value")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr == "format" and _is_sql(_literal_text(node.func.value)):
            if not all(_is_safe_piece(a) for a in [*node.args, *(k.value for k in node.keywords)]):
                flag(node, ".format()ted SQL")
    return found


def test_no_sql_in_services_postgres_is_built_from_values():
    files = sorted(PACKAGE.rglob("*.py"))
    assert files, PACKAGE
    problems = [v for path in files
                for v in violations(path.read_text(), str(path.relative_to(PACKAGE.parents[2])))]
    assert problems == [], "\n".join(problems)


# The check itself: what it must catch, and what it must let through.
UNSAFE = [
    'sql = f"SELECT * FROM t WHERE id = {user_id}"',
    'sql = f"SELECT * FROM {table}"',
    'sql = f"DELETE FROM {qualified(s, t)} WHERE name = \'{name}\'"',
    'sql = "SELECT * FROM t WHERE name = \'%s\'" % name',
    'sql = "SELECT * FROM t WHERE id = {}".format(value)',
    'sql = "SELECT * FROM t WHERE id = " + str(value)',
    'sql = "UPDATE t SET a = " + value + " WHERE id = $1"',
    'sql = f"SELECT {column!r} FROM t"',
    'sql = f"SELECT * FROM t LIMIT {limit}"',
]
SAFE = [
    'sql = f"SELECT * FROM {qualified(schema, name)} WHERE id = $1"',
    'sql = f"SELECT {quote_ident(column)} FROM {quote_ident(t)}"',
    "sql = f\"SELECT {', '.join(quote_ident(c) for c in cs)} FROM {qualified(s, t)}\"",
    'sql = "SELECT * FROM t WHERE id = " + "$1"',
    'sql = f"{BASE_SQL} WHERE id = $1"',
    'sql = "SELECT {} FROM t".format(quote_ident(c))',
    'message = f"the table {name} has {count} rows"',
    'sql = f"SET TRANSACTION READ ONLY;\\n{sql}"  # sql-splice: the user\'s own statement',
]


@pytest.mark.parametrize("code", UNSAFE)
def test_the_check_catches_values_in_sql(code):
    assert violations(code), code


@pytest.mark.parametrize("code", SAFE)
def test_the_check_lets_quoted_identifiers_through(code):
    assert violations(code) == []


def test_a_splice_needs_a_reason():
    assert violations('sql = f"SELECT {x}"  # sql-splice:')
