"""MongoService against the real MongoDB-wire server: listings, stats, find pages (keyset paging
without duplicates or gaps, across ties, types and missing fields), counts."""

from __future__ import annotations

import random

import pytest
from bson import Decimal128, MaxKey, MinKey, ObjectId
from bson.int64 import Int64

from studio_tui.services.errors import ValidationError
from studio_tui.services.mongo.models import FindQuery
from studio_tui.services.mongo.names import check_collection_name, check_database_name


async def all_pages(service, database, collection, query, page_size):
    seen, after, pages = [], None, 0
    while True:
        page = await service.find_page(database, collection, query, after, shown=len(seen),
                                       page_size=page_size)
        seen.extend(page.documents)
        pages += 1
        if page.next is None:
            return seen, pages
        after = page.next
        assert pages < 1000


async def test_databases_collections_and_stats_without_counting(mongo_service, raw_db, mongo_db_name):
    await raw_db.people.insert_many([{"n": i} for i in range(30)])
    await raw_db.create_collection("adults", viewOn="people", pipeline=[{"$match": {"n": {"$gt": 17}}}])
    await raw_db.create_collection("metrics", timeseries={"timeField": "t"})
    names = [info.name for info in await mongo_service.databases()]
    assert mongo_db_name in names
    assert names.index(mongo_db_name) < names.index("local")  # system databases last
    kinds = {info.name: info.type for info in await mongo_service.collections(mongo_db_name)}
    assert kinds == {"people": "collection", "adults": "view", "metrics": "timeseries"}
    stats = await mongo_service.collection_stats(mongo_db_name, "people")
    assert stats.documents == 30 and stats.size and stats.average_size and stats.indexes == 1
    view = await mongo_service.collection_stats(mongo_db_name, "adults", "view")
    assert view.documents is None and "view" in view.note
    db_stats = await mongo_service.database_stats(mongo_db_name)
    assert db_stats.documents == 30 and db_stats.data_size


@pytest.mark.parametrize("sort", [None, {"k": 1}, {"k": -1}, {"k": 1, "j": -1}, {"_id": -1}])
async def test_keyset_pages_have_no_duplicates_or_gaps_with_ties(mongo_service, raw_db,
                                                                 mongo_db_name, sort):
    rng = random.Random(7)
    documents = [{"_id": i, "k": rng.randint(0, 5), "j": rng.randint(0, 2)} for i in range(237)]
    await raw_db.ties.insert_many(documents)
    query = FindQuery(sort=sort)
    seen, pages = await all_pages(mongo_service, mongo_db_name, "ties", query, 10)
    ids = [doc["_id"] for doc in seen]
    assert sorted(ids) == list(range(237)) and len(set(ids)) == 237
    expected = [d["_id"] async for d in raw_db.ties.find({}, sort=list((sort or {}).items()) +
                                                           ([("_id", 1)] if not sort or "_id" not in sort else []))]
    assert ids == expected
    assert pages == 24


async def test_keyset_paging_across_types_missing_fields_and_nulls(mongo_service, raw_db,
                                                                    mongo_db_name):
    values = [None, 1, 2.5, Int64(2), Decimal128("2.5"), "a", "b", {"x": 1}, b"\x01",
              ObjectId(), True, False, MinKey(), MaxKey(), float("nan"), -1, "a", 1]
    documents = [{"_id": i, "v": value} for i, value in enumerate(values)]
    documents += [{"_id": 100 + i} for i in range(4)]  # missing sorts with null
    await raw_db.mixed.insert_many(documents)
    for direction in (1, -1):
        query = FindQuery(sort={"v": direction})
        seen, _ = await all_pages(mongo_service, mongo_db_name, "mixed", query, 3)
        expected = [d["_id"] async for d in raw_db.mixed.find({}, sort=[("v", direction), ("_id", 1)])]
        assert [doc["_id"] for doc in seen] == expected


@pytest.mark.parametrize("sort", [None, {"_id": -1}, {"k": 1}, {"k": -1, "_id": -1}])
async def test_keyset_pages_cross_type_brackets_of_ids_and_keys(mongo_service, raw_db,
                                                               mongo_db_name, sort):
    ids = [*range(7), *(f"s{n}" for n in range(7)), *(ObjectId() for _ in range(7)),
           None, Int64(100), 2.5, {"x": 1}]
    keys = [None, 1, "a", 2.5, True, {"o": 1}]
    await raw_db.mixed_ids.insert_many([{"_id": id_, "k": keys[n % len(keys)]}
                                        for n, id_ in enumerate(ids)])
    seen, _ = await all_pages(mongo_service, mongo_db_name, "mixed_ids", FindQuery(sort=sort), 4)
    order = list((sort or {}).items())
    if not any(name == "_id" for name, _ in order):
        order.append(("_id", 1))
    expected = [d["_id"] async for d in raw_db.mixed_ids.find({}, sort=order)]
    assert [doc["_id"] for doc in seen] == expected


async def test_array_at_a_page_boundary_falls_back_to_skip(mongo_service, raw_db, mongo_db_name):
    await raw_db.arr.insert_many([{"_id": i, "v": [i, 100 - i] if i % 3 == 0 else i} for i in range(20)])
    seen, _ = await all_pages(mongo_service, mongo_db_name, "arr", FindQuery(sort={"v": 1}), 3)
    expected = [d["_id"] async for d in raw_db.arr.find({}, sort=[("v", 1), ("_id", 1)])]
    assert [doc["_id"] for doc in seen] == expected


async def test_filter_projection_skip_and_limit(mongo_service, raw_db, mongo_db_name):
    await raw_db.p.insert_many([{"_id": i, "n": i, "tag": "even" if i % 2 == 0 else "odd",
                                 "big": "x" * 10} for i in range(50)])
    query = FindQuery(filter={"tag": "even"}, projection={"tag": 1}, sort={"n": -1}, skip=2, limit=7)
    seen, _ = await all_pages(mongo_service, mongo_db_name, "p", query, 3)
    assert [doc["_id"] for doc in seen] == [44, 42, 40, 38, 36, 34, 32]
    assert all(set(doc) == {"_id", "tag"} for doc in seen)  # the sort field added for paging is gone


async def test_counts_estimated_then_exact(mongo_service, raw_db, mongo_db_name):
    await raw_db.c.insert_many([{"n": i} for i in range(40)])
    assert await mongo_service.estimated_count(mongo_db_name, "c") == 40
    count = await mongo_service.count(mongo_db_name, "c", {"n": {"$lt": 10}})
    assert count.exact and count.value == 10


def test_database_names_follow_mongodbs_rules():
    assert check_database_name("shop_2024") == "shop_2024"
    for bad, message in [("", "empty"), ("a.b", "cannot contain ."), ("a b", "space"),
                         ("x$", "$"), ("a/b", "/"), ("d" * 64, "under 64 bytes")]:
        with pytest.raises(ValidationError, match=message if message != "$" else r"\$"):
            check_database_name(bad)


def test_collection_names_follow_mongodbs_rules():
    assert check_collection_name("db", "orders.2024") == "orders.2024"
    for bad, message in [("", "empty"), ("a$b", r"\$"), ("system.x", "reserved"),
                         ("a\0b", "NUL"), ("c" * 253, "255 bytes")]:
        with pytest.raises(ValidationError, match=message):
            check_collection_name("db", bad)


async def test_natural_order_pages_with_skip(mongo_service, raw_db, mongo_db_name):
    await raw_db.nat.insert_many([{"_id": i} for i in range(25)])
    page = await mongo_service.find_page(mongo_db_name, "nat", FindQuery(sort={"$natural": 1}),
                                         page_size=10)
    assert not page.keyset and page.next.skip == 10
    seen, _ = await all_pages(mongo_service, mongo_db_name, "nat", FindQuery(sort={"$natural": 1}), 10)
    assert sorted(doc["_id"] for doc in seen) == list(range(25))


async def test_an_exact_count_is_stopped_on_the_server_at_its_limit(mongo_service, raw_db,
                                                                  mongo_db_name):
    from studio_tui.services.errors import ServerError

    await raw_db.many.insert_many([{"n": i} for i in range(30_000)])
    with pytest.raises(ServerError, match="stopped on the server"):
        await mongo_service.count(mongo_db_name, "many", {"n": {"$gte": 0}}, max_time_ms=1)


async def test_an_unsorted_view_keeps_its_own_order_and_pages_with_skip(mongo_service, raw_db,
                                                                        mongo_db_name):
    await raw_db.base.insert_many([{"_id": i, "n": 30 - i} for i in range(30)])
    await raw_db.create_collection("by_n", viewOn="base", pipeline=[{"$sort": {"n": 1}}])
    first = await mongo_service.find_page(mongo_db_name, "by_n", FindQuery(), page_size=10,
                                          own_order=True)
    assert [doc["n"] for doc in first.documents] == list(range(1, 11))  # the view's order
    assert not first.keyset and first.next.skip == 10
    seen = list(first.documents)
    after = first.next
    while after is not None:
        page = await mongo_service.find_page(mongo_db_name, "by_n", FindQuery(), after,
                                             shown=len(seen), page_size=10, own_order=True)
        seen.extend(page.documents)
        after = page.next
    assert [doc["n"] for doc in seen] == list(range(1, 31))
