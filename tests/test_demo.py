"""`studio-tui demo`: the shop it loads (into the suite's servers: related, complete), its
registration, and the real command in a real terminal: it reaches the organizations screen, and
however it ends (quit, ctrl+c, SIGKILL) no server process and no temp dir is left behind."""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path

import asyncpg
import pytest
import redis
from pymongo import MongoClient

from processes import alive, descendants
from studio_tui.demo import runner, seed
from studio_tui.demo.dataset import shop
from studio_tui.demo.watchdog import processes_using
from studio_tui.services.settings import Settings
from studio_tui.services.studio import Studio
from test_serve import chromium  # noqa: F401  (the fixture: Debian's Chromium, or a skip)

ROOT = Path(__file__).resolve().parent.parent


# -- the data -------------------------------------------------------------------------------------
def test_the_shop_is_the_same_on_every_run():
    made = shop()
    assert (len(made.customers), len(made.products), len(made.orders)) == (1_000, 120, 10_000)
    # Fixed seed and timestamps: these would change with any source of randomness or clock.
    first = made.orders[0]
    assert (first.customer_id, str(first.created_at), str(first.total)) == (
        761, "2026-08-03 02:55:00+00:00", "648.79")
    assert str(made.orders[-1].total) == "183.97"
    assert made.customers[0].email == "john.allen1@example.com"


def test_redis_holds_sessions_carts_counters_a_leaderboard_a_stream_and_json(demo_shop):
    client = redis.Redis.from_url(demo_shop.redis, decode_responses=True, protocol=2)
    try:
        session = client.hgetall(next(client.scan_iter("shop:session:*", count=1000)))
        customer = shop().customer(int(session["customer_id"]))
        assert session["email"] == customer.email  # the same customer PostgreSQL has
        assert client.type(session["cart"]) in ("hash", "none")
        assert client.type("shop:leaderboard:units-sold") == "zset"
        assert client.zcard("shop:leaderboard:units-sold") > 50
        assert client.xlen("shop:events:orders") == seed.EVENTS
        last_event = client.xrevrange("shop:events:orders", count=1)[0][1]
        assert last_event["order_id"] == str(shop().orders[-1].id)
        product = client.execute_command("JSON.GET", "shop:product:COF-0001", "$.sku")
        assert product == '["COF-0001"]'
        assert len(list(client.scan_iter("shop:ratelimit:api:*", count=1000))) == \
            seed.RATE_LIMITED
    finally:
        client.close()


def test_redis_keys_expire_only_when_asked(redis_server):
    from realservers import redis_db_url

    url = redis_db_url(redis_server.url, 11)
    client = redis.Redis.from_url(url, decode_responses=True)
    try:
        client.flushdb()
        seed.seed_redis(url)
        session = next(client.scan_iter("shop:session:*", count=1000))
        # Half-way through a day: the key list shows the same "Nd" for hours.
        assert client.ttl(session) % 86_400 == pytest.approx(43_200, abs=60)
        assert client.ttl("shop:ratelimit:api:10.0.0.11") > 3_600
        assert client.ttl("shop:leaderboard:units-sold") == -1
    finally:
        client.flushdb()
        client.close()


def test_mongo_orders_nest_their_lines_and_name_customers_that_exist(demo_shop):
    with MongoClient(demo_shop.mongo) as client:
        db = client.shop
        assert db.orders.count_documents({}) == seed.MONGO_ORDERS
        order = db.orders.find_one({"order_id": shop().orders[-1].id})
        assert order["items"] and all("sku" in line for line in order["items"])
        assert set(order["shipping"]["address"]) == {"street", "city", "postcode", "country"}
        assert db.customers.find_one({"customer_id": order["customer_id"]})["email"] == \
            order["customer"]["email"]
        indexes = {name: info for name, info in db.customers.index_information().items()}
        assert indexes["email_1"].get("unique") is True
        assert "customer_id_1_created_at_-1" in db.orders.index_information()
        assert db.reviews.count_documents({}) == seed.MONGO_REVIEWS
        assert sum(db[name].estimated_document_count() for name in db.list_collection_names()) \
            > 4_000


async def test_postgres_schema_is_related_guarded_and_answers(demo_shop):
    connection = await asyncpg.connect(demo_shop.postgres)
    try:
        assert await connection.fetchval("SELECT count(*) FROM shop.orders") == 10_000
        orphans = await connection.fetchval(
            "SELECT count(*) FROM shop.orders o LEFT JOIN shop.customers c "
            "ON c.id = o.customer_id WHERE c.id IS NULL")
        assert orphans == 0
        foreign_keys = await connection.fetchval(
            "SELECT count(*) FROM pg_constraint WHERE contype = 'f' "
            "AND connamespace = 'shop'::regnamespace")
        assert foreign_keys == 6
        assert await connection.fetchval(
            "SELECT relrowsecurity FROM pg_class WHERE oid = 'shop.orders'::regclass")
        policies = await connection.fetch(
            "SELECT policyname FROM pg_policies WHERE schemaname = 'shop' ORDER BY 1")
        assert [p["policyname"] for p in policies] == ["orders_own", "orders_staff"]
        total = await connection.fetchval(
            "SELECT total FROM shop.order_totals WHERE order_id = 10000")
        assert str(total) == str(shop().orders[-1].total)
        assert await connection.fetchval("SELECT count(*) FROM shop.product_sales") > 100
        # The trigger keeps updated_at current (not fired here: the snapshots read these
        # tables, and a new row version would change their sizes).
        trigger = await connection.fetchrow(
            "SELECT tgenabled::text, tgfoid = 'shop.touch_updated_at'::regproc AS touches "
            "FROM pg_trigger WHERE tgrelid = 'shop.orders'::regclass AND NOT tgisinternal")
        assert dict(trigger) == {"tgenabled": "O", "touches": True}
        assert await connection.fetchval("SELECT current_setting('search_path')") == "shop"
        assert await connection.fetchval("SELECT count(*) FROM order_totals") == 10_000
    finally:
        await connection.close()


async def test_registration_makes_demo_shop_with_a_read_only_entry(demo_shop, tmp_path):
    home = tmp_path / "home"
    await runner.register(home, demo_shop)
    env = {"STUDIO_TUI_HOME": str(home)}
    async with Studio(Settings.load(env), env) as studio:
        catalog = studio.catalog
        org = next(o for o in await catalog.organizations() if o.name == "Demo")
        project = (await catalog.projects(org.id))[0]
        assert project.name == "Shop"
        entries = {e.name: e for e in await catalog.databases(project.id)}
        assert {name: e.kind.value for name, e in entries.items()} == {
            "shop-cache": "redis", "shop-orders": "mongodb", "shop-db": "postgres",
            "shop-reporting": "postgres"}
        assert [name for name, e in entries.items() if e.read_only] == ["shop-reporting"]
        for entry in entries.values():
            assert (await studio.manager.check(entry.id)).error is None


def test_the_demo_environment_leaves_out_the_users_catalog_and_key(monkeypatch, tmp_path):
    monkeypatch.setenv("STUDIO_PLATFORM_URL", "postgresql://team@db.example.com/catalog")
    monkeypatch.setenv("STUDIO_TUI_KEY", "a-key")
    env = runner.demo_env(tmp_path)
    assert env["STUDIO_TUI_HOME"] == str(tmp_path)
    assert "STUDIO_PLATFORM_URL" not in env and "STUDIO_TUI_KEY" not in env


# -- the command, in a real terminal -------------------------------------------------------------
class DemoInTerminal:
    """``studio-tui demo`` on a pseudo-terminal of 120x40, its output collected as it comes."""

    def __init__(self) -> None:
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        env = {name: value for name, value in os.environ.items()
               if not name.startswith(("TEXTUAL", "PYTEST", "STUDIO_"))}
        env.update(TERM="xterm-256color", COLORTERM="truecolor",
                   PYTHONPATH=os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]))
        self.process = subprocess.Popen(
            [sys.executable, "-m", "studio_tui", "demo"], stdin=slave, stdout=slave,
            stderr=slave, env=env, start_new_session=True, close_fds=True)
        os.close(slave)
        self.master = master
        self.output = bytearray()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:  # the terminal's other side closed
                return
            if not chunk:
                return
            self.output += chunk

    def wait_for(self, pattern: bytes, timeout: float = 30) -> re.Match:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = re.search(pattern, bytes(self.output))
            if found:
                return found
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"{pattern!r} not seen; output:\n{bytes(self.output)[-3000:]!r}")

    def started(self) -> tuple[Path, set[int]]:
        """Once the organizations screen shows Demo: the temp dir, and every process the demo
        started (the servers, their children, the watchdog)."""
        base = Path(self.wait_for(rb"in (/tmp/studio-tui-demo-\w+)").group(1).decode())
        # The app's screen, from where it switches to the alternate screen on.
        screen = self.wait_for(rb"\x1b\[\?1049h", timeout=60).end()
        deadline = time.monotonic() + 60  # a busy CI machine
        while b"Demo" not in self.output[screen:] or b"Organizations" not in self.output[screen:]:
            assert time.monotonic() < deadline, bytes(self.output)[-3000:]
            assert self.process.poll() is None, bytes(self.output)[-3000:]
            time.sleep(0.05)
        return base, descendants(self.process.pid)

    def press(self, keys: bytes) -> None:
        os.write(self.master, keys)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        os.close(self.master)


def assert_nothing_left(base: Path, pids: set[int], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while (alive(pids) or base.exists()) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not alive(pids), f"still running: {alive(pids)}"
    assert not processes_using(base)
    assert not base.exists(), f"{base} is left behind"


@pytest.fixture
def demo():
    running = DemoInTerminal()
    yield running
    running.close()


def test_demo_opens_on_demo_and_quitting_leaves_nothing_behind(demo):
    base, pids = demo.started()
    # Three servers (and PostgreSQL's own processes), and the watchdog.
    assert len(pids) >= 5
    demo.press(b"q")
    assert demo.process.wait(timeout=20) == 0
    assert_nothing_left(base, pids)
    assert b"stopped the servers and deleted the temp dir" in demo.output


def test_a_ctrl_c_signal_stops_the_servers_and_deletes_the_temp_dir(demo):
    base, pids = demo.started()
    demo.process.send_signal(signal.SIGINT)
    demo.process.wait(timeout=20)
    assert_nothing_left(base, pids)


def test_closing_the_terminal_stops_the_servers_and_deletes_the_temp_dir(demo):
    base, pids = demo.started()
    os.close(demo.master)  # writes to the terminal now fail, as after a hang-up
    demo.master = os.open(os.devnull, os.O_RDONLY)  # for close()
    demo.process.send_signal(signal.SIGHUP)
    assert demo.process.wait(timeout=20) == 128 + signal.SIGHUP
    assert_nothing_left(base, pids)


def test_servers_and_temp_dir_go_even_when_the_demo_is_killed(demo):
    base, pids = demo.started()
    demo.process.kill()  # no finally runs: the kernel kills the servers, the watchdog cleans up
    demo.process.wait(timeout=5)
    assert_nothing_left(base, pids)


def test_demo_without_its_servers_says_how_to_install_them(monkeypatch, capsys):
    import importlib.util

    from studio_tui.cli import run

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "secantus" else real_find_spec(name, *a))
    assert run(["demo"]) == 2
    assert "pip install 'studio-tui[demo]'" in capsys.readouterr().err


def test_a_server_started_from_a_finished_thread_still_dies_with_its_parent(tmp_path):
    """PR_SET_PDEATHSIG follows the thread that forked; the demo starts servers from threads
    that end long before the demo does."""
    script = (
        "import sys, threading\n"
        "from studio_tui.demo import servers\n"
        "box = []\n"
        "thread = threading.Thread(target=lambda: box.append(servers.start_redis("
        "parent=servers.make_base_dir('st-pdeathsig-'), die_with_parent=True)))\n"
        "thread.start(); thread.join()\n"
        "print(box[0].process.pid, box[0].workdir.parent, flush=True)\n"
        "sys.stdin.read()\n")
    parent = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        pid, base = parent.stdout.readline().split()
        # The server outlives the thread that started it...
        time.sleep(0.3)
        assert alive({int(pid)})
    finally:
        parent.kill()
        parent.wait()
    # ...and not its parent process.
    deadline = time.monotonic() + 5
    while alive({int(pid)}) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive({int(pid)})
    shutil.rmtree(base, ignore_errors=True)


def test_demo_serve_shows_the_demo_in_a_browser_and_ctrl_c_leaves_nothing(tmp_path, chromium):
    from playwright.sync_api import sync_playwright
    from realservers import free_port
    from test_serve import _launch, _open, _press, _wait_for_text

    port = free_port()
    env = {name: value for name, value in os.environ.items() if not name.startswith("STUDIO_")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    process = subprocess.Popen(
        [sys.executable, "-m", "studio_tui", "demo", "--serve", "--port", str(port)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        base = Path(re.search(r"in (/tmp/studio-tui-demo-\w+)",
                              process.stderr.readline()).group(1))
        banner = process.stdout.readline()  # once the servers are up and loaded
        assert f"serving on http://127.0.0.1:{port}" in banner, banner
        pids = descendants(process.pid)
        with sync_playwright() as playwright:
            browser = _launch(playwright, tmp_path / "chromium-profile")
            try:
                page = _open(browser, f"http://127.0.0.1:{port}/")
                _wait_for_text(page, "Organizations", "Demo")
                _press(page, "ArrowDown")
                _press(page, "Enter")
                _wait_for_text(page, "Organizations › Demo", "Shop")
                _press(page, "Enter")
                _wait_for_text(page, "shop-cache", "shop-orders", "shop-db", "shop-reporting")
                pids |= descendants(process.pid)  # the tab's app too
            finally:
                browser.close()
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=20) == 0
        assert_nothing_left(base, pids)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
