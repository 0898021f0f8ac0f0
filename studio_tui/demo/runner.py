"""`studio-tui demo`: start the three servers in one temp dir (in parallel), load the shop, register
it in a throwaway catalog, run the app (or serve it to a browser), then stop and delete it all."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from studio_tui.demo import seed, servers
from studio_tui.demo.servers import RunningServer
from studio_tui.services.errors import StudioError

ORGANIZATION, PROJECT = "Demo", "Shop"
REDIS_ENTRY, MONGO_ENTRY, POSTGRES_ENTRY = "shop-cache", "shop-orders", "shop-db"
# The same database through a read-only entry: every write is refused, by the service.
READ_ONLY_ENTRY = "shop-reporting"
# What the demo's app must not take from the user's environment: a team catalog, their key.
# (Database URLs there are not imported either: the demo's catalog had its first run already.)
FOREIGN_ENV = ("STUDIO_PLATFORM_URL", "STUDIO_TUI_KEY", "STUDIO_TUI_NEW_KEY")


def say(message: str) -> None:
    try:
        print(f"studio-tui demo: {message}", file=sys.stderr, flush=True)
    except OSError:  # the terminal is gone
        pass


@dataclass(frozen=True)
class DemoUrls:
    redis: str
    mongo: str
    postgres: str  # the shop database


class Stopped(KeyboardInterrupt):
    """SIGTERM: unwinds like a ctrl+c, so every ``finally`` runs and the app restores the
    terminal. (A KeyboardInterrupt, because asyncio lets only that and SystemExit out of a task:
    any other exception raised in the app's event loop would end one task and leave the app
    running.)"""


def _start_watchdog(base: Path, keep: bool) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "studio_tui.demo.watchdog", str(base),
         *(["--keep"] if keep else [])],
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True)


def _timed(what: str, step: Callable[[], object]) -> object:
    started = time.monotonic()
    result = step()
    say(f"{what} in {time.monotonic() - started:.2f} s")
    return result


def start_and_seed(base: Path, running: list[RunningServer]) -> DemoUrls:
    """The three servers, each started and loaded in a thread of its own; ``running`` gets each
    as soon as it runs, so the caller stops it even when another one fails."""

    def redis() -> str:
        server = _timed("Redis started", lambda: servers.start_redis(parent=base,
                                                                      die_with_parent=True))
        running.append(server)
        counts = _timed("Redis loaded", lambda: seed.seed_redis(server.url))
        say(f"Redis: {counts['keys']} keys under shop:, {counts['stream entries']} stream "
            "entries")
        return server.url

    def mongo() -> str:
        server = _timed("MongoDB (SecantusDB) started",
                        lambda: servers.start_mongo(parent=base, die_with_parent=True))
        running.append(server)
        counts = _timed("MongoDB loaded", lambda: seed.seed_mongo(server.url))
        say("MongoDB: shop." + ", shop.".join(f"{name} {count}" for name, count in counts.items()))
        return server.url

    def postgres() -> str:
        server = _timed("PostgreSQL started",
                        lambda: servers.start_postgres(parent=base, die_with_parent=True))
        running.append(server)
        counts = _timed("PostgreSQL loaded", lambda: seed.seed_postgres(server.url))
        say("PostgreSQL: " + ", ".join(f"shop.{name} {count}" for name, count in counts.items()))
        return seed.postgres_database_url(server.url)

    with ThreadPoolExecutor(max_workers=3, thread_name_prefix="demo-server") as pool:
        # The slowest first: PostgreSQL copies its binaries and runs initdb.
        started = [pool.submit(postgres), pool.submit(mongo), pool.submit(redis)]
        postgres_url, mongo_url, redis_url = (future.result() for future in started)
    return DemoUrls(redis_url, mongo_url, postgres_url)


def demo_env(home: Path) -> dict[str, str]:
    """The environment the demo's app runs with: the user's, on the demo's home."""
    env = {name: value for name, value in os.environ.items() if name not in FOREIGN_ENV}
    env["STUDIO_TUI_HOME"] = str(home)
    return env


async def register(home: Path, urls: DemoUrls) -> None:
    """Organization Demo, project Shop and its entries, in the catalog under ``home``."""
    from studio_tui.services.settings import Settings
    from studio_tui.services.studio import Studio

    # No database URLs from the environment: the catalog's first run imports none.
    env = {"STUDIO_TUI_HOME": str(home)}
    async with Studio(Settings.load(env), env) as studio:
        catalog = studio.catalog
        org = await catalog.create_organization(ORGANIZATION)
        project = await catalog.create_project(org.id, PROJECT)
        await catalog.add_database(project.id, REDIS_ENTRY, urls.redis,
                                   tags=["sessions", "carts", "events"])
        await catalog.add_database(project.id, MONGO_ENTRY, urls.mongo, tags=["orders"])
        await catalog.add_database(project.id, POSTGRES_ENTRY, urls.postgres, tags=["primary"])
        await catalog.add_database(project.id, READ_ONLY_ENTRY, urls.postgres, read_only=True,
                                   tags=["read-only"])


class DemoRun:
    """One demo's temp dir, servers and watchdog, and their end: ``clean_up`` runs once, whether
    the demo returns, is interrupted, or loses its terminal."""

    def __init__(self, keep_data: bool) -> None:
        self.keep_data = keep_data
        self.base = servers.make_base_dir("studio-tui-demo-")
        self.watchdog = _start_watchdog(self.base, keep_data)
        self.running: list[RunningServer] = []
        self._cleaned = False

    @contextmanager
    def signals_handled(self) -> Iterator[None]:
        def stop(signum, frame):  # noqa: ARG001
            raise Stopped(signal.Signals(signum).name)

        def hang_up(signum, frame):  # noqa: ARG001
            # The terminal is gone: nothing to restore, and the app's own shutdown would wait
            # for ever to write to it. Stop everything now, and leave.
            self.clean_up()
            os._exit(128 + signum)

        numbers = {signal.SIGTERM: stop, signal.SIGHUP: hang_up}
        previous = {number: signal.signal(number, handler) for number, handler in numbers.items()}
        try:
            yield
        finally:
            for number, handler in previous.items():
                signal.signal(number, handler)

    def clean_up(self) -> None:
        if self._cleaned:
            return
        self._cleaned = True
        # Nothing interrupts this: a second ctrl+c would leave a server behind.
        with _signals_ignored():
            _stop_all(self.running)
            if self.keep_data:
                say(f"kept the data in {self.base} (the servers are stopped)")
            else:
                _remove(self.base)
            self.watchdog.stdin.close()  # end of file: it finds nothing left, and exits
            self.watchdog.wait()
            say("stopped the servers" + ("" if self.keep_data else " and deleted the temp dir"))


def _stop_all(running: list[RunningServer]) -> None:
    """Every server at once: the data goes anyway, so a server slow to stop is killed."""
    for server in running:
        if server.process.poll() is None:
            server.process.send_signal(server.stop_signal)
    deadline = time.monotonic() + 2
    for server in running:
        try:
            server.process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()


def _remove(base: Path) -> None:
    for _ in range(20):
        shutil.rmtree(base, ignore_errors=True)
        if not base.exists():
            return
        time.sleep(0.05)  # a server's last child still exiting


def run_demo(*, keep_data: bool = False, serve: bool = False, host: str = "127.0.0.1",
             port: int = 8000, allow_remote: bool = False) -> int:
    started = time.monotonic()
    demo = DemoRun(keep_data)
    try:
        with demo.signals_handled():
            say(f"starting Redis, PostgreSQL and MongoDB (SecantusDB) in {demo.base}")
            urls = start_and_seed(demo.base, demo.running)
            home = demo.base / "home"
            _timed("registered Demo/Shop", lambda: asyncio.run(register(home, urls)))
            say(f"ready in {time.monotonic() - started:.1f} s")
            env = demo_env(home)
            if serve:
                from studio_tui.web import serve as serve_web

                serve_web(host=host, port=port, allow_remote=allow_remote, app_args=[],
                          env={"STUDIO_TUI_HOME": env["STUDIO_TUI_HOME"]})
                return 0
            return _run_app(env)
    except KeyboardInterrupt as stop:  # ctrl+c, or Stopped
        say(f"interrupted ({stop or 'SIGINT'}); stopping")
        return 130
    except StudioError as error:  # --serve refused its host or port, or lacks its extra
        say(str(error))
        return 2
    finally:
        demo.clean_up()


@contextmanager
def _signals_ignored() -> Iterator[None]:
    numbers = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    previous = {number: signal.signal(number, signal.SIG_IGN) for number in numbers}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def _run_app(env: dict[str, str]) -> int:
    """The app as plain `studio-tui` runs it, on the demo's home."""
    from studio_tui.cli import run

    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        return run([])
    finally:
        os.environ.clear()
        os.environ.update(saved)
