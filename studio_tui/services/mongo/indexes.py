"""A collection's indexes: keys and options (unique, sparse, TTL, partial, collation, hidden),
size (collStats indexSizes) and usage (`$indexStats`, where the server has it); create and drop,
both writes (refused on read-only entries)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from studio_tui.services.errors import NotFoundError, ValidationError
from studio_tui.services.mongo.scope import MongoScope

_NOT_THERE = {13, 20, 59, 115, 40324}  # unauthorised, not supported, unknown stage


@dataclass(frozen=True, slots=True)
class IndexInfo:
    name: str
    keys: tuple[tuple[str, Any], ...]  # (field, 1 | -1 | "text" | "2dsphere" | "hashed" …)
    unique: bool = False
    sparse: bool = False
    hidden: bool = False
    ttl_seconds: int | None = None
    partial_filter: str = ""  # as JSON text
    collation: str = ""  # the locale (and strength), when the index has a collation
    size_bytes: int | None = None
    ops: int | None = None  # $indexStats accesses since ``since``; None when not known
    since: dt.datetime | None = None

    @property
    def keys_text(self) -> str:
        return ", ".join(f"{field}: {direction}" for field, direction in self.keys)

    @property
    def options_text(self) -> str:
        shown = [word for word, on in (("unique", self.unique), ("sparse", self.sparse),
                                       ("hidden", self.hidden)) if on]
        if self.ttl_seconds is not None:
            shown.append(f"TTL {self.ttl_seconds}s")
        if self.partial_filter:
            shown.append(f"partial {self.partial_filter}")
        if self.collation:
            shown.append(f"collation {self.collation}")
        return " · ".join(shown)


@dataclass(frozen=True, slots=True)
class IndexListing:
    indexes: list[IndexInfo]
    usage_note: str = ""  # why usage is not shown, when it is not
    size_note: str = ""


def _json(value: Any) -> str:
    from bson import json_util

    return json_util.dumps(value, json_options=json_util.RELAXED_JSON_OPTIONS)


async def list_indexes(scope: MongoScope) -> IndexListing:
    from pymongo.errors import OperationFailure

    async def read(client) -> tuple[list[dict], dict, str, dict, str]:
        coll = scope.coll(client)
        specs = await (await coll.list_indexes()).to_list(length=None)
        sizes: dict = {}
        size_note = ""
        try:
            sizes = dict((await scope.db(client).command("collStats", scope.collection))
                         .get("indexSizes") or {})
        except OperationFailure:
            try:  # collStats is deprecated on newer servers and refused on some managed tiers
                cursor = await coll.aggregate([{"$collStats": {"storageStats": {}}}])
                stats = await cursor.to_list(length=None)
                for shard in stats:
                    for name, size in (shard.get("storageStats", {}).get("indexSizes") or {}).items():
                        sizes[name] = sizes.get(name, 0) + int(size)
            except OperationFailure as exc:
                size_note = f"Sizes unavailable: {exc.details.get('errmsg') if exc.details else exc}."
        usage: dict = {}
        usage_note = ""
        try:
            cursor = await coll.aggregate([{"$indexStats": {}}])
            for stat in await cursor.to_list(length=None):
                accesses = stat.get("accesses") or {}
                name = stat.get("name")
                ops, since = usage.get(name, (0, None))
                usage[name] = (ops + int(accesses.get("ops", 0)), since or accesses.get("since"))
        except OperationFailure as exc:
            if exc.code not in _NOT_THERE:
                raise
            usage_note = ("Usage unavailable: this server or user cannot run $indexStats "
                          f"({exc.details.get('errmsg') if exc.details else exc}).")
        return specs, sizes, size_note, usage, usage_note

    specs, sizes, size_note, usage, usage_note = await scope.run("listIndexes", read)
    indexes = []
    for spec in specs:
        name = str(spec.get("name"))
        collation = spec.get("collation") or {}
        ops, since = usage.get(name, (None, None))
        ttl = spec.get("expireAfterSeconds")
        indexes.append(IndexInfo(
            name=name, keys=tuple((str(k), v) for k, v in (spec.get("key") or {}).items()),
            unique=bool(spec.get("unique")), sparse=bool(spec.get("sparse")),
            hidden=bool(spec.get("hidden")),
            ttl_seconds=None if ttl is None else int(ttl),
            partial_filter=_json(spec["partialFilterExpression"])
            if "partialFilterExpression" in spec else "",
            collation=" ".join(str(collation[k]) for k in ("locale", "strength") if k in collation),
            size_bytes=None if name not in sizes else int(sizes[name]),
            ops=None if ops is None else int(ops), since=since))
    return IndexListing(indexes, usage_note, size_note)


_DIRECTIONS = {1, -1, "text", "2d", "2dsphere", "hashed", "wildcard"}


@dataclass(frozen=True, slots=True)
class IndexSpec:
    """What the create form gathers, already parsed."""

    keys: list[tuple[str, Any]]
    name: str = ""
    unique: bool = False
    sparse: bool = False
    hidden: bool = False
    ttl_seconds: int | None = None
    partial_filter: dict | None = None
    collation_locale: str = ""


def check_keys(keys: Any) -> list[tuple[str, Any]]:
    """The parsed key document (e.g. ``{a: 1, "b.c": -1}``) as (field, direction) pairs."""
    if not isinstance(keys, dict) or not keys:
        raise ValidationError("The keys are a document of at least one field, e.g. {a: 1, b: -1}.",
                              field_errors={"keys": "a document of fields"})
    pairs = []
    for field, direction in keys.items():
        if isinstance(direction, float) and direction in (1.0, -1.0):
            direction = int(direction)
        if isinstance(direction, bool) or direction not in _DIRECTIONS:
            raise ValidationError(
                f"{field!r}: {direction!r} is not an index direction (1, -1, \"text\", \"2d\", "
                "\"2dsphere\", \"hashed\").", field_errors={"keys": "direction"})
        pairs.append((str(field), direction))
    return pairs


def parse_ttl(text: str) -> int | None:
    text = text.strip()
    if not text:
        return None
    try:
        seconds = int(text)
    except ValueError:
        raise ValidationError(f"TTL {text!r} is not a whole number of seconds.",
                              field_errors={"ttl": "seconds"}) from None
    if seconds < 0:
        raise ValidationError("A TTL cannot be negative.", field_errors={"ttl": "seconds"})
    return seconds


async def create_index(scope: MongoScope, spec: IndexSpec) -> str:
    """Create it (a write); the name the server gave it."""
    if spec.ttl_seconds is not None and len(spec.keys) != 1:
        raise ValidationError("A TTL index has exactly one field (a date).",
                              field_errors={"ttl": "one field"})
    options: dict[str, Any] = {}
    if spec.name.strip():
        options["name"] = spec.name.strip()
    for option in ("unique", "sparse", "hidden"):
        if getattr(spec, option):
            options[option] = True
    if spec.ttl_seconds is not None:
        options["expireAfterSeconds"] = spec.ttl_seconds
    if spec.partial_filter:
        options["partialFilterExpression"] = spec.partial_filter
    if spec.collation_locale.strip():
        options["collation"] = {"locale": spec.collation_locale.strip()}
    return str(await scope.run(f"createIndex {scope.namespace}", lambda client: scope.coll(
        client).create_index(spec.keys, **options), write=True, long=True))


async def drop_index(scope: MongoScope, name: str) -> None:
    if name == "_id_":
        raise ValidationError("The _id index cannot be dropped.")

    async def drop(client) -> None:
        from pymongo.errors import OperationFailure

        try:
            await scope.coll(client).drop_index(name)
        except OperationFailure as exc:
            if exc.code == 27:  # IndexNotFound
                raise NotFoundError(f"{scope.namespace} has no index {name!r}.") from None
            raise

    await scope.run(f"dropIndex {scope.namespace} {name}", drop, write=True)
