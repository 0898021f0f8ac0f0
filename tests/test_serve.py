"""`studio-tui serve`: the app in a real headless Chromium (Debian's, driven by Playwright), and
the server's refusals (remote binds, a taken port, pages from other sites)."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from processes import alive, command_line, descendants
from realservers import free_port
from ui import home_env, seed_now

CHROMIUM = "/usr/bin/chromium"
# No background networking (updates, sync, QUIC): the test needs only the local server, and a
# CI runner may have no network at all.
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
# textual-serve's front end keeps its xterm.js Terminal in a closure. The public Terminal sets
# its own `_core` in its constructor: catching that assignment gives the page's terminal, so
# the test reads the terminal's text buffer rather than comparing pixels.
CATCH_TERMINAL = """
Object.defineProperty(Object.prototype, '_core', {
  configurable: true,
  set(value) {
    Object.defineProperty(this, '_core', {value, writable: true, configurable: true});
    if (typeof this.loadAddon === 'function') { window.studioTerminal = this; }
  },
});
"""
SCREEN_TEXT = """() => {
  const terminal = window.studioTerminal;
  if (!terminal) return '';
  const buffer = terminal.buffer.active, rows = [];
  for (let y = 0; y < terminal.rows; y++) {
    const line = buffer.getLine(buffer.viewportY + y);
    rows.push(line ? line.translateToString(true) : '');
  }
  return rows.join('\\n');
}"""
SHOP = ("shop-cache", "shop-orders", "shop-db")


@pytest.fixture
def chromium() -> str:
    if not os.access(CHROMIUM, os.X_OK):
        reason = f"{CHROMIUM} is missing (Debian: apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return CHROMIUM


@pytest.fixture
def shop_home(tmp_path: Path, redis_server, mongo_server, postgres_server) -> Path:
    """A home with the demo's names: organization Demo, project Shop, its three databases."""
    home = tmp_path / "home"
    urls = (redis_server.url, mongo_server.url, postgres_server.url)
    seed_now(home, {"Demo": {"Shop": list(zip(SHOP, urls, strict=True))}})
    return home


class Serving:
    """`studio-tui serve` in a subprocess, as a user starts it."""

    def __init__(self, home: Path, *args: str, host: str = "127.0.0.1") -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, **home_env(home)}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "studio_tui", "serve", "--port", str(self.port), *args],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        banner = self.process.stdout.readline()
        if f"serving on http://{host}:{self.port}" not in banner:
            self.process.kill()
            raise AssertionError(banner + self.process.communicate()[1])

    def app_processes(self) -> list[int]:
        """The apps textual-serve started for the open tabs (through `sh -c`)."""
        return [pid for pid in sorted(descendants(self.process.pid))
                if b"studio_tui" in command_line(pid)]

    def stop(self) -> float:
        """ctrl+c; how long the server took to exit."""
        started = time.monotonic()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                raise
        return time.monotonic() - started


@pytest.fixture
def serving(shop_home: Path) -> Iterator[Serving]:
    server = Serving(shop_home)
    try:
        yield server
    finally:
        leftovers = server.app_processes()
        server.stop()
        for pid in leftovers:
            _kill_quietly(pid)


def _kill_quietly(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _wait_gone(pids: list[int], timeout: float = 10.0) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and alive(set(pids)):
        time.sleep(0.05)
    return sorted(alive(set(pids)))


def _launch(playwright, profile: Path):
    return playwright.chromium.launch_persistent_context(
        str(profile), executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
        viewport={"width": 1280, "height": 800})


def _open(context, url: str):
    page = context.new_page()
    page.add_init_script(CATCH_TERMINAL)
    page.goto(url)
    return page


def _wait_for_text(page, *texts: str, timeout: float = 30.0) -> str:
    deadline = time.monotonic() + timeout
    screen = ""
    while time.monotonic() < deadline:
        screen = page.evaluate(SCREEN_TEXT)
        if all(text in screen for text in texts):
            return screen
        time.sleep(0.1)
    raise AssertionError(f"{texts} not on the page's terminal:\n{screen}")


def _press(page, key: str) -> None:
    # Keys go to xterm.js's input element, as when the user types into the page.
    page.focus(".xterm-helper-textarea")
    page.keyboard.press(key)


def test_the_page_shows_the_organizations_and_keys_reach_the_shop_databases(
        serving: Serving, chromium: str, tmp_path: Path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = _launch(playwright, tmp_path / "chromium-profile")
        try:
            page = _open(browser, serving.url + "/")
            assert page.title() == "studio-tui"
            organizations = _wait_for_text(page, "Organizations", "Demo")
            assert "shop-db" not in organizations
            apps = serving.app_processes()
            assert apps, "no app process for the open tab"

            # Personal comes first, then Demo.
            _press(page, "ArrowDown")
            _press(page, "Enter")
            _wait_for_text(page, "Organizations › Demo", "Shop")
            _press(page, "Enter")
            databases = _wait_for_text(page, *SHOP)
            assert "Demo › Shop" in databases.splitlines()[1]
        finally:
            browser.close()
    # Closing the tab ends its app process; the server stays up for the next one.
    assert _wait_gone(apps) == []
    assert serving.process.poll() is None


def test_stopping_the_server_ends_the_open_tabs_apps(serving: Serving, chromium: str,
                                                    tmp_path: Path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = _launch(playwright, tmp_path / "chromium-profile")
        try:
            page = _open(browser, serving.url + "/")
            _wait_for_text(page, "Demo")
            apps = serving.app_processes()
            assert apps
            took = serving.stop()
            assert serving.process.returncode == 0
            assert took < 8, f"the server took {took:.1f} s to stop"
            assert _wait_gone(apps) == []
            # The page says the session ended and offers a restart.
            page.wait_for_selector("body.-closed", timeout=5000)
        finally:
            browser.close()


def test_an_app_ends_when_its_server_is_killed_outright(serving: Serving, chromium: str,
                                                       tmp_path: Path):
    """No SIGINT to pass on: the apps notice their server is gone and stop holding database
    connections for tabs nobody can reach."""
    from playwright.sync_api import sync_playwright

    apps: list[int] = []
    with sync_playwright() as playwright:
        browser = _launch(playwright, tmp_path / "chromium-profile")
        try:
            page = _open(browser, serving.url + "/")
            _wait_for_text(page, "Demo")
            apps = serving.app_processes()
            assert apps
            serving.process.kill()
            serving.process.wait()
            assert _wait_gone(apps, timeout=5) == []
        finally:
            browser.close()
            for pid in apps:  # orphans now: the fixture no longer finds them
                _kill_quietly(pid)


def _serve_command(home: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "studio_tui", "serve", *args],
                          env={**os.environ, **home_env(home)}, capture_output=True,
                          text=True, timeout=30)


@pytest.mark.parametrize("host", ["0.0.0.0", "::"])
def test_a_remote_bind_needs_allow_remote(tmp_path: Path, host: str):
    result = _serve_command(tmp_path / "home", "--host", host, "--port", str(free_port()))
    assert result.returncode == 2
    assert "--allow-remote" in result.stderr and "no login" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(("args", "message"), [
    (["--port", "0"], "not a TCP port"),
    (["--port", "70000"], "not a TCP port"),
    (["--host", ""], "give --host an address"),
    (["--host", "no-such-host.invalid"], "neither an address nor a name"),
])
def test_bad_host_or_port_is_one_clear_line(tmp_path: Path, args: list[str], message: str):
    result = _serve_command(tmp_path / "home", *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_without_the_serve_extra_the_command_says_what_to_install(tmp_path: Path):
    hide_textual_serve = ("import sys; sys.modules['textual_serve'] = None; "
                          "from studio_tui.cli import main; main(['serve'])")
    result = subprocess.run([sys.executable, "-c", hide_textual_serve], capture_output=True,
                            text=True, timeout=30, env={**os.environ, **home_env(tmp_path)})
    assert result.returncode == 2
    assert "pip install 'studio-tui[serve]'" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_port_in_use_is_reported_without_a_traceback(tmp_path: Path):
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        result = _serve_command(tmp_path / "home", "--port", str(port))
    assert result.returncode == 2
    assert f"http://127.0.0.1:{port} is in use" in result.stderr
    assert "Traceback" not in result.stderr


def test_allow_remote_warns_that_the_page_has_no_login(tmp_path: Path):
    server = Serving(tmp_path / "home", "--host", "0.0.0.0", "--allow-remote",
                     host=socket.gethostname())
    try:
        # Reached by this machine's name: accepted, and the page names no bind address.
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        connection.request("GET", "/", headers={"Host": f"studio.example:{server.port}"})
        response = connection.getresponse()
        assert response.status == 200
        assert "0.0.0.0" not in response.read().decode()
    finally:
        server.stop()
    warning = server.process.stderr.read()
    assert "no login of its own" in warning and "team mode" in warning


def _status(port: int, path: str, headers: dict[str, str]) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path, headers=headers)
        return connection.getresponse().status
    finally:
        connection.close()


def test_pages_from_other_sites_cannot_drive_the_app(tmp_path: Path):
    server = Serving(tmp_path / "home")
    local = f"127.0.0.1:{server.port}"
    upgrade = {"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
               "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}
    try:
        assert _status(server.port, "/", {"Host": local}) == 200
        # DNS rebinding: another site's name resolving to 127.0.0.1.
        assert _status(server.port, "/", {"Host": f"evil.example:{server.port}"}) == 421
        # Cross-site websocket: a page elsewhere opening ws://127.0.0.1:PORT/ws.
        assert _status(server.port, "/ws", {"Host": local, "Origin": "http://evil.example",
                                            **upgrade}) == 403
        assert server.app_processes() == []
        assert _status(server.port, "/ws", {"Host": local, "Origin": f"http://{local}",
                                            **upgrade}) == 101
    finally:
        server.stop()

