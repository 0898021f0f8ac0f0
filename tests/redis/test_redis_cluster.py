"""A three-primary Redis Cluster started by the suite: one walk covers every node, sizes are
summed, each key shows its slot and node, and edits, bulk delete, console and insight work."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from redis.asyncio.cluster import RedisCluster
from textual.widgets import Select, Static

from studio_tui.screens.redis.browser import RedisBrowserScreen
from studio_tui.screens.redis.insight import RedisInsightScreen
from studio_tui.widgets.catalog_table import CatalogTable
from studio_tui.widgets.redis.key_list import KeyList
from ui import QUIET_SETTINGS, run_command, screen_text, seed, settle, studio_app

from studio_tui.services.catalog import Catalog
from studio_tui.services.errors import ConflictError, ServerError, ValidationError
from studio_tui.services.redis.bulk import delete_matching, preview_delete
from studio_tui.services.redis.console import run_console
from studio_tui.services.redis.insight import (
    clients,
    cluster_nodes,
    database_count,
    info_sections,
    memory_stats,
    sample_memory,
    slowlog,
    vitals,
)
from studio_tui.services.redis.service import RedisService


@pytest.fixture
async def raw(redis_cluster) -> AsyncIterator[RedisCluster]:
    client = RedisCluster(host="127.0.0.1", port=redis_cluster.nodes[0].port)
    await client.flushdb(target_nodes=RedisCluster.PRIMARIES)
    yield client
    await client.flushdb(target_nodes=RedisCluster.PRIMARIES)
    await client.aclose()


@pytest.fixture
async def service(catalog: Catalog, project_id: str, manager, redis_cluster) -> RedisService:
    entry = await catalog.add_database(project_id, "cluster", redis_cluster.url)
    return RedisService(manager, entry.id)


async def _fill(raw: RedisCluster, count: int) -> None:
    for start in range(0, count, 500):
        pipe = raw.pipeline(transaction=False)
        for n in range(start, min(count, start + 500)):
            pipe.set(f"user:{n}", n)
        await pipe.execute()


async def test_a_walk_covers_every_primary_and_sizes_are_summed(raw, service, redis_cluster):
    await _fill(raw, 3000)
    await raw.hset("profile:1", mapping={"a": "1"})
    nodes_with_keys = 0
    for node in raw.get_primaries():
        nodes_with_keys += bool(await raw.dbsize(target_nodes=node))
    assert nodes_with_keys == 3
    assert await service.dbsize() == 3001
    seen = [key async for page in service.walk(count=200) for key in page.keys]
    assert len(seen) == len(set(seen)) == 3001
    hashes = [key async for page in service.walk(type_="hash") for key in page.keys]
    assert hashes == [b"profile:1"]
    matched = [key async for page in service.walk(match=b"user:1?") for key in page.keys]
    assert sorted(matched) == sorted(f"user:1{n}".encode() for n in range(10))
    slot, node = await service.key_location(b"user:1")
    assert slot == raw.keyslot("user:1") and node == raw.get_node_from_key("user:1").name
    infos = await service.key_infos([b"user:1", b"profile:1", b"user:2999"])
    assert [info.type for info in infos] == ["string", "hash", "string"]


async def test_edits_conflicts_and_bulk_delete_on_a_cluster(raw, service, edits):
    await _fill(raw, 1200)
    await raw.hset("h", mapping={"f": "1"})
    await edits.hash_set(b"h", b"f", b"2", expected=b"1")
    with pytest.raises(ConflictError):
        await edits.hash_set(b"h", b"f", b"3", expected=b"1")
    assert await raw.hget("h", "f") == b"2"
    await edits.create(b"new", "zset", value=b"m", score="1")
    assert await raw.zscore("new", "m") == 1.0
    preview = None
    async for preview in preview_delete(service, b"user:*"):
        pass
    assert preview.matched == 1200 and preview.complete
    progress = None
    async for progress in delete_matching(edits, b"user:*", batch=250):
        pass
    assert progress.deleted == 1200
    assert await service.dbsize() == 2


async def test_console_insight_and_databases_on_a_cluster(raw, service, edits):
    await raw.set("greeting", "hi")
    assert await run_console(service, "GET greeting") == [b"hi"]
    with pytest.raises(ServerError, match="unknown command"):
        await run_console(service, "NOSUCHCMD")
    assert (await run_console(service, "COMMAND INFO get nosuchcmd"))[0][1] is None
    with pytest.raises(ServerError, match="CROSSSLOT|slot"):
        await run_console(service, "SINTER a{1} b{2}")
    sections = await info_sections(service)
    assert sections["server"]["redis_mode"] == "cluster"
    assert sections["keyspace"]["db0"]["keys"] == 1 and len(sections["cluster"]) == 3
    first = sorted(raw.get_primaries(), key=lambda node: node.name)[0]
    await raw.config_set("slowlog-log-slower-than", 0, target_nodes=first)
    try:
        await raw.ping(target_nodes=first)
        assert any("PING" in entry.command.upper() for entry in await slowlog(service))
        await edits.reset_slowlog()
    finally:
        await raw.config_set("slowlog-log-slower-than", 10000, target_nodes=first)
    assert any(c["name"] == "studio-tui" for c in await clients(service))
    assert (await memory_stats(service))["total.allocated"] > 0
    assert (await vitals(service)).used_memory > 0
    assert await database_count(service) == 1
    with pytest.raises(ValidationError, match="database 0 only"):
        await service.on_db(1).dbsize()
    sample = None
    async for sample in sample_memory(service):
        pass
    assert sample.sampled == 1 and sample.top[0][1] == b"greeting"


async def test_the_browser_walks_the_cluster_and_shows_each_keys_slot(tmp_path, raw,
                                                                      redis_cluster):
    await _fill(raw, 500)
    await seed(tmp_path, {"Acme": {"shop": [("cluster", redis_cluster.url)]}})
    app = studio_app(tmp_path, QUIET_SETTINGS)
    async with app.run_test(size=(120, 40)) as pilot:
        await run_command(pilot, "open cluster")
        screen = app.screen
        assert isinstance(screen, RedisBrowserScreen)
        keys = screen.query_one(KeyList)
        assert len(keys) == 500 and len(set(keys.keys)) == 500
        status = str(screen.query_one("#status", Static).content)
        assert "scan complete over 500 keys (all primaries)" in status
        await pilot.pause(0.2)
        await settle(pilot)
        key = keys.selected_key
        shown = screen_text(app)
        assert f"Slot   {raw.keyslot(key)} on {raw.get_node_from_key(key).name}" in shown


async def test_insight_reads_any_chosen_node(raw, service, tmp_path, redis_cluster):
    nodes = await cluster_nodes(service)
    assert [role for _, role in nodes] == ["primary"] * 3
    second = nodes[1][0]
    sections = await info_sections(service, second)
    assert f"127.0.0.1:{sections['server']['tcp_port']}" == second
    assert (await vitals(service, second)).used_memory > 0
    with pytest.raises(ValidationError, match="no node"):
        await info_sections(service, "127.0.0.1:1")
    await seed(tmp_path, {"Acme": {"shop": [("cluster", redis_cluster.url)]}})
    app = studio_app(tmp_path, QUIET_SETTINGS)
    async with app.run_test(size=(120, 40)) as pilot:
        await run_command(pilot, "open cluster")
        await pilot.press("i")
        await settle(pilot)
        insight = app.screen
        assert isinstance(insight, RedisInsightScreen)
        picker = insight.query_one("#node", Select)
        assert picker.display
        picker.value = second
        await settle(pilot)
        assert insight.node == second
        info = insight.query_one("#info-table", CatalogTable)
        port = second.rsplit(":", 1)[1]
        assert port in " ".join(str(cell) for cell in info.table.get_row("server.tcp_port"))
