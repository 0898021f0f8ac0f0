"""A collection's shape from a `$sample` of its documents: every field path, its BSON types and
how often it appears; and the query-bar filter that finds documents having a path.

Paths are kept as tuples of field names, so a name holding `.` or starting with `$` stays one
name. Such a path cannot be written as a dotted query path; its filter looks the name up among
its parent's keys in an `$expr` instead (`$getField`, MongoDB 5.0+), which does not reach into
arrays."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from studio_tui.services.errors import ValidationError
from studio_tui.services.mongo.ejson import dotted_path, field_path, type_name
from studio_tui.services.mongo.scope import MongoScope

DEFAULT_SAMPLE = 1000
MAX_SAMPLE = 100_000
MAX_PATHS = 5000  # a collection of free-form keys would otherwise list every key it has
MAX_DEPTH = 20


@dataclass(slots=True)
class FieldStats:
    path: tuple[str, ...]
    count: int = 0  # documents that have it (at least once, counting array elements)
    types: dict[str, int] = field(default_factory=dict)  # BSON type name → values seen

    @property
    def display(self) -> str:
        """The path as the browser shows one: odd names quoted."""
        return field_path(list(self.path))

    @property
    def types_text(self) -> str:
        return ", ".join(name for name, _ in sorted(self.types.items(), key=lambda t: -t[1]))


@dataclass(frozen=True, slots=True)
class SchemaSample:
    sampled: int
    fields: list[FieldStats]  # in path order, parents before children
    truncated: bool = False  # more than MAX_PATHS paths: the rest were not counted

    def share(self, stats: FieldStats) -> float:
        return stats.count / self.sampled if self.sampled else 0.0


class _Tally:
    def __init__(self) -> None:
        self.fields: dict[tuple[str, ...], FieldStats] = {}
        self.truncated = False

    def add(self, document: dict) -> None:
        seen: set[tuple[str, ...]] = set()
        self._walk(document, (), seen)
        for path in seen:
            self.fields[path].count += 1

    def _walk(self, document: dict, prefix: tuple[str, ...], seen: set) -> None:
        for name, value in document.items():
            path = (*prefix, str(name))
            self._value(path, value, seen)

    def _value(self, path: tuple[str, ...], value: Any, seen: set, in_array: bool = False) -> None:
        stats = self.fields.get(path)
        if stats is None:
            if len(self.fields) >= MAX_PATHS:
                self.truncated = True
                return
            stats = self.fields[path] = FieldStats(path)
        kind = type_name(value)
        stats.types[kind] = stats.types.get(kind, 0) + 1
        seen.add(path)
        if len(path) >= MAX_DEPTH:
            return
        if isinstance(value, dict):
            self._walk(value, path, seen)
        elif isinstance(value, list) and not in_array:
            # Sub-documents in an array give paths under the array's own (a.b for [{b: …}]),
            # as a query path reaches them.
            for item in value:
                if isinstance(item, dict):
                    self._walk(item, path, seen)


def summarise(documents: Iterable[dict]) -> SchemaSample:
    tally = _Tally()
    sampled = 0
    for document in documents:
        tally.add(document)
        sampled += 1
    ordered = sorted(tally.fields.values(), key=lambda stats: stats.path)
    return SchemaSample(sampled, ordered, tally.truncated)


async def sample_schema(scope: MongoScope, size: int = DEFAULT_SAMPLE) -> SchemaSample:
    """``$sample`` of ``size`` documents (random, and cheap on mongod: it reads random records
    instead of the whole collection), summarised."""
    if not 1 <= size <= MAX_SAMPLE:
        raise ValidationError(f"The sample is from 1 to {MAX_SAMPLE:,} documents.",
                              field_errors={"size": "1 to 100000"})

    async def read(client) -> list[dict]:
        cursor = await scope.coll(client).aggregate([{"$sample": {"size": size}}],
                                                    batchSize=min(size, 1000))
        return await cursor.to_list(length=size)

    documents = await scope.run(f"$sample {scope.namespace}", read, long=True)
    return summarise(documents)


def _name(name: str) -> Any:
    # A string starting with $ would read as a field path: $literal keeps it a name.
    return {"$literal": name} if name.startswith("$") else name


def exists_filter(path: tuple[str, ...]) -> str:
    """The query-bar filter for documents that have ``path``: a dotted path when every name
    allows one; else the last name looked up among its parent's keys (``$objectToArray``), the
    parent reached with ``$getField``, which also takes names with `.` or a leading `$`."""
    if not path:
        raise ValidationError("No field path.")
    dotted = dotted_path(list(path))
    if dotted is not None:
        return json.dumps({dotted: {"$exists": True}})
    parent: Any = "$$ROOT"
    for name in path[:-1]:
        parent = {"$getField": {"field": _name(name), "input": parent}}
    keys = {"$map": {"input": {"$cond": [{"$eq": [{"$type": parent}, "object"]},
                                         {"$objectToArray": parent}, []]},
                     "in": "$$this.k"}}
    return json.dumps({"$expr": {"$in": [_name(path[-1]), keys]}})
