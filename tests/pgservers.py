"""PostgreSQL test helpers: a fresh database holding a schema (tests/postgres/
catalog_fixture.sql exercises every object kind), and a real postgres-meta (npm, installed once
into the user's cache) in front of it. The fixtures are in conftest.py; benchmarks use these too.
(A conftest.py of its own under tests/postgres/ would shadow tests/conftest.py for the modules
that import from it.)"""

from __future__ import annotations

import asyncio
import fcntl
import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import realservers

FIXTURE_SQL = Path(__file__).parent / "postgres" / "catalog_fixture.sql"
PG_META_VERSION = "0.99.0"
# A key of our own: pg-meta's default (SAMPLE_KEY) is refused by the app.
PG_META_KEY = "test-crypto-key-0123456789abcdef"


def database_url(server_url: str, database: str) -> str:
    parts = urlsplit(server_url)
    return urlunsplit(parts._replace(path=f"/{database}"))


async def _create_database(server_url: str, database: str, sql: str | None,
                           vacuum: bool) -> None:
    import asyncpg

    from studio_tui.services.postgres.identifiers import quote_ident

    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f"DROP DATABASE IF EXISTS {quote_ident(database)} WITH (FORCE)")
        await admin.execute(f"CREATE DATABASE {quote_ident(database)}")
    finally:
        await admin.close()
    if sql:
        connection = await asyncpg.connect(database_url(server_url, database))
        try:
            await connection.execute(sql)
            if vacuum:  # sizes and visibility maps settled now, not by autovacuum later
                await connection.execute("VACUUM ANALYZE")
        finally:
            await connection.close()


def create_database(server_url: str, database: str, sql: str | None = None, *,
                    vacuum: bool = False) -> str:
    """A fresh database on the server, with ``sql`` run in it; its URL."""
    asyncio.run(_create_database(server_url, database, sql, vacuum))
    return database_url(server_url, database)


# -- postgres-meta ------------------------------------------------------------------------------
class NpmMissing(RuntimeError):
    """No npm here to install postgres-meta with."""


@dataclass
class RunningPgMeta:
    url: str
    key: str
    process: subprocess.Popen
    port: int

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _pg_meta_dir() -> Path | None:
    """postgres-meta's install under the user's cache, installed once (under a lock, into a
    temporary directory renamed into place, so parallel workers never see half of it); None
    when npm is not there."""
    import platformdirs

    cache = Path(platformdirs.user_cache_dir("studio-tui"))
    target = cache / f"postgres-meta-{PG_META_VERSION}"
    server = target / "node_modules/@supabase/postgres-meta/dist/server/server.js"
    if server.exists():
        return target
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        return None
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / "postgres-meta.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if server.exists():
            return target
        staging = Path(tempfile.mkdtemp(prefix="postgres-meta-", dir=cache))
        try:
            subprocess.run([npm, "install", "--prefix", str(staging), "--no-audit", "--no-fund",
                            "--loglevel=error", f"@supabase/postgres-meta@{PG_META_VERSION}"],
                           check=True, capture_output=True, timeout=300)
            shutil.rmtree(target, ignore_errors=True)
            staging.rename(target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return target


def _port_free(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        try:
            sock.bind((realservers.HOST, port))
        except OSError:
            return False
    return True


def _pg_meta_ports() -> int:
    # pg-meta also binds an admin app on port + 1.
    for _ in range(50):
        port = realservers.free_port()
        if _port_free(port + 1):
            return port
    raise RuntimeError("no two free ports side by side")


def start_pg_meta(database_url: str, key: str = PG_META_KEY) -> RunningPgMeta:
    install = _pg_meta_dir()
    if install is None:
        raise NpmMissing("npm (Node 20) is not installed: the pg-meta tests need "
                         f"postgres-meta {PG_META_VERSION} from npm")
    port = _pg_meta_ports()
    env = {**os.environ, "PG_META_DB_URL": database_url, "PG_META_HOST": realservers.HOST,
           "PG_META_PORT": str(port), "CRYPTO_KEY": key}
    process = subprocess.Popen(
        ["node", str(install / "node_modules/@supabase/postgres-meta/dist/server/server.js")],
        env=env, cwd=install, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    meta = RunningPgMeta(f"http://{realservers.HOST}:{port}", key, process, port)
    _wait_healthy(meta)
    return meta


def _wait_healthy(meta: RunningPgMeta, timeout: float = 30) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if meta.process.poll() is not None:
            raise RuntimeError(f"postgres-meta exited with {meta.process.returncode}")
        try:
            if httpx.get(f"{meta.url}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    meta.stop()
    raise RuntimeError(f"postgres-meta did not answer /health within {timeout}s")
