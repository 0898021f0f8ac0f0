"""A batch of writes to one collection applied in one multi-document transaction: all or
nothing. The batch is a list of bulk-write operations in the query bar's syntax
(`[{insertOne: {document: …}}, {updateMany: {filter: …, update: …}}, …]`); before it is applied,
a preview says what each operation would match. Transactions need a replica set or mongos with
sessions; a standalone server is told apart up front (from `hello`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from studio_tui.services.errors import ServerError, ValidationError
from studio_tui.services.mongo.query import parse_query
from studio_tui.services.mongo.scope import MongoScope
from studio_tui.services.mongo.server import Topology, topology

OPERATIONS = {
    "insertOne": ("document",),
    "updateOne": ("filter", "update"),
    "updateMany": ("filter", "update"),
    "replaceOne": ("filter", "replacement"),
    "deleteOne": ("filter",),
    "deleteMany": ("filter",),
}
OPTIONS = {"upsert", "collation", "hint", "arrayFilters"}
MAX_OPERATIONS = 1000
# What the screen starts with: the forms, as comments, around an empty batch.
TEMPLATE = """// One transaction: every operation is applied, in order, or none is.
//   {insertOne: {document: {…}}}
//   {updateOne: {filter: {…}, update: {$set: {…}}}}     (updateMany alike; upsert: true)
//   {replaceOne: {filter: {…}, replacement: {…}}}
//   {deleteOne: {filter: {…}}}                          (deleteMany alike)
[

]
"""


@dataclass(frozen=True, slots=True)
class Operation:
    kind: str
    body: dict[str, Any]
    number: int  # 1-based, as the user counts them

    def summary(self) -> str:
        from studio_tui.services.mongo.ejson import compact

        if self.kind == "insertOne":
            return f"insert {compact(self.body['document'], 50)}"
        return f"{self.kind} {compact(self.body.get('filter', {}), 50)}"


@dataclass(frozen=True, slots=True)
class PreviewLine:
    operation: Operation
    matches: int | None  # documents the filter matches now (None for an insert)
    effect: str  # in words: "inserts 1", "updates 1 of 3 matching", …


@dataclass(frozen=True, slots=True)
class Applied:
    inserted: int
    matched: int
    modified: int
    deleted: int
    upserted: int


def parse_batch(text: str) -> list[Operation]:
    value = parse_query(text, "operations")
    if isinstance(value, dict):
        value = [value] if value else []
    if not isinstance(value, list) or not value:
        raise ValidationError("The batch is a list of operations, like "
                              "[{insertOne: {document: {…}}}, {deleteOne: {filter: {…}}}].",
                              field_errors={"operations": "a list"})
    if len(value) > MAX_OPERATIONS:
        raise ValidationError(f"At most {MAX_OPERATIONS} operations in one transaction.")
    operations = []
    for number, item in enumerate(value, start=1):
        if not isinstance(item, dict) or len(item) != 1:
            raise ValidationError(f"operation {number}: one of {', '.join(OPERATIONS)}.",
                                  field_errors={"operations": f"operation {number}"})
        kind, body = next(iter(item.items()))
        if kind not in OPERATIONS:
            raise ValidationError(f"operation {number}: {kind!r} is not one of "
                                  f"{', '.join(OPERATIONS)}.",
                                  field_errors={"operations": f"operation {number}"})
        if not isinstance(body, dict):
            raise ValidationError(f"operation {number}: {kind} takes a document.")
        for required in OPERATIONS[kind]:
            if not isinstance(body.get(required), (dict, list)) or (
                    required != "update" and not isinstance(body.get(required), dict)):
                raise ValidationError(f"operation {number}: {kind} needs {required}: {{…}}.",
                                      field_errors={"operations": f"operation {number}"})
        unknown = set(body) - set(OPERATIONS[kind]) - OPTIONS
        if unknown:
            raise ValidationError(f"operation {number}: unknown field {sorted(unknown)[0]!r}.")
        if kind == "replaceOne" and any(k.startswith("$") for k in body["replacement"]):
            raise ValidationError(f"operation {number}: a replacement has no $ operators.")
        if kind in ("updateOne", "updateMany") and isinstance(body["update"], dict) and not all(
                k.startswith("$") for k in body["update"]):
            raise ValidationError(f"operation {number}: an update uses operators like $set.")
        operations.append(Operation(kind, body, number))
    return operations


def _driver_operation(operation: Operation) -> Any:
    from pymongo import DeleteMany, DeleteOne, InsertOne, ReplaceOne, UpdateMany, UpdateOne

    body = operation.body
    options = {key: body[key] for key in OPTIONS if key in body and key != "arrayFilters"}
    if operation.kind == "insertOne":
        return InsertOne(body["document"])
    if operation.kind == "deleteOne":
        return DeleteOne(body["filter"], **options)
    if operation.kind == "deleteMany":
        return DeleteMany(body["filter"], **options)
    if operation.kind == "replaceOne":
        return ReplaceOne(body["filter"], body["replacement"], **options)
    kind = UpdateOne if operation.kind == "updateOne" else UpdateMany
    return kind(body["filter"], body["update"], array_filters=body.get("arrayFilters"), **options)


async def check_support(scope: MongoScope) -> Topology:
    """The server's topology; raises when it cannot run a transaction, saying why."""
    found = await topology(scope)
    if not found.supports_transactions:
        raise ValidationError(
            f"This server is a {found.label}: multi-document transactions need a replica set "
            "or a sharded cluster (mongos) with sessions. Apply the operations one by one in the "
            "browser instead.")
    return found


async def preview(scope: MongoScope, operations: list[Operation]) -> list[PreviewLine]:
    """What each operation would touch, counted now (outside the transaction: the numbers are
    as the collection is at this moment)."""
    async def count(client) -> list[int | None]:
        coll = scope.coll(client)
        counts: list[int | None] = []
        for operation in operations:
            if operation.kind == "insertOne":
                counts.append(None)
                continue
            single = operation.kind.endswith("One")
            counts.append(await coll.count_documents(operation.body["filter"],
                                                     **({"limit": 1} if single else {})))
        return counts

    counts = await scope.run(f"preview transaction {scope.namespace}", count, long=True)
    lines = []
    for operation, matches in zip(operations, counts, strict=True):
        verb = {"insertOne": "inserts", "updateOne": "updates", "updateMany": "updates",
                "replaceOne": "replaces", "deleteOne": "deletes", "deleteMany": "deletes"}[
            operation.kind]
        if matches is None:
            effect = "inserts 1 document"
        elif matches == 0:
            effect = "matches nothing" + (" (upserts 1)" if operation.body.get("upsert") else "")
        else:
            effect = f"{verb} {matches:,} document{'s' if matches != 1 else ''}"
        lines.append(PreviewLine(operation, matches, effect))
    return lines


async def apply(scope: MongoScope, operations: list[Operation]) -> Applied:
    """Every operation in one transaction, in order: committed together, or (on any error)
    aborted, leaving the collection as it was."""
    from pymongo.errors import BulkWriteError, OperationFailure

    requests = [_driver_operation(operation) for operation in operations]

    async def run(client) -> Applied:
        async with client.start_session() as session:
            async def work(session) -> Any:
                return await scope.coll(client).bulk_write(requests, ordered=True,
                                                           session=session)

            try:
                result = await session.with_transaction(work)
            except BulkWriteError as exc:
                errors = exc.details.get("writeErrors") or [{}]
                first = errors[0]
                index = int(first.get("index", 0))
                raise ServerError(
                    f"Operation {index + 1} failed ({first.get('errmsg', 'refused')}); the "
                    "transaction was aborted and nothing was written.") from None
            except OperationFailure as exc:
                raise ServerError(f"The transaction was aborted and nothing was written: "
                                  f"{exc}.") from None
        return Applied(result.inserted_count, result.matched_count, result.modified_count,
                       result.deleted_count, result.upserted_count)

    return await scope.run(f"transaction on {scope.namespace} ({len(operations)} operations)",
                           run, write=True, long=True)
