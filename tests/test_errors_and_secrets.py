"""Errors are precise and never carry a password: masking, scrubbing, and real failing connects."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from urllib.parse import quote

import asyncpg
import pytest
from hypothesis import given
from hypothesis import strategies as st

import realservers
from conftest import PG_PASSWORD, REDIS_PASSWORD, FakeClock
from studio_tui.logs import configure_logging
from studio_tui.services.catalog import Catalog
from studio_tui.services.errors import (
    AuthenticationError,
    ConflictError,
    DnsError,
    OperationTimeoutError,
    ReadOnlyError,
    RefusedError,
    StudioError,
    ValidationError,
)
from studio_tui.services.manager import ConnectionManager
from studio_tui.services.redis.edits import RedisEdits
from studio_tui.services.redis.service import RedisService
from studio_tui.services.redaction import mask_url, scrub_text
from studio_tui.services.kinds import DatabaseKind
from studio_tui.services.urls import parse_connection_url


@pytest.mark.parametrize("url, masked", [
    ("redis://:hunter2@cache:6379/0", "redis://:****@cache:6379/0"),
    ("postgresql://app:p%40ss@db:5432/shop?sslmode=require",
     "postgresql://app:****@db:5432/shop?sslmode=require"),
    ("mongodb://root:tr0ub4dor@a:1,b:2/?replicaSet=rs", "mongodb://root:****@a:1,b:2/?replicaSet=rs"),
    ("postgresql://db/shop?password=hunter2&user=x", "postgresql://db/shop?password=****&user=x"),
    ("redis://cache:6379", "redis://cache:6379"),
    ("unix:///run/redis.sock?db=2&password=pw", "unix:///run/redis.sock?db=2&password=****"),
])
def test_mask_url(url: str, masked: str):
    assert mask_url(url) == masked


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=3, max_size=30))
def test_no_password_survives_masking_or_scrubbing(password: str):
    encoded = quote(password, safe="")
    url = f"postgresql://app:{encoded}@db:5432/shop"
    masked = mask_url(url)
    assert masked == "postgresql://app:****@db:5432/shop"
    message = f"could not connect to {url}; password {password} was rejected"
    scrubbed = scrub_text(message, [password])
    assert password not in scrubbed


@pytest.mark.parametrize("url, field_message", [
    ("", "required"),
    ("localhost:6379", "missing scheme"),
    ("mysql://x@y/z", "unknown scheme mysql://"),
    ("redis://:6379", "missing host"),
    ("postgresql://u:p@db:99999/x", "Port out of range"),
    ("unix://", "missing socket path"),
])
def test_bad_urls_get_a_field_error(url: str, field_message: str):
    with pytest.raises(ValidationError) as caught:
        parse_connection_url(url)
    assert field_message.lower() in caught.value.field_errors["url"].lower()
    assert "p@db" not in str(caught.value)


@pytest.mark.parametrize("url, kind", [
    ("redis://h", DatabaseKind.REDIS), ("rediss://h:6380", DatabaseKind.REDIS),
    ("unix:///run/redis.sock", DatabaseKind.REDIS), ("mongodb+srv://c.example.com/x",
                                                      DatabaseKind.MONGODB),
    ("postgres://h/db", DatabaseKind.POSTGRES), ("postgresql://h/db?sslmode=verify-full",
                                                 DatabaseKind.POSTGRES),
])
def test_kind_is_detected_from_the_scheme(url: str, kind: DatabaseKind):
    assert parse_connection_url(url).kind is kind


def test_problem_details_shape():
    error = ValidationError("bad port", field_errors={"port": "1–65535"}, retry_after=2.5,
                            database="orders")
    assert error.to_problem() == {
        "type": "https://studio-tui.dev/problems/validation-error", "title": "Invalid input",
        "status": 400, "detail": "bad port", "code": "VALIDATION_ERROR", "database": "orders",
        "field_errors": [{"field": "port", "message": "1–65535"}], "retry_after": 2.5,
    }


def _assert_secret_free(error: StudioError, *secrets: str) -> None:
    texts = [str(error), repr(error), json.dumps(error.to_problem()), error.detail]
    for secret in secrets:
        for text in texts:
            assert secret not in text, text


@pytest.fixture
def log_file(tmp_path: Path):
    path = tmp_path / "log" / "studio-tui.log"
    configure_logging(path, "DEBUG")
    yield path
    logging.getLogger().handlers.clear()


async def test_wrong_postgres_password_is_an_auth_error_without_the_password(
        catalog: Catalog, project_id, manager, postgres_server, log_file: Path):
    wrong = "Wr0ng-Pa55word-xyz"
    url = postgres_server.url.replace(quote(PG_PASSWORD, safe=""), wrong).replace(PG_PASSWORD, wrong)
    entry = await catalog.add_database(project_id, "orders", url)
    with pytest.raises(AuthenticationError) as caught:
        await manager.run(entry.id, "select", lambda c: c.fetchval("SELECT 1"))
    logging.getLogger("test").error("failed: %s while using %s", caught.value, url)
    _assert_secret_free(caught.value, wrong)
    assert entry.masked_url.count("****") == 1
    assert wrong not in log_file.read_text()
    assert "****" in log_file.read_text()


async def test_wrong_redis_password_is_an_auth_error_without_the_password(
        catalog: Catalog, project_id, manager, redis_auth_server):
    wrong = "Not-The-" + REDIS_PASSWORD
    url = redis_auth_server.url.replace(REDIS_PASSWORD, wrong)
    entry = await catalog.add_database(project_id, "cache", url)
    with pytest.raises(AuthenticationError) as caught:
        await manager.run(entry.id, "ping", lambda r: r.ping())
    _assert_secret_free(caught.value, wrong)


async def test_right_redis_password_connects(catalog: Catalog, project_id, manager,
                                             redis_auth_server):
    entry = await catalog.add_database(project_id, "cache", redis_auth_server.url)
    assert (await manager.check(entry.id)).status == "up"


async def test_unknown_host_is_a_dns_error(catalog: Catalog, project_id, manager):
    entry = await catalog.add_database(project_id, "cache",
                                       "redis://:s3cret-dns@nonexistent-host.invalid:6379/0")
    with pytest.raises(DnsError) as caught:
        await manager.run(entry.id, "ping", lambda r: r.ping())
    assert "nonexistent-host.invalid" in str(caught.value)
    _assert_secret_free(caught.value, "s3cret-dns")


@pytest.mark.parametrize("template", [
    "postgresql://app:s3cret-refused@127.0.0.1:{port}/db",
    "mongodb://app:s3cret-refused@127.0.0.1:{port}/?directConnection=true",
])
async def test_refused_connections_say_so_without_the_password(catalog: Catalog, project_id,
                                                               manager, template: str):
    url = template.format(port=realservers.closed_port())
    entry = await catalog.add_database(project_id, "target", url)
    started = time.perf_counter()
    with pytest.raises(RefusedError) as caught:
        await manager.run(entry.id, "ping", lambda handle: manager_ping(handle))
    # At once, not after the driver's server-selection timeout (seconds, for pymongo).
    assert time.perf_counter() - started < 1.0
    _assert_secret_free(caught.value, "s3cret-refused")


async def test_an_unknown_mongodb_host_is_a_dns_error_at_once(catalog: Catalog, project_id,
                                                              manager):
    entry = await catalog.add_database(project_id, "docs",
                                       "mongodb://app:s3cret-dns@nonexistent-host.invalid:27017/")
    started = time.perf_counter()
    with pytest.raises(DnsError) as caught:
        await manager.run(entry.id, "ping", lambda client: client.admin.command("ping"))
    assert time.perf_counter() - started < 1.0
    _assert_secret_free(caught.value, "s3cret-dns")


async def manager_ping(handle):
    if isinstance(handle, asyncpg.Connection):
        return await handle.fetchval("SELECT 1")
    return await handle.admin.command("ping")


@given(st.text(min_size=1, max_size=30).filter(lambda s: "\x00" not in s))
def test_password_splits_out_of_a_url_and_back(password: str):
    from studio_tui.services.urls import split_password, with_password

    for base in ("postgresql://app@db:5432/shop?sslmode=require", "redis://cache:6379/0",
                 "mongodb://root@a:1,b:2/?replicaSet=rs"):
        full = with_password(base, password)
        bare, found = split_password(full)
        assert found == password
        assert bare == base
        assert parse_connection_url(full).masked_url.count("****") == 1


async def test_the_log_tells_what_happened_and_never_a_secret(catalog: Catalog, project_id,
                                                              redis_auth_server, log_file: Path):
    url = realservers.redis_db_url(redis_auth_server.url, 9)
    wrong = "Wr0ng-" + REDIS_PASSWORD
    port = realservers.closed_port()
    cache = await catalog.add_database(project_id, "cache", url)
    frozen = await catalog.add_database(project_id, "frozen", url, read_only=True)
    stranger = await catalog.add_database(project_id, "stranger", url.replace(REDIS_PASSWORD,
                                                                              wrong))
    shaky = await catalog.add_database(project_id, "shaky",
                                       f"redis://:s3cret-shaky@127.0.0.1:{port}/0")
    clock = FakeClock()
    async with ConnectionManager(catalog, clock=clock) as manager:
        edits = RedisEdits(RedisService(manager, cache.id))
        await edits.run("MSET", lambda r: r.mset({"log:a": 1, "log:b": 2}))
        with pytest.raises(ConflictError):
            await edits.rename(b"log:a", b"log:b")
        with pytest.raises(OperationTimeoutError):
            await manager.run(cache.id, "BLPOP", lambda r: r.blpop(["log:none"], 1.5))
        await edits.run("DEL", lambda r: r.delete("log:a", "log:b"))
        with pytest.raises(ReadOnlyError):
            await manager.run(frozen.id, "SET", lambda r: r.set("k", "v"), write=True)
        with pytest.raises(AuthenticationError):
            await manager.run(stranger.id, "PING", lambda r: r.ping())
        for _ in range(10):
            with pytest.raises(RefusedError):
                await manager.run(shaky.id, "PING", lambda r: r.ping())
        server = realservers.start_redis(port=port, password="s3cret-shaky")
        try:
            clock.advance(15)
            await manager.run(shaky.id, "PING", lambda r: r.ping())
        finally:
            server.stop()
    logged = log_file.read_text()
    for line in ("opened the pool of cache (redis at 127.0.0.1:", "cache: RENAME refused: CONFLICT",
                 "cache: BLPOP failed: TIMEOUT cache did not answer within 1s",
                 "frozen: SET refused: READ_ONLY", "stranger: PING refused: AUTH_FAILED",
                 "shaky: PING failed: CONNECTION_REFUSED",
                 "breaker of shaky opened: 10 of 10 calls failed within 10s",
                 "breaker of shaky half-open", "breaker of shaky closed",
                 "closed the pool of cache"):
        assert line in logged, line
    for secret in (REDIS_PASSWORD, wrong, "s3cret-shaky", "redis://"):
        assert secret not in logged, secret


async def test_crashes_are_logged_with_their_traceback_and_no_secret(tmp_path: Path,
                                                                      log_file: Path):
    from ui import settle, studio_app

    async def broken_worker() -> None:
        raise TypeError("'NoneType' object is not subscriptable")

    def broken_handler() -> None:
        raise RuntimeError("cannot reach redis://:tr0ub4dor@cache.example:6379/0")

    app = studio_app(tmp_path)
    with pytest.raises(RuntimeError):
        async with app.run_test() as pilot:
            await settle(pilot)
            app.screen.run_worker(broken_worker(), name="broken", exit_on_error=False)
            await pilot.pause(0.1)
            app.call_later(broken_handler)
            await pilot.pause(0.1)
    logged = log_file.read_text()
    assert "ERROR studio_tui.crash: worker broken" in logged
    assert "crashed: TypeError" in logged and "in broken_worker" in logged
    assert "CRITICAL studio_tui.crash: unhandled RuntimeError" in logged
    assert "in broken_handler" in logged and "redis://:****@cache.example" in logged
    assert "tr0ub4dor" not in logged
