"""The MongoDB tool services against the real MongoDB-wire server: server view, indexes,
schema sample, explain, aggregation, transactions; and every write refused on a read-only
entry (and audited as denied)."""

from __future__ import annotations

import datetime as dt

import pytest
from bson import Int64

from mongo_tool_fixtures import audit_outcomes, readonly_scope, scope  # noqa: F401
from studio_tui.services.errors import NotFoundError, ReadOnlyError, ValidationError
from studio_tui.services.mongo import aggregation, explain, indexes, schema, server, transaction
from studio_tui.services.mongo.models import FindQuery
from studio_tui.services.mongo.query import parse_query


async def _fill(raw_db, count: int = 60) -> None:
    await raw_db.items.insert_many([
        {"n": i, "kind": "odd" if i % 2 else "even", "tags": ["a", "b"][: i % 3],
         "meta": {"score": Int64(i * 10), "at": dt.datetime(2024, 1, 1 + i % 28, tzinfo=dt.timezone.utc)},
         **({"lines": [{"sku": f"s{i}"}]} if i % 4 == 0 else {}),
         **({"odd.name": 1, "$price": 2} if i == 0 else {})}
        for i in range(count)])


# -- server view ------------------------------------------------------------------------------
async def test_topology_vitals_members_and_operations(scope):
    found = await server.topology(scope)
    assert found.kind == "replica set" and found.set_name and found.supports_transactions
    first = await server.vitals(scope)
    second = await server.vitals(scope)
    assert second.counters["command"] > first.counters["command"] >= 1
    assert second.ops_per_second(first) > 0 and first.ops_per_second(None) == 0
    assert second.rates(first)["command"] > 0 and set(second.rates(first)) == set(server.OPCOUNTERS)
    assert second.connections_current >= 1
    listed = await server.members(scope)
    assert [m.state for m in listed.members] == ["PRIMARY"] and listed.members[0].is_self
    ops = await server.current_ops(scope, include_idle=True)
    # The listing itself is left out; what is listed has ids to kill it by.
    assert all(op.killable for op in ops.ops)
    assert not any("currentOp" in op.command for op in ops.ops)
    assert ops.source in ("$currentOp", "currentOp")


async def test_kill_op_answers_and_needs_an_id(scope):
    answer = await server.kill_op(scope, 987654)
    assert answer  # the server's own words ("no operation with that opid" here)
    with pytest.raises(ValidationError):
        await server.kill_op(scope, None)


# -- indexes ----------------------------------------------------------------------------------
async def test_indexes_list_options_sizes_and_usage(scope, raw_db):
    await _fill(raw_db)
    await raw_db.items.create_index([("n", 1)], unique=True, name="n_unique")
    await raw_db.items.create_index([("meta.at", 1)], expireAfterSeconds=3600)
    await raw_db.items.create_index([("kind", 1), ("n", -1)], sparse=True,
                                    partialFilterExpression={"n": {"$gt": 5}})
    listing = await indexes.list_indexes(scope)
    by_name = {i.name: i for i in listing.indexes}
    assert set(by_name) == {"_id_", "n_unique", "meta.at_1", "kind_1_n_-1"}
    assert by_name["n_unique"].unique and by_name["n_unique"].keys_text == "n: 1"
    assert by_name["meta.at_1"].ttl_seconds == 3600 and "TTL 3600s" in by_name["meta.at_1"].options_text
    partial = by_name["kind_1_n_-1"]
    assert partial.sparse and '"$gt": 5' in partial.partial_filter
    assert partial.keys == (("kind", 1), ("n", -1))
    assert all(i.size_bytes is not None for i in listing.indexes)
    assert listing.usage_note == "" and by_name["_id_"].ops is not None


async def test_index_create_and_drop(scope, raw_db):
    await _fill(raw_db, 5)
    spec = indexes.IndexSpec(keys=indexes.check_keys(parse_query("{kind: 1, 'meta.score': -1}")),
                             name="by_kind", unique=False,
                             partial_filter=parse_query("{n: {$gte: 2}}"),
                             collation_locale="en")
    assert await indexes.create_index(scope, spec) == "by_kind"
    info = (await raw_db.items.index_information())["by_kind"]
    assert info["key"] == [("kind", 1), ("meta.score", -1)]
    assert info["partialFilterExpression"] == {"n": {"$gte": 2}}
    ttl = indexes.IndexSpec(keys=[("meta.at", 1)], ttl_seconds=indexes.parse_ttl("60"))
    assert await indexes.create_index(scope, ttl) == "meta.at_1"
    await indexes.drop_index(scope, "by_kind")
    assert "by_kind" not in await raw_db.items.index_information()
    with pytest.raises(NotFoundError):
        await indexes.drop_index(scope, "by_kind")
    with pytest.raises(ValidationError):
        await indexes.drop_index(scope, "_id_")


def test_index_keys_and_ttl_are_checked():
    with pytest.raises(ValidationError):
        indexes.check_keys({})
    with pytest.raises(ValidationError):
        indexes.check_keys({"a": 2})
    assert indexes.check_keys({"a": 1.0, "b": "text"}) == [("a", 1), ("b", "text")]
    with pytest.raises(ValidationError):
        indexes.parse_ttl("soon")
    assert indexes.parse_ttl(" ") is None


# -- schema -----------------------------------------------------------------------------------
async def test_schema_sample_paths_types_and_shares(scope, raw_db):
    await _fill(raw_db, 40)
    await raw_db.items.insert_one({"n": "forty", "kind": None})
    sample = await schema.sample_schema(scope, 1000)
    assert sample.sampled == 41
    fields = {f.path: f for f in sample.fields}
    assert fields[("n",)].types == {"Int32": 40, "String": 1}
    assert fields[("meta", "score")].types == {"Int64": 40}
    assert fields[("meta", "at")].types == {"Date": 40}
    assert fields[("lines", "sku")].count == 10  # documents whose array holds {sku}
    assert round(sample.share(fields[("lines",)]), 2) == round(10 / 41, 2)
    assert fields[("odd.name",)].display == '["odd.name"]'
    assert [p for p in fields if p[0] == "meta"] == [("meta",), ("meta", "at"), ("meta", "score")]


async def test_exists_filters_find_the_documents_having_the_path(scope, raw_db):
    await _fill(raw_db, 8)
    plain = schema.exists_filter(("lines", "sku"))
    assert plain == '{"lines.sku": {"$exists": true}}'
    assert await raw_db.items.count_documents(parse_query(plain)) == 2
    dotted = schema.exists_filter(("odd.name",))
    assert "$objectToArray" in dotted
    assert await raw_db.items.count_documents(parse_query(dotted)) == 1
    dollar = schema.exists_filter(("$price",))
    assert await raw_db.items.count_documents(parse_query(dollar)) == 1


async def test_schema_sample_size_is_checked(scope):
    with pytest.raises(ValidationError):
        await schema.sample_schema(scope, 0)


# -- explain ----------------------------------------------------------------------------------
async def test_explain_find_with_and_without_an_index(scope, raw_db):
    await _fill(raw_db)
    scan = await explain.explain_find(scope, FindQuery(filter={"kind": "odd"}))
    assert scan.collection_scan and scan.returned == 30 and scan.docs_examined == 60
    assert "Collection scan" in scan.verdict
    assert any(node.costly for _, node in scan.root.walk())
    await raw_db.items.create_index([("n", 1)], name="by_n")
    used = await explain.explain_find(scope, FindQuery(filter={"n": {"$gte": 50}},
                                                       sort={"kind": 1}))
    stages = [node.stage for _, node in used.root.walk()]
    assert "IXSCAN" in stages and "SORT" in stages and not used.collection_scan
    assert used.indexes == ["by_n"] and used.returned == 10 and used.keys_examined == 10
    assert "by_n" in explain.plan_text(used)


async def test_explain_aggregate_reads_the_stages(scope, raw_db):
    await _fill(raw_db)
    report = await explain.explain_aggregate(scope, [{"$match": {"n": {"$gt": 3}}},
                                                     {"$group": {"_id": "$kind", "c": {"$sum": 1}}}])
    names = [node.stage for _, node in report.root.walk()]
    assert names[0] == "$group" and "COLLSCAN" in names
    writes = await explain.explain_aggregate(scope, [{"$out": "elsewhere"}])
    assert any("not run" in note for note in writes.notes)
    assert "elsewhere" not in await raw_db.list_collection_names()


def test_explain_reads_sbe_and_sharded_shapes():
    sbe = {"explainVersion": "2", "queryPlanner": {"winningPlan": {
        "queryPlan": {"stage": "FETCH", "inputStage": {"stage": "IXSCAN", "indexName": "a_1",
                                                      "keyPattern": {"a": 1}}},
        "slotBasedPlan": {"stages": "..."}}},
        "executionStats": {"nReturned": 3, "totalKeysExamined": 3, "totalDocsExamined": 3,
                           "executionTimeMillis": 1, "executionStages": {"stage": "nlj"}}}
    report = explain.read_explain(sbe, "find")
    assert report.engine == "sbe" and report.indexes == ["a_1"] and report.returned == 3
    sharded = {"queryPlanner": {"winningPlan": {"stage": "SHARD_MERGE", "shards": [
        {"shardName": "s0", "winningPlan": {"stage": "COLLSCAN"}},
        {"shardName": "s1", "winningPlan": {"queryPlan": {"stage": "IXSCAN", "indexName": "b_1"}}}]}},
        "executionStats": {"nReturned": 5, "totalDocsExamined": 9, "executionStages": {
            "stage": "SHARD_MERGE", "shards": [
                {"shardName": "s0", "executionStages": {"stage": "COLLSCAN", "nReturned": 2,
                                                        "docsExamined": 9}},
                {"shardName": "s1", "executionStages": {"stage": "IXSCAN", "nReturned": 3,
                                                        "keysExamined": 3}}]}}}
    report = explain.read_explain(sharded, "find")
    text = explain.plan_text(report)
    assert "shard s0" in text and "shard s1" in text and report.collection_scan
    costly = [node for _, node in report.root.walk() if node.costly]
    assert [node.stage for node in costly] == ["COLLSCAN"]
    per_shard_agg = {"shards": {"s0": {"stages": [
        {"$cursor": {"queryPlanner": {"winningPlan": {"stage": "COLLSCAN"}},
                     "executionStats": {"nReturned": 4, "totalDocsExamined": 4}}},
        {"$group": {"_id": "$a"}, "nReturned": 2, "executionTimeMillisEstimate": 7}]}}}
    report = explain.read_explain(per_shard_agg, "aggregate")
    assert report.root.stage.startswith("SHARDS") and report.docs_examined == 4
    assert [n.stage for n in report.root.walk() if False] == []
    assert [node.stage for _, node in report.root.walk() if node.costly] == ["$group"]
    assert explain.read_explain({"ok": 1}, "find").root is None


# -- aggregation ------------------------------------------------------------------------------
async def test_aggregation_previews_each_stage_and_runs_the_pipeline(scope, raw_db):
    await _fill(raw_db)
    pipeline = aggregation.Pipeline([
        aggregation.Stage("{$match: {kind: 'odd'}}"),
        aggregation.Stage("{$sort: {n: -1}}"),
        aggregation.Stage("{$limit: 1000}", enabled=False),
        aggregation.Stage("{$project: {_id: 0, n: 1}}"),
    ])
    first = await aggregation.preview(scope, pipeline, upto=0, limit=5)
    assert len(first.documents) == 5 and first.more and all(d["kind"] == "odd" for d in first.documents)
    result = await aggregation.run_pipeline(scope, pipeline, limit=3)
    assert result.documents == [{"n": 59}, {"n": 57}, {"n": 55}] and result.more
    assert result.stages == 3 and not result.wrote
    pipeline.stages[0].text = "{$match: {kind: }"
    with pytest.raises(ValidationError, match="stage 1"):
        await aggregation.run_pipeline(scope, pipeline)


async def test_aggregation_out_writes_and_is_refused_on_read_only(scope, readonly_scope, raw_db,
                                                                  catalog):
    await _fill(raw_db, 10)
    pipeline = aggregation.Pipeline([aggregation.Stage("{$match: {kind: 'even'}}"),
                                     aggregation.Stage("{$out: 'evens'}")])
    preview = await aggregation.preview(scope, pipeline)
    assert len(preview.documents) == 5 and "evens" not in await raw_db.list_collection_names()
    with pytest.raises(ReadOnlyError):
        await aggregation.run_pipeline(readonly_scope, pipeline)
    merge = aggregation.Pipeline([aggregation.Stage("{$merge: {into: 'merged'}}")])
    with pytest.raises(ReadOnlyError):
        await aggregation.run_pipeline(readonly_scope, merge)
    assert "evens" not in await raw_db.list_collection_names()
    assert (await aggregation.run_pipeline(scope, pipeline)).wrote
    assert await raw_db.evens.count_documents({}) == 5
    assert "denied" in await audit_outcomes(catalog, "aggregate")
    misplaced = aggregation.Pipeline([aggregation.Stage("{$out: 'x'}"),
                                      aggregation.Stage("{$match: {}}")])
    with pytest.raises(ValidationError, match="last stage"):
        await aggregation.run_pipeline(scope, misplaced)


def test_pipelines_are_saved_and_loaded_per_collection(tmp_path):
    store = aggregation.PipelineStore(tmp_path, "entry-1", "shop", "orders/2024")
    other = aggregation.PipelineStore(tmp_path, "entry-1", "shop", "users")
    pipeline = aggregation.Pipeline([aggregation.Stage("{$match: {a: 1}}", enabled=False)])
    store.save("by a", pipeline)
    assert store.names() == ["by a"] and other.names() == []
    loaded = store.load("by a")
    assert loaded.stages[0].text == "{$match: {a: 1}}" and not loaded.stages[0].enabled
    assert loaded.stages[0].operator == "$match"
    store.delete("by a")
    with pytest.raises(NotFoundError):
        store.load("by a")
    with pytest.raises(ValidationError):
        store.save(" ", pipeline)


# -- transactions -----------------------------------------------------------------------------
BATCH = """[
  {insertOne: {document: {_id: 1000, n: 1000, kind: 'new'}}},
  {updateMany: {filter: {kind: 'odd'}, update: {$set: {seen: true}}}},
  {deleteOne: {filter: {n: 2}}},
  {replaceOne: {filter: {n: 4}, replacement: {n: 4, replaced: true}}},
  {deleteMany: {filter: {n: {$gte: 500, $lt: 900}}}}
]"""


async def test_transaction_preview_then_all_applied(scope, raw_db):
    await _fill(raw_db, 10)
    operations = transaction.parse_batch(BATCH)
    await transaction.check_support(scope)
    lines = await transaction.preview(scope, operations)
    assert [line.effect for line in lines] == [
        "inserts 1 document", "updates 5 documents", "deletes 1 document",
        "replaces 1 document", "matches nothing"]
    applied = await transaction.apply(scope, operations)
    assert (applied.inserted, applied.modified, applied.deleted) == (1, 6, 1)
    assert await raw_db.items.count_documents({"seen": True}) == 5
    assert await raw_db.items.find_one({"n": 4}, {"_id": 0}) == {"n": 4, "replaced": True}


async def test_a_failing_transaction_writes_nothing(scope, raw_db):
    await _fill(raw_db, 3)
    operations = transaction.parse_batch("""[
      {deleteMany: {filter: {}}},
      {insertOne: {document: {_id: 7}}},
      {insertOne: {document: {_id: 7}}}]""")
    with pytest.raises(Exception, match="aborted"):
        await transaction.apply(scope, operations)
    assert await raw_db.items.count_documents({}) == 3


def test_transaction_batches_are_checked():
    for text, message in (("{}", "list of operations"), ("[{dropDatabase: {}}]", "not one of"),
                          ("[{updateOne: {filter: {}}}]", "needs update"),
                          ("[{updateOne: {filter: {}, update: {a: 1}}}]", "operators"),
                          ("[{replaceOne: {filter: {}, replacement: {$set: {a: 1}}}}]", "no \\$"),
                          ("[{deleteOne: {filter: {}, bogus: 1}}]", "unknown field"),
                          ("[{insertOne: ", "operations")):
        with pytest.raises(ValidationError, match=message):
            transaction.parse_batch(text)


async def test_read_only_entries_refuse_every_tool_write(readonly_scope, raw_db, catalog):
    await _fill(raw_db, 3)
    with pytest.raises(ReadOnlyError):
        await indexes.create_index(readonly_scope, indexes.IndexSpec(keys=[("n", 1)]))
    with pytest.raises(ReadOnlyError):
        await indexes.drop_index(readonly_scope, "n_1")
    with pytest.raises(ReadOnlyError):
        await server.kill_op(readonly_scope, 12345)
    with pytest.raises(ReadOnlyError):
        await transaction.apply(readonly_scope, transaction.parse_batch(
            "[{deleteMany: {filter: {}}}]"))
    assert await raw_db.items.count_documents({}) == 3
    assert len(await raw_db.items.index_information()) == 1
    for operation in ("createIndex", "dropIndex", "killOp", "transaction"):
        assert await audit_outcomes(catalog, operation) == ["denied"], operation
    # Reading is still allowed.
    assert (await indexes.list_indexes(readonly_scope)).indexes


def test_explain_figures_find_their_stage_when_the_trees_differ():
    # The test server leaves the SORT out of its execution stages; mongod's classic engine
    # mirrors the plan. Either way the numbers land on the stage they belong to.
    reply = {"queryPlanner": {"winningPlan": {
        "stage": "SORT", "sortPattern": {"b": 1}, "inputStage": {
            "stage": "FETCH", "inputStage": {"stage": "IXSCAN", "indexName": "a_1"}}}},
        "executionStats": {"nReturned": 49, "totalKeysExamined": 49, "totalDocsExamined": 49,
                           "executionStages": {"stage": "FETCH", "nReturned": 49, "inputStage": {
                               "stage": "IXSCAN", "nReturned": 49, "keysExamined": 49}}}}
    report = explain.read_explain(reply, "find")
    nodes = {node.stage: node for _, node in report.root.walk()}
    assert nodes["SORT"].returned is None and nodes["FETCH"].returned == 49
    assert nodes["IXSCAN"].keys_examined == 49 and nodes["IXSCAN"].costly


def test_transactions_need_a_replica_set_or_mongos_with_sessions():
    assert not server.Topology("standalone", session_timeout_minutes=30).supports_transactions
    assert not server.Topology("replica set", set_name="rs").supports_transactions  # no sessions
    assert server.Topology("replica set", set_name="rs",
                           session_timeout_minutes=30).supports_transactions
    assert server.Topology("mongos", session_timeout_minutes=30).supports_transactions
    assert server.Topology("mongos").label == "mongos"


async def test_a_collection_scan_returning_everything_is_not_called_wasteful(scope, raw_db):
    await _fill(raw_db, 10)
    everything = await explain.explain_find(scope, FindQuery())
    assert everything.collection_scan and not everything.wasteful
    assert "would not save reads" in everything.verdict
    some = await explain.explain_find(scope, FindQuery(filter={"n": 3}))
    assert some.collection_scan and some.wasteful
