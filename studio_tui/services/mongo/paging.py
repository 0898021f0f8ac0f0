"""Range (keyset) paging for finds: the filter that starts the next page just after the last
document shown, in the server's own sort order, so a deep page costs what the first one does.

MongoDB sorts across types (MinKey < null/missing < numbers < strings < objects < arrays <
binary < ObjectId < booleans < dates < timestamps < regex < MaxKey), while ``$gt`` only compares
within one type; so "after v" is "greater within v's type, or of a later type". An ``_id`` tiebreak
makes the order total. Where that cannot be followed (``$natural``, ``$meta`` scores, an array at
the page boundary, which sorts by its smallest or largest element), paging falls back to skip.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

# Sort brackets, in order, each with the $type aliases of its values.
_BRACKETS: list[tuple[str, ...]] = [
    ("minKey",),
    ("null", "undefined"),
    ("double", "int", "long", "decimal"),
    ("string", "symbol"),
    ("object",),
    ("array",),
    ("binData",),
    ("objectId",),
    ("bool",),
    ("date",),
    ("timestamp",),
    ("regex",),
    ("dbPointer", "javascript", "javascriptWithScope"),
    ("maxKey",),
]
_MISSING = object()


def bracket(value: Any) -> int | None:
    """Index of ``value``'s sort bracket; None for values keyset paging cannot follow."""
    from bson import Binary, Code, Decimal128, MaxKey, MinKey, ObjectId, Regex, Timestamp
    from bson.datetime_ms import DatetimeMS

    if value is _MISSING or value is None:
        return 1
    if isinstance(value, MinKey):
        return 0
    if isinstance(value, MaxKey):
        return 13
    if isinstance(value, bool):
        return 8
    if isinstance(value, (int, float, Decimal128)):
        return 2
    if isinstance(value, Code):
        return None  # Code sorts apart from strings but is a str: not worth the ambiguity
    if isinstance(value, str):
        return 3
    if isinstance(value, dict):
        return 4
    if isinstance(value, (bytes, Binary)):
        return 6
    if isinstance(value, ObjectId):
        return 7
    if isinstance(value, (datetime, DatetimeMS)):
        return 9
    if isinstance(value, Timestamp):
        return 10
    if isinstance(value, Regex):
        return None  # regexes do not compare with $gt
    return None  # arrays and anything else


def value_at(document: dict, path: str) -> Any:
    """The value a sort on ``path`` sees, or ``_MISSING``; a list anywhere on the way is
    returned as is (the caller then falls back to skip)."""
    current: Any = document
    for part in path.split("."):
        if isinstance(current, list):
            return current
        if not isinstance(current, dict) or part not in current:
            return _MISSING
        current = current[part]
    return current


def effective_sort(sort: dict[str, Any] | None) -> list[tuple[str, Any]]:
    """The user's sort with an ``_id`` tiebreak, so that every document has one place."""
    keys = list((sort or {}).items())
    if any(name == "$natural" for name, _ in keys):
        return keys  # storage order: nothing may be combined with it
    if not any(name == "_id" for name, _ in keys):
        keys.append(("_id", 1))
    return keys


def keyset_supported(sort: list[tuple[str, Any]]) -> bool:
    return all(direction in (1, -1) and not name.startswith("$") for name, direction in sort)


def _types(groups: list[tuple[str, ...]]) -> list[str]:
    return [alias for group in groups for alias in group if group != _BRACKETS[1]]


def _after_one(name: str, direction: int, value: Any) -> dict[str, Any]:
    """Documents whose ``name`` sorts strictly after ``value`` in ``direction``. An array sorts
    by its smallest element (ascending) or its largest (descending), so "after X" is written
    "no element at or before X" ($not), which holds for arrays as for scalars."""
    position = bracket(value)
    before = _BRACKETS[:position] if direction == 1 else _BRACKETS[position + 1:]
    later = _BRACKETS[position + 1:] if direction == 1 else _BRACKETS[:position]
    nan = isinstance(value, float) and math.isnan(value)
    if name == "_id" and position not in (0, 1, 13) and not nan:
        # _id is never an array: a plain range, which every server turns into index bounds.
        return _scalar_after(name, direction, value, position, later)
    if position in (0, 1, 13):  # MinKey, null/missing, MaxKey: the type says it all
        options: list[dict[str, Any]] = []
        if _types(later):
            options.append({name: {"$type": _types(later)}})
        if _BRACKETS[1] in later:
            options.append({name: None})  # $type "null" would miss documents without the field
        if not options:
            return {"_id": {"$exists": False}}  # nothing sorts after it: match nothing
        return options[0] if len(options) == 1 else {"$or": options}
    if isinstance(value, float) and math.isnan(value):
        # NaN sorts before every number and compares with nothing: "after" is by type.
        value_test: dict[str, Any] = ({name: {"$gte": float("-inf")}} if direction == 1
                                      else {name: {"$not": {"$type": _types(_BRACKETS[2:])}}})
    else:
        value_test = {name: {"$not": {"$lte" if direction == 1 else "$gte": value}}}
        if direction == 1 and position == 2:  # NaN is below every number, yet not "<= X"
            value_test = {"$and": [value_test, {name: {"$ne": float("nan")}}]}
    parts = [value_test, *_not_types(name, before)]
    return {"$and": parts}


def _scalar_after(name: str, direction: int, value: Any, position: int,
                  later: list[tuple[str, ...]]) -> dict[str, Any]:
    options: list[dict[str, Any]] = [{name: {"$gt" if direction == 1 else "$lt": value}}]
    if direction == -1 and position == 2:
        options.append({name: float("nan")})  # NaN sorts below every number
    if _types(later):
        options.append({name: {"$type": _types(later)}})
    return options[0] if len(options) == 1 else {"$or": options}


def _not_types(name: str, groups: list[tuple[str, ...]]) -> list[dict[str, Any]]:
    """Conditions excluding values (or array elements) of the sort brackets in ``groups``."""
    parts: list[dict[str, Any]] = []
    if _types(groups):
        parts.append({name: {"$not": {"$type": _types(groups)}}})
    if _BRACKETS[1] in groups:
        parts.append({name: {"$ne": None}})
    return parts


def _equal_one(name: str, direction: int, value: Any) -> dict[str, Any]:
    position = bracket(value)
    if value is None:
        # null and missing sort together, and {f: null} matches both.
        return {"$and": [{name: None}, *_not_types(name, _BRACKETS[:1] if direction == 1
                                                        else [])]}
    if position in (0, 13):
        return {name: {"$eq": value}}
    before = _BRACKETS[:position] if direction == 1 else _BRACKETS[position + 1:]
    if isinstance(value, float) and math.isnan(value):
        return {"$and": [{name: float("nan")}, *_not_types(name, before)]}
    return {"$and": [{name: {"$eq": value}},
                     {name: {"$not": {"$lt" if direction == 1 else "$gt": value}}},
                     *_not_types(name, before)]}


def after_filter(sort: list[tuple[str, Any]], last: tuple[Any, ...]) -> dict[str, Any]:
    """The filter for "after ``last``" under the full sort: k1 after v1, or k1 = v1 and k2
    after v2, … down to the ``_id`` tiebreak."""
    branches: list[dict[str, Any]] = []
    equal_so_far: list[dict[str, Any]] = []
    for (name, direction), value in zip(sort, last, strict=True):
        branch = [*equal_so_far, _after_one(name, direction, value)]
        branches.append(branch[0] if len(branch) == 1 else {"$and": branch})
        equal_so_far.append(_equal_one(name, direction, value))
    return branches[0] if len(branches) == 1 else {"$or": branches}


def _simple_after(name: str, direction: int, value: Any) -> dict[str, Any] | None:
    """"After ``value``" within its own sort bracket, as a plain range; None where the plain
    range does not say it (MinKey, null, MaxKey, NaN: the array-safe form is used)."""
    position = bracket(value)
    if position in (0, 1, 13) or (isinstance(value, float) and math.isnan(value)):
        return None
    if direction == 1:
        return {name: {"$gt": value}}
    if position == 2:  # NaN sorts below every number
        return {"$or": [{name: {"$lt": value}}, {name: float("nan")}]}
    return {name: {"$lt": value}}


def _simple_equal(name: str, value: Any) -> dict[str, Any]:
    return {name: None} if value is None else {name: {"$eq": value}}


def fast_after_filter(sort: list[tuple[str, Any]],
                      last: tuple[Any, ...]) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """For pages where no array has been seen at a sort key: (the documents after ``last``
    whose first sort key is in the same sort bracket as ``last``'s, as plain ranges that every
    server turns into index bounds; then the documents of the brackets after it, to read once
    the first query runs short). Secondary keys keep the type-aware form: a tie group may mix
    types."""
    (name, direction), value = sort[0], last[0]
    first = _simple_after(name, direction, value)
    if first is None:
        return after_filter(sort, last), None
    branches: list[dict[str, Any]] = [first]
    equal_so_far = [_simple_equal(name, value)]
    for (key, key_direction), key_value in zip(sort[1:], last[1:], strict=True):
        after = _after_one(key, key_direction, key_value)
        branches.append({"$and": [*equal_so_far, after]})
        equal_so_far.append(_simple_equal(key, key_value))
    position = bracket(value)
    later = _BRACKETS[position + 1:] if direction == 1 else _BRACKETS[:position]
    options: list[dict[str, Any]] = []
    if _types(later):
        options.append({name: {"$type": _types(later)}})
    if _BRACKETS[1] in later:
        options.append({name: None})
    later_filter = None if not options else options[0] if len(options) == 1 else {"$or": options}
    return (branches[0] if len(branches) == 1 else {"$or": branches}), later_filter


def has_array(document: dict, sort: list[tuple[str, Any]]) -> bool:
    return any(isinstance(value_at(document, name), list) for name, _ in sort)


def boundary(document: dict, sort: list[tuple[str, Any]]) -> tuple[Any, ...] | None:
    """The last document's sort values, or None when keyset paging cannot follow them."""
    values = []
    for name, _ in sort:
        value = value_at(document, name)
        if value is not _MISSING and bracket(value) is None:
            return None
        values.append(None if value is _MISSING else value)
    return tuple(values)


def with_sort_fields(projection: dict[str, Any] | None,
                     sort: list[tuple[str, Any]]) -> tuple[dict[str, Any] | None, list[str]]:
    """A projection that still returns the sort fields (the page boundary needs them), and the
    fields added for that, to be removed before display."""
    if not projection:
        return projection, []
    included = [value for name, value in projection.items() if name != "_id"]
    inclusion = any(value not in (0, False) for value in included)
    result = dict(projection)
    added: list[str] = []
    for name, _ in sort:
        if name == "_id":
            continue  # returned unless excluded (handled below)
        if inclusion:
            if name not in result and not any(name.startswith(f"{key}.") for key in result):
                result[name] = 1
                added.append(name)
        elif result.get(name) in (0, False):
            del result[name]
            added.append(name)
    if result.get("_id") in (0, False):
        del result["_id"]
        added.append("_id")
    return result, added


def strip_fields(document: dict, fields: list[str]) -> dict:
    for name in fields:
        parts = name.split(".")
        current: Any = document
        for part in parts[:-1]:
            current = current.get(part) if isinstance(current, dict) else None
        if isinstance(current, dict):
            current.pop(parts[-1], None)
    return document
