"""BSON ↔ text for the Mongo browser: codec options for reading, the editor's Extended JSON
(every BSON type and key order survive a round trip), one-line cell text, and field paths."""

from __future__ import annotations

import base64
import json
import math
import re
from collections.abc import Iterator
from datetime import datetime, timezone
from functools import lru_cache, partial
from typing import Any

from studio_tui.services.errors import ValidationError
from studio_tui.services.mongo.query import QuerySyntaxError, _error

_PLAIN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1


@lru_cache(maxsize=1)
def read_codec_options():
    """How documents are decoded for the browser: tz-aware UTC datetimes, out-of-range dates
    kept (DATETIME_AUTO), and UUIDs left as Binary so subtypes 3 and 4 both survive."""
    from bson.binary import UuidRepresentation
    from bson.codec_options import CodecOptions, DatetimeConversion

    return CodecOptions(
        document_class=dict,
        tz_aware=True,
        tzinfo=timezone.utc,
        uuid_representation=UuidRepresentation.UNSPECIFIED,
        datetime_conversion=DatetimeConversion.DATETIME_AUTO,
    )


@lru_cache(maxsize=1)
def _json_options():
    from bson import json_util
    from bson.binary import UuidRepresentation
    from bson.codec_options import DatetimeConversion

    return json_util.JSONOptions(
        datetime_conversion=DatetimeConversion.DATETIME_AUTO,
        json_mode=json_util.JSONMode.RELAXED,
        tz_aware=True,
        tzinfo=timezone.utc,
        uuid_representation=UuidRepresentation.UNSPECIFIED,
        document_class=dict,
        datetime_representation=json_util.DatetimeRepresentation.ISO8601,
    )


def _to_json(value: Any) -> Any:
    """The JSON-ready form of a BSON value: relaxed Extended JSON, except that Int64 stays
    ``{"$numberLong": …}`` and non-finite doubles stay ``{"$numberDouble": …}``, so that
    Int32, Int64 and Double are told apart when the text is read back."""
    from bson import json_util
    from bson.int64 import Int64

    if isinstance(value, dict):
        return {key: _to_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_to_json(item) for item in value]
    if isinstance(value, bool) or value is None or type(value) is str:  # Code is a str too
        return value
    if isinstance(value, Int64):
        return {"$numberLong": str(int(value))}
    if isinstance(value, int):
        # A plain int outside int32 is stored as int64 by the encoder anyway.
        return value if INT32_MIN <= value <= INT32_MAX else {"$numberLong": str(value)}
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        return {"$numberDouble": "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")}
    converted = json_util.default(value, _json_options())
    if isinstance(converted, dict):  # DBRef: its fields may hold BSON values too
        return {key: _to_json(item) for key, item in converted.items()}
    return converted


def to_editor_text(document: dict) -> str:
    """A document as the editor shows it: pretty relaxed Extended JSON, key order kept, and each
    typed value on one line ({"$oid": "…"}, {"$date": "…"}), as a shell user reads it."""
    return _pretty(_to_json(document), "") + "\n"


def _pretty(value: Any, indent: str) -> str:
    def one(item: Any) -> str:
        return json.dumps(item, ensure_ascii=False, allow_nan=False)

    inner = indent + "  "
    if isinstance(value, dict) and value:
        if all(key.startswith("$") for key in value):  # a typed value: $oid, $date, $binary…
            return one(value)
        fields = (f"{inner}{one(key)}: {_pretty(item, inner)}" for key, item in value.items())
        return "{\n" + ",\n".join(fields) + f"\n{indent}}}"
    if isinstance(value, list) and value:
        items = (inner + _pretty(item, inner) for item in value)
        return "[\n" + ",\n".join(items) + f"\n{indent}]"
    return one(value)


def value_text(value: Any) -> str:
    """One value as the field editor shows it: Extended JSON on one line, types kept."""
    return json.dumps(_to_json(value), ensure_ascii=False, allow_nan=False)


def with_value(document: dict, path: tuple[str | int, ...] | list[str | int], value: Any) -> dict:
    """A copy of ``document`` with the value at ``path`` (names and array indexes) replaced."""
    import copy

    result = copy.deepcopy(document)
    target: Any = result
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return result


def _hook():
    from bson import json_util

    return partial(json_util.object_pairs_hook, json_options=_json_options())


def from_editor_text(text: str, what: str = "document") -> dict:
    """Read the editor's text back into a document. Strict JSON is read fast; anything else
    (shell forms, single quotes) goes through the query parser. Errors carry line and column."""
    try:
        value = json.loads(text, object_pairs_hook=_hook())
    except json.JSONDecodeError as err:
        from studio_tui.services.mongo.query import parse_query

        try:
            value = parse_query(text, what)
        except QuerySyntaxError:
            # Report the strict parser's position: it names the first real problem.
            raise _error(text, err.pos, what, err.msg[0].lower() + err.msg[1:]) from None
    except (TypeError, ValueError, OverflowError) as err:
        raise QuerySyntaxError(detail=f"{what}: {err}", field_errors={what: str(err)}, field=what) from None
    if not isinstance(value, dict):
        raise ValidationError(
            detail=f"{what}: a document is a JSON object {{…}}", field_errors={what: "must be an object"}
        )
    return value


def from_editor_many(text: str) -> list[dict]:
    """One document, or a JSON array of documents (a paste for insert-many)."""
    try:
        value = json.loads(text, object_pairs_hook=_hook())
    except json.JSONDecodeError as err:
        from studio_tui.services.mongo.query import parse_query

        try:
            value = parse_query(text, "documents")
        except QuerySyntaxError:
            raise _error(text, err.pos, "documents", err.msg[0].lower() + err.msg[1:]) from None
    except (TypeError, ValueError, OverflowError) as err:
        raise ValidationError(detail=f"documents: {err}", field_errors={"documents": str(err)}) from None
    if isinstance(value, dict):
        return [value]
    if not isinstance(value, list):
        raise ValidationError(detail="documents: write a document {…} or an array of them [{…}]",
                              field_errors={"documents": "an object or an array"})
    bad = [index for index, item in enumerate(value) if not isinstance(item, dict)]
    if bad:
        raise ValidationError(
            detail=f"documents: item {bad[0] + 1} is not an object",
            field_errors={"documents": f"item {bad[0] + 1} is not an object"},
        )
    if not value:
        raise ValidationError(detail="documents: the array is empty", field_errors={"documents": "empty"})
    return value


def bson_bytes(document: dict) -> bytes:
    """The document's BSON encoding; two documents are the same stored value iff these match."""
    import bson

    return bson.encode(document, codec_options=read_codec_options())


def same_document(first: dict, second: dict) -> bool:
    return bson_bytes(first) == bson_bytes(second)


# --- one-line rendering for table cells ---------------------------------------------------


def type_name(value: Any) -> str:
    """The BSON type of a value, in Compass's words."""
    from bson import Binary, Code, Decimal128, MaxKey, MinKey, ObjectId, Regex, Timestamp
    from bson.datetime_ms import DatetimeMS
    from bson.dbref import DBRef
    from bson.int64 import Int64

    if value is None:
        return "Null"
    for kind, name in (
        (bool, "Boolean"), (Int64, "Int64"), (int, "Int32"), (float, "Double"), (Code, "Code"),
        (str, "String"),
        (dict, "Object"), (list, "Array"), (ObjectId, "ObjectId"), (datetime, "Date"),
        (DatetimeMS, "Date"), (Decimal128, "Decimal128"), (bytes, "Binary"), (Binary, "Binary"),
        (Regex, "Regex"), (re.Pattern, "Regex"), (Timestamp, "Timestamp"), (MinKey, "MinKey"),
        (MaxKey, "MaxKey"), (Code, "Code"), (DBRef, "DBRef"),
    ):
        if isinstance(value, kind):
            if name == "Int32" and not INT32_MIN <= value <= INT32_MAX:
                return "Int64"
            return name
    return type(value).__name__


def _scalar(value: Any) -> str:
    from bson import Binary, Code, Decimal128, MaxKey, MinKey, ObjectId, Regex, Timestamp
    from bson.datetime_ms import DatetimeMS

    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Code):
        return f"Code({json.dumps(str(value))})"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else str(value)
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, ObjectId):
        return f'ObjectId("{value}")'
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
    if isinstance(value, DatetimeMS):
        return f"Date({int(value)})"
    if isinstance(value, Decimal128):
        return str(value)  # the tree view names the type; a cell reads better without it
    if isinstance(value, Binary):
        if value.subtype in (3, 4) and len(value) == 16:
            import uuid

            return f'UUID("{uuid.UUID(bytes=bytes(value))}")' if value.subtype == 4 else f"BinData(3, {len(value)} bytes)"
        return f"BinData({value.subtype}, {len(value)} bytes)"
    if isinstance(value, bytes):
        return f"BinData(0, {len(value)} bytes)"
    if isinstance(value, Regex):
        from bson import json_util

        flags = json_util.default(value, _json_options())["$regularExpression"]["options"]
        return f"/{value.pattern}/{flags}"
    if isinstance(value, Timestamp):
        return f"Timestamp({value.time}, {value.inc})"
    if isinstance(value, MinKey):
        return "MinKey"
    if isinstance(value, MaxKey):
        return "MaxKey"
    return json.dumps(_to_json(value), ensure_ascii=False)


def _compact_parts(value: Any, depth: int) -> Iterator[str]:
    if isinstance(value, dict):
        if depth > 2:
            yield f"{{{len(value)} fields}}" if value else "{}"
            return
        yield "{"
        for index, (key, item) in enumerate(value.items()):
            yield (", " if index else "") + field_name(key) + ": "
            yield from _compact_parts(item, depth + 1)
        yield "}"
    elif isinstance(value, list):
        if depth > 2:
            yield f"[{len(value)} items]"
            return
        yield "["
        for index, item in enumerate(value):
            if index:
                yield ", "
            yield from _compact_parts(item, depth + 1)
        yield "]"
    else:
        yield _scalar(value)


def compact(value: Any, width: int = 60) -> str:
    """A value on one line for a table cell, cut at ``width`` characters with "…". Big values
    stop being walked once the width is reached, so a 16 MB document costs no more than a small one."""
    text, size = [], 0
    for part in _compact_parts(value, 0):
        part = part.replace("\n", "⏎").replace("\t", " ")
        text.append(part)
        size += len(part)
        if size > width:
            break
    joined = "".join(text)
    return joined if len(joined) <= width else joined[: max(0, width - 1)] + "…"


# --- field names and paths ----------------------------------------------------------------


def field_name(name: str) -> str:
    """A field name as it can be read back: plain names bare, others quoted ("a.b", "$x", "")."""
    return name if _PLAIN_NAME.match(name) else _quoted(name)


def _quoted(name: str) -> str:
    """A JSON string, readable (unicode kept) yet printable: a control or other unprintable
    character (DEL, U+2028 …) is written as its \\u escape, which reads back the same."""
    text = json.dumps(name, ensure_ascii=False)
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else json.dumps(c)[1:-1] for c in text)


def field_path(parts: list[str | int]) -> str:
    """A readable path to a nested value: ``a.b[3]``, with odd names quoted: ``a["x.y"]["$z"][""]``."""
    text = []
    for index, part in enumerate(parts):
        if isinstance(part, int):
            text.append(f"[{part}]")
        elif _PLAIN_NAME.match(part):
            text.append(("." if index else "") + part)
        else:
            text.append(f"[{_quoted(part)}]")
    return "".join(text)


def dotted_path(parts: list[str | int]) -> str | None:
    """The path in MongoDB's dot notation, or None when a name has a "." or starts with "$"
    (such fields cannot be named in a query; use $getField)."""
    names = [str(part) for part in parts]
    if any("." in name or name.startswith("$") or not name for name in names):
        return None
    return ".".join(names)


# Names Extended JSON reads as a typed value wherever they appear in an object ({"$oid": …},
# bson.json_util's parsers): a stored sub-document holding one has no text that reads back as
# itself, so the text editors refuse it rather than change it on save.
EJSON_TYPE_NAMES = frozenset({
    "$oid", "$ref", "$date", "$regex", "$minKey", "$maxKey", "$binary", "$code", "$uuid",
    "$undefined", "$numberLong", "$timestamp", "$numberDecimal", "$dbPointer",
    "$regularExpression", "$symbol", "$numberInt", "$numberDouble",
})


def editor_ambiguity(value: Any, path: tuple[str | int, ...] = ()) -> tuple[str | int, ...] | None:
    """The path of the first (sub-)document holding a field named like an Extended JSON type,
    or None when the editor's text of ``value`` reads back as ``value``."""
    if isinstance(value, dict):
        if not EJSON_TYPE_NAMES.isdisjoint(value):
            return path
        items: Any = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        found = editor_ambiguity(item, (*path, key))
        if found is not None:
            return found
    return None


def check_editable(value: Any, what: str = "This document") -> None:
    """Refuse to open ``value`` in a text editor whose text would not read back the same."""
    path = editor_ambiguity(value)
    if path is None:
        return
    inner = value
    for part in path:
        inner = inner[part]
    name = next(key for key in inner if key in EJSON_TYPE_NAMES)
    where = field_path(list(path)) if path else "its top level"
    raise ValidationError(
        f"{what} cannot be edited as text: {where} has a field named {name}, which Extended "
        "JSON reads back as a typed value, so saving would change it. Change it with an "
        "update using $getField/$setField instead.",
        field_errors={"document": f"field {name}"})


def binary_preview(value: Any) -> str:
    """Base64 of a Binary's first bytes, for the tree view's detail line."""
    return base64.b64encode(bytes(value)[:48]).decode()
