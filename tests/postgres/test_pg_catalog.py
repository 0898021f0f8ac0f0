"""The PostgreSQL catalog services on the real server: every object kind of the fixture schema,
read directly and through a real pg-meta, with the same result; the fallback; pg-meta's key
rules, header format and bound parameters; the number of round trips."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import replace

import pytest
import realservers

from studio_tui.services.errors import (
    AuthenticationError,
    ReadOnlyError,
    RefusedError,
    ServerError,
    StudioError,
    ValidationError,
    WrongKeyError,
)
from studio_tui.services.postgres.catalog import PostgresCatalog
from studio_tui.services.postgres.meta import MetaSource, PgMetaSettings, crypto_js_encrypt
from studio_tui.services.postgres.models import CatalogIndex, Index, is_system_schema
from studio_tui.services.postgres.source import DirectSource, open_source

ODD = 'Odd "Schema" ü'


async def _entry(catalog, project_id, url, name="pg", **kwargs):
    return await catalog.add_database(project_id, name, url, **kwargs)


@pytest.fixture
async def direct(catalog, project_id, manager, catalog_db):
    entry = await _entry(catalog, project_id, catalog_db, "direct")
    opened = await open_source(manager, entry)
    assert isinstance(opened.source, DirectSource) and not opened.note
    return PostgresCatalog(opened.source)


@pytest.fixture
async def via_meta(catalog, project_id, manager, catalog_db, pg_meta):
    entry = await _entry(catalog, project_id, catalog_db, "meta",
                         pg_meta=(pg_meta.url, pg_meta.key))
    opened = await open_source(manager, entry)
    assert isinstance(opened.source, MetaSource), opened.note
    yield PostgresCatalog(opened.source)
    await opened.source.close()


def _user_objects(index: CatalogIndex) -> dict[tuple, object]:
    return {o.key: o for o in index.names.objects if not is_system_schema(o.schema)}


async def _everything(reader: PostgresCatalog):
    names, details = await reader.everything()
    index = CatalogIndex.build(names)
    by_key = {}
    for obj in names.objects:
        detail = details.get(obj.oid)
        if detail is None or is_system_schema(obj.schema):
            continue
        # Index usage moves as the suite runs; oids are compared through names.
        detail = replace(detail, oid=0, indexes=[replace(i, scans=None) for i in detail.indexes])
        by_key[obj.key] = detail
    return index, by_key


async def test_direct_and_pg_meta_read_the_same_tree_and_details(direct, via_meta):
    direct_index, direct_details = await _everything(direct)
    meta_index, meta_details = await _everything(via_meta)
    assert set(_user_objects(direct_index)) == set(_user_objects(meta_index))
    assert {o.key for o in direct_index.names.objects} == {o.key for o in meta_index.names.objects}
    assert direct_details == meta_details
    assert direct_index.names.server_version == meta_index.names.server_version
    assert direct_index.names.database == meta_index.names.database == "catalog_fixture"
    orders = next(o for o in meta_index.names.objects if o.name == "orders")
    assert await direct.exact_sizes(direct_index.relations[
        next(o.oid for o in direct_index.names.objects if o.name == "orders")].oid) == \
        await via_meta.exact_sizes(orders.oid)


async def test_every_kind_of_the_fixture_is_in_the_tree_with_its_exact_name(direct):
    index = await direct.index()
    found = {(o.kind, o.schema, o.name) for o in index.names.objects}
    expected = {
        ("schema", "shop", "shop"), ("schema", ODD, ODD),
        ("table", "shop", "customers"), ("table", "shop", "orders"),
        ("table", "shop", "audit_log"), ("partitioned", "shop", "events"),
        ("table", "shop", "events_2025"), ("table", "shop", "events_2026"),
        ("view", "shop", "big_orders"), ("matview", "shop", "customer_totals"),
        ("foreign", "shop", "remote_rates"), ("sequence", "shop", "invoice_numbers"),
        ("function", "shop", "order_total"), ("function", "shop", "touch_placed_at"),
        ("procedure", "shop", "archive_orders"),
        ("type", "shop", "order_status"), ("type", "shop", "address"),
        ("type", "shop", "positive_amount"),
        ("policy", "shop", "own_orders"), ("policy", "shop", "insert_paid"),
        ("trigger", "shop", "orders_touch"),
        ("table", ODD, "select"), ("table", ODD, "Table With Spaces"),
        ("view", ODD, "📈 view"),
        ("extension", "public", "pg_trgm"), ("publication", "", "fixture_pub"),
        ("role", "", "fixture_reader"),
    }
    assert expected <= found
    # Partitions hang under their table, not in the schema's list of tables.
    tables = {o.name for o in index.groups[("shop", "table")]}
    assert {"events", "customers", "orders", "audit_log"} == tables
    events = next(o for o in index.groups[("shop", "table")] if o.name == "events")
    assert [p.name for p in index.partitions[events.oid]] == ["events_2025", "events_2026"]
    types = {o.name: o.extra for o in index.groups[("shop", "type")]}
    assert types == {"order_status": "enum", "address": "composite", "positive_amount": "domain"}
    extensions = {o.name: o.extra for o in index.database_objects["extension"]}
    assert extensions["pg_trgm"] and extensions.get("hstore") == ""  # installed / available
    function = next(o for o in index.groups[("shop", "function")] if o.name == "order_total")
    assert function.label == "order_total(customer bigint, since timestamp with time zone)"


async def _relation(reader: PostgresCatalog, schema: str, name: str):
    names, details = await reader.everything()
    obj = next(o for o in names.objects if o.schema == schema and o.name == name
               and o.kind in ("table", "partitioned", "view", "matview", "foreign"))
    return obj, details[obj.oid]


async def test_relation_details(direct):
    _, customers = await _relation(direct, "shop", "customers")
    columns = {c.name: c for c in customers.columns}
    assert columns["id"].identity == "always" and columns["id"].not_null
    assert columns["full_name"].generated == "((first_name || ' '::text) || last_name)"
    assert columns["full_name"].default is None
    assert columns["email"].comment == "Where receipts go"
    assert columns["created_at"].default == "now()"
    assert columns["home"].type == "shop.address"
    assert customers.comment == "People who buy things"
    assert customers.rows == 50

    _, orders = await _relation(direct, "shop", "orders")
    assert [(c.type, c.name) for c in orders.constraints] == [
        ("primary key", "orders_pkey"), ("check", "amount_cap"),
        ("foreign key", "orders_customer_id_fkey")]
    assert "REFERENCES shop.customers(id) ON DELETE CASCADE" in orders.constraints[2].definition
    assert [i.name for i in orders.indexes] == ["orders_pkey", "orders_customer_idx"]
    assert orders.indexes[0].primary and orders.indexes[0].bytes > 0
    assert orders.rls and orders.rls_forced
    own, insert = sorted(orders.policies, key=lambda p: p.name, reverse=True)
    assert (own.command, own.roles, own.permissive, own.check) == ("SELECT", ("public",), True,
                                                                   None)
    assert "current_setting('app.customer'::text, true)" in own.using
    assert (insert.command, insert.roles, insert.permissive, insert.using) == (
        "INSERT", ("postgres",), False, None)
    assert insert.check == "(status = 'paid'::shop.order_status)"
    [trigger] = orders.triggers
    assert (trigger.timing, trigger.events, trigger.level, trigger.function) == (
        "BEFORE", ("INSERT", "UPDATE"), "ROW", "shop.touch_placed_at()")
    sizes = await direct.exact_sizes(next(o.oid for o in (await direct.names()).objects
                                          if o.name == "orders"))
    assert sizes.exact and sizes.table > 0 and sizes.indexes > 0

    _, view = await _relation(direct, "shop", "big_orders")
    assert "WHERE ((amount)::numeric > (100)::numeric)" in view.definition
    _, events = await _relation(direct, "shop", "events")
    assert events.partition_key == "RANGE (at)"
    _, partition = await _relation(direct, "shop", "events_2025")
    assert partition.partition_bound == "FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')"
    _, no_key = await _relation(direct, "shop", "audit_log")
    assert no_key.constraints == [] and no_key.indexes == []
    _, odd = await _relation(direct, ODD, "select")
    assert [c.name for c in odd.columns] == ["from", "Mixed Case", 'naïve "quoted" col', "日本語"]
    assert odd.indexes == [Index("select_pkey", 'CREATE UNIQUE INDEX select_pkey ON '
                                 '"Odd ""Schema"" ü"."select" USING btree ("from")',
                                 odd.indexes[0].bytes, odd.indexes[0].scans, True, True)]


async def test_object_details(direct):
    names = await direct.names()
    by = {(o.kind, o.name): o for o in names.objects}
    function = await direct.function_detail(by[("function", "order_total")].oid)
    assert function.signature.startswith("shop.order_total(customer bigint, since timestamp with "
                                         "time zone DEFAULT '-infinity'")
    assert function.signature.endswith("RETURNS numeric") and function.language == "sql"
    assert "SELECT coalesce(sum(amount), 0) FROM shop.orders" in function.source
    trigger_function = await direct.function_detail(by[("function", "touch_placed_at")].oid)
    assert trigger_function.comment == "Keeps placed_at current"
    enum = await direct.type_detail(by[("type", "order_status")].oid)
    assert enum.labels == ("new", "paid", "shipped")
    composite = await direct.type_detail(by[("type", "address")].oid)
    assert composite.attributes == (("street", "text"), ("city", "text"),
                                    ("zip", "character varying(10)"))
    domain = await direct.type_detail(by[("type", "positive_amount")].oid)
    assert domain.base == "numeric(12,2)" and domain.constraints == ("CHECK ((VALUE > (0)::numeric))",)
    publication = await direct.publication_detail(by[("publication", "fixture_pub")].oid)
    assert publication.tables == ("shop.customers", "shop.orders")
    assert publication.actions == ("insert", "update") and not publication.all_tables
    extension = await direct.extension_detail("pg_trgm")
    assert extension.installed_version and extension.schema == "public"
    role = await direct.role_detail(by[("role", "fixture_reader")].oid)
    assert not role.login and not role.superuser


async def test_a_full_read_takes_three_round_trips(direct):
    counted: list[str] = []
    source = direct.source
    fetch = source.fetch

    async def counting(operation, sql, *params, long=False):
        counted.append(operation)
        return await fetch(operation, sql, *params, long=long)

    source.fetch = counting
    names, details = await direct.everything()
    assert counted == ["catalog names", "catalog columns", "catalog details"]
    assert len(details) > 10 and names.objects


# -- pg-meta ------------------------------------------------------------------------------------
async def test_pg_meta_binds_parameters_and_never_splices_them(via_meta):
    hostile = "'); DROP TABLE shop.orders; --"
    rows = await via_meta.source.query("SELECT $1::text AS v, $2::int AS n", [hostile, 7])
    assert rows == [{"v": hostile, "n": 7}]
    left = await via_meta.source.fetch("check", "SELECT count(*)::int AS n FROM shop.orders")
    assert left == [{"n": 200}]


async def test_pg_meta_on_a_read_only_entry_refuses_writes(catalog, project_id, manager,
                                                           catalog_db, pg_meta):
    entry = await _entry(catalog, project_id, catalog_db, "ro", read_only=True,
                         pg_meta=(pg_meta.url, pg_meta.key))
    source = MetaSource(manager, entry, PgMetaSettings.from_entry(catalog, entry))
    try:
        with pytest.raises(ServerError, match="read-only transaction"):
            await source.query("CREATE TABLE shop.should_not_exist (id int)")
        with pytest.raises(ValidationError):
            await source.query("SELECT $1::int", [1])
        assert await source.query("SELECT 1 AS one") == [{"one": 1}]
    finally:
        await source.close()


async def test_pg_meta_down_falls_back_to_direct_and_says_so(catalog, project_id, manager,
                                                             catalog_db):
    closed = f"http://127.0.0.1:{realservers.closed_port()}"
    entry = await _entry(catalog, project_id, catalog_db,
                         pg_meta=(closed, "a-long-enough-key-123"))
    opened = await open_source(manager, entry)
    assert isinstance(opened.source, DirectSource)
    assert opened.note == f"pg-meta at {closed[7:]} is down; reading the catalog directly"
    assert isinstance(opened.problem, RefusedError)
    assert (await PostgresCatalog(opened.source).names()).database == "catalog_fixture"


async def test_when_neither_answers_pg_meta_problem_is_raised(catalog, project_id, manager):
    entry = await _entry(catalog, project_id,
                         f"postgresql://postgres@127.0.0.1:{realservers.closed_port()}/x",
                         pg_meta=(f"http://127.0.0.1:{realservers.closed_port()}",
                                  "a-long-enough-key-123"))
    with pytest.raises(RefusedError, match="pg-meta"):
        await open_source(manager, entry)


async def test_a_wrong_key_is_named_and_falls_back(catalog, project_id, manager, catalog_db,
                                                   pg_meta):
    entry = await _entry(catalog, project_id, catalog_db,
                         pg_meta=(pg_meta.url, "not-the-key-of-that-pg-meta"))
    opened = await open_source(manager, entry)
    assert isinstance(opened.source, DirectSource)
    assert isinstance(opened.problem, AuthenticationError)
    assert "CRYPTO_KEY" in opened.problem.detail
    assert "not-the-key" not in str(opened.problem.to_problem())


@pytest.mark.parametrize("key", ["SAMPLE_KEY", "sample_key", "short"])
async def test_default_or_short_keys_are_refused(catalog, project_id, catalog_db, key):
    with pytest.raises(ValidationError) as refused:
        await _entry(catalog, project_id, catalog_db, pg_meta=("http://127.0.0.1:1", key))
    assert refused.value.field_errors.keys() == {"meta_key"}


async def test_pg_meta_settings_are_stored_encrypted_and_rotated(catalog, project_id, store,
                                                                 catalog_db, tmp_path):
    from studio_tui.services.catalog import Catalog
    from studio_tui.services.keys import rotate
    from studio_tui.services.vault import KeyFile, Vault

    key = "stored-key-0123456789"
    entry = await _entry(catalog, project_id, catalog_db, pg_meta=("http://meta.invalid:8080",
                                                                   key))
    rows = await store._all("SELECT meta_token FROM databases WHERE id = $1", entry.id)
    assert rows[0][0] and key not in rows[0][0] and "meta.invalid" not in rows[0][0]
    assert catalog.pg_meta(await catalog.database(entry.id)) == ("http://meta.invalid:8080", key)
    assert "meta_token" not in repr(entry) and key not in repr(entry)
    report = await rotate(store, catalog.vault, tmp_path / "key", {})
    assert report.secrets == 1
    rotated = await catalog.database(entry.id)
    with pytest.raises(WrongKeyError):
        catalog.pg_meta(rotated)  # the old key no longer opens it
    new_catalog = Catalog(store, Vault(KeyFile(tmp_path / "key").read()))
    assert new_catalog.pg_meta(rotated) == ("http://meta.invalid:8080", key)
    from studio_tui.services.platform.migrations import MIGRATIONS

    assert await store.schema_version() == MIGRATIONS[-1][0]


def _crypto_js_decrypt(token: str, passphrase: str) -> str:
    from cryptography.hazmat.primitives import padding
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    raw = base64.b64decode(token)
    assert raw[:8] == b"Salted__"
    salt, sealed = raw[8:16], raw[16:]
    derived, block = b"", b""
    while len(derived) < 48:
        block = hashlib.md5(block + passphrase.encode() + salt).digest()
        derived += block
    decryptor = Cipher(algorithms.AES(derived[:32]), modes.CBC(derived[32:48])).decryptor()
    unpadder = padding.PKCS7(128).unpadder()
    padded = decryptor.update(sealed) + decryptor.finalize()
    return (unpadder.update(padded) + unpadder.finalize()).decode()


def test_crypto_js_format_round_trips_and_salts_every_header():
    url = "postgresql://u:pässword@h:5432/d"
    one, two = crypto_js_encrypt(url, "k" * 20), crypto_js_encrypt(url, "k" * 20)
    assert one != two  # a fresh salt each time
    assert _crypto_js_decrypt(one, "k" * 20) == url
    # With a fixed salt, crypto-js 4 (kdf.OpenSSL.execute, then AES.encrypt) gives this.
    assert crypto_js_encrypt("hello", "secret", salt=bytes(8)) == \
        "U2FsdGVkX18AAAAAAAAAAFj5GBovVHzBF1W7cF9L1TU="


def test_pg_meta_settings_never_show_the_key():
    settings = PgMetaSettings.parse("http://meta.invalid:8080/", "a-secret-key-12345")
    assert settings.url == "http://meta.invalid:8080" and settings.display == "meta.invalid:8080"
    assert "a-secret-key" not in repr(settings)
    assert json.loads(settings.to_text())["key"] == "a-secret-key-12345"
    with pytest.raises(StudioError):
        PgMetaSettings.parse("ftp://meta.invalid", "a-secret-key-12345")


async def test_system_schemas_objects_are_read_only_when_asked_for(direct):
    user = await direct.names()
    assert {o.name for o in user.objects if o.kind == "schema"} >= {"pg_catalog", "shop"}
    assert not [o for o in user.objects
                if o.kind not in ("schema", "extension") and is_system_schema(o.schema)]
    everything = await direct.names(system=True)
    assert ("table", "pg_catalog", "pg_class", "") in {o.key for o in everything.objects}
    assert {o.key for o in user.objects} < {o.key for o in everything.objects}


# -- the SQL editor over pg-meta ----------------------------------------------------------------
@pytest.fixture
async def meta_session(manager, via_meta):
    from studio_tui.services.postgres.sql import SqlSession

    source = via_meta.source
    return SqlSession(manager, source.entry.id, source), SqlSession(manager, source.entry.id)


async def _actions(store) -> list[str]:
    return [a.action for a in await store.list_audit(limit=500)]


def _count_posts(source: MetaSource) -> list[str]:
    posts: list[str] = []

    async def seen(request) -> None:
        posts.append(json.loads(request.content)["query"])

    source._http().event_hooks["request"].append(seen)
    return posts


async def test_the_sql_editor_reads_over_pg_meta_as_it_does_directly(meta_session):
    over_meta, direct = meta_session
    posts = _count_posts(over_meta.source)

    async def never(results):
        raise AssertionError("a read asks nothing")

    sql = "SELECT id, status FROM shop.orders ORDER BY id LIMIT 3; SELECT 1 AS one"
    via_meta = (await over_meta.run(sql, never)).results
    via_direct = (await direct.run(sql, never)).results
    assert [(r.columns, r.rows, r.status) for r in via_meta] == \
        [(r.columns, r.rows, r.status) for r in via_direct]
    assert via_meta[0].columns == ("id", "status") and len(via_meta[0].rows) == 3
    assert len(posts) == 2 and all("READ ONLY" in p for p in posts)

    plan = await over_meta.explain("SELECT * FROM shop.orders WHERE id = 1")
    assert plan.root.node_type and not plan.analyzed
    analyzed = await over_meta.explain("SELECT count(*) FROM shop.orders", analyze=True)
    assert analyzed.analyzed and analyzed.root.actual_ms is not None
    assert len(posts) == 4 and "ANALYZE" in posts[-1]

    names = await over_meta.names()
    assert len(posts) == 5
    assert "orders" in names.relations["shop"] and "status" in names.columns[("shop", "orders")]


async def test_the_sql_editor_over_pg_meta_is_read_only_until_write_mode(meta_session, store):
    over_meta, _ = meta_session

    async def roll_back(results):
        roll_back.asked = [r.status for r in results]
        return False

    with pytest.raises(ReadOnlyError, match="write mode"):
        await over_meta.run("CREATE TABLE shop.made_over_meta (id int)", roll_back)
    await over_meta.set_write_mode(True)
    outcome = await over_meta.run("CREATE TABLE shop.made_over_meta (id int)", roll_back)
    # Written over the direct connection, asked, and rolled back: nothing is left.
    assert outcome.wrote and not outcome.committed and roll_back.asked == ["CREATE TABLE"]
    assert "run SQL" in await _actions(store)
    rows = await over_meta.source.fetch("check", "SELECT to_regclass('shop.made_over_meta') AS t")
    assert rows == [{"t": None}]


async def test_esc_over_pg_meta_cancels_the_statement_on_the_server(meta_session, catalog_db):
    import asyncio

    over_meta, _ = meta_session

    async def never(results):
        raise AssertionError("a read asks nothing")

    running = asyncio.ensure_future(over_meta.run("select pg_sleep(20.25)", never))
    for _ in range(50):  # until pg-meta's connection runs it
        seen = await realservers.postgres_sessions_running(catalog_db, "pg_sleep(20.25)",
                                                           wait=0)
        if seen:
            break
        await asyncio.sleep(0.1)
    assert seen == 1
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running
    assert await realservers.postgres_sessions_running(catalog_db, "pg_sleep(20.25)") == 0
